"""Jobs under crashes, long outages and missing credentials: a failure is only ever the
platform's definite answer, an outage leaves the job resumable, and the cache ends equal to the
platform."""

from __future__ import annotations

import time

import pytest

from jobs_support import add_account, job_service, served, synced_cli_account
from wxtui.cli.main import main
from wxtui.families.wechat.emulator import Emulator
from wxtui.jobs import scheduler as scheduler_module
from wxtui.jobs.events import DONE, FAILED, PAUSED
from wxtui.jobs.intents import ClearTags, Followers, TagFollowers
from wxtui.families.wechat.operations import TAGGING_PATH
from wxtui.families.wechat import limits
from wxtui.families.wechat.client import WeChatClient

VIP = 106
API_HOSTS = {limits.DEFAULT_HOST.split("://")[1], limits.BACKUP_HOST.split("://")[1]}


def assert_cache_equals_platform(store, acct) -> None:
    openids = acct.follower_openids()
    cached = store.tag_ids_of(openids)
    assert {o: sorted(cached[o]) for o in openids} == {o: sorted(acct.tags_of(o)) for o in openids}


async def crash_with_calls_in_flight(jobs, job_id: int, calls: int, applied: int) -> None:
    """What a process killed mid-job leaves behind: its next calls marked in flight, the first
    `applied` of them sent and applied by the platform, none of their answers recorded; and what
    the next process does first (requeue them)."""
    journal = jobs.journal
    journal.requeue_in_flight(job_id)
    phase = journal.open_phase(job_id)
    marked = journal.pending_calls(job_id, phase, limit=calls)
    journal.mark_in_flight(marked)
    for call in marked[:applied]:
        await jobs.client.batch_tag(call.params["tagid"], list(call.targets))


async def test_a_job_killed_many_times_then_a_long_outage_fails_nothing_and_resumes_exact(tmp_path):
    emu = Emulator.demo(followers=3000, seed=51)
    acct = emu.account
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=4) as jobs:
        jobs.scheduler.retry_delay_s = 0.001
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(acct.follower_openids())))
        job_id = jobs.submit(plan)
        for kill in range(8):  # killed as soon as its first calls are out, eight times
            await crash_with_calls_in_flight(jobs, job_id, calls=8, applied=4)
        emu.faults.update(down_hosts=API_HOSTS)  # then the platform goes down for a long time
        event = await jobs.run(job_id)
        assert event.state == PAUSED and event.failures_count == 0 and event.calls_failed == 0
        assert "503" in event.message and event.resume_after > time.time()
        states = dict(jobs.journal.counts(job_id).calls)
        assert set(states) <= {"pending", "done"}
        assert jobs.journal.failures(job_id) == []
        sent_before = emu.stats.calls[TAGGING_PATH]
        emu.faults.update(down_hosts=set())  # it comes back
        event = await jobs.resume(job_id)
        assert event.state == DONE and event.failures_count == 0
        # The resume sent exactly the calls left pending, once each.
        assert emu.stats.calls[TAGGING_PATH] - sent_before == states["pending"]
        assert acct.tag_members(VIP) == set(acct.follower_openids())
        assert_cache_equals_platform(jobs.store, acct)


async def test_an_outage_longer_than_the_retries_pauses_the_job_and_a_resume_ends_exact(tmp_path):
    emu = Emulator.demo(followers=2000, seed=52)
    emu.faults.latency_ms = 1
    acct = emu.account
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=4) as jobs:
        jobs.scheduler.retry_delay_s = 0.001
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(acct.follower_openids())))
        job_id = jobs.submit(plan)

        def go_down_after_10(event):
            if event.calls_done >= 10:
                emu.faults.update(down_hosts=API_HOSTS)
                unsubscribe()

        unsubscribe = jobs.subscribe(go_down_after_10, job_id)
        event = await jobs.run(job_id)
        assert event.state == PAUSED and event.failures_count == 0
        assert 10 <= event.calls_done < len(plan.calls)
        assert jobs.job(job_id).state == PAUSED and jobs.job(job_id).resume_after == event.resume_after
        assert "503" in jobs.job(job_id).reason
        assert_cache_equals_platform(jobs.store, acct)
        emu.faults.update(down_hosts=set())
        event = await jobs.resume(job_id)
    assert event.state == DONE and event.failures_count == 0 and event.calls_done == len(plan.calls)
    assert acct.tag_members(VIP) == set(acct.follower_openids())
    assert_cache_equals_platform(jobs.store, acct)


