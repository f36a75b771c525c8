"""The one confirmation dialog: count, target, API calls, estimated time and quota."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from wxtui.ui.format import literal
from wxtui.ui.summary import ActionSummary


class ConfirmScreen(ModalScreen[bool]):
    """Answers True when the user confirms, False otherwise."""

    BINDINGS = [
        Binding("escape,n", "cancel", "Cancel", id="confirm.cancel"),
        Binding("y", "confirm", "Confirm", id="confirm.yes"),
    ]

    def __init__(self, summary: ActionSummary) -> None:
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        s = self.summary
        with Vertical(id="dialog", classes="dialog -destructive" if s.destructive else "dialog"):
            yield Label(literal(s.title), classes="dialog-title")
            for name, value in s.lines():
                with Horizontal(classes="fact"):
                    yield Label(name, classes="fact-name")
                    yield Label(literal(value), classes="fact-value")
            if s.warning:
                yield Static(literal(s.warning), classes="warning")
            with Horizontal(classes="buttons"):
                yield Button(s.verb, id="confirm", variant="error" if s.destructive else "primary")
                yield Button("Cancel", id="cancel")
            yield Label("y confirms · n or esc cancels", classes="meter")

    def on_mount(self) -> None:
        # The safe choice has the focus unless the action is not destructive and touches one
        # follower at most: an Enter typed ahead (t, Enter, Enter) must not change thousands.
        # y confirms.
        safe = self.summary.destructive or self.summary.count > 1
        self.query_one("#cancel" if safe else "#confirm", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
