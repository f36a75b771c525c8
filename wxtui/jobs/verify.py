"""Verification after a job: read a sample of its targets back from the platform and compare.

A call that answered ok is taken to have done its work; a platform (or a client) that silently
does something else (an untag sent to the tagging URL, a tag id sent in the wrong shape) would go
unnoticed. So after a job, a sample of the targets its done calls changed is read back, and what
each should now be (the last change the job made to it) is compared with what the platform
says. The result is kept in the journal (`job_verifications`) beside the job.

The engine knows nothing of WeChat: an API family hands it a `Verifier` (its OperationTable's
`verifier`) saying what each of its operations means for a target afterwards (an "aspect" such
as "tag:134" with the value True), how to read aspects back in calls of `read_batch` targets,
and which call sets an aspect to a value (for a repair, and to put the cache right).

Reads go through the account's scheduler (`Scheduler.read`): they share its slots, never go while
a call holding one of their targets is in flight, and a read answered with a spent quota ends the
verification as incomplete rather than failing anything.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable, Mapping, Protocol, Sequence

from .journal import CALL_DONE, Journal
from .operations import CallSpec, Verdict, resolve_vars

DEFAULT_PERCENT = 1.0
DEFAULT_MIN_TARGETS = 10
DEFAULT_MAX_CALLS = 100
SHOWN_MISMATCHES = 20

# Verification states.
VERIFIED = "verified"  # every sampled target is as the job left it
MISMATCHED = "mismatched"  # some are not: listed, and a repair can be planned
INCOMPLETE = "incomplete"  # the reads stopped (a quota, the platform down): what was read is kept
UNAVAILABLE = "unavailable"  # the family cannot read its changes back
NOTHING = "nothing"  # the job changed no target that can be read back


@dataclass(frozen=True, slots=True)
class VerifySettings:
    """How much of a job is read back: `percent` of its targets (0: none), at least
    `min_targets` (or all of them when fewer), in at most `max_calls` read calls."""

    percent: float = DEFAULT_PERCENT
    min_targets: int = DEFAULT_MIN_TARGETS
    max_calls: int = DEFAULT_MAX_CALLS

    @property
    def off(self) -> bool:
        return self.percent <= 0 or self.max_calls <= 0

    def sample_size(self, targets: int, read_batch: int) -> int:
        if self.off or targets <= 0:
            return 0
        wanted = max(math.ceil(targets * min(self.percent, 100.0) / 100.0), self.min_targets)
        return min(targets, wanted, self.max_calls * max(1, read_batch))


def settings_of(profile: Any, percent: float | None = None, max_calls: int | None = None) -> VerifySettings:
    """An account's settings (its verify_percent and verify_max_calls, or the defaults), with
    what a command's flags say instead."""
    if percent is None:
        percent = getattr(profile, "verify_percent", None)
    if max_calls is None:
        max_calls = getattr(profile, "verify_max_calls", None)
    return VerifySettings(DEFAULT_PERCENT if percent is None else float(percent), DEFAULT_MIN_TARGETS,
                          DEFAULT_MAX_CALLS if max_calls is None else int(max_calls))


@dataclass(frozen=True, slots=True)
class Mismatch:
    target: str
    aspect: str
    expected: Any
    actual: Any

    def to_list(self) -> list:
        return [self.target, self.aspect, self.expected, self.actual]


@dataclass(slots=True)
class Verification:
    job_id: int
    state: str
    targets: int = 0  # targets the job changed that can be read back
    sampled: int = 0
    checked: int = 0  # sampled targets read back (those still there)
    calls: int = 0  # read calls made
    mismatches: list[Mismatch] = field(default_factory=list)
    message: str = ""
    repair_job: int | None = None
    at: float = 0.0

    @property
    def verified(self) -> int:
        return self.checked - len({m.target for m in self.mismatches})

    def summary(self, describe: Callable[[Mismatch], str] | None = None) -> str:
        """One line: "verified 12 of 12 (1% sample, 1 call)", "3 of 12 do not match"..."""
        if self.state == UNAVAILABLE or self.state == NOTHING:
            return self.message
        calls = f"{self.calls:,} read call{'s' if self.calls != 1 else ''}"
        if self.state == VERIFIED:
            return f"verified {self.checked:,} of {self.sampled:,} sampled ({self.targets:,} changed; {calls})"
        wrong = len({m.target for m in self.mismatches})
        if self.state == MISMATCHED:
            return (f"{wrong:,} of {self.checked:,} sampled do not match what the job did "
                    f"({self.targets:,} changed; {calls})")
        return f"incomplete: {self.message} (verified {self.verified:,} of {self.sampled:,} sampled)"