async def test_a_definite_answer_is_still_a_failure_beside_an_outage_that_is_not(tmp_path):
    emu = Emulator.demo(followers=600, seed=53)
    acct = emu.account
    openids = acct.follower_openids()
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=2) as jobs:
        jobs.scheduler.retry_delay_s = 0.001
        job_id = jobs.submit(await jobs.plan(TagFollowers(VIP, Followers.of(openids))))
        gone = openids[7]
        acct.remove_followers([gone])  # WeChat answers 40003 for it: a definite answer
        emu.faults.update(p_5xx=0.3, seed=3)  # and 503 to a third of the calls: not one
        event = await jobs.run(job_id)
        while event.state == PAUSED:  # as often as the 503s make it pause
            event = await jobs.resume(job_id)
    assert event.state == DONE
    assert [(f.target, f.errcode) for f in jobs.journal.failures(job_id)] == [(gone, 40003)]
    assert acct.tag_members(VIP) == set(acct.follower_openids())


async def test_without_an_appsecret_a_job_stops_before_its_first_call_once_and_stays_resumable(tmp_path):
    emu = Emulator.demo(followers=500, seed=54)
    acct = emu.account
    secret: list[str] = []
    asked = 0

    def provide() -> str:
        nonlocal asked
        asked += 1
        return secret[0] if secret else ""

    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        jobs.client = WeChatClient.with_secret(acct.appid, provide, transport=emu.transport())
        jobs.scheduler.client = jobs.client
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(acct.follower_openids())), check_quota=False)
        job_id = jobs.submit(plan)
        messages = []
        jobs.subscribe(lambda e: messages.append(e.message) if e.state == FAILED else None, job_id)
        event = await jobs.run(job_id)
        assert event.state == FAILED and "No AppSecret" in event.message
        assert asked == 1 and emu.stats.calls[TAGGING_PATH] == 0
        assert event.calls_done == event.calls_failed == event.failures_count == 0
        assert jobs.job(job_id).state == FAILED and len(set(messages)) == 1
        secret.append(acct.secret)  # the user stores the secret
        event = await jobs.resume(job_id)
        await jobs.client.aclose()
    assert event.state == DONE and acct.tag_members(VIP) == set(acct.follower_openids())


async def test_a_refused_appsecret_stops_the_job_before_its_first_call(tmp_path):
    emu = Emulator.demo(followers=300, seed=55)
    acct = emu.account
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        jobs.client = WeChatClient.with_secret(acct.appid, "x" * 32, transport=emu.transport())
        jobs.scheduler.client = jobs.client
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(acct.follower_openids())), check_quota=False)
        event = await jobs.run(jobs.submit(plan))
        await jobs.client.aclose()
    assert event.state == FAILED and "40" in event.message and event.failures_count == 0
    assert emu.stats.calls[TAGGING_PATH] == 0
    assert emu.stats.calls["/cgi-bin/stable_token"] == 1  # asked once, not once per call


async def test_clear_tags_plans_and_reports_in_one_unit(tmp_path):
    emu = Emulator.demo(followers=1000, seed=56)
    acct = emu.account
    openids = acct.follower_openids()[:400]
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        memberships = sum(len(acct.tags_of(o)) for o in openids)
        tagged = sum(1 for o in openids if acct.tags_of(o))
        assert memberships > tagged  # followers carry several tags: the two units differ
        plan = await jobs.plan(ClearTags(Followers.of(openids)))
        event = await jobs.run(jobs.submit(plan))
    assert event.state == DONE
    assert plan.change_count == event.targets_done == event.targets_total == memberships
    assert plan.unit == "tag memberships" and plan.targets == tagged
    assert f"changes {memberships:,} tag memberships of {tagged:,} followers" in "\n".join(plan.describe())


