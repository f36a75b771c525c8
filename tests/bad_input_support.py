"""Shared by the bad-input tests: an account on a served emulator with a synced cache, and a way
to run the CLI in-process and see its exit status and everything it printed."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from jobs_support import add_account, served
from wxtui.core import paths
from wxtui.cli.main import main


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_cli(argv: list[str], stdin: str | io.TextIOBase | None = "") -> Run:
    """main(argv) in this process: its exit status (argparse's too) and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    saved_in = sys.stdin
    if isinstance(stdin, str):
        stdin_stream = io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8")), encoding="utf-8")
    else:
        stdin_stream = stdin
    sys.stdin = stdin_stream
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        sys.stdin = saved_in
    return Run(int(code), out.getvalue(), err.getvalue())


def digest(path: Path) -> str | None:
    """What a file (or a folder, or a link) is, to compare before and after."""
    if os.path.islink(path):
        return "link:" + os.readlink(path)
    if path.is_dir():
        return "dir:" + ",".join(sorted(p.name for p in path.iterdir()))
    if not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextlib.contextmanager
def synced_account(emu, monkeypatch):
    """A configured account on the emulator (served on loopback), its cache synced.
    Yields the cache's path."""
    with served(emu) as url:
        monkeypatch.setenv("WXTUI_SECRET_" + emu.account.appid.upper(), emu.account.secret)
        add_account(main, emu.account.appid, url)
        assert main(["sync", "--quiet"]) == 0
        yield paths.cache_db(emu.account.appid)
