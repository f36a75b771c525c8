"""The engine knows nothing of WeChat: a second API family, shaped like Tencent Cloud IM tags
(100 accounts a call, its own error codes, a "remove all tags" call of its own), runs on the same
scheduler, journal and events. Its service here is a small in-memory one that punishes what the
real ones punish (a shared account in two calls at once, a call naming an unknown account)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

from wxtui.jobs.events import DONE, PAUSED
from wxtui.jobs.journal import Journal
from wxtui.jobs.operations import CallSpec, Operation, OperationTable, Outcome, UndoContext, Verdict
from wxtui.jobs.scheduler import Scheduler
from wxtui.store import Store


class ImError(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class ImService:
    """Accounts and their tags; 70107 for an account it does not have, 60018 when rate-limited."""

    def __init__(self, accounts: dict[str, set[str]], latency: float = 0.001):
        self.tags = accounts
        self.latency = latency
        self.busy: set[str] = set()
        self.overlaps = 0
        self.calls = 0
        self.touched: Counter[str] = Counter()
        self.quota = 10**9
        self.throttle_next = 0

    async def call(self, accounts: list[str], change) -> None:
        self.calls += 1
        if self.quota <= 0:
            raise ImError(60019)
        self.quota -= 1
        if self.throttle_next:
            self.throttle_next -= 1
            raise ImError(60018)
        if any(a not in self.tags for a in accounts):
            raise ImError(70107)
        if self.busy & set(accounts):
            self.overlaps += 1
        self.busy |= set(accounts)
        await asyncio.sleep(self.latency)
        self.busy -= set(accounts)
        for a in accounts:
            change(self.tags[a])
        self.touched.update(accounts)


async def _add(service: ImService, params: dict, targets: list[str]) -> dict:
    await service.call(targets, lambda tags: tags.update(params["tags"]))
    return {}


async def _remove_all(service: ImService, params: dict, targets: list[str]) -> dict:
    before = {a: sorted(service.tags.get(a, ())) for a in targets}
    await service.call(targets, lambda tags: tags.clear())
    return {"had": before}


def _restore(params: dict, targets: list[str], output: dict, ctx: UndoContext) -> list[CallSpec]:
    return [CallSpec("add", {"tags": tags}, (a,)) for a, tags in output["had"].items() if tags]


class ImOperations(OperationTable):
    family = "im"

    def __init__(self):
        super().__init__([
            Operation("add", 100, _add, "add tags"),
            Operation("remove_all", 100, _remove_all, "remove all tags", inverse=_restore),
        ])

    def classify(self, exc: BaseException) -> Outcome:
        code = getattr(exc, "code", None)
        if code == 70107:
            return Outcome(Verdict.BAD_TARGET, code, "account not imported")
        if code == 60019:
            return Outcome(Verdict.PAUSE, code, "daily limit reached")
        if code == 60018:
            return Outcome(Verdict.RETRY_LATER, code, "rate limited")
        return Outcome(Verdict.CALL_FAILED, code, str(exc))


@contextlib.asynccontextmanager
async def im_scheduler(service, tmp_path, concurrency=6):
    store = Store.open(tmp_path / "im.sqlite")
    journal = Journal(store)
    scheduler = Scheduler(ImOperations(), service, journal, concurrency=concurrency, event_interval=0)
    try:
        yield scheduler, journal
    finally:
        await scheduler.aclose()
        store.close()


def accounts(n: int) -> list[str]:
    return [f"user{i:05d}" for i in range(n)]


async def test_a_second_family_runs_with_bisection_and_no_shared_account_in_flight(tmp_path):
    users = accounts(1000)
    service = ImService({u: {"vip"} for u in users})
    ops = ImOperations()
    wanted = users + ["ghost-1", "ghost-2"]
    # Every account is in two calls (add, then remove_all), issued together: keys must keep them apart.
    calls = list(ops.chunk("add", {"tags": ["beta"]}, wanted)) + list(ops.chunk("remove_all", {}, wanted[::-1]))
    async with im_scheduler(service, tmp_path) as (scheduler, journal):
        job = journal.create_job(family="im", kind="mixed", title="im", intent={}, calls=calls)
        event = await scheduler.run(job)
        failures = sorted((f.target, f.errcode) for f in journal.failures(job))
    assert event.state == DONE
    assert failures == [("ghost-1", 70107)] * 2 + [("ghost-2", 70107)] * 2  # in both of their calls
    assert service.overlaps == 0
    assert set(service.touched.values()) == {2}  # both calls of every account went


async def test_phases_run_in_order_and_undo_uses_the_recorded_output(tmp_path):
    users = accounts(300)
    service = ImService({u: {"a", "b"} for u in users})
    ops = ImOperations()
    calls = list(ops.chunk("remove_all", {}, users, phase=0)) + list(ops.chunk("add", {"tags": ["new"]}, users, phase=1))
    async with im_scheduler(service, tmp_path) as (scheduler, journal):
        job = journal.create_job(family="im", kind="reset", title="reset", intent={}, calls=calls)
        assert (await scheduler.run(job)).state == DONE
        assert all(service.tags[u] == {"new"} for u in users)  # removal came first, then the add
        done = list(journal.calls(job, ["done"]))
        undo = [spec for c in done if c.op == "remove_all"
                for spec in ops["remove_all"].inverse(c.params, list(c.targets), c.output, UndoContext(frozenset()))]
        assert {s.targets[0] for s in undo} == set(users)
        assert all(sorted(s.params["tags"]) == ["a", "b"] for s in undo)


async def test_its_own_pause_and_retry_codes(tmp_path):
    users = accounts(500)
    service = ImService({u: set() for u in users})
    ops = ImOperations()
    service.quota = 2
    service.throttle_next = 1
    async with im_scheduler(service, tmp_path, concurrency=1) as (scheduler, journal):
        job = journal.create_job(family="im", kind="add", title="add", intent={},
                                 calls=list(ops.chunk("add", {"tags": ["x"]}, users)))
        event = await scheduler.run(job)
        assert event.state == PAUSED and event.message == "daily limit reached"
        assert event.calls_done == 1  # one call throttled (requeued), one done, then the quota
        service.quota = 100
        event = await scheduler.run(job)
    assert event.state == DONE and event.calls_done == 5
    assert all(service.tags[u] == {"x"} for u in users)
