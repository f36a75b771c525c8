"""The scheduler: one per account, running the calls of every journaled job of that account.

It keeps up to `concurrency` calls in flight across all jobs, halving that number when the
service says "slow down" (the family reports it through `watch_retries`) and growing it back by
one per round of successes. Two calls that share a conflict key (an openid) are never in flight
together: a call whose keys are busy waits while other ready calls go. Calls of a job's phase
all end before its next phase starts.

A call is marked in flight in the journal before it is sent; its result, its effect on the cache
and its journal record are written in one transaction. Those writes go to one writer thread, in
order (writer.py), so the event loop keeps sending while SQLite works; a call's slot is free as
soon as its answer is in, its keys once its result is written. What a failure means comes from the
family: a bad target splits the call in halves until the bad targets stand alone, a spent quota
pauses the job with its place kept, a transient failure requeues the call (bounded), anything
else fails the call or stops the job.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from .events import (CANCELLED, DONE, FAILED, PAUSED, RUNNING, EventHub, Failure, JobCounters,
                     JobEvent, RateMeter)
from .journal import CALL_DONE, CALL_FAILED, SPLIT, CallRecord, Journal
from .operations import CallSpec, OperationTable, Outcome, Verdict, resolve_vars
from .writer import Batcher, JournalWriter

log = logging.getLogger("wxtui.jobs")

WINDOW = 512  # pending calls of a job held in memory
LOOKAHEAD = 256  # how far past busy calls the scheduler looks for one it may send
MAX_ATTEMPTS = 6  # sends of one call before a transient failure counts as a failure
STOP_POLL_S = 0.5  # how often the journal is read for stops asked by another process


@dataclass(slots=True)
class _Ready:
    call: CallRecord
    keys: frozenset[str]


@dataclass(slots=True)
class _Result:
    """A call's end, waiting to be written with others."""

    call: CallRecord
    state: str
    effect: tuple | None  # (operation, params, targets, output) for the cache
    fields: dict  # the rest of Journal.finish's arguments


@dataclass
class _Run:
    """A job while it runs."""

    job_id: int
    title: str
    vars: dict
    counters: JobCounters
    rate: RateMeter
    phase: int | None = None
    window: deque[_Ready] = field(default_factory=deque)
    last_loaded: int = 0
    exhausted: bool = False  # no pending call beyond last_loaded in this phase
    in_flight: int = 0
    delayed: list[tuple[float, _Ready]] = field(default_factory=list)
    stop_state: str | None = None  # PAUSED / CANCELLED / FAILED once asked to stop
    stop_reason: str = ""
    resume_after: float | None = None
    finished: asyncio.Future | None = None


