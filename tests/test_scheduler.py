"""The scheduler against the emulator: no shared openid in flight, bad openids isolated, quota
pauses, cancel, faults, adaptive concurrency, several jobs at once."""

from __future__ import annotations

import asyncio
import random

import pytest

from jobs_support import FAST_RETRY, job_service, state_of
from wxtui.families.wechat.emulator import Emulator
from wxtui.jobs.events import CANCELLED, DONE, PAUSED
from wxtui.jobs.intents import BlacklistFollowers, ClearTags, Followers, TagFollowers
from wxtui.families.wechat.operations import TAGGING_PATH, next_china_midnight
from wxtui.families.wechat import limits
from wxtui.families.wechat.client import WeChatClient

VIP = 106


def with_five_tags(followers: int, latency_ms: float = 2) -> tuple[Emulator, list[int]]:
    """Every follower carries the same five tags and nothing else."""
    emu = Emulator.demo(followers=followers, seed=21)
    acct = emu.account
    five = [acct.create_tag(f"five {i}") for i in range(5)]
    for openid in acct.follower_openids():
        acct.set_tags(openid, five)
    emu.faults.latency_ms = latency_ms
    return emu, five


async def test_clear_tags_on_5000_followers_with_5_tags_at_concurrency_16_sends_no_45169(tmp_path):
    emu, five = with_five_tags(5000)
    acct = emu.account
    peak = 0

    def watch(event):
        nonlocal peak
        peak = max(peak, event.in_flight)

    async with job_service(emu, tmp_path / "c.sqlite", concurrency=16) as jobs:
        plan = await jobs.plan(ClearTags(Followers.of(acct.follower_openids())))
        assert plan.calls_by_op == {"untag": 5 * 5000 // limits.TAGGING_BATCH}
        job_id = jobs.submit(plan)
        jobs.subscribe(watch, job_id)
        event = await jobs.run(job_id)
    assert event.state == DONE and event.failures_count == 0
    assert emu.stats.openid_much_req == 0
    assert peak >= 8  # the calls did overlap: avoiding 45169 was needed
    assert all(not acct.tag_members(t) for t in five)
    assert all(acct.tags_of(o) == [] for o in acct.follower_openids())


async def test_the_same_calls_sent_naively_at_once_do_get_45169(tmp_path):
    # The control for the test above: what the emulator does to calls sharing openids.
    emu, five = with_five_tags(200)
    acct = emu.account
    openids = acct.follower_openids()
    async with WeChatClient.with_secret(acct.appid, acct.secret, transport=emu.transport(),
                                        max_in_flight=16, retry=FAST_RETRY) as client:
        calls = [client.batch_untag(t, openids[i:i + 50]) for t in five for i in range(0, 200, 50)]
        await asyncio.gather(*calls, return_exceptions=True)
    assert emu.stats.openid_much_req > 0


async def test_three_bad_openids_among_10000_are_isolated_and_named_and_the_rest_tagged(tmp_path):
    emu = Emulator.demo(followers=10_000, seed=22)
    emu.faults.latency_ms = 1
    acct = emu.account
    other = Emulator.demo(followers=1, seed=99).account
    openids = acct.follower_openids()
    gone = openids[4321]
    stranger = acct.prefix + "Q" * (limits.OPENID_LENGTH - len(acct.prefix))
    foreign = other.follower_openids()[0]
    chosen = openids[:6000] + [stranger] + openids[6000:9998] + [foreign]  # 10,000, three bad
    before = acct.tag_members(VIP)
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        acct.remove_followers([gone])  # unfollows after the cache was filled: WeChat says 40003
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(chosen)))
        event = await jobs.run(jobs.submit(plan))
        failures = {f.target: f for f in jobs.journal.failures(event.job_id)}
    assert event.state == DONE
    assert set(failures) == {gone, stranger, foreign}
    assert failures[gone].errcode == 40003 and failures[stranger].errcode == 40003
    assert failures[foreign].errcode == 49003
    assert failures[gone].message == "Not a follower of this account"
    assert "another account" in failures[foreign].message
    assert {f.target for f in event.failures} == set(failures) and event.failures_count == 3
    delivered = set(chosen) - {gone, stranger, foreign}
    assert len(delivered) == 9_997
    assert acct.tag_members(VIP) == before | delivered
    # Splitting costs a few calls per bad openid, not a call per follower.
    calls = emu.stats.calls[TAGGING_PATH]
    assert plan.calls_by_op["tag"] + 3 * 2 * 6 >= calls > plan.calls_by_op["tag"]