class Verifier(Protocol):
    """What a family tells the engine to read its changes back."""

    read_batch: int  # targets one read call takes

    def expectations(self, op: str, params: dict, targets: Sequence[str], output: dict,
                     job_vars: Mapping[str, Any]) -> Iterable[tuple[str, str, Any]]:
        """(target, aspect, value) a done call leaves behind; nothing for what it cannot read."""

    def reads(self, targets: list[str], aspects: set[str]) -> list["Read"]:
        """The read calls that give the aspects of these targets."""

    def setting(self, aspect: str, value: Any, targets: Sequence[str], previous: Any = None) -> CallSpec | None:
        """The call that gives these targets this value of the aspect (None: no such call);
        `previous` is the value they have now (what an undo of that call gives back)."""

    def describe(self, aspect: str, value: Any, names: Mapping[Any, str]) -> str:
        """'carries tag VIP', 'not on the blacklist'... for the mismatch lines."""


@dataclass(frozen=True, slots=True)
class Read:
    """One read call: its conflict keys and what it does with the family's client. `fetch`
    answers {target: {aspect: value}}; a target missing from the answer is gone (unfollowed)."""

    keys: tuple[str, ...]
    fetch: Callable[[Any], Awaitable[dict[str, dict[str, Any]]]]


# -- what the job meant ---------------------------------------------------------------------------

def expected_state(journal: Journal, verifier: Verifier, job_id: int) -> dict[str, dict[str, Any]]:
    """target -> aspect -> value after the job's done calls, in the order they ran (a later call
    of the same job wins); targets the job reports as failed are left out."""
    record = journal.job(job_id)
    done = sorted(journal.calls(job_id, [CALL_DONE]), key=lambda c: (c.phase, c.id))
    failed = {f.target for f in journal.failures(job_id)}
    expected: dict[str, dict[str, Any]] = {}
    for call in done:
        try:
            params = resolve_vars(call.params, record.vars)
        except LookupError:
            continue
        for target, aspect, value in verifier.expectations(call.op, params, call.targets, call.output,
                                                           record.vars):
            if target not in failed:
                expected.setdefault(target, {})[aspect] = value
    return expected


def sample_of(targets: Sequence[str], size: int, seed: int) -> list[str]:
    """A reproducible random sample (the same job samples the same targets)."""
    if size >= len(targets):
        return list(targets)
    return sorted(random.Random(seed).sample(list(targets), size))


# -- the journal's record -------------------------------------------------------------------------

def record_verification(journal: Journal, v: Verification) -> int:
    with journal.store.transaction():
        cursor = journal.store.conn.execute(
            "INSERT INTO job_verifications (job_id, state, targets, sampled, checked, calls, mismatches, "
            "message, repair_job, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [v.job_id, v.state, v.targets, v.sampled, v.checked, v.calls,
             json.dumps([m.to_list() for m in v.mismatches], ensure_ascii=False), v.message,
             v.repair_job, v.at])
    return cursor.lastrowid


def set_repair_job(journal: Journal, job_id: int, repair_job: int) -> None:
    """The latest verification of job_id is being repaired by repair_job."""
    with journal.store.transaction():
        journal.store.conn.execute(
            "UPDATE job_verifications SET repair_job = ? WHERE id = "
            "(SELECT max(id) FROM job_verifications WHERE job_id = ?)", [repair_job, job_id])


def latest_verification(journal: Journal, job_id: int) -> Verification | None:
    row = journal.store.reader().execute(
        "SELECT job_id, state, targets, sampled, checked, calls, mismatches, message, repair_job, at "
        "FROM job_verifications WHERE job_id = ? ORDER BY id DESC LIMIT 1", [job_id]).fetchone()
    if row is None:
        return None
    (job, state, targets, sampled, checked, calls, mismatches, message, repair_job, at) = row
    return Verification(job, state, targets, sampled, checked, calls,
                        [Mismatch(*m) for m in json.loads(mismatches)], message, repair_job, at)


# -- reading back ---------------------------------------------------------------------------------

