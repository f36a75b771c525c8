"""The app on a Tencent Cloud IM account: the same panes and tag actions, on the TIM job family."""

from __future__ import annotations

import contextlib

from test_ui_flows import confirm, last_notification, openid_at, select_rows
from ui_fixtures import app_for, ready, settle, wait_for_screen
from wxtui.tim.cache import cached_tags_of
from wxtui.tim.emulator import TimEmulator
from wxtui.tim.session import open_tim_session
from wxtui.tim.sync import import_accounts
from wxtui.ui.screens.prompts import TagPickerScreen

SIZE = (100, 30)


@contextlib.asynccontextmanager
async def tim_session(tmp_path, accounts: int = 30):
    emu = TimEmulator.demo(accounts=accounts, seed=4)
    async with open_tim_session(emulator=emu, store_path=tmp_path / "tim.sqlite") as session:
        result = await import_accounts(session.client, session.store, emu.state.accounts())
        assert len(result.imported) == accounts
        yield session


async def test_tag_two_accounts_then_remove_all_tags_of_one(tmp_path):
    async with tim_session(tmp_path) as session:
        state, store = session.emulator.state, session.store
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            # IM users, not followers; and no Blacklisted entry: IM has no blacklist.
            assert str(screen.query_one("#view-title").render()) == "Users"
            assert [e.kind for e in screen.tag_list.entries.values()][:2] == ["all", "untagged"]
            assert "blacklisted" not in {e.kind for e in screen.tag_list.entries.values()}
            accounts = await select_rows(pilot, screen, 2)
            assert all(a in state.accounts() for a in accounts)
            await pilot.press("t")
            await wait_for_screen(pilot, TagPickerScreen)
            await pilot.press(*"beta-tester", "enter")  # a new tag: free text on TIM
            dialog = await confirm(pilot)
            assert (dialog.summary.title, dialog.summary.noun) == ("Tag users", "users")
            assert dialog.summary.lines()[0] == ("Count", "2 users")
            for account in accounts:
                assert "beta-tester" in state.tags_of(account)
                assert "beta-tester" in cached_tags_of(store, [account])[account]

            # Blacklisting has no meaning here: refused, nothing sent.
            await pilot.press("b")
            await settle(pilot)
            assert "Tencent Cloud IM has no blacklist" in last_notification(pilot)

            await pilot.press("A", "up")  # no selection: the cursor row (the first) is the target
            await settle(pilot)
            first = openid_at(screen, 0)
            assert first == accounts[0]
            await pilot.press("c")
            dialog = await confirm(pilot)
            assert dialog.summary.count == 1 and first in dialog.summary.target
            assert state.tags_of(first) == []
            assert cached_tags_of(store, [first])[first] == []
            assert "beta-tester" in state.tags_of(accounts[1])


async def test_sync_learns_tags_changed_behind_the_cache(tmp_path):
    async with tim_session(tmp_path, accounts=12) as session:
        state, store = session.emulator.state, session.store
        account = state.accounts()[3]
        state.add([(account, ["vip-from-elsewhere"])])
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            assert "vip-from-elsewhere" not in cached_tags_of(store, [account])[account]
            await pilot.press("s")
            await settle(pilot)
            assert "vip-from-elsewhere" in cached_tags_of(store, [account])[account]
            assert "tags of 12 accounts read" in last_notification(pilot)


async def test_the_app_command_opens_a_configured_tim_account(monkeypatch):
    from wxtui.config import Config, new_profile, save_config, tim_appid
    from wxtui.ui.account import AccountModel
    from wxtui.ui.commands import account_opener

    emu = TimEmulator.demo(accounts=5, seed=2)
    config = Config()
    config.add(new_profile("im", tim_appid(emu.sdkappid), kind="tim", sdkappid=emu.sdkappid,
                           identifier=emu.identifier, region="china"))
    save_config(config)
    monkeypatch.setattr("wxtui.tim.session.build_tim_client", lambda profile, **kw: emu.client())
    async with account_opener("im")() as session:
        model = AccountModel(session)
        assert model.is_tim and session.label == "im"
        assert await model.tagging_quota() == {}
        await model.aclose()


async def test_importing_a_file_of_im_account_ids_selects_the_known_ones(tmp_path):
    from wxtui.ui.account import AccountModel

    async with tim_session(tmp_path, accounts=5) as session:
        known = session.emulator.state.accounts()[:2]
        listing = tmp_path / "users.txt"
        listing.write_text("# users\n" + "\n".join(known) + "\nnobody-here\n\n",
                           encoding="utf-8")
        model = AccountModel(session)
        try:
            result = model.import_openids(listing)
            assert (result.added, result.unknown, result.invalid) == (2, 1, 0)
            assert result.message() == ("Added 2 users to the selection; 1 account id is not in the cache "
                                        "(not users, or sync first): line 4")
            ids = session.store.follower_ids(known)
            assert all(model.selection.contains(i) for i in ids.values())
            assert model.selection.count() == 2
        finally:
            await model.aclose()