async def test_quota_exhaustion_pauses_with_its_place_kept_and_resumes_to_an_exact_end(tmp_path):
    emu = Emulator.demo(followers=3000, seed=23)
    emu.faults.latency_ms = 1
    acct = emu.account
    before = state_of(acct)
    acct.set_quota(TAGGING_PATH, 25)
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=4) as jobs:
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(acct.follower_openids())))
        assert any(w.code == "quota" for w in plan.warnings)
        job_id = jobs.submit(plan)
        event = await jobs.run(job_id)
        assert event.state == PAUSED
        assert "quota" in event.message and "45009" in event.message
        assert event.resume_after == next_china_midnight(event.resume_after - 1)
        assert jobs.job(job_id).state == PAUSED
        assert event.calls_done == 25
        assert len(acct.tag_members(VIP) - before["members"][VIP]) == \
               sum(len(c.targets) for c in jobs.journal.calls(job_id, ["done"]))
        acct.set_quota(TAGGING_PATH, 1_000_000)
        event = await jobs.resume(job_id)
    assert event.state == DONE and event.calls_done == len(plan.calls)
    assert acct.tag_members(VIP) == set(acct.follower_openids())
    # Every call reached WeChat once, plus those refused with 45009 while the quota was out.
    refused = emu.stats.errcodes[TAGGING_PATH][45009]
    assert 1 <= refused <= 4
    assert emu.stats.calls[TAGGING_PATH] == len(plan.calls) + refused


async def test_faults_still_end_exact(tmp_path):
    emu = Emulator.demo(followers=4000, seed=24)
    acct = emu.account
    emu.faults.update(latency_ms=1, p_busy=0.10, p_minute=0.02, p_5xx=0.02, invalidate_token_every=200)
    chosen = random.Random(3).sample(acct.follower_openids(), 3000)
    before = state_of(acct)
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        tag_event = await jobs.run(jobs.submit(await jobs.plan(TagFollowers(VIP, Followers.of(chosen)))))
        clear_event = await jobs.run(jobs.submit(await jobs.plan(ClearTags(Followers.of(chosen[:1000])))))
        black_event = await jobs.run(jobs.submit(await jobs.plan(BlacklistFollowers(Followers.of(chosen[:500])))))
    for event in (tag_event, clear_event, black_event):
        assert event.state == DONE and event.failures_count == 0
    assert tag_event.retries > 0  # the faults did happen, and were counted per job
    expected_vip = (before["members"][VIP] | set(chosen)) - set(chosen[:1000])
    assert acct.tag_members(VIP) == expected_vip
    for openid in chosen[:1000]:
        assert acct.tags_of(openid) == []
    assert set(acct.blacklist()) == before["blacklist"] | set(chosen[:500])
    assert emu.stats.openid_much_req == 0


async def test_retries_are_journaled_per_call(tmp_path):
    emu = Emulator.demo(followers=1000, seed=25)
    emu.faults.update(p_busy=0.3, seed=4)
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(emu.account.follower_openids())))
        event = await jobs.run(jobs.submit(plan))
        journaled = jobs.journal.retries(event.job_id)
    assert event.state == DONE
    assert journaled == event.retries == emu.stats.errcodes[TAGGING_PATH][-1]


async def test_concurrency_halves_on_45011_and_grows_back_on_success(tmp_path):
    emu = Emulator.demo(followers=6000, seed=26)
    emu.faults.update(latency_ms=2, p_minute=0.2, seed=5)
    acct = emu.account
    seen: list[int] = []
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=8) as jobs:
        jobs.subscribe(lambda e: seen.append(e.concurrency))
        openids = acct.follower_openids()
        await jobs.run(jobs.submit(await jobs.plan(TagFollowers(VIP, Followers.of(openids[:3000])))))
        assert min(seen) < 8
        emu.faults.update(p_minute=0)
        await jobs.run(jobs.submit(await jobs.plan(TagFollowers(101, Followers.of(openids)))))
        assert jobs.scheduler.concurrency == 8


async def test_cancel_stops_after_the_calls_in_flight_and_the_job_resumes_exactly(tmp_path):
    emu = Emulator.demo(followers=5000, seed=27)
    emu.faults.latency_ms = 3
    acct = emu.account
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=4) as jobs:
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(acct.follower_openids())))
        job_id = jobs.submit(plan)

        sent_at_cancel = 0

        def cancel_at_20(event):
            nonlocal sent_at_cancel
            if event.calls_done >= 20:
                sent_at_cancel = emu.stats.calls[TAGGING_PATH]
                jobs.cancel(job_id)
                unsubscribe()

        unsubscribe = jobs.subscribe(cancel_at_20, job_id)
        event = await jobs.run(job_id)
        assert event.state == CANCELLED
        sent = emu.stats.calls[TAGGING_PATH]
        # Nothing new went out after the cancel; the calls already on the wire ended.
        assert sent_at_cancel <= sent <= sent_at_cancel + 4
        assert event.calls_done == sent and jobs.journal.counts(job_id).calls.get("in_flight") is None
        event = await jobs.resume(job_id)
    assert event.state == DONE
    assert emu.stats.calls[TAGGING_PATH] == len(plan.calls)  # no call was sent twice
    assert acct.tag_members(VIP) == set(acct.follower_openids())


async def test_two_jobs_on_the_same_followers_share_one_scheduler_without_45169(tmp_path):
    emu = Emulator.demo(followers=3000, seed=28)
    emu.faults.latency_ms = 2
    acct = emu.account
    openids = acct.follower_openids()
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=8) as jobs:
        first = jobs.submit(await jobs.plan(TagFollowers(VIP, Followers.of(openids))))
        second = jobs.submit(await jobs.plan(TagFollowers(101, Followers.of(openids))))
        events = await asyncio.gather(jobs.start(first), jobs.start(second))
    assert [e.state for e in events] == [DONE, DONE]
    assert emu.stats.openid_much_req == 0
    assert acct.tag_members(VIP) == acct.tag_members(101) == set(openids)


