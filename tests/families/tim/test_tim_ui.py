"""The app on a Tencent Cloud IM account: the same panes and tag actions, on the TIM job family."""

from __future__ import annotations

import contextlib

from ui_fixtures import confirm, last_notification, openid_at, select_rows
from ui_fixtures import app_for, ready, settle, tim_session, wait_for_screen
from wxtui.families.tim.cache import cached_tags_of
from wxtui.families.tim.emulator import TimEmulator
from wxtui.core.session import open_session
from wxtui.families.tim.sync import import_accounts
from wxtui.ui.screens.prompts import TagPickerScreen

SIZE = (100, 30)


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
            # No daily quota on IM: the header does not speak of one.
            assert "quota" not in str(screen.header.render())
            # The family's columns: the account id and its tags; no remark, date or scene.
            header = "".join(segment.text for segment in screen.table.render_line(0))
            assert "account id" in header and "tags" in header
            assert not any(word in header for word in ("openid", "remark", "followed", "scene"))
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

            # Blacklisting has no meaning here: the binding is not offered, and its key does nothing.
            before = last_notification(pilot)
            assert screen.check_action("blacklist", ()) is False
            assert not any(active.binding.action == "screen.blacklist" and active.enabled
                           for active in app.active_bindings.values())
            await pilot.press("b")
            await settle(pilot)
            assert last_notification(pilot) == before and app.screen is screen

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
    from wxtui.core.config import Config, new_profile, save_config
    from wxtui.families.tim.family import account_key as tim_appid
    from wxtui.ui.account import AccountModel
    from wxtui.core.session import account_opener

    emu = TimEmulator.demo(accounts=5, seed=2)
    config = Config()
    config.add(new_profile("im", tim_appid(emu.sdkappid), kind="tim", sdkappid=emu.sdkappid,
                           identifier=emu.identifier, region="china"))
    save_config(config)
    monkeypatch.setattr("wxtui.families.tim.session.build_tim_client", lambda profile, **kw: emu.client())
    async with account_opener("im")() as session:
        model = AccountModel(session)
        assert session.family.key == "tim" and session.label == "im"
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
