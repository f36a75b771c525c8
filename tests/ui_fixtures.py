"""Fixed data for the UI tests, the snapshot tests and screenshots/generate.py.

Everything derives from a seed and a fixed clock, so the screens are the same on every run.
"""

from __future__ import annotations

import calendar
import contextlib
from pathlib import Path

FOLLOWERS = 400
SEED = 7
# "Now" for every screen: after the demo's last follow, so ages read the same on every run.
FIXED_NOW = float(calendar.timegm((2026, 11, 2, 9, 30, 0)))
SYNCED_AT = FIXED_NOW - 2 * 60


async def sync_store(session, synced_at: float = SYNCED_AT) -> None:
    """Fill the session's cache from its emulator."""
    from wxtui.families.wechat.sync import Sync

    result = await Sync(session.client, session.store).run()
    assert result.ok, result.message
    session.store.set_meta("sync.finished_at", str(synced_at))


@contextlib.asynccontextmanager
async def demo_session(tmp_path: Path, followers: int = FOLLOWERS, seed: int = SEED, *, synced: bool = True,
                       emulator=None):
    from wxtui.families.wechat.emulator import Emulator
    from wxtui.core.session import open_session

    emulator = emulator or Emulator.demo(followers=followers, seed=seed)
    async with open_session(emulator=emulator, store_path=tmp_path / "cache.sqlite") as session:
        if synced:
            await sync_store(session)
        yield session


def app_for(session, **kwargs):
    """The app on an already open session (the caller closes it)."""
    from wxtui.ui.app import WxtuiApp

    @contextlib.asynccontextmanager
    async def opener():
        yield session

    kwargs.setdefault("clock", lambda: FIXED_NOW)
    kwargs.setdefault("sync_on_start", False)
    return WxtuiApp(opener, **kwargs)


# -- driving the app ---------------------------------------------------------------------------


async def ready(pilot):
    """Wait for the main screen with its view, tags and counts loaded; returns the screen."""
    from wxtui.ui.screens.main import MainScreen

    app = pilot.app
    for _ in range(500):
        screen = app.screen
        if isinstance(screen, MainScreen) and screen.query("MemberTable") and screen.table.source.complete \
                and screen.tag_list.entries:
            break
        await pilot.pause(0.01)
    await settle(pilot)
    return app.screen


async def settle(pilot) -> None:
    """Let workers, jobs and the redraws they cause finish (with a dialog open, the worker that
    opened it waits for the user: only let the dialog draw)."""
    import asyncio

    from textual.screen import ModalScreen
    from textual.worker import WorkerCancelled

    app = pilot.app
    for _ in range(500):
        if isinstance(app.screen, ModalScreen):
            await pilot.pause(0.05)
            break
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:  # a newer one of its exclusive group took over: wait for that
            continue
        await pilot.pause()
        model = app.model
        if (model is None or not model.running_jobs()) and all(w.is_finished for w in app.workers):
            break
        await asyncio.sleep(0.01)
    await pilot.pause()
    await _tables_sized(pilot)


async def _tables_sized(pilot) -> None:
    """A DataTable sizes its columns to rows just added at its next idle moment; on a busy
    machine a snapshot could come first and draw every column at its header's width."""
    from textual.widgets import DataTable

    for _ in range(200):
        # The pinned Textual's flag for "rows added, columns not yet sized to them".
        if not any(t._require_update_dimensions for t in pilot.app.screen.query(DataTable)):
            return
        await pilot.pause(0.01)


async def wait_for_screen(pilot, kind):
    for _ in range(300):
        if isinstance(pilot.app.screen, kind):
            return pilot.app.screen
        await pilot.pause(0.01)
    raise AssertionError(f"{kind.__name__} did not open; the screen is {pilot.app.screen!r}")


# -- the scenes of the snapshot tests and the README's screenshots -----------------------------


def snapshot_app(tmp_path: Path):
    """The app as a user starts it: the session (emulator, cache, sync) opens inside the app."""
    from wxtui.ui.app import WxtuiApp

    return WxtuiApp(lambda: demo_session(tmp_path), clock=lambda: FIXED_NOW, sync_on_start=False,
                    cursor_blink=False)


async def _quiet(pilot) -> None:
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


async def scene_main(pilot) -> None:
    await ready(pilot)
    await _quiet(pilot)