# -- the command line -----------------------------------------------------------------------------

@pytest.fixture
def cli_emu():
    return Emulator.demo(followers=1200, seed=57)


@pytest.fixture
def cli_account(cli_emu, monkeypatch):
    """A configured account on the served emulator; the client's retries and the scheduler's
    waits shortened, their rules unchanged."""
    import wxtui.families.wechat.accounts

    from conftest import FAST_RETRY

    build = wxtui.families.wechat.accounts.build_client
    monkeypatch.setattr(wxtui.families.wechat.accounts, "build_client", lambda profile, **kw: build(profile, retry=FAST_RETRY, **kw))
    monkeypatch.setattr(scheduler_module, "RETRY_DELAY_S", 0.001, raising=False)
    with synced_cli_account(cli_emu, monkeypatch) as acct:
        yield acct


def test_a_down_host_pauses_the_tag_command_which_says_how_and_when_to_resume(cli_account, cli_emu, capsys):
    cli_emu.faults.update(down_hosts={"127.0.0.1"})
    status = main(["tag", "--tag", "VIP", "--everyone", "--yes", "--concurrency", "2"])
    out = capsys.readouterr().out
    assert status == 3, out
    assert "could not be changed" not in out and "503" in out
    assert "paused" in out and "wxtui jobs resume 1" in out
    assert "Resume it after " in out
    cli_emu.faults.update(down_hosts=set())
    assert main(["jobs", "resume", "1"]) == 0
    assert cli_account.tag_members(VIP) == set(cli_account.follower_openids())


def test_clear_tags_says_its_changes_in_one_unit_from_plan_to_end(cli_account, capsys, tmp_path):
    chosen = [o for o in cli_account.follower_openids() if len(cli_account.tags_of(o)) > 1][:60]
    memberships = sum(len(cli_account.tags_of(o)) for o in chosen)
    listed = tmp_path / "openids.txt"
    listed.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    status = main(["clear-tags", "--file", str(listed), "--yes"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert f"changes {memberships:,} tag memberships of {len(chosen):,} followers" in out
    assert f"{memberships:,} tag memberships changed" in out


async def test_a_job_cancelled_while_its_credentials_are_still_being_fetched_ends_at_once(tmp_path):
    import asyncio

    from wxtui.jobs.events import CANCELLED

    emu = Emulator.demo(followers=200, seed=58)
    acct = emu.account
    never = asyncio.Event()

    async def provide() -> str:  # a password manager waiting for a touch that never comes
        await never.wait()
        return acct.secret

    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        jobs.client = jobs.scheduler.client = WeChatClient.with_secret(acct.appid, provide, transport=emu.transport())
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(acct.follower_openids())), check_quota=False)
        job_id = jobs.submit(plan)
        running = jobs.start(job_id)
        await asyncio.sleep(0.05)
        jobs.cancel(job_id)
        event = await asyncio.wait_for(running, 5)
        await jobs.client.aclose()
    assert event.state == CANCELLED and emu.stats.calls[TAGGING_PATH] == 0


def test_without_an_appsecret_the_tag_command_says_so_once_and_the_job_resumes_later(
        failing_keyring, cli_account, capsys, monkeypatch):
    from wxtui.core import secrets

    monkeypatch.delenv("WXTUI_SECRET_" + cli_account.appid.upper())
    secrets.forget_session_secret()  # the sync found it in this same process
    status = main(["tag", "--tag", "VIP", "--everyone", "--yes"])
    out = capsys.readouterr().out
    assert status == 1
    assert out.count("Tried, in order") == 1 and "could not be changed" not in out
    assert "wxtui jobs resume 1" in out
    monkeypatch.setenv("WXTUI_SECRET_" + cli_account.appid.upper(), cli_account.secret)
    assert main(["jobs", "resume", "1"]) == 0
    assert cli_account.tag_members(VIP) == set(cli_account.follower_openids())
