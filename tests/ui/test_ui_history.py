"""Pilot test of the history screen: h opens it on the snapshots the sync and a job left and
on WeChat's daily statistics, fetched once into the cache; choosing tags changes the lines."""

from __future__ import annotations

import re

from ui_fixtures import app_for, demo_session, ready, settle, wait_for_screen
from wxtui.store.history import saved_days, snapshots
from wxtui.ui.screens.history import HistoryScreen

SIZE = (120, 40)


async def test_h_plots_the_history_and_the_daily_statistics(tmp_path):
    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            assert [s.source for s in snapshots(session.store)] == ["sync"]
            await pilot.press("h")
            screen = await wait_for_screen(pilot, HistoryScreen)
            await pilot.pause(0.5)
            await app.workers.wait_for_complete()
            await pilot.pause()
            shown = app.export_screenshot()
            biggest = sorted(session.store.tags(), key=lambda t: -t.count)[:3]
            for words in ("Followers (right) and tags (left)", "followers", "New and cancelled",
                          "cancelled", *(t.name for t in biggest)):
                assert words.replace(" ", "&#160;") in shown or words in shown, words
            days = screen._days
            assert len(days) == 90 and sum(d.new_users for d in days) > 0
            assert len(saved_days(session.store, days[0].day, days[-1].day)) == 90
            assert "90 days:" in str(screen.query_one("#history-note").render())
            calls = session.emulator.stats.calls["/datacube/getusersummary"]
            assert calls == 13  # 90 days, 7 a call
            tags = screen.query_one("#history-tags")
            assert len(tags.selected) == 3
            tags.deselect_all()
            await pilot.pause()
            assert len(tags.selected) == 0
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("h")
            screen = await wait_for_screen(pilot, HistoryScreen)
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert session.emulator.stats.calls["/datacube/getusersummary"] == calls  # from the cache
            assert len(screen._days) == 90


async def test_the_history_says_when_the_statistics_could_not_be_fetched(tmp_path):
    async with demo_session(tmp_path) as session:
        session.emulator.account.set_quota("/datacube/getusersummary", 0)
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("h")
            screen = await wait_for_screen(pilot, HistoryScreen)
            await app.workers.wait_for_complete()
            await pilot.pause()
            note = str(screen.query_one("#history-note").render())
            assert "Could not fetch the daily statistics" in note and screen._days == []
            assert isinstance(app.screen, HistoryScreen)  # still open, the snapshots plotted


async def test_the_plot_legend_fits_wide_and_control_characters_in_tag_names(tmp_path):
    """A CJK tag name takes two cells a character: its legend line must still fit the plot (else
    the line wraps and pushes the dates off it), and a control character in a name from the
    platform is shown as an escape, never handed to the terminal."""
    from rich.cells import cell_len
    from textual_plotext import PlotextPlot

    from wxtui.families.wechat.emulator import Emulator

    emulator = Emulator.demo(followers=400, seed=7)
    escaped = emulator.account.create_tag("x\x1b[31my")
    async with demo_session(tmp_path, emulator=emulator) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("h")
            screen = await wait_for_screen(pilot, HistoryScreen)
            tags = screen.query_one("#history-tags")
            names = {t.id: t.name for t in session.store.tags()}
            assert any(cell_len(names[t]) > len(names[t]) for t in tags.selected)  # a CJK name is plotted
            tags.select(escaped)
            await app.workers.wait_for_complete()
            await pilot.pause()
            plot = screen.query_one("#history-counts", PlotextPlot)
            lines = plot.render().plain.splitlines()
            assert len(lines) == plot.size.height
            for line in lines:
                assert cell_len(line) <= plot.size.width, line
            assert re.match(r"\d{4}-\d\d-\d\d ", lines[-1].strip())  # the dates under the axis
            legend = "\n".join(lines)
            assert "\x1b" not in legend and "x\\x1b[31my" in legend
            for tagid in tags.selected:
                assert fmt_visible(names[tagid]) in legend


def fmt_visible(name: str) -> str:
    from wxtui.ui.format import visible

    return visible(name)


async def test_one_snapshot_is_plotted_on_an_axis_around_it(tmp_path):
    """Right after the first sync there is one snapshot: the date axis stays around it instead
    of stretching over a century."""
    import calendar
    import time

    from textual_plotext import PlotextPlot

    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            (only,) = snapshots(session.store)
            await pilot.press("h")
            screen = await wait_for_screen(pilot, HistoryScreen)
            await app.workers.wait_for_complete()
            await pilot.pause()
            plot = screen.query_one("#history-counts", PlotextPlot)
            axis = plot.render().plain.splitlines()[-1]
            shown = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d", axis)
            assert shown, axis
            for label in shown:
                at = calendar.timegm(time.strptime(label, "%Y-%m-%d %H:%M")) - 8 * 3600
                assert abs(at - only.at) <= 86400, axis
