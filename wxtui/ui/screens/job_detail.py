"""A job's detail: its progress and every failure by openid, with the errcode's message."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label

from wxtui.jobs.events import DONE, RESUMABLE_STATES, RUNNING, Failure, JobEvent
from wxtui.ui.format import literal
from wxtui.ui.summary import failure_text

MAX_SHOWN = 1000  # a DataTable is fine for this many; the CSV export covers the rest


def job_facts(e: JobEvent) -> str:
    """Counts that stay true once the job has stopped (the rate and ETA are the panel's)."""
    parts = [f"{e.targets_done:,} of {e.targets_total:,} changed" if e.targets_total else "",
             f"{e.calls_done + e.calls_failed:,} of {e.calls_total:,} calls",
             "1 retry" if e.retries == 1 else f"{e.retries:,} retries"]
    return " · ".join(p for p in parts if p)


class JobDetailScreen(ModalScreen[str | None]):
    """Answers "resume", "undo", "cancel" or None (closed)."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="detail.close"),
        Binding("R", "choose('resume')", "Resume", id="detail.resume"),
        Binding("z", "choose('undo')", "Undo", id="detail.undo"),
        Binding("x", "choose('cancel')", "Cancel job", id="detail.cancel"),
    ]

    def __init__(self, event: JobEvent, failures: list[Failure], describe) -> None:
        super().__init__()
        self.event = event
        self.failures = failures
        self.describe = describe  # the account's family's error table

    def compose(self) -> ComposeResult:
        e = self.event
        with Vertical(classes="dialog detail"):
            yield Label(literal(f"{e.title} — {e.state}"), classes="dialog-title")
            yield Label(job_facts(e), classes="meter")
            if e.message:
                yield Label(literal(e.message), classes="note")
            shown = len(self.failures)
            if e.failures_count:
                more = f" (first {shown:,} shown)" if e.failures_count > shown else ""
                yield Label(f"{e.failures_count:,} failed{more}", classes="error")
                yield DataTable(id="failures", cursor_type="row", zebra_stripes=True)
            else:
                yield Label("No failures.", classes="note")
            with Horizontal(classes="buttons"):
                if e.state in RESUMABLE_STATES and e.state != RUNNING:
                    yield Button("Resume", id="resume", variant="primary")
                if e.state == DONE:
                    yield Button("Undo", id="undo")
                if e.state == RUNNING:
                    yield Button("Cancel job", id="cancel", variant="error")
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        if self.event.failures_count:
            table = self.query_one(DataTable)
            table.add_columns("openid", "errcode", "what happened")
            for f in self.failures[:MAX_SHOWN]:
                table.add_row(literal(f.target), "" if f.errcode is None else str(f.errcode),
                              literal(failure_text(f.message, f.errcode, self.describe)))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None if event.button.id == "close" else event.button.id)

    def action_choose(self, choice: str) -> None:
        if self.query(f"#{choice}"):
            self.dismiss(choice)
