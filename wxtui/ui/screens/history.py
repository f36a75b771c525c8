"""The history screen (h): the account's numbers over time and WeChat's daily statistics.

Above, followers in total (right axis) and the count of each chosen tag (left axis), one point per
snapshot (every sync and every finished job leaves one); below, new and cancelled followers per
day from WeChat's statistics, fetched for the days the cache does not hold yet.
"""

from __future__ import annotations

import time

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList
from textual.widgets.selection_list import Selection
from textual_plotext import PlotextPlot

from wxtui.ui.format import literal, visible
from wxtui.ui.screens.guard import screen_work

CHINA_UTC_OFFSET_S = 8 * 3600
DEFAULT_TAGS = 3
DAYS = 90
SHORTEST_SPAN_S = 2 * 3600  # the least time the snapshots' axis shows
# Plotext gives every character one cell; a CJK one takes two on the terminal. Each wide character
# of a label is followed by this filler, so Plotext leaves it its second cell, and the filler is
# taken out of what it drew.
WIDE_FILLER = "\uf8ff"


def plot_label(name: str) -> str:
    """A name from the platform as a Plotext label: control characters as escapes, and room
    kept for each wide character."""
    return "".join(ch + WIDE_FILLER if cell_len(ch) == 2 else ch for ch in visible(name))


class CellPlot(PlotextPlot):
    """A Plotext plot whose labels may hold wide characters (see plot_label)."""

    def render(self) -> Text:
        drawn = super().render()
        if WIDE_FILLER not in drawn.plain:
            return drawn
        pieces, start = [], 0
        for at, ch in enumerate(drawn.plain):
            if ch == WIDE_FILLER:
                pieces.append(drawn[start:at])
                start = at + 1
        pieces.append(drawn[start:])
        return Text("").join(pieces)


def _when(at: float) -> str:
    """China time, the platform's (its statistics' days are China days)."""
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(at + CHINA_UTC_OFFSET_S))


class HistoryScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,h,q", "dismiss", "Close", id="history.close")]

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model
        tags = sorted(model.store.tags(), key=lambda t: (-t.count, t.id))
        self._tags = tags
        self._days: list = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog history"):
            yield Label("History", classes="dialog-title")
            with Horizontal(id="history-body"):
                yield SelectionList[int](*(Selection(literal(t.name), t.id, i < DEFAULT_TAGS)
                                           for i, t in enumerate(self._tags)), id="history-tags")
                with Vertical(id="history-plots"):
                    yield CellPlot(id="history-counts")
                    yield CellPlot(id="history-daily")
            yield Label("", id="history-note", classes="note")

    def on_mount(self) -> None:
        self.query_one("#history-tags").border_title = "Tags plotted"
        self.draw_counts()
        self.load_daily()

    @on(SelectionList.SelectedChanged)
    def _tags_chosen(self) -> None:
        self.draw_counts()

    def draw_counts(self) -> None:
        chosen = list(self.query_one(SelectionList).selected)
        snapshots, series = self.model.history(chosen)
        plot = self.query_one("#history-counts", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.date_form("Y-m-d H:M")
        plt.title("Followers (right) and tags (left) at each sync and job, China time")
        if snapshots:
            first, last = snapshots[0].at, snapshots[-1].at
            if last - first < SHORTEST_SPAN_S:
                # Plotext spreads a lone point (or a few within minutes) over decades of axis.
                middle = (first + last) / 2
                plt.xlim(_when(middle - SHORTEST_SPAN_S / 2), _when(middle + SHORTEST_SPAN_S / 2))
            plt.plot([_when(s.at) for s in snapshots], [s.followers for s in snapshots],
                     label="followers", yside="right", marker="braille")
            names = {t.id: t.name for t in self._tags}
            for tagid in chosen:
                points = series.get(tagid) or []
                if points:
                    plt.plot([_when(at) for at, _n in points], [n for _at, n in points],
                             label=plot_label(names.get(tagid, f"#{tagid}")), marker="braille")
        plot.refresh()

    @screen_work(group="history", exclusive=True, what="Could not load the daily statistics")
    async def load_daily(self) -> None:
        note = self.query_one("#history-note", Label)
        note.update("Fetching WeChat's daily statistics…")
        days, message = await self.model.daily_stats(DAYS)
        self._days = days
        plot = self.query_one("#history-daily", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.date_form("Y-m-d")
        plt.title(f"New and cancelled followers per day (last {DAYS} days)")
        if days:
            xs = [d.day for d in days]
            plt.plot(xs, [d.new_users for d in days], label="new", marker="braille")
            plt.plot(xs, [d.cancel_users for d in days], label="cancelled", marker="braille")
        plot.refresh()
        if message:
            note.update(literal(message))
        elif days:
            new, cancelled = sum(d.new_users for d in days), sum(d.cancel_users for d in days)
            note.update(f"{len(days)} days: {new:,} new, {cancelled:,} cancelled, {new - cancelled:+,} net. "
                        "space: choose tags · esc: close")
