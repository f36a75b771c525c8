"""The wxtui application: opens an account (or the demo) and shows the main screen.

    WxtuiApp(opener).run()

`opener` is a zero-argument callable returning an async context manager that yields a ready
`wxtui.core.session.Session`; the app holds it open while it runs. Without one, the app starts on
the first-run screen (try the demo, or add an account).
"""

from __future__ import annotations

import contextlib
import time
from functools import partial
from typing import AsyncContextManager, Callable, Iterable

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Input, Label

from wxtui.ui import format as fmt, keys

Opener = Callable[[], AsyncContextManager]


class WxtuiApp(App):
    CSS_PATH = "wxtui.tcss"
    TITLE = "wxtui"
    BINDINGS = keys.APP

    interrupted_on_exit: tuple[int, ...] = ()  # jobs the closing stopped (said on the terminal after)

    def __init__(self, opener: Opener | None = None, *, keymap: dict[str, str] | None = None,
                 clock: Callable[[], float] = time.time, sync_on_start: bool | None = None,
                 demo_opener: Opener | None = None, keyring_note: str = "",
                 cursor_blink: bool = True, watch_css: bool = False) -> None:
        super().__init__(watch_css=watch_css)
        self.opener = opener
        self.demo_opener = demo_opener
        self.clock = clock
        # The app's keymap ([keymap] of the config) and the one in force: the app's, with the
        # open account's own remaps on top; rebuilt at every open, so none outlives its account.
        self.app_keymap = dict(keymap or {})
        self.keymap = dict(self.app_keymap)
        # None: sync when the cache has never been synced (a new account, the demo).
        self.sync_on_start = sync_on_start
        self.keyring_note = keyring_note
        # Off for screenshots and slow links: a blinking cursor repaints twice a second.
        self.cursor_blink = cursor_blink
        self.session = None
        self.model = None
        self._open_model = None
        self._stack = contextlib.AsyncExitStack()
        from wxtui.store.memory import limit_sqlite_memory

        # The app reads from several threads, each with its own page cache: one budget for all.
        limit_sqlite_memory()

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = True) -> None:
        """Every notification as plain text: its message often holds a tag name or an errmsg,
        which must neither read as markup nor reach the terminal as control characters."""
        kwargs = {} if timeout is None else {"timeout": timeout}
        super().notify(fmt.visible_lines(message), title=fmt.visible(title), severity=severity,
                       markup=False, **kwargs)

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Label("Opening…", id="opening")

    def on_mount(self) -> None:
        if self.keymap:
            self.set_keymap(self.keymap)
        if self.opener is None:
            from wxtui.ui.screens.first_run import FirstRunScreen

            self.push_screen(FirstRunScreen(keyring_note=self.keyring_note))
        else:
            self.open_account(self.opener)

    @work(group="session", exclusive=True, exit_on_error=False)
    async def open_account(self, opener: Opener) -> None:
        try:
            await self._open_account(opener)
        except Exception as exc:  # quitting while it opens, or a screen that could not mount
            if self.is_running:
                from wxtui.ui.screens.guard import plain_error

                self.notify(plain_error(exc), title="Could not open the account", severity="error",
                            timeout=15)

    async def _open_account(self, opener: Opener) -> None:
        from wxtui.ui.account import AccountModel
        from wxtui.ui.screens.main import MainScreen
        from wxtui.core.errors import redact

        closing = self.session.label if self.session is not None else ""
        # Back to the "Opening…" screen first: the closing account's screens and their workers
        # go before its cache and client do, so none of them reads a closed cache.
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        stopped = await self._close_session()
        if stopped:
            n = len(stopped)
            self.notify(f"{n} job{'s' if n != 1 else ''} of {closing} stopped ("
                        + ", ".join(f"#{job_id}" for job_id in stopped)
                        + f"): press j then R to resume once {closing} is open again.",
                        title="Jobs stopped", severity="warning", timeout=20)
        try:
            session = await self._stack.enter_async_context(opener())
        except Exception as exc:  # any failure to open is told, never shown as a traceback
            from wxtui.store.trouble import CacheTrouble

            if isinstance(exc, CacheTrouble):
                from wxtui.ui.screens.cache_trouble import CacheTroubleScreen

                def after(repaired: bool | None) -> None:
                    if repaired:
                        self.notify("Cache repaired: run a sync to fill it (the job journal, segments and rules were kept).",
                                    title="Repaired", timeout=15)
                        self.open_account(opener)
                    else:
                        self.exit(1)

                await self.push_screen(CacheTroubleScreen(exc), after)
                return
            self.notify(redact(str(exc)) or type(exc).__name__, title="Could not open the account",
                        severity="error", timeout=15)
            from wxtui.ui.screens.first_run import FirstRunScreen

            await self.push_screen(FirstRunScreen(keyring_note=self.keyring_note))
            return
        self.session = session
        profile = getattr(session, "profile", None)
        # The account's own keys over the app's, from scratch: another account's never linger.
        keymap = {**self.app_keymap, **(profile.keymap if profile is not None else {})}
        if keymap != self.keymap:
            self.keymap = keymap
            self.set_keymap(keymap)
        notice = session.extras.get("notice")
        if notice:
            self.notify(notice, title="Demo", severity="warning", timeout=20)
        self.model = self._open_model = AccountModel(session, self.clock)
        screen = MainScreen(self.model)
        if len(self.screen_stack) > 1:  # the first-run screen, or another account's
            await self.switch_screen(screen)
        else:
            await self.push_screen(screen)
        sync = self.sync_on_start
        if sync is None:
            sync = session.store.last_synced_at() is None
        if sync:
            screen.action_sync()

    async def _close_session(self) -> list[int]:
        """Close the open account: its running jobs stop (resumable); returns their ids."""
        stopped: list[int] = []
        # `model` stays readable after the close (what the last account's jobs became); only
        # the one still open is closed, once.
        model, self._open_model = self._open_model, None
        if model is not None:
            stopped = model.running_jobs()
            await model.aclose()
        stack, self._stack = self._stack, contextlib.AsyncExitStack()
        self.session = None
        await stack.aclose()
        return stopped

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            event._typed_to = self.screen  # noqa: SLF001 - see _on_key
        await super().on_event(event)

    async def _on_key(self, event: events.Key) -> None:
        """Keys typed ahead in one read (t, then a tag's first letters) are each sent to the
        screen that was showing, and come back here unhandled after t's binding has opened
        the tag picker over it: checked against the picker's bindings, the letters were
        dropped. A letter typed to a screen a text dialog has since covered goes to the dialog."""
        # Textual calls App._on_key after this one (handlers run down the classes), unless the
        # default is prevented.
        typed_to = getattr(event, "_typed_to", None)
        if (typed_to is not None and typed_to is not self.screen and event.is_printable and event.character
                and self.screen.query(Input)):
            event.prevent_default()
            self.screen.post_message(events.Key(event.key, event.character))

    async def on_unmount(self) -> None:
        # Said on the terminal once the app has left it (see cli.app): quitting mid-job is safe,
        # and the user should not have to relaunch to learn what became of the job.
        self.interrupted_on_exit = tuple(await self._close_session())

    def open_configured(self, name: str) -> None:
        from wxtui.core.session import account_opener

        self.open_account(account_opener(name))

    def open_demo(self) -> None:
        if self.demo_opener is not None:
            self.open_account(self.demo_opener)

    def action_switch_account(self) -> None:
        """The configured accounts and the demo; the one chosen replaces the open one."""
        from wxtui.core.config import ConfigError, Config, load_config
        from wxtui.ui.screens.switch_account import SwitchAccountScreen, account_choices

        problem = ""
        try:
            config = load_config()
        except ConfigError as exc:
            config, problem = Config(), f"The config cannot be read: {exc}"
        session = self.session
        profile = getattr(session, "profile", None)
        screen = SwitchAccountScreen(
            account_choices(config, with_demo=self.demo_opener is not None),
            current=profile.name if profile is not None else None,
            current_is_demo=bool(session is not None and session.is_demo),
            running_jobs=len(self._open_model.running_jobs()) if self._open_model is not None else 0,
            current_label=session.label if session is not None else "", problem=problem)
        self.push_screen(screen, self._switch_to)

    def _switch_to(self, choice) -> None:
        if choice is None:
            return
        if choice.is_demo:
            self.open_demo()
        else:
            self.open_configured(choice.name)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if not self.cursor_blink and isinstance(event.widget, Input):
            event.widget.cursor_blink = False

    # -- app-wide actions ---------------------------------------------------------------------

    def action_help(self) -> None:
        from wxtui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.keymap))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette offers every action of the app, under its plain-language name."""
        from wxtui.ui.screens.follower import FollowerScreen
        from wxtui.ui.screens.main import MainScreen

        main = screen if isinstance(screen, MainScreen) else None
        for heading, bindings in keys.GROUPS:
            for binding in bindings:
                action = binding.action
                if action.startswith("screen."):
                    if main is None or not main.check_action(action.removeprefix("screen."), ()):
                        continue
                    callback = partial(main.run_action, action.removeprefix("screen."))
                elif heading == "Followers" and main is not None:
                    callback = partial(main.table.run_action, action)
                elif heading == "One follower" and isinstance(screen, FollowerScreen):
                    callback = partial(screen.run_action, action)
                elif heading == "Everywhere":
                    callback = partial(self.run_action, action)
                else:
                    continue
                title = keys.LONG_HELP.get(binding.id or "", binding.description)
                yield SystemCommand(title, f"{heading} · key {keys.key_for(binding, self.keymap)}", callback)
        yield SystemCommand("Switch account", "Open another configured account, or the demo",
                            self.action_switch_account)
        yield SystemCommand("Theme", "Change the colours", self.action_change_theme)
