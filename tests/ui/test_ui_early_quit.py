"""ctrl+q quits at any moment, the first tenths of a second included.

Until the app's driver takes the terminal, the terminal is in its usual mode, where ctrl+q is
flow control (XON) the terminal itself swallows; a ctrl+q pressed while wxtui loads was lost and
the app opened anyway. Here the app runs as a person runs it, on a pseudo-terminal, and ctrl+q
is typed the moment the process starts."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import subprocess
import sys
import termios
import threading
import time

import pytest

from wxtui.cli import terminal
from wxtui.core.session import in_daemon_thread


ALT_SCREEN = b"\x1b[?1049h"  # the app's driver has taken the terminal


def quit_while_loading(args, home, limit_s: float = 120.0):
    """Run `python -m wxtui ARGS` on a new pseudo-terminal; as soon as it holds the keys (flow
    control off), type ctrl+q. Returns whether that came before the app drew anything, its exit
    status (None if it did not end within limit_s), and the terminal's settings before and after."""
    controller, tty = pty.openpty()
    env = {**os.environ, "WXTUI_HOME": str(home), "TERM": "xterm-256color"}
    env.pop("TEXTUAL_DRIVER", None)
    before = termios.tcgetattr(tty)
    process = subprocess.Popen([sys.executable, "-m", "wxtui", *args], stdin=tty, stdout=tty, stderr=tty,
                               env=env, start_new_session=True)
    deadline = time.monotonic() + limit_s
    drawn, typed_before_drawing, status = b"", None, None
    try:
        while time.monotonic() < deadline and status is None:
            ready, _, _ = select.select([controller], [], [], 0.005)
            if ready:
                try:
                    drawn += os.read(controller, 65536)  # read, so the app never blocks writing
                except OSError:
                    pass
            if typed_before_drawing is None and not termios.tcgetattr(tty)[0] & termios.IXON:
                typed_before_drawing = ALT_SCREEN not in drawn
                os.write(controller, b"\x11")
            status = process.poll()
        after = termios.tcgetattr(tty)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
        os.close(tty)
    return typed_before_drawing, status, before, after


def test_ctrl_q_typed_while_the_app_loads_quits_it(tmp_path):
    typed_before_drawing, status, before, after = quit_while_loading(["demo", "--followers", "500"], tmp_path)
    assert typed_before_drawing, "the keys were not held before the app took the terminal"
    assert status == 0
    # The terminal is handed back as it was: flow control, echo and line editing on again.
    assert before[0] & termios.IXON and after[0] & termios.IXON
    lflags = termios.ECHO | termios.ICANON
    assert before[3] & lflags == after[3] & lflags == lflags


def test_only_the_commands_that_open_the_app_hold_the_keys():
    assert terminal.opens_the_app([])
    assert terminal.opens_the_app(["demo", "--followers", "1000"])
    assert terminal.opens_the_app(["--no-mouse", "app"])
    assert not terminal.opens_the_app(["demo", "--help"])
    assert not terminal.opens_the_app(["jobs"])
    assert not terminal.opens_the_app(["account", "add", "x"])  # it may ask for the AppSecret


async def test_a_demo_built_in_the_background_does_not_keep_the_process():
    seen = {}

    def build(n):
        seen["daemon"] = threading.current_thread().daemon
        return n * 2

    assert await in_daemon_thread(build, 21) == 42
    assert seen["daemon"] is True  # the interpreter does not join it at exit

    def fails():
        raise ValueError("no demo")

    with pytest.raises(ValueError, match="no demo"):
        await in_daemon_thread(fails)


async def test_a_kept_demo_nobody_awaits_any_more_is_closed():
    release, closed = threading.Event(), threading.Event()

    class Kept:
        def close(self):
            closed.set()

    def slow_open():
        release.wait(10)
        return Kept()

    opening = asyncio.ensure_future(in_daemon_thread(slow_open))
    await asyncio.sleep(0.01)
    opening.cancel()  # the app quit, or another account was chosen, while the demo opened
    release.set()
    assert await asyncio.to_thread(closed.wait, 10)  # its lock is not left held
