"""What a running job tells its listeners: one `JobEvent` snapshot at a time, rate-limited.

Listeners are plain callbacks or asyncio queues; a UI, a progress bar and a test listen the same
way. Snapshots are complete (not deltas), so a listener may drop any of them but the last.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

# Job states.
READY = "ready"  # journaled, never started
RUNNING = "running"
PAUSED = "paused"  # a quota ran out (or a listener asked); resumable
CANCELLED = "cancelled"  # stopped by the user; resumable
DONE = "done"  # every call ended (some may have failed: see failures)
FAILED = "failed"  # stopped by an error no call could get past; resumable once fixed
RESUMABLE_STATES = frozenset({READY, RUNNING, PAUSED, CANCELLED, FAILED})


@dataclass(frozen=True, slots=True)
class Failure:
    """A target the job could not change, with the service's errcode and what it means."""

    target: str
    errcode: int | None
    message: str


@dataclass(frozen=True, slots=True)
class JobEvent:
    job_id: int
    title: str
    state: str
    calls_done: int
    calls_failed: int
    calls_total: int
    targets_done: int
    targets_failed: int
    targets_total: int
    in_flight: int = 0
    concurrency: int = 0
    rate: float = 0.0  # calls per second, recently
    eta_s: float | None = None
    retries: int = 0
    failures: tuple[Failure, ...] = ()  # the first MAX_EVENT_FAILURES; failures_count has all
    failures_count: int = 0
    message: str = ""  # why it paused/stopped, or the last notable thing
    resume_after: float | None = None  # unix seconds: when a paused job is worth resuming
    stopping: str = ""  # while running: the state it was asked to stop into (cancelled, paused)
    retry_in_s: float | None = None  # while running: until the soonest call waiting to be retried goes

    @property
    def paused_for_quota(self) -> bool:
        """Paused until a daily quota resets (midnight China time), not for an outage."""
        return self.state == PAUSED and self.resume_after is not None and is_quota_reset(self.resume_after)

    @property
    def target_rate(self) -> float:
        """Targets (followers, users) per second, recently: the call rate times the targets of
        an average call of this job."""
        return self.rate * self.targets_total / self.calls_total if self.calls_total else 0.0

    @property
    def fraction(self) -> float:
        return (self.calls_done + self.calls_failed) / self.calls_total if self.calls_total else 1.0

    @property
    def is_final(self) -> bool:
        """The job is no longer running (done, paused, cancelled or failed)."""
        return self.state != RUNNING

    def progress_text(self) -> str:
        parts = [f"{self.calls_done + self.calls_failed:,}/{self.calls_total:,} calls",
                 f"{self.targets_done:,}/{self.targets_total:,} done"]
        if self.rate:
            parts.append(f"{self.rate:,.0f}/s")
        if self.eta_s is not None and self.state == RUNNING:
            parts.append(f"ETA {format_duration(self.eta_s)}")
        if self.retries:
            parts.append(f"{self.retries:,} retries")
        if self.failures_count:
            parts.append(f"{self.failures_count:,} failed")
        return " · ".join(parts)


MAX_EVENT_FAILURES = 200
CHINA_UTC_OFFSET_S = 8 * 3600


def is_quota_reset(unix: float) -> bool:
    """Whether a time is a midnight in China, when the platform's daily quotas reset."""
    return (unix + CHINA_UTC_OFFSET_S) % 86400 == 0


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


Listener = Callable[[JobEvent], None]


@dataclass
class _Subscription:
    listener: Listener
    job_id: int | None  # None: every job


class EventHub:
    """Delivers job events to listeners, at most one per job per `interval` seconds, except that
    a change of state is always delivered at once (and the last snapshot is never lost)."""

    def __init__(self, interval: float = 0.2, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self._clock = clock
        self._subs: list[_Subscription] = []
        self._last_sent: dict[int, tuple[float, str]] = {}
        self._held: dict[int, JobEvent] = {}
        self._flush_handles: dict[int, asyncio.TimerHandle] = {}

    def subscribe(self, listener: Listener, job_id: int | None = None) -> Callable[[], None]:
        """Calls listener(event) for one job's events, or every job's; returns the unsubscriber."""
        sub = _Subscription(listener, job_id)
        self._subs.append(sub)

        def unsubscribe() -> None:
            if sub in self._subs:
                self._subs.remove(sub)

        return unsubscribe

    def queue(self, job_id: int | None = None) -> tuple[asyncio.Queue, Callable[[], None]]:
        """An unbounded queue receiving the events, and the unsubscriber."""
        q: asyncio.Queue = asyncio.Queue()
        return q, self.subscribe(q.put_nowait, job_id)

    def publish(self, event: JobEvent, *, force: bool = False) -> None:
        now = self._clock()
        last = self._last_sent.get(event.job_id)
        state_changed = last is None or last[1] != event.state
        if force or state_changed or now - last[0] >= self.interval:
            self._send(event, now)
            return
        self._held[event.job_id] = event
        if event.job_id not in self._flush_handles:
            delay = max(0.0, self.interval - (now - last[0]))
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self._send(event, now)
                return
            self._flush_handles[event.job_id] = loop.call_later(delay, self._flush, event.job_id)

    def _flush(self, job_id: int) -> None:
        self._flush_handles.pop(job_id, None)
        event = self._held.pop(job_id, None)
        if event is not None:
            self._send(event, self._clock())

    def _send(self, event: JobEvent, now: float) -> None:
        self._held.pop(event.job_id, None)
        handle = self._flush_handles.pop(event.job_id, None)
        if handle is not None:
            handle.cancel()
        self._last_sent[event.job_id] = (now, event.state)
        for sub in list(self._subs):
            if sub.job_id is None or sub.job_id == event.job_id:
                sub.listener(event)


class RateMeter:
    """Completions per second over a sliding window."""

    def __init__(self, window_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.window_s = window_s
        self._clock = clock
        self._times: deque[float] = deque()
        self._started = clock()
        self.count = 0  # completions since it started

    def tick(self, n: int = 1) -> None:
        now = self._clock()
        self.count += n
        for _ in range(n):
            self._times.append(now)
        self._trim(now)

    def rate(self) -> float:
        now = self._clock()
        self._trim(now)
        if not self._times:
            return 0.0
        span = max(now - self._times[0], min(now - self._started, self.window_s), 1e-3)
        return len(self._times) / span

    def _trim(self, now: float) -> None:
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()


@dataclass
class JobCounters:
    """Running totals of one job, kept in memory while it runs (seeded from the journal)."""

    calls_total: int = 0
    calls_done: int = 0
    calls_failed: int = 0
    targets_total: int = 0
    targets_done: int = 0
    targets_failed: int = 0
    retries: int = 0
    failures: list[Failure] = field(default_factory=list)
    failures_count: int = 0

    def add_failures(self, failures: list[Failure]) -> None:
        self.failures_count += len(failures)
        room = MAX_EVENT_FAILURES - len(self.failures)
        if room > 0:
            self.failures.extend(failures[:room])