async def scene_ansi_theme(pilot) -> None:
    """The 16-colour theme: what a basic terminal (TEXTUAL_THEME=ansi-dark) shows."""
    pilot.app.theme = "ansi-dark"
    await ready(pilot)
    await pilot.press("space", "down", "down")
    await _quiet(pilot)


async def scene_selection_and_filter(pilot) -> None:
    screen = await ready(pilot)
    await pilot.press("slash", *"VIP", "enter", "space", "shift+down", "shift+down")
    await _quiet(pilot)


async def scene_blacklist(pilot) -> None:
    screen = await ready(pilot)
    screen.tag_list.choose("blacklisted")
    await _quiet(pilot)


async def scene_tag_picker(pilot) -> None:
    from wxtui.ui.screens.prompts import TagPickerScreen

    await ready(pilot)
    await pilot.press("space", "shift+down", "t")
    await wait_for_screen(pilot, TagPickerScreen)
    await pilot.press(*"vi")
    await _quiet(pilot)


async def scene_confirm(pilot) -> None:
    from wxtui.ui.screens.confirm import ConfirmScreen

    screen = await ready(pilot)
    vip = next(e for e in screen.tag_list.tag_entries if e.name == "VIP")
    screen.tag_list.choose(vip.option_id)
    await settle(pilot)
    await pilot.press("a", "b")
    await wait_for_screen(pilot, ConfirmScreen)
    await _quiet(pilot)


async def scene_new_tag(pilot) -> None:
    from wxtui.ui.screens.prompts import TextPromptScreen

    screen = await ready(pilot)
    screen.tag_list.focus()
    await pilot.press("n")
    prompt = await wait_for_screen(pilot, TextPromptScreen)
    prompt.query_one("#prompt-input").value = "深圳南山区科技园旗舰店会员"  # 13 characters, 39 bytes
    await _quiet(pilot)


async def scene_help(pilot) -> None:
    from wxtui.ui.screens.help import HelpScreen

    await ready(pilot)
    await pilot.press("question_mark")
    await wait_for_screen(pilot, HelpScreen)
    await _quiet(pilot)


async def scene_switch_account(pilot) -> None:
    """ctrl+p → Switch account, with two configured accounts (fixed here: the list is read from
    the config, which a screenshot must not take from whoever runs it) and a job running."""
    from wxtui.ui.screens.switch_account import AccountChoice, SwitchAccountScreen

    await ready(pilot)
    choices = [AccountChoice("Acme Coffee", "Acme Coffee · wx5e1f0c2a9b7d3e41 · default"),
               AccountChoice("acme-hk", "acme-hk · wx90b2d4c6e8fa1357"),
               AccountChoice(None, "The demo (an emulated account, kept between launches)")]
    pilot.app.push_screen(SwitchAccountScreen(choices, current="Acme Coffee", current_is_demo=False,
                                              running_jobs=1, current_label="Acme Coffee"))
    await wait_for_screen(pilot, SwitchAccountScreen)
    await _quiet(pilot)


async def _job_with_failures(pilot):
    """Tag ten followers, two of whom unfollowed after the sync: WeChat refuses those (40003)."""
    from wxtui.ui.screens.confirm import ConfirmScreen

    screen = await ready(pilot)
    acct = pilot.app.session.emulator.account
    gone = [screen.table.source.row(i).openid for i in (1, 4)]
    acct.remove_followers(gone)
    await pilot.press("space", *["shift+down"] * 9, "t")
    await pilot.pause(0.2)
    await pilot.press(*"Staff", "enter")
    await wait_for_screen(pilot, ConfirmScreen)
    await pilot.press("y")
    await settle(pilot)
    return screen


async def scene_jobs(pilot) -> None:
    screen = await _job_with_failures(pilot)
    screen.jobs_panel.focus()
    await _quiet(pilot)


async def scene_job_detail(pilot) -> None:
    from wxtui.ui.screens.job_detail import JobDetailScreen

    await _job_with_failures(pilot)
    await pilot.press("j", "enter")
    await wait_for_screen(pilot, JobDetailScreen)
    await _quiet(pilot)


