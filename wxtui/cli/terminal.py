"""Keys typed while the app loads wait for it, ctrl+q included.

Loading the app takes a few tenths of a second. Until its driver takes the terminal, the terminal
is in its usual mode, where ctrl+q is flow control (XON) that the terminal itself swallows, and
whatever is typed is echoed over the screen: ctrl+q pressed at once would be lost. So the
commands that open the app hold the keys from their first moment (`held()`): flow control and
echo off, each key readable at once, until the app's driver takes over. A question asked on the
terminal before the app runs (a keyring's password) is asked with the terminal as it was
(`released()`), and the terminal's own settings come back when the command ends.
"""

from __future__ import annotations

import contextlib
import sys

_saved: list | None = None  # the terminal's own settings while the keys are held
_fd: int | None = None


@contextlib.contextmanager
def held():
    global _saved, _fd
    try:
        import termios
    except ImportError:  # not a POSIX system: nothing to hold
        yield
        return
    try:
        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
        keys = termios.tcgetattr(fd)
        keys[0] &= ~termios.IXON  # iflag: ctrl+q and ctrl+s are keys, not flow control
        keys[3] &= ~(termios.ECHO | termios.ICANON)  # lflag: unechoed, readable at once
        termios.tcsetattr(fd, termios.TCSANOW, keys)
    except (termios.error, OSError, ValueError, AttributeError):  # not a terminal
        yield
        return
    _saved, _fd = saved, fd
    try:
        yield
    finally:
        _saved, _fd = None, None
        _set(fd, saved)


@contextlib.contextmanager
def released():
    """The terminal as it was, for a question asked before the app runs."""
    if _saved is None:
        yield
        return
    import termios

    fd = _fd
    try:
        keys = termios.tcgetattr(fd)
    except termios.error:
        yield
        return
    _set(fd, _saved)
    try:
        yield
    finally:
        _set(fd, keys)


def _set(fd: int, attributes: list) -> None:
    import termios

    try:
        termios.tcsetattr(fd, termios.TCSANOW, attributes)
    except termios.error:
        pass


def opens_the_app(argv: list[str]) -> bool:
    """Whether this command line opens the app: `wxtui`, `wxtui app …`, `wxtui demo …` (not
    their --help)."""
    if any(arg in ("-h", "--help", "--version") for arg in argv):
        return False
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    return command in (None, "app", "demo")
