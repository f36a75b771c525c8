"""A tag creation whose answer was lost: the platform made the tag, the next attempt hears 45157
(the name is taken), and the tag of that name is the one the lost attempt made. The same 45157
on a creation that never went out before is someone else's tag, and stays a failure."""

from __future__ import annotations

import pytest

from jobs_support import job_service
from wxtui.core.transport import RetryPolicy
from wxtui.families.wechat.client import WeChatClient
from wxtui.families.wechat.emulator import Emulator
from wxtui.families.wechat.errors import ApiError
from wxtui.jobs.events import DONE
from wxtui.jobs.intents import CreateTag

# Answers slower than the client waits are lost; nothing else is retried slowly.
GIVES_UP_FAST = RetryPolicy(base_delay=0.001, max_delay=0.01, minute_wait_s=0.001, timeout_s=0.2)


@pytest.fixture
def emu():
    emulator = Emulator.demo(followers=200, seed=23)
    emulator.faults.slow_s = 2.0
    return emulator


def tags_named(acct, name: str) -> list[int]:
    return [t for t, (tag_name, _count) in acct.tags().items() if tag_name == name]


async def test_a_creation_retried_after_its_answer_was_lost_returns_the_tag_it_made(emu):
    acct = emu.account
    emu.faults.slow_next = 1  # the first attempt is made, and its answer never arrives in time
    async with WeChatClient.with_secret(acct.appid, acct.secret, transport=emu.transport(),
                                        retry=GIVES_UP_FAST) as client:
        tag = await client.create_tag("Autumn")
        assert client.stats.retries == 1
    assert tags_named(acct, "Autumn") == [tag.id]
    assert emu.stats.errcodes["/cgi-bin/tags/create"][45157] == 1  # the retry heard the name taken


async def test_a_taken_name_without_a_lost_answer_is_still_refused(emu):
    acct = emu.account
    theirs = acct.create_tag("Autumn")
    async with WeChatClient.with_secret(acct.appid, acct.secret, transport=emu.transport(),
                                        retry=GIVES_UP_FAST) as client:
        with pytest.raises(ApiError) as info:
            await client.create_tag("Autumn")
    assert info.value.errcode == 45157
    assert tags_named(acct, "Autumn") == [theirs]


async def test_a_job_whose_creation_lost_its_answer_is_done_with_the_tag_and_undoes_it(emu, tmp_path):
    acct = emu.account
    # No retry inside the call: the job engine sends the creation again itself.
    no_retry = RetryPolicy(base_delay=0.001, max_delay=0.01, timeout_s=0.2, transport_retries=0)
    async with job_service(emu, tmp_path / "c.sqlite", retry=no_retry) as jobs:
        jobs.scheduler.retry_delay_s = 0.001
        job_id = jobs.submit(await jobs.plan(CreateTag("Autumn")))
        emu.faults.slow_next = 1
        event = await jobs.run(job_id)
        assert event.state == DONE and event.failures_count == 0 and event.calls_done == 1
        (made,) = tags_named(acct, "Autumn")
        assert jobs.journal.job(job_id).vars["tagid"] == made
        assert jobs.store.tag_names()[made] == "Autumn"
        (call,) = jobs.journal.calls(job_id)
        assert call.attempts == 1  # one send timed out, the next found the tag
        undo = await jobs.run(jobs.submit(jobs.plan_undo(job_id)))
        assert undo.state == DONE
    assert tags_named(acct, "Autumn") == []


async def test_a_creation_made_by_a_killed_process_is_found_on_resume(emu, tmp_path):
    acct = emu.account
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        job_id = jobs.submit(await jobs.plan(CreateTag("Autumn")))
        # The killed process had marked the call in flight, and the platform made the tag.
        (call,) = jobs.journal.pending_calls(job_id, 0)
        jobs.journal.mark_in_flight([call])
        made = acct.create_tag("Autumn")
        event = await jobs.run(job_id)
        assert event.state == DONE and event.failures_count == 0
        assert jobs.journal.job(job_id).vars["tagid"] == made
    assert tags_named(acct, "Autumn") == [made]


async def test_a_job_creating_a_name_someone_else_took_fails_it(emu, tmp_path):
    acct = emu.account
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        plan = await jobs.plan(CreateTag("Autumn"))
        theirs = acct.create_tag("Autumn")  # made on the platform after the cache was filled
        event = await jobs.run(jobs.submit(plan))
        assert event.failures_count == 1 and event.failures[0].errcode == 45157
        assert "tagid" not in jobs.journal.job(event.job_id).vars
    assert tags_named(acct, "Autumn") == [theirs]