class Scheduler:
    def __init__(self, family: OperationTable, client: Any, journal: Journal, *, cache: Any = None,
                 concurrency: int | None = None, event_interval: float = 0.2,
                 clock: Callable[[], float] = time.monotonic, seed: int | None = None):
        self.family = family
        self.client = client
        self.journal = journal
        self.cache = cache
        self.max_concurrency = max(1, concurrency or getattr(client, "max_in_flight", 8))
        self._limit = float(self.max_concurrency)
        self._last_decrease = -1e9
        self._clock = clock
        self._rng = random.Random(seed)
        self.events = EventHub(event_interval, clock)
        self._runs: dict[int, _Run] = {}
        self._busy: set[str] = set()
        self._in_flight = 0  # calls on the wire
        self._queued = 0  # calls picked whose answer is not in yet (marked ahead, or on the wire)
        self._slot_free = asyncio.Condition()
        self._tasks: set[asyncio.Task] = set()
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task | None = None
        self._latency = 0.0  # seconds per call, moving average (for estimates)
        self._order: deque[int] = deque()  # round-robin of job ids
        self._writer = JournalWriter(journal.store)
        self._results = Batcher(self._writer, self._write_results)
        self._next_poll = 0.0

    # -- public -------------------------------------------------------------------------------

    @property
    def concurrency(self) -> int:
        """Calls allowed in flight now (adapted between 1 and max_concurrency)."""
        return int(self._limit)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def seconds_per_call(self) -> float:
        """Average latency seen, or 0 when nothing was sent yet."""
        return self._latency

    def running(self) -> list[int]:
        return list(self._runs)

    def start(self, job_id: int) -> asyncio.Future:
        """Start (or resume) a journaled job; the future resolves to its final JobEvent."""
        run = self._runs.get(job_id)
        if run is not None:
            return run.finished
        record = self.journal.job(job_id)
        if record is None:
            raise LookupError(f"no job {job_id}")
        self.journal.requeue_in_flight(job_id)
        run = _Run(job_id, record.title, dict(record.vars), self._counters(job_id),
                   RateMeter(clock=self._clock))
        run.finished = asyncio.get_running_loop().create_future()
        self._runs[job_id] = run
        self._order.append(job_id)
        self.journal.set_state(job_id, RUNNING)
        self._publish(run, force=True)
        self._kick()
        return run.finished

    async def run(self, job_id: int) -> JobEvent:
        """Start or resume a job and wait until it is done, paused, cancelled or failed."""
        return await self.start(job_id)

    def cancel(self, job_id: int) -> bool:
        """Stop sending the job's calls; those in flight finish. The job stays resumable."""
        return self._stop(job_id, CANCELLED, "cancelled")

    def pause(self, job_id: int, reason: str = "paused") -> bool:
        return self._stop(job_id, PAUSED, reason)

    def snapshot(self, job_id: int) -> JobEvent | None:
        run = self._runs.get(job_id)
        return self._event(run) if run else None

    async def aclose(self) -> None:
        """Cancel every running job and wait for the calls in flight."""
        for job_id in list(self._runs):
            self.cancel(job_id)
        if self._loop_task is not None:
            await asyncio.gather(self._loop_task, *self._tasks, return_exceptions=True)
        await asyncio.to_thread(self._writer.close)

    async def _write(self, fn, *args, **kwargs):
        """A journal write, on the writer thread."""
        return await self._writer.submit(fn, *args, **kwargs)

    # -- the dispatch loop --------------------------------------------------------------------

    def _kick(self) -> None:
        self._wake.set()
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = asyncio.get_running_loop().create_task(self._dispatch_loop())

    async def _dispatch_loop(self) -> None:
        # A job ends only once its calls in flight have ended, so no call outlives the loop.
        while self._runs:
            self._wake.clear()
            now = self._clock()
            if now >= self._next_poll:
                self._next_poll = now + STOP_POLL_S
                for job_id, state in self.journal.stop_requests(self._runs).items():
                    self._stop(job_id, state, state)
            # Twice the calls in flight are picked: the next ones are marked in the journal
            # while the current ones are out, so a free slot is used at once.
            while self._queued < 2 * int(self._limit):
                choice = self._pick(now)
                if choice is None:
                    break
                run, ready = choice
                self._busy.update(ready.keys)
                run.in_flight += 1
                self._queued += 1
                task = asyncio.get_running_loop().create_task(self._send(run, ready))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            for run in list(self._runs.values()):
                self._maybe_finish(run)
            if not self._runs:
                break
            timeout = self._next_delay(now)
            if self._runs:
                timeout = min(timeout, STOP_POLL_S) if timeout is not None else STOP_POLL_S
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    def _pick(self, now: float) -> tuple[_Run, _Ready] | None:
        """The next sendable call, taking jobs in turn."""
        for _ in range(len(self._order)):
            job_id = self._order[0]
            self._order.rotate(-1)
            run = self._runs.get(job_id)
            if run is None or run.stop_state is not None:
                continue
            ready = self._take(run, now)
            if ready is not None:
                return run, ready
        return None

    def _take(self, run: _Run, now: float) -> _Ready | None:
        if run.delayed:
            due = [d for d in run.delayed if d[0] <= now]
            if due:
                run.delayed = [d for d in run.delayed if d[0] > now]
                run.window.extendleft(r for _, r in reversed(due))
        if run.phase is None or (not run.window and run.exhausted and not run.in_flight and not run.delayed):
            if not self._advance_phase(run):
                return None
        if len(run.window) < WINDOW // 2 and not run.exhausted:
            self._refill(run)
        busy = self._busy
        for index, ready in enumerate(run.window):
            if index >= LOOKAHEAD:
                break
            if busy.isdisjoint(ready.keys):
                del run.window[index]
                return ready
        return None

    def _advance_phase(self, run: _Run) -> bool:
        """Move to the lowest phase with calls to send; False when none is left (or the current
        phase still has calls out)."""
        if run.in_flight or run.delayed or run.window:
            return False
        phase = self.journal.open_phase(run.job_id)
        if phase is None:
            return False
        if phase != run.phase:
            run.phase, run.last_loaded = phase, 0
        run.exhausted = False
        self._refill(run)
        return bool(run.window)

    def _refill(self, run: _Run) -> None:
        calls = self.journal.pending_calls(run.job_id, run.phase, run.last_loaded, WINDOW - len(run.window))
        if not calls:
            run.exhausted = True
            return
        run.last_loaded = calls[-1].id
        for call in calls:
            op = self.family[call.op]
            run.window.append(_Ready(call, frozenset(op.conflict_keys(call.params, call.targets))))

    def _next_delay(self, now: float) -> float | None:
        due = [d[0] for run in self._runs.values() for d in run.delayed]
        return max(0.0, min(due) - now) if due else None

    def _maybe_finish(self, run: _Run) -> None:
        if run.in_flight:
            return
        if run.stop_state is not None:
            self._end(run, run.stop_state, run.stop_reason, run.resume_after)
            return
        if run.window or run.delayed:
            return
        if run.phase is not None and not run.exhausted:
            return
        if self.journal.open_phase(run.job_id) is None:
            self._end(run, DONE, "")

    def _end(self, run: _Run, state: str, reason: str, resume_after: float | None = None) -> None:
        self.journal.set_state(run.job_id, state, reason=reason, resume_after=resume_after)
        self._runs.pop(run.job_id, None)
        try:
            self._order.remove(run.job_id)
        except ValueError:
            pass
        event = self._event(run, state=state, message=reason)
        self.events.publish(event, force=True)
        if run.finished is not None and not run.finished.done():
            run.finished.set_result(event)

    def _stop(self, job_id: int, state: str, reason: str, resume_after: float | None = None) -> bool:
        run = self._runs.get(job_id)
        if run is None:
            return False
        if run.stop_state is None:
            run.stop_state, run.stop_reason, run.resume_after = state, reason, resume_after
            # Calls held in memory stay pending in the journal: a resume reloads them.
            run.window.clear()
            run.delayed.clear()
            self._publish(run, force=True)
        self._kick()
        return True

    # -- one call -----------------------------------------------------------------------------

    async def _send(self, run: _Run, ready: _Ready) -> None:
        call = ready.call
        op = self.family[call.op]
        retries = 0

        def on_retry(throttled: bool) -> None:
            nonlocal retries
            retries += 1
            run.counters.retries += 1
            if throttled:
                self._slow_down()

        outcome: Outcome | None = None
        on_wire = unsent = False
        try:
            try:
                # Committed before the call goes: after a crash, the journal knows it may have.
                await self._write(self.journal.mark_in_flight, [call])
                await self._take_slot()
                on_wire = True
                if run.stop_state is not None:  # stopped while it waited: it never went
                    unsent = True
                else:
                    started = self._clock()
                    with self.family.watch_retries(on_retry):
                        params = resolve_vars(call.params, run.vars)
                        output = await op.execute(self.client, params, list(call.targets)) or {}
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # sorted by the family into what to do next
                if not on_wire:
                    raise
                outcome = self.family.classify(exc)
                # Stop before the slot is handed on, so no call of this job goes after this one.
                if outcome.verdict is Verdict.PAUSE:
                    self._stop(run.job_id, PAUSED, outcome.message, outcome.resume_after)
                elif outcome.verdict is Verdict.STOP:
                    self._stop(run.job_id, FAILED, outcome.message)
            finally:
                # The answer is in: another call may go while this one's result is written.
                self._queued -= 1
                if on_wire:
                    await self._give_slot()
                self._wake.set()
            if unsent:
                await self._write(self.journal.release, call)
            elif outcome is None:
                await self._succeeded(run, ready, params, output, retries, self._clock() - started)
            else:
                await self._failed(run, ready, outcome, retries)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the journal or the cache could not be written
            log.exception("job %s: journaling call %s failed", run.job_id, call.id)
            self._stop(run.job_id, FAILED, f"the journal could not be written: {exc}")
        finally:
            self._busy.difference_update(ready.keys)
            run.in_flight -= 1
            self._publish(run)
            self._wake.set()

    def _write_results(self, results: list["_Result"]) -> None:
        """On the writer thread, in one transaction: each call's record, then the effects on
        the cache, merged per operation and parameters where the operation allows it (calls
        written together never share a target: their keys are held until this is done)."""
        merged: dict[tuple, list[str]] = {}
        for result in results:
            self.journal.finish(result.call, result.state, **result.fields)
            if result.effect is None:
                continue
            op, params, targets, output = result.effect
            if op.merge_write_through:
                key = (op.name, json.dumps(params, sort_keys=True, ensure_ascii=False))
                merged.setdefault(key, []).extend(targets)
            else:
                op.write_through(self.cache, params, list(targets), output)
        for (name, params), targets in merged.items():
            self.family[name].write_through(self.cache, json.loads(params), targets, {})

    async def _take_slot(self) -> None:
        async with self._slot_free:
            await self._slot_free.wait_for(lambda: self._in_flight < int(self._limit))
            self._in_flight += 1

    async def _give_slot(self) -> None:
        async with self._slot_free:
            self._in_flight -= 1
            self._slot_free.notify()

    async def _succeeded(self, run: _Run, ready: _Ready, params: dict, output: dict, retries: int,
                   elapsed: float) -> None:
        call = ready.call
        op = self.family[call.op]
        job_vars = None
        exported = {k: output[k] for k in op.exports if k in output}
        if exported:
            run.vars.update(exported)
            job_vars = run.vars
        effect = (op, params, call.targets, output) if op.write_through and self.cache is not None else None
        await self._results.add(_Result(call, CALL_DONE, effect, dict(
            retries=retries, output=output or None, job_vars=dict(job_vars) if job_vars is not None else None)))
        run.counters.calls_done += 1
        run.counters.targets_done += len(call.targets)
        run.rate.tick()
        self._latency = elapsed if not self._latency else 0.9 * self._latency + 0.1 * elapsed
        self._speed_up()

    async def _failed(self, run: _Run, ready: _Ready, outcome: Outcome, retries: int) -> None:
        call = ready.call
        verdict = outcome.verdict
        counters = run.counters
        if verdict is Verdict.BAD_TARGET and len(call.targets) > 1:
            half = len(call.targets) // 2
            children = [CallSpec(call.op, call.params, call.targets[:half], call.phase),
                        CallSpec(call.op, call.params, call.targets[half:], call.phase)]
            await self._results.add(_Result(call, SPLIT, None, dict(
                retries=retries, errcode=outcome.code, message=outcome.message, children=children)))
            counters.calls_total += 1  # one call became two
            if run.phase == call.phase:
                run.exhausted = False  # the halves are new pending rows after last_loaded
            return
        if verdict is Verdict.PAUSE:
            await self._write(self.journal.release, call, retries=retries, errcode=outcome.code,
                              message=outcome.message)
            self._stop(run.job_id, PAUSED, outcome.message, outcome.resume_after)
            return
        if verdict is Verdict.STOP:
            await self._write(self.journal.release, call, retries=retries, errcode=outcome.code,
                              message=outcome.message)
            self._stop(run.job_id, FAILED, outcome.message)
            return
        if verdict is Verdict.RETRY_LATER and call.attempts < MAX_ATTEMPTS:
            await self._write(self.journal.release, call, retries=retries, errcode=outcome.code,
                              message=outcome.message)
            if run.stop_state is None:
                delay = min(30.0, 0.5 * 2 ** (call.attempts - 1)) * (0.5 + self._rng.random() / 2)
                run.delayed.append((self._clock() + delay, ready))
            return
        # A call that cannot succeed (or a lone bad target): its targets are failures.
        failures = [Failure(t, outcome.code, outcome.message) for t in call.targets]
        if not call.targets:
            failures = [Failure("", outcome.code, outcome.message)]
        await self._results.add(_Result(call, CALL_FAILED, None, dict(
            retries=retries, errcode=outcome.code, message=outcome.message, failures=failures)))
        counters.calls_failed += 1
        counters.targets_failed += len(call.targets)
        counters.add_failures(failures)
        run.rate.tick()

    # -- concurrency --------------------------------------------------------------------------

    def _slow_down(self) -> None:
        """Halve the calls in flight, at most once per round trip (as TCP does per RTT)."""
        now = self._clock()
        if now - self._last_decrease >= max(self._latency, 0.05):
            self._limit = max(1.0, self._limit / 2)
            self._last_decrease = now

    def _speed_up(self) -> None:
        if self._limit < self.max_concurrency:
            self._limit = min(float(self.max_concurrency), self._limit + 1 / self._limit)

    # -- events -------------------------------------------------------------------------------

    def _counters(self, job_id: int) -> JobCounters:
        counts = self.journal.counts(job_id)
        c = JobCounters(
            calls_total=counts.total_calls(),
            calls_done=counts.calls.get(CALL_DONE, 0),
            calls_failed=counts.calls.get(CALL_FAILED, 0),
            targets_total=counts.total_targets(),
            targets_done=counts.targets.get(CALL_DONE, 0),
            targets_failed=counts.targets.get(CALL_FAILED, 0),
            retries=self.journal.retries(job_id),
        )
        c.failures_count = self.journal.failures_count(job_id)
        c.failures = self.journal.failures(job_id, limit=200)
        return c

    def _event(self, run: _Run, *, state: str | None = None, message: str | None = None) -> JobEvent:
        c = run.counters
        rate = run.rate.rate()
        remaining = c.calls_total - c.calls_done - c.calls_failed
        eta = remaining / rate if rate > 0 else None
        if state is None:
            state = RUNNING
        return JobEvent(
            job_id=run.job_id, title=run.title, state=state,
            calls_done=c.calls_done, calls_failed=c.calls_failed, calls_total=c.calls_total,
            targets_done=c.targets_done, targets_failed=c.targets_failed, targets_total=c.targets_total,
            in_flight=run.in_flight, concurrency=self.concurrency, rate=rate, eta_s=eta,
            retries=c.retries, failures=tuple(c.failures), failures_count=c.failures_count,
            message=run.stop_reason if message is None else message,
            resume_after=run.resume_after,
        )

    def _publish(self, run: _Run, force: bool = False) -> None:
        if run.job_id in self._runs:
            self.events.publish(self._event(run), force=force)
