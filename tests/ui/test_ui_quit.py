"""Quitting is always safe: ctrl+q at any point of a sync, of a job or of a dialog exits 0, with
no traceback, and leaves the journal and the cache as a later run can use them."""

from __future__ import annotations

import pytest

from ui_fixtures import app_for, demo_session, ready, settle, wait_for_screen
from wxtui.jobs.events import CANCELLED, PAUSED, RUNNING
from wxtui.ui.screens.confirm import ConfirmScreen

SIZE = (100, 30)
# Points to quit at, in turns of the event loop after the app starts (not in seconds).
QUIT_POINTS = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55]


async def quit_after(pilot, turns: int) -> None:
    for _ in range(turns):
        await pilot.pause()
    await pilot.press("ctrl+q")


@pytest.mark.parametrize("turns", QUIT_POINTS)
async def test_quit_at_any_point_of_the_first_sync(tmp_path, turns):
    from wxtui.families.wechat.emulator import Emulator

    emulator = Emulator.demo(followers=3000, seed=7)
    emulator.faults.latency_ms = 5
    async with demo_session(tmp_path, synced=False, emulator=emulator) as session:
        app = app_for(session, sync_on_start=None)
        async with app.run_test(size=SIZE) as pilot:
            await quit_after(pilot, turns)
        assert app.return_code == 0 and app._exception is None
        # The cache is whole: a finished sync's followers, or none (the pass is swapped in at its end).
        count = session.store.follower_count()
        assert count in (0, emulator.account.subscribed_count())


@pytest.mark.parametrize("turns", QUIT_POINTS)
async def test_quit_at_any_point_of_a_job(tmp_path, turns):
    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        before = set(acct.blacklist())
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            session.emulator.faults.latency_ms = 5
            await pilot.press("a", "b")
            await wait_for_screen(pilot, ConfirmScreen)
            await pilot.press("y")
            await quit_after(pilot, turns)
        assert app.return_code == 0 and app._exception is None
        jobs = app.model.jobs
        records = jobs.jobs(5)
        if records:  # the job was journaled: it ended, or stopped resumable, never left "running"
            record = records[0]
            assert record.state != RUNNING
            # The one stopped by the closing is named for the terminal (cli.app says it there).
            assert app.interrupted_on_exit == ((record.id,) if record.state == PAUSED else ())
            listed = set(acct.blacklist())
            assert before <= listed
            assert set(session.store.blacklist()) == listed
            if record.state == CANCELLED:
                final = await jobs.run(record.id)  # and it resumes to the end
                assert final.state == "done"
                assert set(acct.blacklist()) == set(acct.follower_openids())


async def test_quit_with_a_dialog_open(tmp_path):
    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("b")
            await wait_for_screen(pilot, ConfirmScreen)
            await pilot.press("ctrl+q")
        assert app.return_code == 0 and app._exception is None
        assert app.model.jobs.jobs(5) == []  # nothing was confirmed, nothing journaled
        assert set(session.emulator.account.blacklist()) == set(session.store.blacklist())


async def test_a_read_that_returns_after_quitting_is_dropped(tmp_path):
    """The race behind NoMatches('#view-counts'): while quitting, a screen loses its widgets
    before its workers stop; a read that returns then has nowhere to show and is dropped."""
    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            session.store.selection("main").add([screen.table.source.id_at(0)])
            await screen.remove_children()  # as the app's shutdown does, widgets first
            for worker in (screen.count_selection(), screen.load_tags(), screen.read_quota()):
                await worker.wait()
            assert app.is_running and app._exception is None
            assert not app._notifications  # nothing to tell: the user is leaving
            assert screen.selected == 1  # the count was read; only the drawing was dropped
            await pilot.press("ctrl+q")
        assert app.return_code == 0 and app._exception is None


async def test_a_failing_read_is_told_and_the_app_stays_up(tmp_path):
    import sqlite3

    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)

            def broken() -> int:
                raise sqlite3.OperationalError("database is locked")

            screen.model.selection_count = broken
            await pilot.press("space")
            await settle(pilot)
            assert app.is_running and app.screen is screen
            messages = [n.message for n in app._notifications]
            assert any("database is locked" in m for m in messages)
            assert session.store.selection("main").count() == 1  # the toggle itself was kept
            await pilot.press("ctrl+q")
        assert app.return_code == 0