def _fixed_history(store) -> None:
    """A week of snapshots at fixed times, counts drifting from the cache's own (the sync's
    snapshot was taken at the real time)."""
    with store.transaction():
        store.conn.execute("DELETE FROM history_tag_counts")
        store.conn.execute("DELETE FROM history_snapshots")
    tags = store.tags()
    followers, blacklist = store.follower_count(), store.blacklist_count()
    with store.transaction():
        for day in range(7):
            at = FIXED_NOW - (6 - day) * 86400
            cursor = store.conn.execute(
                "INSERT INTO history_snapshots (at, source, followers, blacklist) VALUES (?, 'sync', ?, ?)",
                [at, followers - (6 - day) * 37, blacklist])
            store.conn.executemany(
                "INSERT INTO history_tag_counts (snapshot, tagid, name, count) VALUES (?, ?, ?, ?)",
                [(cursor.lastrowid, t.id, t.name, max(0, t.count - (6 - day) * (t.id % 7) * 3)) for t in tags])


async def scene_history(pilot) -> None:
    from wxtui.ui.screens.history import HistoryScreen

    await ready(pilot)
    _fixed_history(pilot.app.session.store)
    await pilot.press("h")
    await wait_for_screen(pilot, HistoryScreen)
    await pilot.app.workers.wait_for_complete()


async def scene_segments(pilot) -> None:
    """Two saved segments in the tag pane, one chosen, and a query with a typo in the bar."""
    from wxtui.store.query import parse
    from wxtui.store.segments import Segments

    screen = await ready(pilot)
    store = pilot.app.session.store
    names = store.tag_names()
    segments = Segments(store, clock=lambda: FIXED_NOW)
    segments.save("Beijing QR", parse("tag:北京 scene:qr_code -blacklisted", names).filter)
    segments.save("VIP 2024", parse("tag:VIP followed:2024-01-01..2024-12-31", names).filter)
    screen.load_segments()
    await settle(pilot)
    entry = next(e for e in screen.tag_list.segment_entries if e.name == "Beijing QR")
    screen.tag_list.choose(entry.option_id)
    await settle(pilot)
    await pilot.press("slash")
    screen.query_one("#filter").value = "-tag:Staff lang:zh_CN tag:Gold"  # as pasted: one change
    await _quiet(pilot)


def _saved_rules(pilot) -> dict[str, int]:
    """Segments with rules as a user leaves them: one that asks (leavers lose the tag) and ran
    once, an automatic one, a paused one, and one whose segment was deleted since."""
    from wxtui.store.query import parse
    from wxtui.store.rules import Rules
    from wxtui.store.segments import Segments

    store = pilot.app.session.store
    names = store.tag_names()
    tag = {name: tagid for tagid, name in names.items()}
    segments = Segments(store, clock=lambda: FIXED_NOW)
    for name, query in (("Guangdong 2024", "tag:广东 followed:2024-01-01..2024-12-31"),
                        ("Beijing QR", "tag:北京 scene:qr_code -blacklisted"),
                        ("Promo fans", 'tag:"活动 2025" -tag:Staff'), ("Trial", "tag:会员 lang:en")):
        segments.save(name, parse(query, names).filter)
    rules = Rules(store, clock=lambda: FIXED_NOW - 3600)
    asking, _ = rules.add("Guangdong 2024", tag["VIP"], remove_leavers=True)
    rules.record_run(asking.id, "job #3: tag 12 followers, untag 2 followers", 3)
    automatic, _ = rules.add("Beijing QR", tag["Newsletter"], automatic=True)
    rules.record_run(automatic.id, "nothing to change")
    paused, _ = rules.add("Promo fans", tag["Beta testers"])
    rules.set_paused(paused.id, True)
    rules.add("Trial", tag["老客户"])
    segments.delete("Trial")
    return {"asking": asking.id}


async def scene_rules(pilot) -> None:
    """The rules screen (K): each rule's mode, last run, and a rule whose segment is gone."""
    from wxtui.ui.screens.rules import RulesScreen

    screen = await ready(pilot)
    _saved_rules(pilot)
    screen.load_segments()
    await settle(pilot)
    await pilot.press("K")
    await wait_for_screen(pilot, RulesScreen)
    await _quiet(pilot)


async def scene_rule_confirm(pilot) -> None:
    """What the app asks after a sync for a rule that is not automatic."""
    from wxtui.ui.screens.confirm import ConfirmScreen

    screen = await ready(pilot)
    asking = _saved_rules(pilot)["asking"]
    screen.load_segments()
    await settle(pilot)
    screen.run_rules([asking])
    await wait_for_screen(pilot, ConfirmScreen)
    await _quiet(pilot)


