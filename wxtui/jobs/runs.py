"""A job while the scheduler runs it: which of its calls are ready, in which phase, and its
running totals. Only a window of its pending calls is held in memory; the journal holds the rest.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from .events import JobCounters, RateMeter
from .journal import CallRecord, Journal
from .operations import OperationTable

WINDOW = 512  # pending calls of a job held in memory
LOOKAHEAD = 256  # how far past calls with busy keys the scheduler looks for one it may send


@dataclass(slots=True)
class Ready:
    """A pending call and the keys it holds while in flight."""

    call: CallRecord
    keys: frozenset[str]


@dataclass
class JobRun:
    job_id: int
    title: str
    vars: dict
    counters: JobCounters
    rate: RateMeter
    journal: Journal
    family: OperationTable
    phase: int | None = None
    window: deque[Ready] = field(default_factory=deque)
    last_loaded: int = 0  # the highest call id loaded into the window in this phase
    exhausted: bool = False  # no pending call beyond last_loaded in this phase
    in_flight: int = 0  # picked and not yet recorded
    delayed: list[tuple[float, Ready]] = field(default_factory=list)  # (when, call) to retry
    stop_state: str | None = None  # PAUSED / CANCELLED / FAILED once asked to stop
    stop_reason: str = ""
    resume_after: float | None = None
    finished: asyncio.Future | None = None
    # Transient failures of each call (by id) in this run: what it spent of its retry budget.
    transient_failures: dict[int, int] = field(default_factory=dict)
    cleared: bool = False  # the family's check before the first call has passed
    # Calls (by id) waiting out a retry's backoff inside the client: when each goes again.
    waits: dict[int, float] = field(default_factory=dict)
    preflight: asyncio.Task | None = None

    def take(self, busy: set[str], now: float) -> Ready | None:
        """The next call whose keys are all free, or None."""
        if self.delayed:
            due = [d for d in self.delayed if d[0] <= now]
            if due:
                self.delayed = [d for d in self.delayed if d[0] > now]
                self.window.extendleft(ready for _, ready in reversed(due))
        if self.phase is None or self.phase_drained():
            if not self._advance_phase():
                return None
        if len(self.window) < WINDOW // 2 and not self.exhausted:
            self._refill()
        for index, ready in enumerate(self.window):
            if index >= LOOKAHEAD:
                break
            if busy.isdisjoint(ready.keys):
                del self.window[index]
                return ready
        return None

    def phase_drained(self) -> bool:
        """Every call of the current phase has been sent and recorded."""
        return not self.window and self.exhausted and not self.in_flight and not self.delayed

    def split_into_pending(self, phase: int) -> None:
        """New pending calls (halves of a split call) were journaled in this phase."""
        if self.phase == phase:
            self.exhausted = False

    def stop(self, state: str, reason: str, resume_after: float | None) -> bool:
        """Asked to stop: nothing more is sent. False if it was already stopping."""
        if self.stop_state is not None:
            return False
        self.stop_state, self.stop_reason, self.resume_after = state, reason, resume_after
        # Calls held in memory stay pending in the journal: a resume reloads them.
        self.window.clear()
        self.delayed.clear()
        return True

    def next_due(self) -> float | None:
        return min((when for when, _ in self.delayed), default=None)

    def _advance_phase(self) -> bool:
        """Move to the lowest phase with calls to send; False when none is left."""
        if self.in_flight or self.delayed or self.window:
            return False
        phase = self.journal.open_phase(self.job_id)
        if phase is None:
            return False
        if phase != self.phase:
            self.phase, self.last_loaded = phase, 0
        self.exhausted = False
        self._refill()
        return bool(self.window)

    def _refill(self) -> None:
        calls = self.journal.pending_calls(self.job_id, self.phase, self.last_loaded, WINDOW - len(self.window))
        if not calls:
            self.exhausted = True
            return
        self.last_loaded = calls[-1].id
        for call in calls:
            keys = self.family[call.op].conflict_keys(call.params, call.targets)
            self.window.append(Ready(call, frozenset(keys)))
