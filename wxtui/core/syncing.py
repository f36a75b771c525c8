"""What a sync reports, whichever family runs it: progress events and the result.

A family's sync pulls its account into the cache and speaks in these terms, so the command line
and the app show every family's sync alike.
"""

from __future__ import annotations

from dataclasses import dataclass

# How a run ends.
DONE, PAUSED, CANCELLED, FAILED = "done", "paused", "cancelled", "failed"


@dataclass(frozen=True, slots=True)
class SyncEvent:
    """Progress for the UI and the command line. total is None while unknown."""

    phase: str
    done: int
    total: int | None
    calls: int  # API calls so far in this run, retries included
    rate: float  # followers per second in this run
    eta_s: float | None
    message: str = ""


@dataclass(frozen=True, slots=True)
class SyncResult:
    status: str  # DONE, PAUSED (quota; resumes), CANCELLED (resumes), FAILED
    followers: int  # in the cache now
    added: int = 0
    removed: int = 0
    tags: int = 0
    blacklisted: int = 0
    calls: int = 0
    elapsed_s: float = 0.0
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == DONE
