"""The help screen: every key (as remapped by the user's keymap) and what it does."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from wxtui.ui import keys

NOTES = (
    "Actions apply to the selected followers, or to the one under the cursor when none is selected.",
    "Every bulk action shows what it will cost (API calls, time, quota) before it runs.",
    "* marks a tag reserved by WeChat: it cannot be renamed or deleted.",
    "↻ marks a segment with a rule: its followers are kept tagged after every sync (K lists the rules).",
    "Ctrl+P opens the command palette: every action, searchable.",
)


def key_table(keymap: dict[str, str]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for heading, bindings in keys.GROUPS:
        table.add_row(Text(heading, style="bold underline"), "")
        for binding in bindings:
            table.add_row(keys.key_for(binding, keymap), keys.LONG_HELP.get(binding.id or "", binding.description))
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close")]

    def __init__(self, keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        self.keymap = keymap or {}

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Label("Keys", classes="dialog-title")
            yield Static(key_table(self.keymap), id="keys")
            for note in NOTES:
                yield Static(note, classes="note")
            yield Label("esc closes", classes="meter")
