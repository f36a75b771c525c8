"""The app's demo, kept between launches under the data folder.

    <data>/demo/<followers>-followers-seed-<seed>/
        emulator.state   the emulator's snapshot (wxtui.families.wechat.emulator.persist)
        emulator.log     every change since that snapshot, one line each
        cache.sqlite     the demo account's cache: followers, jobs and their journal (a new
                         demo's is written from the emulator's state, as its first sync would)
        demo.lock        held while a process has this demo open

Each size and seed is a demo of its own, so `wxtui demo --followers 1000000` neither replaces
nor reads the 100,000-follower one. `--fresh` deletes the folder's files first. A state that
cannot be read is moved aside (its cache with it, since the cache describes that state) and
the demo starts over; the app says so. A second process opening a demo that is already open
gets one of its own in a temporary folder, not kept, rather than two emulators writing one file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from wxtui.core import paths

try:
    import fcntl
except ImportError:  # Windows: no lock, one demo at a time is then the user's care
    fcntl = None

STATE_FILE = "emulator.state"
LOG_FILE = "emulator.log"
CACHE_FILE = "cache.sqlite"
LOCK_FILE = "demo.lock"
# Beside the cache: SQLite's WAL and shared memory, and the jobs' lock folder (jobs/locks.py).
_CACHE_COMPANIONS = ("", "-wal", "-shm", "-journal", ".jobs")


def demo_folder(followers: int, seed: int) -> Path:
    return paths.data_dir() / "demo" / f"{followers}-followers-seed-{seed}"


@dataclass
class KeptDemo:
    """An open demo: its emulator, where its cache is, and what to tell the user about it."""

    emulator: object
    folder: Path
    kept: bool  # False: a temporary demo (this one was open elsewhere), deleted on close
    notice: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds: build, load, save
    _log: object = None
    _lock_fd: int | None = None

    @property
    def cache_path(self) -> Path:
        return self.folder / CACHE_FILE

    def save(self) -> None:
        """A new snapshot; the change log then starts empty."""
        from wxtui.families.wechat.emulator.persist import save_state

        if not self.kept:
            return
        started = time.perf_counter()
        save_state(self.emulator, self.folder / STATE_FILE)
        if self._log is not None:
            self._log.empty()
        self.timings["save"] = time.perf_counter() - started

    def close(self) -> None:
        """On a clean exit: the snapshot, then the lock goes."""
        try:
            self.save()
        finally:
            self.emulator.account.changes = None
            if self._log is not None:
                self._log.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # releases the flock
                self._lock_fd = None
            if not self.kept:
                shutil.rmtree(self.folder, ignore_errors=True)


def open_kept_demo(followers: int, seed: int, *, fresh: bool = False) -> KeptDemo:
    """The demo of this size and seed as it was left (or a new one). Runs for seconds at 1M:
    call it in a thread."""
    from wxtui.families.wechat.emulator.persist import ChangeLog, StateUnreadable, load_state
    from wxtui.core.session import build_demo

    folder = demo_folder(followers, seed)
    paths.ensure_private_dir(folder)
    lock_fd = _lock(folder / LOCK_FILE)
    if lock_fd is None:
        temporary = Path(tempfile.mkdtemp(prefix="wxtui-demo-"))
        started = time.perf_counter()
        emulator = build_demo(followers, seed=seed)
        timings = {"build": time.perf_counter() - started}
        _fill(emulator, temporary / CACHE_FILE, timings)
        return KeptDemo(emulator, temporary, kept=False,
                        notice="This demo is already open in another wxtui: this one starts from the "
                               "beginning and is not kept when you quit.",
                        timings=timings)
    try:
        if fresh:
            _remove_demo_files(folder)
        notice = ""
        timings: dict[str, float] = {}
        emulator = None
        state, log = folder / STATE_FILE, folder / LOG_FILE
        if state.exists():
            started = time.perf_counter()
            try:
                emulator = load_state(state, log)
                timings["load"] = time.perf_counter() - started
            except StateUnreadable as exc:
                aside = _set_aside(folder)
                notice = (f"The kept demo could not be read: {exc}. It was moved to {aside}; "
                          "the demo starts over.")
        if emulator is None:
            _remove_demo_files(folder)  # a cache left without its state describes another demo
            started = time.perf_counter()
            emulator = build_demo(followers, seed=seed)
            timings["build"] = time.perf_counter() - started
            _fill(emulator, folder / CACHE_FILE, timings)
        demo = KeptDemo(emulator, folder, kept=True, notice=notice, timings=timings, _lock_fd=lock_fd)
        replayed = log.exists() and log.stat().st_size > 0
        demo._log = ChangeLog(log)
        if "build" in timings or replayed:
            demo.save()  # the state exists from the first moment, and the log starts empty
        emulator.account.changes = demo._log
        return demo
    except BaseException:
        os.close(lock_fd)
        raise


def _fill(emulator, cache_path: Path, timings: dict[str, float]) -> None:
    started = time.perf_counter()
    fill_cache(emulator, cache_path)
    timings["fill"] = time.perf_counter() - started


FILL_PAGE = 10_000  # followers a transaction, as the sync writes a page of user/get


def fill_cache(emulator, cache_path: Path) -> None:
    """The cache a first sync of this demo would leave, written from the emulator's own state.

    A new demo's first sync through the API (user/get pages, user/info/batchget calls of 100,
    each answer encoded and decoded) took most of a first launch at a million followers (22 of
    25 s). The emulator's answers are the same without the wire: tags/get's tags, user/get's
    order, user/info's answer for each follower, the blacklist, written with the sync's own
    writes (a pass, swapped in at its end) and its history point. A sync of the demo (s) still
    goes through the API."""
    from wxtui.core.members import Tag
    from wxtui.store import Store
    from wxtui.store.history import record_snapshot

    acct = emulator.account
    store = Store.open(cache_path)
    try:
        pass_id = store.begin_pass()
        store.replace_tags(Tag(t, name, count) for t, (name, count) in acct.tags().items())
        subscribed = acct._subscribed  # noqa: SLF001 - user/get lists the subscribed, in row order
        rows = [i for i in range(acct.row_count()) if subscribed[i]]
        info = acct.info
        for start in range(0, len(rows), FILL_PAGE):
            store.write_pass_answers([info(i) for i in rows[start:start + FILL_PAGE]], pass_id)
        with store.transaction():
            store.finish_pass(pass_id)
            store.replace_blacklist(acct.blacklist())
        record_snapshot(store, "sync")
    finally:
        store.close()


def _lock(path: Path) -> int | None:
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _remove_demo_files(folder: Path) -> None:
    for name in (STATE_FILE, STATE_FILE + ".tmp", LOG_FILE):
        (folder / name).unlink(missing_ok=True)
    for suffix in _CACHE_COMPANIONS:
        target = folder / (CACHE_FILE + suffix)
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)


def _set_aside(folder: Path) -> Path:
    """Move the demo's files into a dated folder beside them; returns it."""
    aside = folder / time.strftime("set-aside-%Y%m%d-%H%M%S")
    aside.mkdir(mode=0o700, exist_ok=True)
    for name in [STATE_FILE, LOG_FILE] + [CACHE_FILE + s for s in _CACHE_COMPANIONS]:
        source = folder / name
        if source.exists():
            shutil.move(str(source), str(aside / name))
    return aside
