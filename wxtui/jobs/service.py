"""Bulk actions of one account in one place: plan, journal, run, resume, cancel, undo.

`JobService(client, store, family=…)` owns the account's journal and its one scheduler; the UI
and the command line hold one per open account. The family (wxtui.family.Family, the session's)
brings the operations the scheduler runs and the planner that turns intents into calls; nothing
here knows which family it is:

    jobs = JobService(session.client, session.store, family=session.family)
    plan = await jobs.plan(TagFollowers(134, Followers.of(openids)))   # the dry run
    job_id = jobs.submit(plan)                                          # journaled, not started
    final = await jobs.run(job_id)                                      # or jobs.start(job_id)
    undo_plan = jobs.plan_undo(job_id); await jobs.run(jobs.submit(undo_plan))
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar

from .events import CANCELLED, DONE, PAUSED, RUNNING, JobEvent, Listener
from .intents import DeleteTag, Intent
from .journal import CALL_DONE, Journal, JobRecord
from .operations import CallSpec, OperationTable, UndoContext
from .plans import Plan, PlanNote
from .scheduler import CLOSED_REASON, Scheduler
from .verify import (Verification, VerifySettings, latest_verification, repair_calls, set_repair_job,
                     verify_job)

log = logging.getLogger("wxtui.jobs")

INTERRUPTED = "interrupted"  # shown for a running job whose process is gone (not a journal state)

# An inverse may use phases 0..PHASE_STRIDE-1 of its own; the undo runs the job's phases backwards.
PHASE_STRIDE = 10


@dataclass(frozen=True)
class Undo(Intent):
    kind: ClassVar[str] = "undo"
    verb: ClassVar[str] = "undo"
    job_id: int


@dataclass(frozen=True)
class Repair(Intent):
    kind: ClassVar[str] = "repair"
    verb: ClassVar[str] = "repair"
    job_id: int


def _undo_unit(undone_unit: str, has_targets: bool) -> str:
    """What an undo's changes are: those of the job it undoes, but the followers of a deleted
    tag that it tags again, and tags where it only acts on tags."""
    if not has_targets:
        return "tags"
    return "followers" if undone_unit == "tags" else undone_unit


class JobService:
    def __init__(self, client: Any, store: Any, *, family: Any, concurrency: int | None = None,
                 operations: OperationTable | None = None, event_interval: float = 0.2,
                 verify: VerifySettings | None = None):
        self.client = client
        self.verify_settings = verify or VerifySettings()
        self.store = store
        self.family = family
        self.ops = operations or family.operations()
        self.journal = Journal(store)
        self.scheduler = Scheduler(self.ops, client, self.journal, cache=store, concurrency=concurrency,
                                   event_interval=event_interval)
        self.scheduler.events.subscribe(self._snapshot_when_finished)

    def _snapshot_when_finished(self, event: JobEvent) -> None:
        """Every job that ends (done, paused, failed, cancelled) leaves a snapshot in the history."""
        if not event.is_final:
            return
        from wxtui.store.history import record_snapshot

        try:
            record_snapshot(self.store, f"job #{event.job_id}")
        except Exception:  # noqa: BLE001 - a history point is not worth failing a job's end over
            log.exception("job %s: no history snapshot could be written", event.job_id)

    # -- plan and journal ---------------------------------------------------------------------

    async def plan(self, intent: Intent, *, check_quota: bool = True) -> Plan:
        plan = await self._planner().plan(intent, check_quota=check_quota)
        if isinstance(intent, DeleteTag):
            from wxtui.store.rules import Rules, deleted_tag_note

            note = deleted_tag_note(intent.tagid, await asyncio.to_thread(Rules(self.store).list))
            if note:
                plan.warnings.append(PlanNote("rules", note))
        return plan

    def _planner(self):
        concurrency = self.scheduler.max_concurrency
        # Estimates come from the rate jobs actually got here once one has (journal, cache and
        # retries included), not from the latency of one call alone.
        throughput = self.scheduler.calls_per_second()
        seconds_per_call = concurrency / throughput if throughput else self.scheduler.seconds_per_call()
        return self.family.planner(self.store, self.client, operations=self.ops,
                                   seconds_per_call=seconds_per_call or None, concurrency=concurrency)

    def submit(self, plan: Plan) -> int:
        """Journal the plan's job and all its calls; nothing is sent yet. Returns the job id."""
        if not plan.ok:
            raise ValueError("the plan has errors: " + "; ".join(e.message for e in plan.errors))
        undo_of = plan.intent.job_id if isinstance(plan.intent, Undo) else None
        job_id = self.journal.create_job(
            family=plan.family, kind=plan.intent.kind, title=plan.title, intent=plan.intent.to_dict(),
            calls=plan.calls, targets=plan.targets, noops=plan.noops, plan=plan.summary(), undo_of=undo_of)
        if isinstance(plan.intent, Repair):
            set_repair_job(self.journal, plan.intent.job_id, job_id)
        return job_id

    # -- running ------------------------------------------------------------------------------

    def start(self, job_id: int) -> asyncio.Future:
        """Start or resume a job; the future resolves to its last event (done, paused, ...)."""
        return self.scheduler.start(job_id)

    async def run(self, job_id: int) -> JobEvent:
        return await self.scheduler.run(job_id)

    async def resume(self, job_id: int) -> JobEvent:
        record = self._record(job_id)
        if record.state == DONE:
            raise ValueError(f"job {job_id} is done; nothing to resume")
        return await self.scheduler.run(job_id)

    def cancel(self, job_id: int) -> bool:
        """Stop a job after its calls in flight; it stays resumable. A job that another process
        runs is asked to stop through the journal (that process stops it within a second)."""
        if self.scheduler.cancel(job_id):
            return True
        record = self._record(job_id)
        if record.state == DONE:
            return False
        if self.scheduler.locks.held_elsewhere(job_id):
            self.journal.request_stop(job_id, CANCELLED)
        else:
            self.journal.set_state(job_id, CANCELLED, reason="cancelled")
        return True

    def subscribe(self, listener: Listener, job_id: int | None = None):
        return self.scheduler.events.subscribe(listener, job_id)

    def shown_state(self, record: JobRecord) -> str:
        """The job's state as a person should read it: a job the journal says is running while
        no process runs it (its process was killed) is "interrupted", and resumable."""
        if record.state == RUNNING and record.id not in self.scheduler.running() \
                and not self.scheduler.locks.held_elsewhere(record.id):
            return INTERRUPTED
        return record.state

    def interrupted(self) -> list[JobRecord]:
        """Jobs that were running when the program that ran them stopped or was closed (to
        offer a resume); not those running here or in another process."""
        running = set(self.scheduler.running())
        return [j for j in self.journal.jobs(limit=1000, states=[RUNNING, PAUSED])
                if (j.state == RUNNING or j.reason == CLOSED_REASON)
                and j.id not in running and not self.scheduler.locks.held_elsewhere(j.id)]

    async def aclose(self) -> None:
        await self.scheduler.aclose()

    # -- reading the journal ------------------------------------------------------------------

    def jobs(self, limit: int = 50) -> list[JobRecord]:
        return self.journal.jobs(limit)

    def job(self, job_id: int) -> JobRecord | None:
        return self.journal.job(job_id)

    def status(self, job_id: int) -> JobEvent:
        """The job's progress now: live when it runs, from the journal otherwise."""
        live = self.scheduler.snapshot(job_id)
        if live is not None:
            return live
        record = self._record(job_id)
        counts = self.journal.counts(job_id)
        return JobEvent(
            job_id=job_id, title=record.title, state=record.state,
            calls_done=counts.calls.get(CALL_DONE, 0), calls_failed=counts.calls.get("failed", 0),
            calls_total=counts.total_calls(), targets_done=counts.targets.get(CALL_DONE, 0),
            targets_failed=counts.targets.get("failed", 0), targets_total=counts.total_targets(),
            retries=self.journal.retries(job_id), failures=tuple(self.journal.failures(job_id, 200)),
            failures_count=self.journal.failures_count(job_id), message=record.reason,
            resume_after=record.resume_after)

    def _record(self, job_id: int) -> JobRecord:
        record = self.journal.job(job_id)
        if record is None:
            raise LookupError(f"no job {job_id}")
        return record

    # -- verification -------------------------------------------------------------------------

    async def verify(self, job_id: int, settings: VerifySettings | None = None) -> Verification | None:
        """Read a sample of the job's targets back and compare (recorded in the journal). None
        when verification is off (a percent of 0)."""
        settings = settings or self.verify_settings
        if settings.off:
            return None
        if job_id in self.scheduler.running():
            raise ValueError(f"job {job_id} is running: verify it once it has ended")
        self._record(job_id)
        return await verify_job(self.journal, self.ops.verifier, self.scheduler, job_id, settings,
                                cache=self.store)

    def verification(self, job_id: int) -> Verification | None:
        """The job's latest verification, from the journal."""
        return latest_verification(self.journal, job_id)

    def mismatch_lines(self, verification: Verification, limit: int | None = None) -> list[str]:
        """'oAbc…  should carry tag VIP; does not carry tag VIP', one per mismatch."""
        names = self.store.tag_names() if hasattr(self.store, "tag_names") else {}
        describe = self.ops.verifier.describe
        lines = []
        for m in verification.mismatches[:limit]:
            lines.append(f"{m.target}  should: {describe(m.aspect, m.expected, names)}; "
                         f"is: {describe(m.aspect, m.actual, names)}")
        return lines

    def plan_repair(self, job_id: int) -> Plan:
        """Calls giving each mismatch of the job's latest verification what the job meant."""
        record = self._record(job_id)
        intent = Repair(job_id)
        title = f"repair #{job_id}: {record.title}"
        found = self.verification(job_id)
        if found is None or not found.mismatches:
            return Plan(intent, title, [], errors=[PlanNote("nothing", f"Job {job_id} has no mismatch "
                                                            "to repair (verify it first)")])
        calls = repair_calls(self.ops.verifier, self.ops, found.mismatches)
        targets = {t for c in calls for t in c.targets}
        return Plan(intent, title, calls, len(targets), 0, [], [],
                    estimated_s=self._planner().estimate(len(calls)), family=record.family,
                    unit="accounts" if record.family == "tim" else "followers")

    # -- undo ---------------------------------------------------------------------------------

    def plan_undo(self, job_id: int) -> Plan:
        """The inverse of what the job's done calls changed, as a plan (the job must not run)."""
        record = self._record(job_id)
        intent = Undo(job_id)
        title = f"undo #{job_id}: {record.title}"
        if job_id in self.scheduler.running():
            return Plan(intent, title, [], errors=[PlanNote("running", f"Job {job_id} is running: "
                                                            "cancel it first")])
        done = list(self.journal.calls(job_id, [CALL_DONE]))
        warnings = []
        if record.state != DONE:
            warnings.append(PlanNote("partial", f"Job {job_id} is {record.state}: only the calls it "
                                     "completed are undone"))
        ctx = UndoContext(frozenset(c.op for c in done), record.vars)
        last_phase = max((c.phase for c in done), default=0)
        groups: dict[tuple[int, str, str], list[str]] = defaultdict(list)
        for call in done:
            inverse = self.ops[call.op].inverse
            if inverse is None:
                return Plan(intent, title, [], errors=[PlanNote("not_undoable", f"A {call.op} cannot be undone")])
            for spec in inverse(call.params, list(call.targets), call.output, ctx):
                phase = (last_phase - call.phase) * PHASE_STRIDE + spec.phase
                key = (phase, spec.op, json.dumps(spec.params, sort_keys=True, ensure_ascii=False))
                groups[key].extend(spec.targets)
        calls: list[CallSpec] = []
        targets: set[str] = set()
        noops = 0
        for (phase, op, key), members in sorted(groups.items()):
            params = json.loads(key)
            members = list(dict.fromkeys(members))
            already = self.ops[op].already
            if already is not None and members and self.store is not None:
                done_already = already(self.store, params, members)
                if done_already:
                    noops += len(done_already)
                    members = [m for m in members if m not in done_already]
                    if not members:
                        continue
            targets.update(members)
            if self.ops[op].batch_size == 0 or not members:
                calls.append(CallSpec(op, params, tuple(members), phase))
            else:
                calls.extend(self.ops.chunk(op, params, members, phase))
        if not calls and noops:
            warnings.append(PlanNote("nothing", f"Nothing to undo: the cache shows what job {job_id} "
                                     f"changed already back as it was ({noops:,})"))
        elif not calls:
            warnings.append(PlanNote("nothing", f"Job {job_id} changed nothing"))
        # Counted as the undone job counted its changes (an undo of clear-tags: memberships).
        changes = sum(len(c.targets) for c in calls)
        return Plan(intent, title, calls, len(targets) or len(calls), noops, warnings, [],
                    estimated_s=self._planner().estimate(len(calls)), family=record.family,
                    changes=changes if targets and changes != len(targets) else None,
                    unit=_undo_unit(record.plan.get("unit", "followers"), bool(targets)))
