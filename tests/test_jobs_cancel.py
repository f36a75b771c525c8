"""Cancelling a job: nothing more is sent at once, calls stuck on the wire are given up after a
short grace (they stay pending and go again on resume), and a job whose last call was already out
when the cancel came is done, not cancelled."""

from __future__ import annotations

import asyncio

from jobs_support import job_service
from wxtui.families.wechat.emulator import Emulator
from wxtui.jobs.events import CANCELLED, DONE, RUNNING
from wxtui.jobs.intents import Followers, TagFollowers
from wxtui.families.wechat.operations import TAGGING_PATH
from wxtui.core.transport import RetryPolicy

VIP = 106
# A stuck call is never answered within a test: only giving it up ends the job.
PATIENT = RetryPolicy(base_delay=0.001, max_delay=0.01, minute_wait_s=0.001, timeout_s=3600.0)


async def wait_until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.001)


async def test_cancel_gives_up_calls_stuck_on_the_wire_and_the_job_resumes(tmp_path):
    emu = Emulator.demo(followers=1000, seed=31)
    acct = emu.account
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=4, retry=PATIENT) as jobs:
        targets = [o for o in acct.follower_openids() if VIP not in acct.tags_of(o)]
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(targets)))
        assert len(plan.calls) > 4
        emu.faults.p_slow, emu.faults.slow_s = 1.0, 3600.0  # from now on, every call hangs
        job_id = jobs.submit(plan)
        events = []
        jobs.subscribe(events.append, job_id)
        finished = jobs.start(job_id)
        await wait_until(lambda: jobs.scheduler.in_flight == 4)
        assert jobs.cancel(job_id)
        # At once: the job says it is stopping, while its stuck calls are still out.
        assert events[-1].state == RUNNING and events[-1].stopping == CANCELLED
        final = await asyncio.wait_for(finished, 60)  # a guard against a hang, not a timing
        assert final.state == CANCELLED
        counts = jobs.journal.counts(job_id).calls
        assert counts.get("in_flight") is None and counts.get("done") is None
        assert counts["pending"] == len(plan.calls)  # the given-up calls are pending again
        assert emu.stats.calls[TAGGING_PATH] == 4  # nothing went after the cancel
        emu.faults.p_slow = 0.0
        final = await jobs.resume(job_id)
    assert final.state == DONE and final.stopping == ""
    assert set(targets) <= acct.tag_members(VIP)


async def test_a_job_cancelled_after_its_last_call_went_out_is_done(tmp_path):
    emu = Emulator.demo(followers=200, seed=32)
    acct = emu.account
    emu.faults.latency_ms = 50
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=4) as jobs:
        targets = [o for o in acct.follower_openids() if VIP not in acct.tags_of(o)][:30]
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(targets)))
        assert len(plan.calls) == 1
        job_id = jobs.submit(plan)
        finished = jobs.start(job_id)
        await wait_until(lambda: jobs.scheduler.in_flight == 1)
        assert jobs.cancel(job_id)
        final = await finished
        assert final.state == DONE and final.message == ""
        assert jobs.job(job_id).state == DONE
        assert jobs.cancel(job_id) is False  # nothing left to cancel
    assert set(targets) <= acct.tag_members(VIP)
