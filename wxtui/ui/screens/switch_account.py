"""Switch account: the configured accounts and the demo, one of them opened in place of the other.

Switching closes the open account first: its running jobs are stopped (the journal keeps them,
and they resume from the jobs panel once that account is open again), the dialog says so before
anything happens, and the app says which jobs it stopped after.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from wxtui.ui import format as fmt

DEMO_CHOICE = "demo"


@dataclass(frozen=True)
class AccountChoice:
    """A configured account by name, or the demo (name None)."""

    name: str | None
    label: str  # what the list shows

    @property
    def is_demo(self) -> bool:
        return self.name is None


def account_choices(config, *, with_demo: bool) -> list[AccountChoice]:
    """The configured accounts (the default one first), then the demo."""
    default = config.default_name
    names = sorted(config.accounts, key=lambda n: (n != default, n.casefold()))
    choices = []
    for name in names:
        profile = config.accounts[name]
        what = "Tencent Cloud IM" if profile.kind == "tim" else profile.appid
        label = f"{name} · {what}" + (" · default" if name == default else "")
        choices.append(AccountChoice(name, label))
    if with_demo:
        choices.append(AccountChoice(None, "The demo (an emulated account, kept between launches)"))
    return choices


class SwitchAccountScreen(ModalScreen[AccountChoice | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="switch.cancel")]

    def __init__(self, choices: list[AccountChoice], *, current: str | None, current_is_demo: bool,
                 running_jobs: int = 0, current_label: str = "", problem: str = "") -> None:
        super().__init__()
        self.choices = choices
        self.current = current
        self.current_is_demo = current_is_demo
        self.running_jobs = running_jobs
        self.current_label = current_label
        self.problem = problem

    def _is_current(self, choice: AccountChoice) -> bool:
        return choice.is_demo if self.current_is_demo else (choice.name is not None and choice.name == self.current)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker", id="switch-account"):
            yield Label("Switch account", classes="dialog-title")
            options = []
            for index, choice in enumerate(self.choices):
                text = Text(fmt.visible(choice.label))
                if self._is_current(choice):
                    text.append("  (open)", "dim")
                options.append(Option(text, id=str(index)))
            yield OptionList(*options, id="switch-options")
            notes = []
            if self.problem:
                notes.append(self.problem)
            if self.running_jobs:
                n = self.running_jobs
                notes.append(f"{n:,} job{'s' if n != 1 else ''} running on {self.current_label}: switching "
                             f"stops {'them' if n != 1 else 'it'}; press j then R to resume once "
                             f"{self.current_label} is open again.")
            note = Label(fmt.literal(" ".join(notes)), id="switch-note", classes="warning")
            note.display = bool(notes)
            yield note
            yield Label("enter opens · esc cancels", classes="meter")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        current = next((i for i, c in enumerate(self.choices) if self._is_current(c)), None)
        first_other = next((i for i, c in enumerate(self.choices) if not self._is_current(c)), None)
        if first_other is not None:
            options.highlighted = first_other
        elif current is not None:
            options.highlighted = current
        options.focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        choice = self.choices[int(event.option.id or 0)]
        self.dismiss(None if self._is_current(choice) else choice)

    def action_cancel(self) -> None:
        self.dismiss(None)
