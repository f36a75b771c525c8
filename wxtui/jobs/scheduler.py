"""The scheduler: one per account, running the calls of every journaled job of that account.

It keeps up to `concurrency` calls on the wire across all jobs, halving that number when the
service says "slow down" (the family reports it through `watch_retries`) and growing it back
as calls succeed (throttle.py). Two calls that share a conflict key (an openid) are never in
flight together: a call whose keys are busy waits while other ready calls go. Calls of a job's
phase all end before its next phase starts (runs.py).

A call is marked in flight in the journal before it is sent; its result, its effect on the cache
and its journal record are written in one transaction. Those writes go to one writer thread, in
order (writer.py), so the event loop keeps sending while SQLite works: the next calls are marked
while the current ones are out, a call's slot is free as soon as its answer is in, and its keys
once its result is written. What a failure means comes from the family: a bad target splits the
call in halves until the bad targets stand alone, a spent quota pauses the job with its place
kept, a transient failure requeues the call, anything else fails the call or stops the job.

Only the platform's definite answers make failures. A transient failure (the network, a 5xx, a
busy or throttled platform) is retried a few times within the run; when a call has spent that
budget the platform is taken to be down and the job pauses with the reason and a time worth
resuming at: its calls stay pending, and a resume retries them with a fresh budget. Only a call
that went out and came back failed spends an attempt: calls marked in flight by a process that
was killed, or left pending by a pause or a cancel, have spent nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from .events import (CANCELLED, DONE, FAILED, PAUSED, RUNNING, EventHub, Failure, JobCounters,
                     JobEvent, RateMeter)
from .journal import CALL_DONE, CALL_FAILED, SPLIT, CallRecord, Journal
from .locks import JobBusy, JobLocks
from .operations import CallSpec, OperationTable, Outcome, Verdict, resolve_vars
from .runs import JobRun, Ready
from .throttle import AdaptiveLimit
from .writer import Batcher, JournalWriter

log = logging.getLogger("wxtui.jobs")

MAX_ATTEMPTS = 6  # transient answers to one call in one run before the job pauses
RETRY_DELAY_S = 0.5  # the wait before a call's second attempt, doubled for each further one
MAX_RETRY_DELAY_S = 30.0
OUTAGE_RESUME_AFTER_S = 300.0  # after a pause for an outage, when a resume is worth trying
STOP_POLL_S = 0.5  # how often the journal is read for stops asked by another process
# A cancelled job waits this long for its calls in flight, then gives up on those still out (a
# slow answer, a retry's backoff): they stay pending in the journal and go again on resume,
# which is safe because every call is idempotent.
CANCEL_GRACE_S = 1.0
# Why a job stopped when the program running it closed (the app quit, another account opened):
# paused, never "cancelled", since nobody cancelled it; the next start offers to resume it.
CLOSED_REASON = "interrupted: wxtui was closed while it ran"
# Calls picked and marked in flight, per call the wire may take: those beyond the wire wait for a
# slot already journaled, so a free slot is used at once even while the writer commits a large
# group of results (tens of ms: every call's effect on the cache).
MARKED_AHEAD = 3


def _leaves_early(run: JobRun) -> bool:
    """Stopped by a cancel or by the program closing: its calls still out are waited for only
    CANCEL_GRACE_S, and it is done if nothing was left to send."""
    return run.stop_state == CANCELLED or run.stop_reason == CLOSED_REASON


@dataclass(slots=True)
class _Result:
    """A call's end, waiting to be written with others."""

    call: CallRecord
    state: str
    effect: tuple | None  # (operation, params, targets, output) for the cache
    fields: dict  # the rest of Journal.finish's arguments


def outage_reason(message: str, attempts: int) -> str:
    """Why a job paused when the platform kept failing one of its calls (nothing failed)."""
    return f"{message} ({attempts} tries of one call); nothing failed and nothing was lost"


