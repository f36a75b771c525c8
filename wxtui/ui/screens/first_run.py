"""The first-run screen: try the demo, or add an account (AppID + AppSecret into the keyring)."""

from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from wxtui.ui import format as fmt

INTRO = (
    "wxtui manages a WeChat Official Account's followers, tags and blacklist. "
    "No account is configured yet."
)
ADD_HELP = (
    "The AppID and AppSecret are under Settings and Development > Basic Configuration. "
    "The AppSecret goes to the OS keyring, never to a file. This machine's IP must be on the "
    "account's API IP whitelist."
)


class FirstRunScreen(Screen):
    BINDINGS = [
        Binding("d", "demo", "Demo", id="first_run.demo"),
        Binding("ctrl+q", "app.quit", "Quit", id="first_run.quit", priority=True),
    ]

    def __init__(self, keyring_note: str = "") -> None:
        super().__init__()
        self.keyring_note = keyring_note

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="first-run"):
            yield Label("Welcome to wxtui", classes="dialog-title")
            yield Static(INTRO, classes="note")
            with Horizontal(classes="buttons"):
                yield Button("Try the demo (100,000 followers)", id="demo", variant="primary")
                yield Button("Switch account…", id="switch")
            yield Label("Or add an account", classes="dialog-title")
            yield Static(ADD_HELP, classes="note")
            if self.keyring_note:
                yield Static(self.keyring_note, classes="warning")
            with Vertical(id="add-form"):
                yield Input(placeholder="name, e.g. acme", id="name")
                yield Input(placeholder="AppID (wx + 16 characters)", id="appid")
                yield Input(placeholder="AppSecret", password=True, id="secret")
                yield Label("", id="add-error", classes="error")
                with Horizontal(classes="buttons"):
                    yield Button("Add and open", id="add")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#demo", Button).focus()

    def action_demo(self) -> None:
        self.app.open_demo()

    @on(Button.Pressed, "#demo")
    def _demo(self) -> None:
        self.action_demo()

    @on(Button.Pressed, "#switch")
    def _switch(self) -> None:
        self.app.action_switch_account()

    @on(Button.Pressed, "#add")
    @on(Input.Submitted, "#secret")
    def _add(self) -> None:
        self.add_account(self.query_one("#name", Input).value.strip(),
                         self.query_one("#appid", Input).value.strip(),
                         self.query_one("#secret", Input).value)

    @work(group="add", exclusive=True)
    async def add_account(self, name: str, appid: str, secret: str) -> None:
        from wxtui.core.accounts import add_account
        from wxtui.core.config import ConfigError, load_config, new_profile
        from wxtui.core.errors import WxtuiError, redact

        error = self.query_one("#add-error", Label)
        try:
            profile = new_profile(name, appid)
            config = load_config()
            outcome = await asyncio.to_thread(add_account, config, profile, secret=secret or None,
                                              make_default=True)
        except (ConfigError, WxtuiError, ValueError) as exc:
            error.update(fmt.literal(redact(str(exc))))  # it may quote what was typed
            return
        self.query_one("#secret", Input).value = ""
        for message in outcome.messages:
            self.notify(redact(message), severity="warning", timeout=15)
        self.app.open_configured(profile.name)
