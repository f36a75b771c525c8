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


# Said when a key asks for an action while the one before it is still under way (one=True).
STILL_BUSY = "Still working on the last action (its confirmation comes next): press the key again after it"


def refuse_while_busy(screen, group: str) -> bool:
    """Whether a worker of the group is still under way on the screen (the user is told)."""
    if any(w.group == group and w.node is screen and not w.is_finished for w in screen.app.workers):
        screen.notify(STILL_BUSY, severity="warning", timeout=4)
        return True
    return False


def screen_work(*, group: str, exclusive: bool = False, one: bool = False, what: str = "Something went wrong"):
    """Like textual's @work, for a screen's async methods, through the guard above.

    one: while a worker of the group is still under way on this screen, a new one is not
    started and the user is told (STILL_BUSY). Exclusive would cancel the one under way
    instead: a key pressed while an action is planned (a second or two on a slow network,
    nothing on screen yet) would silently drop the action the user had already chosen."""

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

        start = work(group=group, exclusive=exclusive, exit_on_error=False)(guarded)
        if not one:
            return start

        @functools.wraps(method)
        def start_one(self, *args, **kwargs):
            if refuse_while_busy(self, group):
                return None
            return start(self, *args, **kwargs)

        return start_one

    return decorate
