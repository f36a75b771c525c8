"""Every intent, planned from the cache and run against the emulator, ends exactly as intended."""

from __future__ import annotations

import random

import pytest

from jobs_support import job_service, state_of
from wxtui.families.wechat.emulator import Emulator
from wxtui.jobs.events import DONE
from wxtui.jobs.intents import (BlacklistFollowers, ClearTags, CreateTag, DeleteTag, Followers,
                                RenameTag, SetRemark, TagFollowers, UnblacklistFollowers, UntagFollowers)
from wxtui.store.filters import Filter
from wxtui.families.wechat import limits

VIP = 106  # 3% of the demo's followers


@pytest.fixture
def emu():
    emulator = Emulator.demo(followers=2000, seed=11)
    emulator.faults.latency_ms = 1  # calls overlap, so a shared openid would be punished (45169)
    return emulator


def some_followers(acct, n: int, seed: int = 5) -> list[str]:
    return random.Random(seed).sample(acct.follower_openids(), n)


async def run_intent(service, intent):
    plan = await service.plan(intent)
    assert plan.ok, plan.errors
    event = await service.run(service.submit(plan))
    return plan, event


async def test_tag_adds_exactly_the_selection_and_skips_those_already_tagged(emu, tmp_path):
    acct = emu.account
    chosen = some_followers(acct, 600)
    before = state_of(acct)
    already = before["members"][VIP] & set(chosen)
    assert already  # the demo's VIP tag holds some of them: the plan must skip those
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        plan, event = await run_intent(jobs, TagFollowers(VIP, Followers.of(chosen)))
        assert plan.noops == len(already)
        assert plan.targets == len(chosen) - len(already)
        assert plan.calls_by_op == {"tag": -(-plan.targets // limits.TAGGING_BATCH)}
        assert all(len(c.targets) <= limits.TAGGING_BATCH for c in plan.calls)
        assert event.state == DONE and event.failures_count == 0
        after = state_of(acct)
        assert after["members"][VIP] == before["members"][VIP] | set(chosen)
        assert {t: m for t, m in after["members"].items() if t != VIP} == \
               {t: m for t, m in before["members"].items() if t != VIP}
        # The cache was written through: it agrees with the emulator without a sync.
        assert jobs.store.tag_counts()[VIP] == len(after["members"][VIP])
    assert emu.stats.openid_much_req == 0


async def test_untag_removes_exactly_the_members_among_the_selection(emu, tmp_path):
    acct = emu.account
    members = sorted(acct.tag_members(100))
    chosen = members[: len(members) // 2] + some_followers(acct, 100)
    before = state_of(acct)
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        plan, event = await run_intent(jobs, UntagFollowers(100, Followers.of(chosen)))
        assert plan.targets == len(set(chosen) & before["members"][100])
        assert event.state == DONE
    assert state_of(acct)["members"][100] == before["members"][100] - set(chosen)


async def test_clear_tags_leaves_the_selection_without_any_tag_and_others_untouched(emu, tmp_path):
    acct = emu.account
    tagged = [o for o in acct.follower_openids() if acct.tags_of(o)]
    chosen = tagged[:400] + [o for o in acct.follower_openids() if not acct.tags_of(o)][:50]
    before = state_of(acct)
    async with job_service(emu, tmp_path / "c.sqlite", concurrency=8) as jobs:
        plan, event = await run_intent(jobs, ClearTags(Followers.of(chosen)))
        assert plan.targets == 400 and plan.noops == 50
        assert plan.calls_by_op["untag"] == len(plan.calls)
        assert event.state == DONE and event.failures_count == 0
    after = state_of(acct)
    for openid in chosen:
        assert acct.tags_of(openid) == []
    for tagid, members in before["members"].items():
        assert after["members"][tagid] == members - set(chosen)
    assert emu.stats.openid_much_req == 0


async def test_blacklist_and_unblacklist_end_exactly(emu, tmp_path):
    acct = emu.account
    listed_before = set(acct.blacklist())
    chosen = some_followers(acct, 150) + sorted(listed_before)[:5]
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        plan, event = await run_intent(jobs, BlacklistFollowers(Followers.of(chosen)))
        assert plan.noops == len(set(chosen) & listed_before)
        assert all(len(c.targets) <= limits.BLACKLIST_BATCH for c in plan.calls)
        assert set(acct.blacklist()) == listed_before | set(chosen)
        release = sorted(listed_before)[:10] + chosen[:20]
        plan, event = await run_intent(jobs, UnblacklistFollowers(Followers.of(release)))
        assert event.state == DONE
        assert set(acct.blacklist()) == (listed_before | set(chosen)) - set(release)
        assert set(jobs.store.blacklist()) == set(acct.blacklist())


async def test_followers_from_a_filter_of_the_cache(emu, tmp_path):
    acct = emu.account
    vip = acct.tag_members(VIP)
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        # Everyone carrying tag 101 gets VIP too.
        plan, event = await run_intent(jobs, TagFollowers(VIP, Followers(filter=Filter(tags={101}))))
        assert plan.targets == len(acct.tag_members(101) - vip)
    assert acct.tag_members(VIP) == vip | acct.tag_members(101)


async def test_create_rename_and_set_remark(emu, tmp_path):
    acct = emu.account
    someone = some_followers(acct, 1)[0]
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        await run_intent(jobs, CreateTag("夏季促销"))
        tagid = next(t for t, (name, _) in acct.tags().items() if name == "夏季促销")
        assert jobs.store.tag_names()[tagid] == "夏季促销"
        await run_intent(jobs, RenameTag(tagid, "Summer sale"))
        assert acct.tags()[tagid][0] == "Summer sale"
        await run_intent(jobs, SetRemark(someone, "VIP 王"))
        assert acct.follower(someone)["remark"] == "VIP 王"
        assert jobs.store.row_by_openid(someone).remark == "VIP 王"


async def test_names_over_30_bytes_and_reserved_tags_are_refused_before_sending(emu, tmp_path):
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        plan = await jobs.plan(CreateTag("广东省深圳市南山区科技园会员"))  # 14 characters, 42 bytes
        assert not plan.ok and "42 bytes" in plan.errors[0].message
        plan = await jobs.plan(RenameTag(limits.STAR_TAG_ID, "Stars"))
        assert [e.code for e in plan.errors] == ["reserved_tag"]
        plan = await jobs.plan(DeleteTag(999))
        assert [e.code for e in plan.errors] == ["unknown_tag"]
        plan = await jobs.plan(TagFollowers(999, Followers.of(some_followers(emu.account, 3))))
        assert [e.code for e in plan.errors] == ["unknown_tag"]
        with pytest.raises(ValueError):
            jobs.submit(plan)
    assert emu.stats.calls.get("/cgi-bin/tags/create", 0) == 0


async def test_plan_lists_followers_over_20_tags_malformed_and_unknown_openids(emu, tmp_path):
    acct = emu.account
    full = some_followers(acct, 2, seed=9)
    extra = [acct.create_tag(f"extra {i}") for i in range(20)]
    for openid in full:
        acct.set_tags(openid, extra)
    stranger = acct.prefix + "Z" * (limits.OPENID_LENGTH - len(acct.prefix))
    others = some_followers(acct, 30, seed=10)
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(full + others + ["not-an-openid", stranger])))
        notes = {w.code: w for w in plan.warnings}
        assert set(notes["over_20_tags"].items) == set(full)
        assert notes["malformed"].items == ("not-an-openid",)
        assert notes["not_in_cache"].items == (stranger,)
        sent = {o for c in plan.calls for o in c.targets}
        assert not sent & set(full) and "not-an-openid" not in sent and stranger in sent
        assert plan.quota["/cgi-bin/tags/members/batchtagging"]["needed"] == len(plan.calls)
        text = "\n".join(plan.describe())
        assert full[0] in text and "20 tags" in text


async def test_delete_a_small_tag_and_drain_a_big_one_first(emu, tmp_path, monkeypatch):
    acct = emu.account
    # The platform's threshold is 100,000; a smaller one keeps the test small (the emulator
    # enforces the same number, so 45057 would come back if the drain fell short).
    monkeypatch.setattr(limits, "TAG_DELETE_MAX_FOLLOWERS", 100)
    small = next(t for t, (_, count) in acct.tags().items() if 0 < count <= 100 and t != 2)
    big = 100  # 广东, 12% of 2,000 = 240
    assert len(acct.tag_members(big)) == 240
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        await run_intent(jobs, DeleteTag(small))
        assert small not in acct.tags()
        plan, event = await run_intent(jobs, DeleteTag(big))
        assert plan.calls_by_op == {"untag": 3, "delete_tag": 1}  # 140 drained in calls of 50
        assert [w.code for w in plan.warnings] == ["drain"]
        assert event.state == DONE and event.failures_count == 0
        assert big not in acct.tags() and big not in jobs.store.tag_names()
