"""Undo: an inverse job built from the journal restores the emulator's exact prior state."""

from __future__ import annotations

import random

import pytest

from jobs_support import job_service, state_of
from wxtui.families.wechat.emulator import Emulator
from wxtui.jobs.events import CANCELLED, DONE
from wxtui.jobs.intents import (BlacklistFollowers, ClearTags, CreateTag, DeleteTag, Followers,
                                RenameTag, SetRemark, TagFollowers, UnblacklistFollowers, UntagFollowers)
from wxtui.families.wechat import limits

VIP = 106


@pytest.fixture
def emu():
    emulator = Emulator.demo(followers=3000, seed=31)
    emulator.faults.latency_ms = 1
    return emulator


def sample(acct, n: int, seed: int = 1) -> list[str]:
    return random.Random(seed).sample(acct.follower_openids(), n)


def by_name(state: dict) -> dict:
    """The state with tags keyed by name (an undone delete recreates the tag under a new id)."""
    return {**state, "members": {state["tags"][t]: m for t, m in state["members"].items()},
            "tags": sorted(state["tags"].values())}


async def do(jobs, intent):
    plan = await jobs.plan(intent)
    event = await jobs.run(jobs.submit(plan))
    assert event.state == DONE and event.failures_count == 0
    return event.job_id


async def undo(jobs, job_id):
    plan = jobs.plan_undo(job_id)
    assert plan.ok, plan.errors
    event = await jobs.run(jobs.submit(plan))
    assert event.state == DONE and event.failures_count == 0
    assert jobs.job(event.job_id).undo_of == job_id
    return event.job_id


@pytest.mark.parametrize("make_intent", [
    lambda acct: TagFollowers(VIP, Followers.of(sample(acct, 500))),
    lambda acct: UntagFollowers(100, Followers.of(sample(acct, 1500))),
    lambda acct: ClearTags(Followers.of(sample(acct, 800))),
    lambda acct: BlacklistFollowers(Followers.of(sample(acct, 300) + acct.blacklist()[:5])),
    lambda acct: UnblacklistFollowers(Followers.of(acct.blacklist()[:20] + sample(acct, 10))),
], ids=["tag", "untag", "clear-tags", "blacklist", "unblacklist"])
async def test_undo_restores_the_exact_prior_state(emu, tmp_path, make_intent):
    acct = emu.account
    before = state_of(acct)
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        job_id = await do(jobs, make_intent(acct))
        assert state_of(acct) != before
        await undo(jobs, job_id)
    assert state_of(acct) == before
    assert emu.stats.openid_much_req == 0


async def test_undo_of_tag_untags_only_those_it_tagged(emu, tmp_path):
    acct = emu.account
    chosen = sample(acct, 400)
    already = acct.tag_members(VIP) & set(chosen)
    assert already
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        job_id = await do(jobs, TagFollowers(VIP, Followers.of(chosen)))
        plan = jobs.plan_undo(job_id)
        assert {o for c in plan.calls for o in c.targets} == set(chosen) - already
        assert {c.op for c in plan.calls} == {"untag"}


async def test_undo_of_clear_tags_puts_back_each_followers_own_tags(emu, tmp_path):
    acct = emu.account
    chosen = [o for o in sample(acct, 2000) if len(acct.tags_of(o)) >= 2][:100]
    had = {o: acct.tags_of(o) for o in chosen}
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        job_id = await do(jobs, ClearTags(Followers.of(chosen)))
        assert all(acct.tags_of(o) == [] for o in chosen)
        await undo(jobs, job_id)
    assert {o: acct.tags_of(o) for o in chosen} == had


async def test_undo_of_a_drained_delete_recreates_the_tag_with_every_follower(emu, tmp_path, monkeypatch):
    acct = emu.account
    monkeypatch.setattr(limits, "TAG_DELETE_MAX_FOLLOWERS", 200)
    big = 100  # 12% of 3,000 = 360 followers: 160 are drained, then the tag is deleted
    before = by_name(state_of(acct))
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        job_id = await do(jobs, DeleteTag(big))
        assert big not in acct.tags()
        plan = jobs.plan_undo(job_id)
        assert [c.op for c in plan.calls][0] == "create_tag"
        await undo(jobs, job_id)
        assert by_name(state_of(acct)) == before
        recreated = max(acct.tags())
        assert acct.tags()[recreated][0] == "广东" and recreated != big
        assert jobs.store.tag_names()[recreated] == "广东"


