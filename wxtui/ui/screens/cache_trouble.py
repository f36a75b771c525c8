"""The account's cache cannot be used (damaged, not a file, unwritable, busy, disk full): what
is wrong, with which file, and the repair when there is one, instead of a traceback."""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Label, Static
from rich.text import Text


class CacheTroubleScreen(Screen[bool]):
    """Dismissed with True when the cache was repaired (open the account again), False to quit."""

    DEFAULT_CSS = """
    CacheTroubleScreen {
        align: center middle;
    }
    """

    BINDINGS = [
        Binding("escape,q", "quit_app", "Quit", id="cache_trouble.quit"),
        Binding("r", "repair", "Repair", id="cache_trouble.repair"),
    ]

    def __init__(self, trouble) -> None:
        super().__init__()
        self.trouble = trouble

    def compose(self) -> ComposeResult:
        t = self.trouble
        with Vertical(id="dialog", classes="dialog -destructive"):
            yield Label("The account's cache cannot be opened", classes="dialog-title")
            yield Static(Text(t.what), id="trouble-what")
            yield Static(Text(f"File: {t.path}"), id="trouble-file")
            yield Static(Text(t.todo), id="trouble-todo")
            if t.repairable:
                yield Static(Text("Repair (r) does it now; Quit (q) leaves the file as it is."),
                             id="trouble-offer")
            yield Static("", id="trouble-report")
            with Horizontal(classes="buttons"):
                if t.repairable:
                    yield Button("Repair", id="repair", variant="primary")
                yield Button("Quit", id="quit")

    def on_mount(self) -> None:
        self.query_one("#repair" if self.trouble.repairable else "#quit", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "repair":
            self.action_repair()
        else:
            self.action_quit_app()

    def action_quit_app(self) -> None:
        self.dismiss(False)

    def action_repair(self) -> None:
        if self.trouble.repairable:
            self._repair()

    @work(exclusive=True)
    async def _repair(self) -> None:
        from wxtui.store.repair import repair

        report_widget = self.query_one("#trouble-report", Static)
        report_widget.update("Repairing…")
        try:
            report = await asyncio.to_thread(repair, self.trouble.path)
        except Exception as exc:  # told on the screen; the file was not deleted
            report_widget.update(Text(f"The repair did not work: {exc}"))
            return
        report_widget.update(Text("\n".join(report.lines())))
        if report.repaired:
            self.dismiss(True)
