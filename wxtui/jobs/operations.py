"""What an API family tells the bulk-action engine about its calls.

The scheduler, the journal and the event stream know nothing of WeChat: an API family (WeChat
Official Accounts today, Tencent Cloud IM tags later) hands them an `OperationTable` saying, for
each operation, how many targets one call takes, how to send one call with the family's client,
which keys two calls must not hold at the same time, what undoes it, and what it changes in the
local cache. The family also sorts the errors its client raises into `Verdict`s.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Awaitable, Callable, ContextManager, Iterable, Mapping, Sequence


class Verdict(str, Enum):
    """What the engine does with a call that raised."""

    BAD_TARGET = "bad-target"  # one target poisons the call: split it in halves
    PAUSE = "pause"  # a daily quota is gone: pause the job, keep its place
    RETRY_LATER = "retry-later"  # transient after the client's own retries: requeue, bounded
    CALL_FAILED = "call-failed"  # this call cannot succeed: its targets are failures
    STOP = "stop"  # no call of this job can succeed (credentials, permissions): stop the job


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    code: int | None
    message: str
    resume_after: float | None = None  # unix seconds (PAUSE: when the quota resets)
    rid: str = ""  # the platform's request id of the failed answer, for the audit log


@dataclass(frozen=True, slots=True)
class CallSpec:
    """One call to send: an operation, its parameters (JSON-able) and its targets."""

    op: str
    params: Mapping[str, Any]
    targets: tuple[str, ...] = ()
    phase: int = 0  # every call of a phase ends before any call of the next one starts


# (client, params, targets) -> outputs (a dict, possibly empty), kept in the journal.
Execute = Callable[[Any, dict, list[str]], Awaitable[dict | None]]
# (params, targets, outputs, context) -> the calls that undo this one.
Inverse = Callable[[dict, list[str], dict, "UndoContext"], list[CallSpec]]
# (cache, params, targets, outputs): write the call's effect into the local cache.
WriteThrough = Callable[[Any, dict, list[str], dict], None]
# outputs -> {target: (code, message)}: the targets a call that answered failed for (a partial
# success); the others succeeded.
TargetFailures = Callable[[dict], Mapping[str, tuple[int | None, str]]]


def _targets_are_keys(params: dict, targets: Sequence[str]) -> Iterable[str]:
    return targets


@dataclass(frozen=True)
class Operation:
    name: str
    batch_size: int  # most targets per call (1 for single calls; 0: the call takes none)
    execute: Execute
    describe: str = ""  # "tag", "untag", ... for plans and titles
    conflict_keys: Callable[[dict, Sequence[str]], Iterable[str]] = _targets_are_keys
    inverse: Inverse | None = None  # None: this operation cannot be undone
    write_through: WriteThrough | None = None
    quota_key: str | None = None  # which daily quota it spends (the family's name for it)
    exports: tuple[str, ...] = ()  # outputs that later calls of the job may use as {"$var": name}
    # The write-through of several calls with equal params equals one over all their targets
    # (the scheduler then writes calls answered together with one write-through).
    merge_write_through: bool = False
    # A call may succeed for some targets only: the rest are the job's failures, and neither
    # the write-through nor the counters count them as done.
    target_failures: TargetFailures | None = None
    # How to send a call an earlier send of which may have gone out without its answer coming
    # back (a timeout, a crash, a cancel with the call on the wire), for an operation that is
    # not idempotent: creating a tag again hears "the name is taken" when the lost attempt
    # made it. None: execute, as for the first send.
    execute_again: Execute | None = None
    # The targets the cache shows already as a call would leave them (store, params, targets):
    # an undo skips them, as a plan does ("already done, from the cache"). None: never skipped.
    already: Callable[[Any, dict, Sequence[str]], set[str]] | None = None


@dataclass(frozen=True)
class UndoContext:
    """What an inverse may know about the job being undone besides its own call."""

    done_ops: frozenset[str]  # operations of the job that have completed at least once
    vars: Mapping[str, Any] = field(default_factory=dict)


class OperationTable:
    """An API family: its operations and its error rules. Subclass per family."""

    family: str = ""
    # How the family reads its changes back after a job (wxtui.jobs.verify.Verifier); None: it
    # cannot, and verification says so.
    verifier: Any = None

    def __init__(self, operations: Iterable[Operation]):
        self.operations: dict[str, Operation] = {op.name: op for op in operations}

    def __getitem__(self, name: str) -> Operation:
        try:
            return self.operations[name]
        except KeyError:
            raise KeyError(f"the {self.family} family has no operation {name!r}") from None

    def classify(self, exc: BaseException) -> Outcome:
        """Sort an exception raised by an operation's execute into a verdict."""
        raise NotImplementedError

    async def preflight(self, client: Any) -> None:
        """Raise what the first call would, if it can be known without sending one (no
        credentials): the job then stops once, before any call, instead of once per call."""

    def watch_retries(self, on_retry: Callable[[bool, float], None]) -> ContextManager:
        """Within this context, the family's client reports each retry of the current call to
        on_retry(throttled, delay_s): throttled is True when the service asked to slow down;
        delay_s is how long the call waits before it goes again."""
        return contextlib.nullcontext()

    def chunk(self, op: str, params: Mapping[str, Any], targets: Iterable[str],
              phase: int = 0) -> Iterable[CallSpec]:
        """Calls of an operation over targets, each within the operation's batch size."""
        size = self[op].batch_size
        batch: list[str] = []
        for target in targets:
            batch.append(target)
            if len(batch) == size:
                yield CallSpec(op, params, tuple(batch), phase)
                batch = []
        if batch:
            yield CallSpec(op, params, tuple(batch), phase)


def resolve_vars(params: Mapping[str, Any], job_vars: Mapping[str, Any]) -> dict:
    """params with every {"$var": name} replaced by the job's value of that name."""
    resolved = {}
    for key, value in params.items():
        if isinstance(value, dict) and set(value) == {"$var"}:
            name = value["$var"]
            if name not in job_vars:
                raise LookupError(f"the job has no value for {name!r} yet")
            value = job_vars[name]
        resolved[key] = value
    return resolved
