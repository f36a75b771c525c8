"""The audit log screen (`L`): every job and every API call it made, searchable as you type.

Read from the journal (wxtui.jobs.audit) in a thread; one line per job (who ran it, from which
host, when, its state and targets) followed by one line per call (operation, targets, state,
errcode, WeChat's rid, when it was sent and answered). Outside text is shown literally.
"""

from __future__ import annotations

import asyncio
import time

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label

from wxtui.jobs.audit import AuditJob, AuditLog
from wxtui.ui import format as fmt
from wxtui.ui.screens.guard import screen_work

COLUMNS = ("job / call", "when (China time)", "state", "targets", "errcode", "rid", "by / message")


def _when(ts: float | None, day: bool = True) -> str:
    if ts is None:
        return "-"
    # China time, as the rest of the app shows times (WeChat's quotas and dates follow it).
    return time.strftime("%m-%d %H:%M:%S" if day else "%H:%M:%S", time.gmtime(ts + 8 * 3600))


def title_width(screen_width: int) -> int:
    """Cells of the first column: what is left beside when and state (about 40 cells), so a long
    title (a rule's, a long tag name's) does not push them off an 80-column screen."""
    return max(24, min(60, screen_width - 40))


def _cut(text: str, width: int) -> str:
    return text if cell_len(fmt.visible(text)) <= width else fmt.fit(text, width)


def rows(entries: list[AuditJob], width: int = 60) -> list[tuple]:
    """The table's rows: (key, cells) for each job and, after it, each of its calls; the first
    cell cut with … at `width` cells."""
    out = []
    for job in entries:
        span = _when(job.created_at) + (f"→{_when(job.finished_at, day=False)}" if job.finished_at else "")
        state = job.state + (f" ({job.reason})" if job.reason else "")
        out.append((f"job:{job.id}", (
            fmt.literal(_cut(f"#{job.id} {job.title}", width), style="bold"), span, fmt.literal(state), f"{job.targets:,}",
            f"{job.failed_calls} failed" if job.failed_calls else "", "",
            fmt.literal(f"{job.run_by or '?'}@{job.run_on or '?'}"))))
        for call in job.calls:
            out.append((f"call:{call.id}", (
                fmt.literal(_cut(f"  {call.op} #{call.id}", width)),
                f"{_when(call.sent_at, day=False)}→{_when(call.ended_at, day=False)}",
                call.state, f"{call.targets:,}", "" if call.errcode is None else str(call.errcode),
                fmt.literal(call.rid), fmt.literal(call.message if call.errcode is not None else ""))))
    return out


class AuditLogScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="log.close"),
        Binding("slash", "search", "Search", id="log.search"),
    ]

    def __init__(self, journal) -> None:
        super().__init__()
        self.log_source = AuditLog(journal)
        self.search = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="audit"):
            with Vertical(id="audit-bar"):
                yield Label("Audit log · every job and every API call it made", id="audit-title")
                yield Input(placeholder="/ search: title, state, user, host, errcode, rid, message",
                            id="audit-search")
            yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=False)
            yield Label("", id="audit-counts")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        table.focus()
        self.load()

    @screen_work(group="audit", exclusive=True, what="Could not read the journal")
    async def load(self) -> None:
        entries = await asyncio.to_thread(self.log_source.jobs, search=self.search)
        table = self.query_one(DataTable)
        table.clear()
        for key, cells in rows(entries, title_width(self.app.size.width)):
            table.add_row(*cells, key=key)
        calls = sum(len(e.calls) for e in entries)
        what = f"{len(entries):,} job{'' if len(entries) == 1 else 's'}, {calls:,} call{'' if calls == 1 else 's'}"
        self.query_one("#audit-counts", Label).update(
            fmt.literal(what + (f" matching {self.search!r}" if self.search else "")))

    @on(Input.Changed, "#audit-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search = event.value.strip()
        self.load()

    @on(Input.Submitted, "#audit-search")
    def _search_submitted(self) -> None:
        self.query_one(DataTable).focus()

    def action_search(self) -> None:
        self.query_one("#audit-search", Input).focus()

    def action_close(self) -> None:
        search = self.query_one("#audit-search", Input)
        if search.has_focus and search.value:
            search.value = ""
            return
        self.app.pop_screen()
