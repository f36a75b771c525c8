"""A data worker that fails is told as a notification; the app goes on."""

from __future__ import annotations

import sqlite3

from ui_fixtures import app_for, demo_session, last_notification, ready


async def test_an_sqlite_error_in_a_data_worker_is_told_and_the_app_goes_on(tmp_path):
    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await ready(pilot)

            async def broken():
                raise sqlite3.OperationalError("disk I/O error")

            screen.model.read_tag_summary = broken
            worker = screen.load_tags()
            for _ in range(200):  # the worker's own wait() would raise its error here
                if worker.is_finished and pilot.app._notifications:
                    break
                await pilot.pause(0.01)
            assert "disk I/O error" in last_notification(pilot)
            assert app.is_running and app.screen is screen
            await pilot.press("down")  # still answering keys
            await pilot.pause()
            assert screen.table.cursor == 1