async def test_undo_of_create_rename_and_remark(emu, tmp_path):
    acct = emu.account
    someone = sample(acct, 1)[0]
    before = state_of(acct)
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        created = await do(jobs, CreateTag("Autumn"))
        renamed = await do(jobs, RenameTag(101, "Beijing"))
        remarked = await do(jobs, SetRemark(someone, "new remark"))
        for job_id in (remarked, renamed, created):
            await undo(jobs, job_id)
    assert state_of(acct) == before


async def test_undo_of_a_cancelled_job_reverts_only_what_it_did_and_undo_of_undo_redoes(emu, tmp_path):
    acct = emu.account
    before = state_of(acct)
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=2) as jobs:
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(acct.follower_openids())))
        job_id = jobs.submit(plan)

        def cancel_soon(event):
            if event.calls_done >= 10:
                jobs.cancel(job_id)
                unsubscribe()

        unsubscribe = jobs.subscribe(cancel_soon, job_id)
        assert (await jobs.run(job_id)).state == CANCELLED
        partial = state_of(acct)
        undo_plan = jobs.plan_undo(job_id)
        assert [w.code for w in undo_plan.warnings] == ["partial"]
        undo_id = await undo(jobs, job_id)
        assert state_of(acct) == before
        await undo(jobs, undo_id)
        assert state_of(acct) == partial


async def test_a_running_job_cannot_be_undone(emu, tmp_path):
    acct = emu.account
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=1) as jobs:
        job_id = jobs.submit(await jobs.plan(TagFollowers(VIP, Followers.of(acct.follower_openids()))))
        finished = jobs.start(job_id)
        plan = jobs.plan_undo(job_id)
        assert [e.code for e in plan.errors] == ["running"]
        await finished


@pytest.mark.parametrize("first, then, op", [
    (lambda chosen: TagFollowers(VIP, Followers.of(chosen)), lambda part: UntagFollowers(VIP, Followers.of(part)),
     "untag"),
    (lambda chosen: BlacklistFollowers(Followers.of(chosen)), lambda part: UnblacklistFollowers(Followers.of(part)),
     "unblacklist"),
], ids=["tag", "blacklist"])
async def test_undo_skips_what_the_cache_shows_already_back_and_counts_only_real_changes(emu, tmp_path,
                                                                                       first, then, op):
    # A job, then another that took most of it back (a cancelled untag at 95%): undoing the
    # first sends only what is still as it left it, and says the rest was skipped.
    acct = emu.account
    chosen = [o for o in sample(acct, 400) if VIP not in acct.tags_of(o) and not acct.is_blacklisted(o)][:200]
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        job_id = await do(jobs, first(chosen))
        await do(jobs, then(chosen[:150]))
        plan = jobs.plan_undo(job_id)
        assert {o for c in plan.calls for o in c.targets} == set(chosen[150:])
        assert {c.op for c in plan.calls} == {op}
        assert (plan.targets, plan.noops) == (50, 150)
        event = await jobs.run(jobs.submit(plan))
        assert event.state == DONE and event.targets_done == 50
        assert all(VIP not in acct.tags_of(o) and not acct.is_blacklisted(o) for o in chosen)

        again = jobs.plan_undo(job_id)  # now everything is back: nothing to send
        assert not again.calls and again.noops == 200
        assert "already back as it was" in again.warnings[0].message


async def test_the_confirmation_of_an_undo_of_a_new_tag_counts_a_tag_not_a_follower(emu, tmp_path):
    from wxtui.ui.summary import summarize

    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        created = await do(jobs, CreateTag("Winter"))
        tagged = await do(jobs, TagFollowers(VIP, Followers.of(sample(emu.account, 3))))
        lines = dict(summarize("undo", jobs.plan_undo(created), f"job #{created}").lines())
        assert lines["Count"] == "1 tag"
        untagged = dict(summarize("undo", jobs.plan_undo(tagged), f"job #{tagged}").lines())
        assert "follower" in untagged["Count"]