class Scheduler:
    def __init__(self, family: OperationTable, client: Any, journal: Journal, *, cache: Any = None,
                 concurrency: int | None = None, event_interval: float = 0.2,
                 clock: Callable[[], float] = time.monotonic, seed: int | None = None,
                 retry_delay_s: float | None = None, wall_clock: Callable[[], float] = time.time):
        self.family = family
        self.client = client
        self.journal = journal
        self.cache = cache
        self.max_concurrency = max(1, concurrency or getattr(client, "max_in_flight", 8))
        self._limit = AdaptiveLimit(self.max_concurrency, clock)
        self._clock = clock
        self._wall_clock = wall_clock  # unix seconds, for the time a paused job may resume at
        self.retry_delay_s = RETRY_DELAY_S if retry_delay_s is None else retry_delay_s
        self._rng = random.Random(seed)
        self.events = EventHub(event_interval, clock)
        self._runs: dict[int, JobRun] = {}
        self._busy: set[str] = set()
        self._queued = 0  # calls picked whose answer is not in yet (marked ahead, or on the wire)
        self._tasks: set[asyncio.Task] = set()
        self._wake = asyncio.Event()
        self._keys_freed = asyncio.Event()  # some conflict keys were let go (reads wait on it)
        self._loop_task: asyncio.Task | None = None
        self._latency = 0.0  # seconds per call, moving average (for estimates)
        self._order: deque[int] = deque()  # round-robin of job ids
        self._writer = JournalWriter(journal.store)
        self._results = Batcher(self._writer, self._write_results)
        self._next_poll = 0.0
        self.locks = JobLocks(getattr(journal.store, "path", None))
        self._awaiting: dict[int, set[asyncio.Task]] = {}  # job id -> its calls waiting for an answer
        self._given_up: set[int] = set()  # cancelled jobs whose calls still out are abandoned
        self._throughput = 0.0  # calls per second a job last got, once it had run a while

    # -- public -------------------------------------------------------------------------------

    @property
    def concurrency(self) -> int:
        """Calls allowed on the wire now (adapted between 1 and max_concurrency)."""
        return self._limit.value

    @property
    def in_flight(self) -> int:
        """Calls on the wire now."""
        return self._limit.on_wire

    def seconds_per_call(self) -> float:
        """Average latency seen, or 0 when nothing was sent yet."""
        return self._latency

    def calls_per_second(self) -> float:
        """The rate a job of this scheduler last got (answers, journal and cache writes and
        retries included), or 0 before one has run long enough to say."""
        return self._throughput

    def running(self) -> list[int]:
        return list(self._runs)

    def start(self, job_id: int) -> asyncio.Future:
        """Start (or resume) a journaled job; the future resolves to its final JobEvent.
        Raises JobBusy when another process runs it."""
        run = self._runs.get(job_id)
        if run is not None:
            return run.finished
        record = self.journal.job(job_id)
        if record is None:
            raise LookupError(f"no job {job_id}")
        if not self.locks.acquire(job_id):
            from .locks import holders

            who = [h for h in holders(getattr(self.journal.store, "path", None)) if h.endswith(f"job #{job_id}")]
            raise JobBusy(f"Job {job_id} is running in another wxtui process"
                          + (f" ({who[0].removesuffix(f' runs job #{job_id}')})" if who else ""))
        self.journal.requeue_in_flight(job_id)
        run = JobRun(job_id, record.title, dict(record.vars), self._counters(job_id),
                     RateMeter(clock=self._clock), self.journal, self.family)
        run.finished = asyncio.get_running_loop().create_future()
        self._runs[job_id] = run
        self._order.append(job_id)
        self.journal.set_state(job_id, RUNNING)
        self._publish(run, force=True)
        task = run.preflight = asyncio.get_running_loop().create_task(self._preflight(run))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
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
        """Pause every running job (CLOSED_REASON) and wait for the calls in flight, at most
        CANCEL_GRACE_S: those still out then stay pending, sent again on resume."""
        for job_id in list(self._runs):
            self._stop(job_id, PAUSED, CLOSED_REASON)
            asyncio.get_running_loop().call_later(CANCEL_GRACE_S, self._give_up_calls, job_id)
        if self._loop_task is not None:
            await asyncio.gather(self._loop_task, *self._tasks, return_exceptions=True)
        await asyncio.to_thread(self._writer.close)
        self.locks.release_all()

    async def read(self, keys, fetch: Callable[[Any], Any]) -> Any:
        """Send one read call outside any job (a verification's): under the same rules as the
        jobs' calls. It waits while a call holding one of its keys is in flight, holds them while
        it is out (no job call touching them goes meanwhile), and takes one of the slots.
        `fetch(client)` makes the call; what it raises is the caller's to sort out."""
        def on_retry(throttled: bool, delay_s: float) -> None:
            if throttled:
                self._limit.slow_down(self._latency)

        keys = set(keys)
        while keys & self._busy:
            self._keys_freed.clear()
            await self._keys_freed.wait()
        self._busy.update(keys)
        try:
            await self._limit.acquire()
            try:
                with self.family.watch_retries(on_retry):
                    return await fetch(self.client)
            finally:
                await self._limit.release()
        finally:
            self._busy.difference_update(keys)
            self._keys_freed.set()
            self._wake.set()

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
            # More calls than the wire takes are picked (MARKED_AHEAD): the next ones are marked
            # in the journal while the current ones are out. The calls picked together are
            # marked by one write, ahead of the results waiting to be written.
            picked: list[tuple[JobRun, Ready]] = []
            while self._queued < MARKED_AHEAD * self._limit.value:
                choice = self._pick(now)
                if choice is None:
                    break
                run, ready = choice
                self._busy.update(ready.keys)
                run.in_flight += 1
                self._queued += 1
                picked.append(choice)
            if picked:
                # Read before the writer thread marks them: whether an earlier send may have gone.
                sent_before = {ready.call.id: ready.call.sent_at is not None for _, ready in picked}
                marked = self._writer.submit(self.journal.mark_in_flight, [ready.call for _, ready in picked],
                                             urgent=True)
                for run, ready in picked:
                    task = asyncio.get_running_loop().create_task(
                        self._send(run, ready, marked, sent_before[ready.call.id]))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            for run in list(self._runs.values()):
                self._maybe_finish(run)
            if not self._runs:
                break
            timeout = self._next_delay(now)
            if self._runs:
                timeout = min(timeout, STOP_POLL_S) if timeout is not None else STOP_POLL_S
            # A timer that sets the event, rather than wait_for (a task and a timeout every
            # time round, and the loop goes round after every answer).
            alarm = asyncio.get_running_loop().call_later(timeout, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                alarm.cancel()

    def _pick(self, now: float) -> tuple[JobRun, Ready] | None:
        """The next sendable call, taking jobs in turn."""
        for _ in range(len(self._order)):
            job_id = self._order[0]
            self._order.rotate(-1)
            run = self._runs.get(job_id)
            if run is None or run.stop_state is not None or not run.cleared:
                continue
            ready = run.take(self._busy, now)
            if ready is not None:
                return run, ready
        return None

    def _next_delay(self, now: float) -> float | None:
        due = [when for run in self._runs.values() if (when := run.next_due()) is not None]
        return max(0.0, min(due) - now) if due else None

    def _maybe_finish(self, run: JobRun) -> None:
        if not run.cleared and run.stop_state is not None and run.preflight is not None:
            run.preflight.cancel()  # stopped (cancelled, closing) before its first call: no need
            run.cleared = True
        if run.in_flight or not run.cleared:
            return
        if _leaves_early(run) and self.journal.open_phase(run.job_id) is None:
            self._end(run, DONE, "")  # stopped after its last call had gone: nothing was left
        elif run.stop_state is not None:
            self._end(run, run.stop_state, run.stop_reason, run.resume_after)
        elif (run.phase is None or run.phase_drained()) and self.journal.open_phase(run.job_id) is None:
            self._end(run, DONE, "")

    def _end(self, run: JobRun, state: str, reason: str, resume_after: float | None = None) -> None:
        try:
            self.journal.set_state(run.job_id, state, reason=reason, resume_after=resume_after)
        except Exception:  # a full disk: the job stays "running" in the journal, which resumes it
            log.exception("job %s: its state %s could not be written", run.job_id, state)
        self._runs.pop(run.job_id, None)
        self._awaiting.pop(run.job_id, None)
        self._given_up.discard(run.job_id)
        self.locks.release(run.job_id)
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
        if run.stop(state, reason, resume_after):
            self._publish(run, force=True)
            if state == CANCELLED:
                asyncio.get_running_loop().call_later(CANCEL_GRACE_S, self._give_up_calls, job_id)
        self._kick()
        return True

    async def _preflight(self, run: JobRun) -> None:
        """The family's check before the job's first call: credentials that cannot work stop
        the job here, once, with one message."""
        try:
            await self.family.preflight(self.client)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            outcome = self.family.classify(exc)
            if outcome.verdict is Verdict.STOP:
                self._stop(run.job_id, FAILED, outcome.message)
            elif outcome.verdict is Verdict.PAUSE:
                self._stop(run.job_id, PAUSED, outcome.message, outcome.resume_after)
            # Anything else is the calls' to meet and sort out.
        finally:
            run.cleared = True
            self._wake.set()

    def _give_up_calls(self, job_id: int) -> None:
        """The cancel's (or the close's) grace is over: stop waiting for the job's calls still out."""
        run = self._runs.get(job_id)
        if run is None or not _leaves_early(run):
            return
        self._given_up.add(job_id)
        for task in list(self._awaiting.get(job_id, ())):
            task.cancel()

    # -- one call -----------------------------------------------------------------------------

    async def _send(self, run: JobRun, ready: Ready, marked: asyncio.Future, sent_before: bool) -> None:
        call = ready.call
        op = self.family[call.op]
        retries = 0

        def on_retry(throttled: bool, delay_s: float) -> None:
            nonlocal retries
            retries += 1
            run.counters.retries += 1
            if throttled:
                self._limit.slow_down(self._latency)
            # Said on the job's line at once: a call waiting out a backoff is why it stalls.
            run.waits[call.id] = self._clock() + delay_s
            self._publish(run, force=True)

        outcome: Outcome | None = None
        on_wire = unsent = False
        execute = op.execute_again if sent_before and op.execute_again else op.execute
        try:
            try:
                # Committed before the call goes: after a crash, the journal knows it may have.
                await asyncio.shield(marked)
                awaiting = self._awaiting.setdefault(run.job_id, set())
                awaiting.add(asyncio.current_task())
                try:
                    await self._limit.acquire()
                    on_wire = True
                    if run.stop_state is not None:  # stopped while it waited: it never went
                        unsent = True
                    else:
                        started = self._clock()
                        with self.family.watch_retries(on_retry):
                            params = resolve_vars(call.params, run.vars)
                            output = await execute(self.client, params, list(call.targets)) or {}
                finally:
                    awaiting.discard(asyncio.current_task())
                    run.waits.pop(call.id, None)
            except asyncio.CancelledError:
                if run.job_id not in self._given_up:
                    raise
                asyncio.current_task().uncancel()
                unsent = True  # given up on after a cancel: pending again, sent again on resume
            except Exception as exc:  # sorted by the family into what to do next
                if not on_wire:
                    raise
                outcome = self.family.classify(exc)
                if getattr(exc, "rid", ""):
                    outcome = replace(outcome, rid=exc.rid)
                # Stop before the slot is handed on, so no call of this job goes after this one.
                if outcome.verdict is Verdict.PAUSE:
                    self._stop(run.job_id, PAUSED, outcome.message, outcome.resume_after)
                elif outcome.verdict is Verdict.STOP:
                    self._stop(run.job_id, FAILED, outcome.message)
            finally:
                # The answer is in: another call may go while this one's result is written.
                self._queued -= 1
                if on_wire:
                    await self._limit.release()
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
            from wxtui.store.trouble import BUSY, FULL, translate

            trouble = translate(getattr(self.journal.store, "path", None) or Path("cache"), exc)
            if trouble is not None and trouble.kind in (FULL, BUSY):
                # The calls already made are journaled; the job goes on once there is room.
                self._stop(run.job_id, PAUSED, f"{trouble.what} {trouble.todo}")
            else:
                self._stop(run.job_id, FAILED, f"the journal could not be written: {exc}")
        finally:
            self._busy.difference_update(ready.keys)
            self._keys_freed.set()
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

    async def _succeeded(self, run: JobRun, ready: Ready, params: dict, output: dict, retries: int,
                   elapsed: float) -> None:
        call = ready.call
        op = self.family[call.op]
        job_vars = None
        exported = {k: output[k] for k in op.exports if k in output}
        if exported:
            run.vars.update(exported)
            job_vars = run.vars
        failures: list[Failure] = []
        targets = call.targets
        if op.target_failures is not None:
            failed = op.target_failures(output)
            failures = [Failure(t, *failed[t]) for t in call.targets if t in failed]
            if failures:
                targets = tuple(t for t in call.targets if t not in failed)
        changed = bool(targets) or not call.targets  # a call without targets (create tag) changed what it names
        effect = (op, params, targets, output) if op.write_through and self.cache is not None and changed else None
        await self._results.add(_Result(call, CALL_DONE, effect, dict(
            retries=retries, output=output or None, job_vars=dict(job_vars) if job_vars is not None else None,
            failures=failures)))
        run.counters.calls_done += 1
        run.counters.targets_done += len(targets)
        if failures:
            run.counters.targets_failed += len(failures)
            run.counters.add_failures(failures)
        run.rate.tick()
        self._latency = elapsed if not self._latency else 0.9 * self._latency + 0.1 * elapsed
        self._limit.speed_up()

    async def _failed(self, run: JobRun, ready: Ready, outcome: Outcome, retries: int) -> None:
        call = ready.call
        verdict = outcome.verdict
        counters = run.counters
        if verdict is Verdict.BAD_TARGET and len(call.targets) > 1:
            half = len(call.targets) // 2
            children = [CallSpec(call.op, call.params, call.targets[:half], call.phase),
                        CallSpec(call.op, call.params, call.targets[half:], call.phase)]
            await self._results.add(_Result(call, SPLIT, None, dict(
                retries=retries, errcode=outcome.code, message=outcome.message, children=children,
                rid=outcome.rid)))
            counters.calls_total += 1  # one call became two
            run.split_into_pending(call.phase)
            return
        if verdict in (Verdict.PAUSE, Verdict.STOP):  # the job was stopped when the answer came
            await self._write(self.journal.release, call, retries=retries, errcode=outcome.code,
                              message=outcome.message, rid=outcome.rid)
            return
        if verdict is Verdict.RETRY_LATER:
            # Never a failure: the platform may even have made the change (an answer lost on
            # the way back). The call stays pending; after its budget, the job pauses.
            attempts = run.transient_failures[call.id] = run.transient_failures.get(call.id, 0) + 1
            await self._write(self.journal.release, call, retries=retries, errcode=outcome.code,
                              message=outcome.message, attempted=True, rid=outcome.rid)
            if run.stop_state is not None:
                return
            if attempts < MAX_ATTEMPTS:
                delay = min(MAX_RETRY_DELAY_S, self.retry_delay_s * 2 ** (attempts - 1))
                run.delayed.append((self._clock() + delay * (0.5 + self._rng.random() / 2), ready))
                self._wake.set()
                return
            self._stop(run.job_id, PAUSED, outage_reason(outcome.message, attempts),
                       self._wall_clock() + OUTAGE_RESUME_AFTER_S)
            return
        # A call that cannot succeed (or a lone bad target): its targets are failures.
        failures = [Failure(t, outcome.code, outcome.message) for t in call.targets]
        if not call.targets:
            failures = [Failure("", outcome.code, outcome.message)]
        await self._results.add(_Result(call, CALL_FAILED, None, dict(
            retries=retries, errcode=outcome.code, message=outcome.message, failures=failures,
            rid=outcome.rid)))
        counters.calls_failed += 1
        counters.targets_failed += len(call.targets)
        counters.add_failures(failures)
        run.rate.tick()

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
        partial = self.journal.failures_count(job_id, of_done_calls=True) if c.failures_count else 0
        c.targets_done -= partial
        c.targets_failed += partial
        return c

    def _event(self, run: JobRun, *, state: str | None = None, message: str | None = None) -> JobEvent:
        c = run.counters
        rate = run.rate.rate()
        remaining = c.calls_total - c.calls_done - c.calls_failed
        eta = remaining / rate if rate > 0 else None
        now = self._clock()
        waits = [*run.waits.values(), *(when for when, _ in run.delayed)]
        retry_in = max(0.0, min(waits) - now) if waits else None
        if rate > 0 and run.rate.count >= 2 * self.max_concurrency and remaining > 2 * self.max_concurrency \
                and run.stop_state is None:
            # Enough answers for the rate to say what a job gets, and not yet its tail: the last
            # calls (a few left on the wire, one waiting out a retry's backoff) answer at a
            # trickle, and a plan estimated from that rate said 7 minutes for 3 seconds' work.
            self._throughput = rate
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
            stopping=(run.stop_state or "") if state == RUNNING else "",
            retry_in_s=retry_in if state == RUNNING else None,
        )

    def _publish(self, run: JobRun, force: bool = False) -> None:
        if run.job_id in self._runs:
            self.events.publish(self._event(run), force=force)