async def test_a_job_that_cannot_be_sent_stops_with_the_reason_and_stays_resumable(tmp_path):
    emu = Emulator.demo(followers=500, seed=29)
    acct = emu.account
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(acct.follower_openids())))
        job_id = jobs.submit(plan)
        acct.verified = False  # the account loses its verification: 48001 on every call
        event = await jobs.run(job_id)
        assert event.state == "failed" and "48001" in event.message
        acct.verified = True
        event = await jobs.resume(job_id)
    assert event.state == DONE
    assert acct.tag_members(VIP) == set(acct.follower_openids())


async def test_events_are_rate_limited_and_the_last_one_is_final(tmp_path):
    interval = 0.05
    emu = Emulator.demo(followers=4000, seed=30)
    emu.faults.latency_ms = 2
    async with job_service(emu, tmp_path / "c.sqlite", event_interval=interval) as jobs:
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(emu.account.follower_openids())))
        job_id = jobs.submit(plan)
        queue, unsubscribe = jobs.scheduler.events.queue(job_id)
        final = await jobs.run(job_id)
        unsubscribe()
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    assert events[-1] == final and final.state == DONE and final.fraction == 1.0
    assert len(events) < len(plan.calls) / 2
    progress = [e.calls_done for e in events]
    assert progress == sorted(progress)


async def test_a_job_runs_in_one_process_at_a_time(tmp_path):
    from wxtui.jobs.locks import JobBusy
    from wxtui.jobs.service import JobService
    from wxtui.store import Store

    emu = Emulator.demo(followers=2000, seed=32)
    emu.faults.latency_ms = 2
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=2) as jobs:
        job_id = jobs.submit(await jobs.plan(TagFollowers(VIP, Followers.of(emu.account.follower_openids()))))
        running = jobs.start(job_id)
        # Another program on the same cache (its own open file, as another process would have).
        other_store = Store.open(tmp_path / "c.sqlite")
        other = JobService(jobs.client, other_store, family=jobs.family)
        try:
            with pytest.raises(JobBusy):
                other.scheduler.start(job_id)
            assert other.interrupted() == []  # it runs elsewhere: nothing to offer to resume
            assert (await running).state == DONE
            assert other.scheduler.locks.acquire(job_id)  # free again once it ended
        finally:
            await other.aclose()
            other_store.close()


async def test_the_rate_plans_are_estimated_from_is_not_a_jobs_slow_tail(tmp_path, monkeypatch):
    """The last call of a job waits out a slow answer: the rate at its end is a trickle, and
    the next plan's estimate must come from the pace the job kept before it."""
    emu = Emulator.demo(followers=1500, seed=30)
    emu.faults.latency_ms = 1
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=1) as jobs:
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(emu.account.follower_openids())))
        last = set(plan.calls[-1].targets)
        batch_tag = WeChatClient.batch_tag
        slowed = []

        async def slow_at_the_end(self, tagid, openids):
            openids = list(openids)
            if set(openids) == last:
                slowed.append(True)
                await asyncio.sleep(6)  # longer than the rate's window
            return await batch_tag(self, tagid, openids)

        monkeypatch.setattr(WeChatClient, "batch_tag", slow_at_the_end)
        final = await jobs.run(jobs.submit(plan))
        assert final.state == DONE and slowed == [True]
        assert jobs.scheduler.calls_per_second() > 20  # the body's pace, not the tail's 0.2/s
        again = await jobs.plan(TagFollowers(VIP + 1, Followers.of(emu.account.follower_openids())))
        assert len(again.calls) >= 20 and again.estimated_s < 10


async def test_a_call_waiting_out_a_backoff_is_said_on_the_jobs_events(tmp_path):
    """A job stalled by a busy platform says why: its events name the wait until the soonest
    retry (the panel shows "retry in 2s"), and the wait goes once the call is answered."""
    from wxtui.core.transport import RetryPolicy

    emu = Emulator.demo(followers=300, seed=30)
    emu.faults.latency_ms = 1
    emu.faults.p_busy = 1.0  # every call answers -1 (busy) until the first wait is seen
    seen = []

    def watch(event) -> None:
        if event.retry_in_s is not None:
            seen.append(event.retry_in_s)
            emu.faults.p_busy = 0.0

    slow_retry = RetryPolicy(base_delay=1.0, max_delay=1.0, timeout_s=5.0)
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=1, retry=slow_retry) as jobs:
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(emu.account.follower_openids())))
        job_id = jobs.submit(plan)
        unsubscribe = jobs.subscribe(watch, job_id)
        final = await jobs.run(job_id)
        unsubscribe()
    assert final.state == DONE and final.retries >= 1 and final.retry_in_s is None
    assert seen and 0 < seen[0] <= 1.0
