"""One process runs a job at a time, and one process syncs an account at a time.

Two processes resuming the same job (the app and `wxtui jobs resume`) would send every call
twice; two syncs of one account would write the same pass. The lock is flock(2) on a small file
in a folder beside the cache (`<cache>.jobs/`): the kernel drops it when the process ends, even
by SIGKILL, so a crashed job can be resumed at once. The holder writes its process id and
command into the file, so whoever finds it taken can say who holds the account. Where flock
does not exist (Windows), nothing is locked.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

SYNC_LOCK = "sync"


class JobBusy(Exception):
    """The job runs in another process."""


def lock_dir(cache_path: str | os.PathLike) -> Path:
    return Path(f"{cache_path}.jobs")


def _describe_self() -> str:
    command = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv[:4]))
    return f"{os.getpid()} {command}"[:300]


def _ensure_dir(folder: Path) -> None:
    from wxtui.store.trouble import CacheTrouble, NOT_A_FILE, unwritable

    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except FileExistsError:  # mkdir says so when the name is taken by a file
        raise CacheTrouble(
            folder, NOT_A_FILE, "The folder wxtui keeps its job locks in is a file.",
            "Move that file away (wxtui needs nothing in it; `wxtui doctor --repair` moves it "
            "aside), then run this again. Nothing was sent.") from None
    except PermissionError:
        raise unwritable(folder, "its job lock folder cannot be created") from None


class _Locks:
    """flock(2) locks by name, in one folder."""

    def __init__(self, cache_path: str | os.PathLike | None):
        self._dir = lock_dir(cache_path) if cache_path is not None and fcntl is not None else None
        self._held: dict[object, int] = {}

    def _take(self, name: object) -> bool:
        if self._dir is None or name in self._held:
            return True
        _ensure_dir(self._dir)
        fd = os.open(self._dir / f"{name}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, _describe_self().encode("utf-8", "replace"))
        self._held[name] = fd
        return True

    def _drop(self, name: object) -> None:
        fd = self._held.pop(name, None)
        if fd is not None:
            os.ftruncate(fd, 0)  # an empty file: nobody holds it (see holders())
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def release_all(self) -> None:
        for name in list(self._held):
            self._drop(name)


class JobLocks(_Locks):
    def acquire(self, job_id: int) -> bool:
        """Take the job's lock; False when another process holds it."""
        return self._take(job_id)

    def release(self, job_id: int) -> None:
        self._drop(job_id)

    def held_elsewhere(self, job_id: int) -> bool:
        if job_id in self._held:
            return False
        if self.acquire(job_id):
            self.release(job_id)
            return False
        return True


class SyncLock(_Locks):
    """The account's sync: one process at a time."""

    def acquire(self) -> bool:
        return self._take(SYNC_LOCK)

    def release(self) -> None:
        self._drop(SYNC_LOCK)


def holders(cache_path: str | os.PathLike | None, *, exclude_self: bool = True) -> list[str]:
    """Who holds a lock on this account now, in words: "process 123 (wxtui sync) syncs it".

    Read from the files without taking their locks: probing a lock, even shared, could make
    the holder's own attempt to take it fail. A holder empties its file when it lets go; one
    killed leaves its line, so a process id that no longer runs is left out."""
    if cache_path is None or fcntl is None:
        return []
    try:
        files = sorted(lock_dir(cache_path).glob("*.lock"))
    except OSError:
        return []
    from wxtui.cli.argtypes import escape_control

    found = []
    for path in files:
        try:
            text = path.read_bytes()[:400].decode("utf-8", "replace").strip()
        except OSError:
            continue
        pid, _, command = text.partition(" ")
        if not pid.isdigit() or (exclude_self and int(pid) == os.getpid()) or not _alive(int(pid)):
            continue
        what = "syncs it" if path.stem == SYNC_LOCK else f"runs job #{path.stem}"
        found.append(f"process {pid}" + (f" ({escape_control(command)})" if command else "") + f" {what}")
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
