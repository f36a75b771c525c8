"""Shared by the browser-mode tests: `wxtui serve` as a user starts it, and what it prints."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

ADDRESS = re.compile(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_\-]+)")


def isolated_env(root: Path) -> dict[str, str]:
    """An environment whose home, config, data, cache, state and logs all lie under root."""
    env = dict(os.environ)
    env.update({
        "HOME": str(root / "home"),
        "WXTUI_HOME": str(root / "wxtui-home"),
        "XDG_CONFIG_HOME": str(root / "xdg-config"),
        "XDG_DATA_HOME": str(root / "xdg-data"),
        "XDG_CACHE_HOME": str(root / "xdg-cache"),
        "XDG_STATE_HOME": str(root / "xdg-state"),
    })
    for key in ("HOME", "WXTUI_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    return env


def files_holding(root: Path, needle: str) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and needle.encode() in path.read_bytes():
            found.append(str(path.relative_to(root)))
    return found


@dataclass
class Served:
    process: subprocess.Popen
    output: list[str]
    address: str
    port: int
    token: str

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app_processes(self) -> list:
        import psutil

        return psutil.Process(self.process.pid).children(recursive=True)


@contextlib.contextmanager
def wxtui_serve(env: dict[str, str], *args: str, followers: int = 300, timeout: float = 30.0):
    """`wxtui serve --demo` on a free port; yields once it has printed its address."""
    command = [sys.executable, "-m", "wxtui", "serve", "--demo", "--followers", str(followers),
               "--port", "0", *args]
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in process.stdout:
            output.append(line)
            if ADDRESS.search(line):
                found.set()
        found.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        found.wait(timeout)
        match = ADDRESS.search("".join(output))
        assert match, f"wxtui serve printed no address: {''.join(output)!r}"
        yield Served(process, output, match.group(0), int(match.group(1)), match.group(2))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(5)
