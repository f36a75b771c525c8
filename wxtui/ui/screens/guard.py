"""One path for a screen's background work to reach the screen: `screen_work`.

A worker resumes after its thread or its call returns; by then the user may have quit, and the
screen's widgets may already be gone while the screen itself is still being taken down. A worker
made with `screen_work` never brings the app down: when the screen is no longer live what it
meant to show has nowhere to go and is dropped; otherwise its failure (an SQLite error, a
network error) is told to the user as a notification, in plain words.
"""

from __future__ import annotations

import functools
import logging

from textual import work

from wxtui.core.errors import WxtuiError, redact

log = logging.getLogger("wxtui.ui")


def plain_error(exc: BaseException) -> str:
    """What a user is told about a failure: the errcode table's message and hint, or the
    exception's own message; never a traceback or a token."""
    if isinstance(exc, WxtuiError):
        return redact(str(exc))
    return redact(f"{type(exc).__name__}: {exc}")


def screen_is_live(screen) -> bool:
    """The screen is on the app's stack with its widgets: updates to it can land."""
    app = screen.app
    return (screen.is_attached and screen.is_running and app.is_running and screen in app.screen_stack
            and bool(screen.children))


def screen_work(*, group: str, exclusive: bool = False, what: str = "Something went wrong"):
    """Like textual's @work, for a screen's async methods, through the guard above."""

    def decorate(method):
        @functools.wraps(method)
        async def guarded(self, *args, **kwargs):
            try:
                return await method(self, *args, **kwargs)
            except Exception as exc:  # the user is told; the app stays up
                if not screen_is_live(self):
                    return None
                log.warning("%s: %s", method.__name__, redact(repr(exc)))
                self.notify(plain_error(exc), title=what, severity="error", timeout=12)
                return None

        return work(group=group, exclusive=exclusive, exit_on_error=False)(guarded)

    return decorate
