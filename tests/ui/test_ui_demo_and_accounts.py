"""The app's demo kept between launches, the slow demo's first sync, the account switcher, and the
footer at 80 columns."""

from __future__ import annotations

import contextlib

from ui_fixtures import demo_session, notifications, ready, settle, tag_named, until, wait_for_screen
from wxtui.jobs.events import DONE, RUNNING
from wxtui.ui.screens.confirm import ConfirmScreen
from wxtui.ui.screens.main import MainScreen
from wxtui.ui.screens.prompts import TagPickerScreen

SIZE = (100, 30)


async def opened_and_synced(pilot) -> MainScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.session is not None
                and app.session.store.last_synced_at() is not None)
    return await ready(pilot)


async def tag_everyone(pilot, name: str) -> None:
    await pilot.press("a", "t")
    await wait_for_screen(pilot, TagPickerScreen)
    await pilot.press(*name, "enter")
    await wait_for_screen(pilot, ConfirmScreen)
    await pilot.press("y")


# -- the demo, kept ------------------------------------------------------------------------------


async def test_the_demo_comes_back_with_its_changes_and_its_jobs(tmp_path):
    from wxtui.families.wechat.emulator.persist import load_state
    from wxtui.families.wechat.kept_demo import LOG_FILE, STATE_FILE, demo_folder
    from wxtui.ui.app import WxtuiApp
    from wxtui.core.session import demo_opener

    opener = demo_opener(300, seed=4)
    app = WxtuiApp(opener, demo_opener=opener)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened_and_synced(pilot)
        await tag_everyone(pilot, "VIP")
        await until(pilot, lambda: any(e.state == DONE for e in screen.jobs_panel.events.values()))
        await settle(pilot)
        job_id = next(iter(screen.jobs_panel.events))
        acct = app.session.emulator.account
        vip = tag_named(acct, "VIP")
        members = acct.tag_members(vip)
        assert len(members) == 300
    # A clean exit wrote a snapshot and emptied the change log.
    folder = demo_folder(300, 4)
    assert (folder / LOG_FILE).stat().st_size == 0
    assert load_state(folder / STATE_FILE).account.tag_members(vip) == members

    again = WxtuiApp(demo_opener(300, seed=4), demo_opener=opener)
    async with again.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert again.session.emulator.account.tag_members(vip) == members
        assert {t.name: t.count for t in again.session.store.tags()}["VIP"] == 300
        await until(pilot, lambda: job_id in screen.jobs_panel.events)
        assert screen.jobs_panel.events[job_id].state == DONE
        assert again.session.store.last_synced_at() is not None  # no second sync at launch


async def test_fresh_starts_the_demo_over(tmp_path):
    from wxtui.ui.app import WxtuiApp
    from wxtui.core.session import demo_opener

    opener = demo_opener(200, seed=4)
    app = WxtuiApp(opener, demo_opener=opener)
    async with app.run_test(size=SIZE) as pilot:
        await opened_and_synced(pilot)
        app.session.emulator.account.create_tag("Before the fresh start")
    fresh = demo_opener(200, seed=4, fresh=True)
    again = WxtuiApp(fresh, demo_opener=fresh)
    async with again.run_test(size=SIZE) as pilot:
        screen = await opened_and_synced(pilot)
        names = {name for name, _ in again.session.emulator.account.tags().values()}
        assert "Before the fresh start" not in names
        assert not screen.jobs_panel.events
        assert "Before the fresh start" not in {t.name for t in again.session.store.tags()}


async def test_an_unreadable_kept_demo_is_set_aside_and_the_app_says_where(tmp_path):
    from wxtui.families.wechat.kept_demo import STATE_FILE, demo_folder
    from wxtui.ui.app import WxtuiApp
    from wxtui.core.session import demo_opener

    folder = demo_folder(200, 6)
    folder.mkdir(parents=True)
    (folder / STATE_FILE).write_bytes(b"wxtui emulator state\n{\"version\": 99}\n")
    opener = demo_opener(200, seed=6)
    app = WxtuiApp(opener, demo_opener=opener)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened_and_synced(pilot)
        assert len(screen.table.source) == 200
        told = [n for n in notifications(pilot) if "could not be read" in n]
        assert told and "format 99" in told[0] and "set-aside-" in told[0]
    aside = next(folder.glob("set-aside-*"))
    assert (aside / STATE_FILE).read_bytes().endswith(b'{"version": 99}\n')