async def verify_job(journal: Journal, verifier: Verifier | None, scheduler: Any, job_id: int,
                     settings: VerifySettings, *, cache: Any = None,
                     clock: Callable[[], float] = time.time) -> Verification:
    """Read a sample of the job's targets back, compare, record the result in the journal, and
    put the cache right for what does not match (the cache had the job's intent written)."""
    now = clock()
    if verifier is None:
        v = Verification(job_id, UNAVAILABLE, message="verification is unavailable for this API "
                         "family: it has no call that reads its changes back", at=now)
        record_verification(journal, v)
        return v
    expected = expected_state(journal, verifier, job_id)
    targets = sorted(expected)
    if not targets:
        v = Verification(job_id, NOTHING, message="nothing to verify: the job changed no follower "
                         "that can be read back", at=now)
        record_verification(journal, v)
        return v
    sample = sample_of(targets, settings.sample_size(len(targets), verifier.read_batch), job_id)
    aspects = {a for t in sample for a in expected[t]}
    v = Verification(job_id, VERIFIED, len(targets), len(sample), at=now)
    actual: dict[str, dict[str, Any]] = {}
    reads = verifier.reads(sample, aspects)
    if len(reads) > settings.max_calls:
        reads = reads[:settings.max_calls]
        v.state, v.message = INCOMPLETE, f"the reads needed more than {settings.max_calls} calls"
    # All at once: the scheduler keeps them within its slots and away from busy followers.
    pending = [asyncio.ensure_future(scheduler.read(read.keys, read.fetch)) for read in reads]
    try:
        for next_done in asyncio.as_completed(pending):
            try:
                answer = await next_done
                v.calls += 1
            except Exception as exc:  # noqa: BLE001 - sorted by the family like a job's calls
                v.calls += 1
                outcome = scheduler.family.classify(exc)
                if outcome.verdict is Verdict.BAD_TARGET:
                    continue  # a target gone since the job: nothing to compare
                v.state, v.message = INCOMPLETE, outcome.message.rstrip(".")
                break
            for target, aspects_read in answer.items():
                actual.setdefault(target, {}).update(aspects_read)
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    for target in sample:
        if target not in actual:
            continue
        v.checked += 1
        for aspect, want in expected[target].items():
            have = actual[target].get(aspect)
            if have is not None and have != want:
                v.mismatches.append(Mismatch(target, aspect, want, have))
    if v.state == VERIFIED and v.mismatches:
        v.state = MISMATCHED
    if v.mismatches and cache is not None:
        _correct_cache(verifier, scheduler.family, cache, v.mismatches)
    record_verification(journal, v)
    return v


def _correct_cache(verifier: Verifier, ops: Any, cache: Any, mismatches: list[Mismatch]) -> None:
    """The cache holds what the job meant; after a mismatch it holds what the platform said."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for m in mismatches:
        grouped.setdefault((m.aspect, json.dumps(m.actual), json.dumps(m.expected)), []).append(m.target)
    with cache.transaction():
        for (aspect, value, meant), targets in grouped.items():
            spec = verifier.setting(aspect, json.loads(value), targets, json.loads(meant))
            if spec is None:
                continue
            op = ops[spec.op]
            if op.write_through is None:
                continue
            # Each call's write-through, as the calls would go (a remark's takes one follower).
            for call in (ops.chunk(spec.op, spec.params, list(spec.targets)) if op.batch_size > 0 else [spec]):
                op.write_through(cache, dict(call.params), list(call.targets), {})


def repair_calls(verifier: Verifier, ops: Any, mismatches: Iterable[Mismatch]) -> list[CallSpec]:
    """The calls that give each mismatched target what the job meant, in batches."""
    # By what they should be and what they are: a call's undo gives back what they were.
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for m in mismatches:
        grouped.setdefault((m.aspect, json.dumps(m.expected), json.dumps(m.actual)), []).append(m.target)
    calls: list[CallSpec] = []
    for (aspect, value, actual), targets in sorted(grouped.items()):
        spec = verifier.setting(aspect, json.loads(value), list(dict.fromkeys(targets)), json.loads(actual))
        if spec is None:
            continue
        if ops[spec.op].batch_size > 0:
            calls.extend(ops.chunk(spec.op, spec.params, spec.targets))
        else:
            calls.append(spec)
    return calls