async def scene_log(pilot) -> None:
    from wxtui.ui.screens.audit_log import AuditLogScreen

    await _job_with_failures(pilot)
    # The journal's times, rids and who ran it come from the real clock and machine: fixed here.
    store = pilot.app.session.store
    with store.transaction():
        store.conn.execute("UPDATE jobs SET created_at = ?, started_at = ?, finished_at = ?, run_by = 'li.wei', "
                           "run_on = 'ops-sh-01'", (FIXED_NOW - 60, FIXED_NOW - 59, FIXED_NOW - 57))
        store.conn.execute("UPDATE job_calls SET sent_at = ? + id * 0.2, updated_at = ? + id * 0.2 + 0.1, "
                           "rid = CASE WHEN rid != '' THEN printf('6541a2f0-%010x', id * 7919) ELSE '' END",
                           (FIXED_NOW - 59, FIXED_NOW - 59))
    await pilot.press("L")
    await wait_for_screen(pilot, AuditLogScreen)
    await _quiet(pilot)


async def scene_follower(pilot) -> None:
    """One follower, opened with enter: a row with a remark and tags."""
    from wxtui.ui.screens.follower import FollowerScreen

    screen = await ready(pilot)
    acct = pilot.app.session.emulator.account
    for index in range(40):
        info = acct.follower(screen.table.source.row(index).openid)
        if info.get("remark") and len(info.get("tagid_list", ())) >= 2:
            break
        await pilot.press("down")
    await pilot.press("enter")
    follower = await wait_for_screen(pilot, FollowerScreen)
    for _ in range(300):
        if follower.card is not None:
            break
        await pilot.pause(0.01)
    await _quiet(pilot)


SCENES = {
    "main": scene_main,
    "ansi-theme": scene_ansi_theme,
    "selection-and-filter": scene_selection_and_filter,
    "blacklist": scene_blacklist,
    "tag-picker": scene_tag_picker,
    "confirm": scene_confirm,
    "new-tag": scene_new_tag,
    "help": scene_help,
    "jobs": scene_jobs,
    "job-detail": scene_job_detail,
    "segments": scene_segments,
    "log": scene_log,
    "rules": scene_rules,
    "rule-confirm": scene_rule_confirm,
    "follower": scene_follower,
    "switch-account": scene_switch_account,
    "history": scene_history,
}
SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


# -- what pilot tests of both families share ---------------------------------------------------

async def confirm(pilot):
    from wxtui.ui.screens.confirm import ConfirmScreen

    dialog = await wait_for_screen(pilot, ConfirmScreen)
    await pilot.press("y")
    await settle(pilot)
    return dialog


def notifications(pilot) -> list[str]:
    return [n.message for n in pilot.app._notifications]


def last_notification(pilot) -> str:
    return notifications(pilot)[-1]


async def until(pilot, condition, tries: int = 500, step: float = 0.02) -> None:
    """Let the app run until condition() holds (a guard against a hang, not a timing)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(step)
    raise AssertionError("the app never got there")


def tag_named(acct, name: str) -> int:
    """The emulated account's tag id of that name."""
    return next(t for t, (tag_name, _) in acct.tags().items() if tag_name == name)


def openid_at(screen, index: int) -> str:
    return screen.table.source.row(index).openid


async def select_rows(pilot, screen, n: int) -> list[str]:
    await pilot.press("space", *(["shift+down"] * (n - 1)))
    await settle(pilot)
    return [openid_at(screen, i) for i in range(n)]


@contextlib.asynccontextmanager
async def tim_session(tmp_path, accounts: int = 30):
    """A Tencent Cloud IM demo account with `accounts` users imported into its cache."""
    from wxtui.core.session import open_session
    from wxtui.families.tim.emulator import TimEmulator
    from wxtui.families.tim.sync import import_accounts

    emu = TimEmulator.demo(accounts=accounts, seed=4)
    async with open_session(emulator=emu, store_path=tmp_path / "tim.sqlite") as session:
        result = await import_accounts(session.client, session.store, emu.state.accounts())
        assert len(result.imported) == accounts
        yield session
