"""Tencent Cloud IM tags through the bulk-action engine, against the TIM emulator and the store:
exact final state for each intent, faults, resume after cancel, partial failures by account,
undo, and the cache written through."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from wxtui.jobs.events import CANCELLED, DONE, PAUSED
from wxtui.jobs.journal import Journal
from wxtui.jobs.operations import UndoContext
from wxtui.jobs.scheduler import Scheduler
from wxtui.families.tim.operations import TimOperations, remove_all_calls, tag_calls
from wxtui.store import Store
from wxtui.families.tim.cache import cached_tags_of, remember_accounts
from wxtui.families.tim.emulator import TimEmulator

from conftest import FAST_RETRY

N = 450


@pytest.fixture
def emu():
    return TimEmulator.demo(accounts=N, seed=3)


@contextlib.asynccontextmanager
async def engine(emu, tmp_path, concurrency=4):
    store = Store.open(tmp_path / "tim.sqlite")
    remember_accounts(store, {a: emu.state.tags_of(a) for a in emu.state.accounts()})
    journal = Journal(store)
    async with emu.client(retry=FAST_RETRY, rate_limit=None, seed=1) as client:
        scheduler = Scheduler(TimOperations(), client, journal, cache=store, concurrency=concurrency,
                              event_interval=0, seed=1)
        try:
            yield scheduler, journal, store
        finally:
            await scheduler.aclose()
            store.close()


def run_job(journal, calls, kind="tim"):
    return journal.create_job(family="tim", kind=kind, title=kind, intent={}, calls=calls)


def cache_matches_emulator(emu, store, accounts):
    cached = cached_tags_of(store, accounts)
    return all(sorted(cached[a]) == sorted(emu.state.tags_of(a)) for a in accounts)


async def test_add_twelve_tags_goes_in_rounds_of_ten_and_writes_through(emu, tmp_path):
    accounts = emu.state.accounts()
    tags = [f"t{i:02d}" for i in range(12)]
    calls = tag_calls("add_tag", tags, accounts)
    assert len(calls) == 2 * 5 and max(len(c.params["tags"]) for c in calls) == 10
    assert max(len(c.targets) for c in calls) == 100
    before = {a: emu.state.tags_of(a) for a in accounts}
    async with engine(emu, tmp_path) as (scheduler, journal, store):
        event = await scheduler.run(run_job(journal, calls))
        assert event.state == DONE and event.failures_count == 0
        assert all(emu.state.tags_of(a) == before[a] + [t for t in tags if t not in before[a]] for a in accounts)
        assert cache_matches_emulator(emu, store, accounts)
        assert {r.name: r.count for r in store.tags()}["t05"] == N


async def test_remove_tag_and_remove_all_leave_exactly_the_expected_state(emu, tmp_path):
    accounts = emu.state.accounts()
    vip = [a for a in accounts if "vip" in emu.state.tags_of(a)]
    assert vip
    async with engine(emu, tmp_path) as (scheduler, journal, store):
        assert (await scheduler.run(run_job(journal, tag_calls("remove_tag", ["vip"], accounts)))).state == DONE
        assert not any("vip" in emu.state.tags_of(a) for a in accounts)
        assert {r.name: r.count for r in store.tags()}.get("vip", 0) == 0
        half = accounts[: N // 2]
        had = cached_tags_of(store, half)
        event = await scheduler.run(run_job(journal, remove_all_calls(half, had)))
        assert event.state == DONE and event.calls_done == 3
        assert all(emu.state.tags_of(a) == [] for a in half)
        assert any(emu.state.tags_of(a) for a in accounts[N // 2:])  # the others kept theirs
        assert cache_matches_emulator(emu, store, accounts)


async def test_not_imported_accounts_are_failures_by_account_and_the_rest_succeeds(emu, tmp_path):
    accounts = emu.state.accounts()[:150]
    ghosts = ["ghost-a", "ghost-b"]
    async with engine(emu, tmp_path) as (scheduler, journal, store):
        job = run_job(journal, tag_calls("add_tag", ["beta"], accounts + ghosts))
        event = await scheduler.run(job)
        assert event.state == DONE
        assert sorted((f.target, f.errcode) for f in journal.failures(job)) == [("ghost-a", 70107), ("ghost-b", 70107)]
        assert all(f.message == "The account is not imported into the app" for f in journal.failures(job))
        assert event.failures_count == 2 and event.targets_failed == 2 and event.targets_done == 150
        assert all("beta" in emu.state.tags_of(a) for a in accounts)
        status = scheduler._counters(job)
        assert (status.targets_done, status.targets_failed) == (150, 2)
        # The undo takes off what was added, and only from those it was added to.
        undo = [s for c in journal.calls(job, ["done"])
                for s in TimOperations()["add_tag"].inverse(c.params, list(c.targets), c.output,
                                                            UndoContext(frozenset()))]
        assert sorted(t for s in undo for t in s.targets) == sorted(accounts)


async def test_undo_of_remove_all_puts_back_each_accounts_tags(emu, tmp_path):
    accounts = emu.state.accounts()
    before = {a: sorted(emu.state.tags_of(a)) for a in accounts}
    ops = TimOperations()
    emu.calls_per_second = 10_000  # the undo is many small calls (one per set of tags): no 100/s waits here
    async with engine(emu, tmp_path) as (scheduler, journal, store):
        # Half the plan knows from the cache, the other half is read with im_get_tag before the call.
        had = cached_tags_of(store, accounts[::2])
        job = run_job(journal, remove_all_calls(accounts, had))
        assert (await scheduler.run(job)).state == DONE
        assert all(emu.state.tags_of(a) == [] for a in accounts)
        undo = [s for c in journal.calls(job, ["done"])
                for s in ops["remove_all_tags"].inverse(c.params, list(c.targets), c.output, UndoContext(frozenset()))]
        assert all(len(s.targets) <= 100 and len(s.params["tags"]) <= 10 for s in undo)
        assert (await scheduler.run(run_job(journal, undo, "undo"))).state == DONE
        assert {a: sorted(emu.state.tags_of(a)) for a in accounts} == before
        assert cache_matches_emulator(emu, store, accounts)


@pytest.mark.parametrize("knob", ["p_busy", "p_minute", "p_5xx"])
async def test_faults_are_retried_to_the_exact_final_state(emu, tmp_path, knob):
    accounts = emu.state.accounts()
    emu.faults.update(**{knob: 0.3})
    async with engine(emu, tmp_path) as (scheduler, journal, store):
        job = run_job(journal, tag_calls("add_tag", ["faulty"], accounts))
        event = await scheduler.run(job)
        assert event.state == DONE and event.failures_count == 0
        assert event.retries > 0
        assert all("faulty" in emu.state.tags_of(a) for a in accounts)
        assert cache_matches_emulator(emu, store, accounts)


async def test_resume_after_cancel_finishes_the_job_once(emu, tmp_path):
    accounts = emu.state.accounts()
    emu.faults.latency_ms = 20
    async with engine(emu, tmp_path, concurrency=1) as (scheduler, journal, store):
        job = run_job(journal, remove_all_calls(accounts))
        task = asyncio.create_task(scheduler.run(job))
        while journal.counts(job).calls.get("done", 0) < 1:
            await asyncio.sleep(0.01)
        scheduler.cancel(job)
        event = await task
        assert event.state == CANCELLED and 0 < event.calls_done < 5
        assert any(emu.state.tags_of(a) for a in accounts)
        emu.faults.latency_ms = 0
        event = await scheduler.run(job)
        assert event.state == DONE and event.calls_done == 5
        assert all(emu.state.tags_of(a) == [] for a in accounts)
        assert cache_matches_emulator(emu, store, accounts)


def test_rate_limit_retries_slow_the_engine_down_and_busy_ones_do_not():
    ops = TimOperations()
    seen = []
    from wxtui.core.transport import RetryEvent, call_observer

    with ops.watch_retries(lambda throttled, delay_s: seen.append((throttled, delay_s))):
        observe = call_observer.get()
        for reason in ("errcode 60018", "errcode 91000", "HTTP 502"):
            observe(RetryEvent("/v4/all_member_push/im_add_tag", reason, 1, 0.1, "console.tim.qq.com"))
    assert seen == [(True, 0.1), (False, 0.1), (False, 0.1)]  # and how long each waits


async def test_a_wrong_secret_key_stops_the_job_with_the_error_tables_hint(emu, tmp_path):
    from wxtui.families.tim.client import TimClient

    store = Store.open(tmp_path / "tim.sqlite")
    journal = Journal(store)
    client = TimClient(emu.sdkappid, emu.identifier, "0" * 64, transport=emu.transport(),
                       retry=FAST_RETRY, rate_limit=None)
    scheduler = Scheduler(TimOperations(), client, journal, cache=store, concurrency=2, event_interval=0)
    job = run_job(journal, tag_calls("add_tag", ["x"], emu.state.accounts()))
    event = await scheduler.run(job)
    await scheduler.aclose()
    await client.aclose()
    store.close()
    assert event.state == "failed" and event.calls_done == 0
    assert "secret key" in event.message and "0" * 64 not in event.message
    assert not any("x" in emu.state.tags_of(a) for a in emu.state.accounts())


async def test_a_busy_service_past_the_retries_pauses_the_job_with_nothing_failed_and_a_resume_ends_exact(
        emu, tmp_path):
    accounts = emu.state.accounts()
    calls = tag_calls("add_tag", ["outage"], accounts)
    async with engine(emu, tmp_path) as (scheduler, journal, store):
        scheduler.retry_delay_s = 0.001
        job_id = run_job(journal, calls)
        emu.faults.update(p_busy=1.0)  # the service answers "busy" to everything, for long
        event = await scheduler.run(job_id)
        assert event.state == PAUSED and event.failures_count == 0 and event.calls_failed == 0
        assert journal.job(job_id).resume_after > time.time()
        assert cache_matches_emulator(emu, store, accounts)
        emu.faults.update(p_busy=0.0)
        event = await scheduler.run(job_id)
        assert event.state == DONE and event.failures_count == 0
        assert all("outage" in emu.state.tags_of(a) for a in accounts)
        assert cache_matches_emulator(emu, store, accounts)
