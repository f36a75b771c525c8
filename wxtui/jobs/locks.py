"""One process runs a job at a time: an OS lock per job, held while a scheduler runs it.

Two processes resuming the same job (the app and `wxtui jobs resume`) would send every call
twice. The lock is flock(2) on a small file beside the cache: the kernel drops it when the
process ends, even by SIGKILL, so a crashed job can be resumed at once. Where flock does not
exist (Windows), jobs are not locked.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


class JobBusy(Exception):
    """The job runs in another process."""


class JobLocks:
    def __init__(self, cache_path: str | os.PathLike | None):
        self._dir = Path(f"{cache_path}.jobs") if cache_path is not None and fcntl is not None else None
        self._held: dict[int, int] = {}

    def acquire(self, job_id: int) -> bool:
        """Take the job's lock; False when another process holds it."""
        if self._dir is None or job_id in self._held:
            return True
        self._dir.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(self._dir / f"{job_id}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._held[job_id] = fd
        return True

    def release(self, job_id: int) -> None:
        fd = self._held.pop(job_id, None)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def release_all(self) -> None:
        for job_id in list(self._held):
            self.release(job_id)

    def held_elsewhere(self, job_id: int) -> bool:
        if job_id in self._held:
            return False
        if self.acquire(job_id):
            self.release(job_id)
            return False
        return True