async def test_the_slow_demo_opens_filled_and_its_calls_are_slow_from_the_start(tmp_path):
    from wxtui.ui.app import WxtuiApp
    from wxtui.core.session import demo_opener

    opener = demo_opener(200, seed=4, slow=True)
    app = WxtuiApp(opener, demo_opener=opener)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        # A new demo's cache is written from its emulator, as its first sync would leave it:
        # nothing waits for a sync at full speed, and the calls are slow at once.
        assert len(screen.table.source) == 200 and app.session.store.last_synced_at() is not None
        faults = app.session.emulator.faults
        assert (faults.latency_ms, faults.p_busy) == (120, 0.05)
    again = WxtuiApp(demo_opener(200, seed=4, slow=True))
    async with again.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert again.session.emulator.faults.latency_ms == 120  # the cache is kept: slow at once


# -- switching accounts --------------------------------------------------------------------------


def _configure(*profiles) -> None:
    from wxtui.core.config import Config, save_config

    config = Config()
    for profile in profiles:
        config.accounts[profile.name] = profile
    config.default_name = profiles[0].name
    save_config(config)


async def _palette(pilot, text: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause(0.2)
    await pilot.press(*text)
    await pilot.pause(0.4)
    await pilot.press("enter")


async def test_switching_accounts_stops_the_old_ones_jobs_and_keeps_keymaps_apart(tmp_path, monkeypatch):
    from wxtui.core.config import new_profile
    from wxtui.families.wechat.emulator import Emulator
    from wxtui.core import session as commands
    from wxtui.ui.app import WxtuiApp
    from wxtui.ui.screens.switch_account import SwitchAccountScreen

    acme_emu = Emulator.demo(followers=6000, seed=21)
    acme = new_profile("acme", acme_emu.account.appid, keymap={"tag": "ctrl+t"})
    shop_emu = Emulator.demo(followers=60, seed=22)
    shop = new_profile("shop", shop_emu.account.appid)
    _configure(acme, shop)
    sessions = {}

    def fake_account_opener(name):
        emu, profile = {"acme": (acme_emu, acme), "shop": (shop_emu, shop)}[name]

        @contextlib.asynccontextmanager
        async def opener():
            async with demo_session(tmp_path / name, emulator=emu) as session:
                session.label, session.profile, session.emulator = profile.name, profile, None
                sessions[name] = session
                yield session

        return opener

    (tmp_path / "acme").mkdir()
    (tmp_path / "shop").mkdir()
    monkeypatch.setattr(commands, "account_opener", fake_account_opener)
    demo = commands.demo_opener(150, seed=23)
    app = WxtuiApp(fake_account_opener("acme"), demo_opener=demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert app.keymap == {"tag": "ctrl+t"}
        acme_emu.faults.latency_ms = 1500  # long enough to switch while the job runs
        await pilot.press("a", "ctrl+t")
        await wait_for_screen(pilot, TagPickerScreen)
        await pilot.press(*"VIP", "enter")
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: app.model is not None and app.model.running_jobs())
        job_id = app.model.running_jobs()[0]

        await _palette(pilot, "Switch account")
        dialog = await wait_for_screen(pilot, SwitchAccountScreen)
        labels = [c.label for c in dialog.choices]
        assert labels[0].startswith("acme") and labels[1].startswith("shop") and "demo" in labels[2]
        assert "1 job running on acme" in str(dialog.query_one("#switch-note").render())
        await pilot.press("down", "enter")  # shop is highlighted first (acme is open): down to the demo
        await until(pilot, lambda: app.session is not None and app.session.is_demo)
        screen = await opened_and_synced(pilot)
        # The job of acme stopped, resumable, and the app said so.
        assert any(f"of acme stopped (#{job_id})" in n for n in notifications(pilot))
        # acme's ctrl+t does not reach the demo; its own t does.
        assert app.keymap == {}
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert not isinstance(app.screen, TagPickerScreen)
        await pilot.press("t")
        await wait_for_screen(pilot, TagPickerScreen)
        await pilot.press("escape")

        await _palette(pilot, "Switch account")
        dialog = await wait_for_screen(pilot, SwitchAccountScreen)
        assert dialog.query_one("#switch-note").render().plain == ""  # nothing runs on the demo
        await pilot.press("down", "enter")  # acme highlighted first: down to shop
        await until(pilot, lambda: app.session is not None and app.session.label == "shop")
        screen = await ready(pilot)
        assert app.keymap == {} and len(screen.table.source) == 60

    # The stopped job is in acme's journal, neither running nor done, with calls left to resume.
    from wxtui.jobs.service import JobService
    from wxtui.store import Store

    store = Store.open(tmp_path / "acme" / "cache.sqlite")
    try:
        from wxtui.family import family

        service = JobService(None, store, family=family("wechat"))
        status = service.status(job_id)
        assert status.state not in (RUNNING, DONE)
        assert 0 < status.calls_total and status.calls_done < status.calls_total
        vip = next(t for t, (name, _) in acme_emu.account.tags().items() if name == "VIP")
        assert len(acme_emu.account.tag_members(vip)) < 6000
        await service.aclose()
    finally:
        store.close()


async def test_the_first_run_screen_offers_the_switcher(tmp_path):
    from wxtui.core.config import new_profile
    from wxtui.ui.app import WxtuiApp
    from wxtui.core.session import demo_opener
    from wxtui.ui.screens.first_run import FirstRunScreen
    from wxtui.ui.screens.switch_account import SwitchAccountScreen

    _configure(new_profile("acme", "wx" + "1" * 16))
    app = WxtuiApp(None, demo_opener=demo_opener(120, seed=5))
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for_screen(pilot, FirstRunScreen)
        screen.query_one("#switch").press()
        dialog = await wait_for_screen(pilot, SwitchAccountScreen)
        assert [c.name for c in dialog.choices] == ["acme", None]
        await pilot.press("down", "enter")
        screen = await opened_and_synced(pilot)
        assert app.session.is_demo and len(screen.table.source) == 120


# -- the footer at 80 columns --------------------------------------------------------------------


async def test_at_80_columns_the_footer_keeps_help_whole_and_nothing_under_the_palette_key(tmp_path):
    from textual.widgets._footer import FooterKey

    from ui_fixtures import app_for

    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await ready(pilot)
            for focus in ("members", "members after a selection", "tags", "jobs"):
                if focus == "jobs":
                    screen.table.focus()
                    await tag_everyone(pilot, "VIP")
                    await until(pilot, lambda: screen.jobs_panel.display)
                    await pilot.press("j")
                elif focus == "tags":
                    screen.tag_list.focus()
                elif focus == "members after a selection":
                    await pilot.press("space", "down", "space")  # the footer is composed again
                    await pilot.press("t")  # and once more after a dialog
                    await wait_for_screen(pilot, TagPickerScreen)
                    await pilot.press("escape")
                await settle(pilot)
                await pilot.pause(0.2)
                keys = [k for k in screen.query(FooterKey) if k.display]
                palette = next(k for k in keys if k.has_class("-command-palette"))
                shown = [k for k in keys if k is not palette]
                help_key = next(k for k in shown if k.action.endswith("help"))
                assert help_key.region.width == help_key.outer_size.width > 0, focus
                assert all(k.region.right <= palette.region.x for k in shown), focus
                assert len(shown) >= 4, focus
                # No more is hidden than must be: the first key left out would not have fitted.
                hidden = [k for k in screen.query(FooterKey) if not k.display]
                if hidden:
                    after = max(k.region.right for k in shown if not k.action.endswith("help")) + 1
                    needed = len(hidden[0].key_display) + 1 + len(hidden[0].description) + 1 + help_key.outer_size.width
                    assert after + needed > palette.region.x, focus
                # What gave way is still one keystroke away: ? lists every key.
            await pilot.press("question_mark")
            await settle(pilot)
            from wxtui.ui.screens.help import HelpScreen

            assert isinstance(app.screen, HelpScreen)
