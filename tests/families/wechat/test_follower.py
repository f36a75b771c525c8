"""One follower: the card (live tags, the cache corrected, the jobs that touched them), setting
their tags as a whole, and a tag created only by the job that uses it. Against the emulator."""

from __future__ import annotations

import pytest

from jobs_support import job_service
from wxtui.families.wechat.emulator import Emulator
from wxtui.core.member_card import LIVE, NotAFollower
from wxtui.families.wechat.member_card import read_follower
from wxtui.jobs.events import DONE
from wxtui.jobs.intents import CreateTagAndTag, Followers, SetFollowerTags, SetRemark
from wxtui.families.wechat.planner import tag_swap_steps
from wxtui.families.wechat import limits


@pytest.fixture
def emu():
    return Emulator.demo(followers=300, seed=19)


def tag_counts_seen(acct, openid: str) -> list[int]:
    """Records the follower's tag count after every tagging call the emulator answers."""
    seen: list[int] = []
    row = acct.row(openid)
    for name in ("tag_rows", "untag_rows"):
        original = getattr(acct, name)

        def watched(rows, tagid, _original=original):
            _original(rows, tagid)
            if row in rows:
                seen.append(len(acct.tags_of(openid)))

        setattr(acct, name, watched)
    return seen


def test_swap_steps_add_first_and_make_room_only_at_the_limit():
    assert tag_swap_steps(3, [7, 8], [1, 2]) == [("tag", 7), ("tag", 8), ("untag", 1), ("untag", 2)]
    # 19 tags, 3 to swap: one fits, then each further one needs a dropped one first.
    steps = tag_swap_steps(19, [30, 31, 32], [1, 2, 3])
    count, lowest, highest = 19, 19, 19
    for op, _ in steps:
        count += 1 if op == "tag" else -1
        lowest, highest = min(lowest, count), max(highest, count)
    assert steps[0] == ("tag", 30) and count == 19
    assert highest == limits.MAX_TAGS_PER_FOLLOWER and lowest == 19


async def test_the_card_reads_tags_live_corrects_the_cache_and_lists_the_jobs(emu, tmp_path):
    acct = emu.account
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        openid = acct.follower_openids()[5]
        job = jobs.submit(await jobs.plan(SetRemark(openid, "Mr [bold]Li[/]")))
        assert (await jobs.run(job)).state == DONE
        other = acct.follower_openids()[6]
        jobs_other = jobs.submit(await jobs.plan(SetRemark(other, "not this one")))
        await jobs.run(jobs_other)
        # WeChat changed behind the cache's back: one more tag.
        extra = next(t for t in acct.tags() if t not in acct.tags_of(openid) and t > 2)
        acct.tag_rows([acct.row(openid)], extra)
        assert extra not in jobs.store.tag_ids_of([openid])[openid]

        card = await read_follower(jobs.client, jobs.store, jobs.journal, openid)

        assert card.tags_from == LIVE and card.corrected
        assert sorted(card.tagids) == sorted(acct.tags_of(openid))
        assert sorted(jobs.store.tag_ids_of([openid])[openid]) == sorted(acct.tags_of(openid))
        assert card.remark == "Mr [bold]Li[/]" and card.unionid == acct.follower(openid).get("unionid", "")
        assert [j.id for j in card.jobs] == [job]
        data = card.to_dict()
        assert data["openid"] == openid and data["jobs"][0]["state"] == DONE
        again = await read_follower(jobs.client, jobs.store, jobs.journal, openid)
        assert not again.corrected


async def test_the_card_of_a_stranger_says_so(emu, tmp_path):
    acct = emu.account
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        with pytest.raises(NotAFollower):
            await read_follower(jobs.client, jobs.store, jobs.journal, acct.prefix + "Z" * 22)
        with pytest.raises(NotAFollower):
            await read_follower(jobs.client, jobs.store, jobs.journal, "[red]x")


async def test_set_tags_adds_before_it_removes_and_undo_restores(emu, tmp_path):
    acct = emu.account
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        openid = next(o for o in acct.follower_openids() if len(acct.tags_of(o)) >= 2)
        before = sorted(acct.tags_of(openid))
        user_tags = [t for t in acct.tags() if t not in limits.RESERVED_TAG_IDS]
        wanted = sorted([before[0]] + [t for t in user_tags if t not in before][:3])
        seen = tag_counts_seen(acct, openid)

        plan = await jobs.plan(SetFollowerTags(openid, tuple(wanted)))
        ops = [c.op for c in plan.calls]
        assert ops == ["tag"] * 3 + ["untag"] * (len(before) - 1)
        assert (await jobs.run(jobs.submit(plan))).state == DONE

        assert sorted(acct.tags_of(openid)) == wanted
        assert sorted(jobs.store.tag_ids_of([openid])[openid]) == wanted
        assert min(seen) >= min(len(before), len(wanted))
        seen.clear()
        undo = jobs.plan_undo(jobs.jobs(1)[0].id)
        assert (await jobs.run(jobs.submit(undo))).state == DONE
        assert sorted(acct.tags_of(openid)) == before
        assert sorted(jobs.store.tag_ids_of([openid])[openid]) == before
        assert min(seen) >= min(len(before), len(wanted))


async def test_set_tags_at_the_limit_of_twenty_swaps_without_45059(emu, tmp_path):
    acct = emu.account
    for n in range(25):
        acct.create_tag(f"extra {n}")
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        openid = acct.follower_openids()[0]
        user_tags = sorted(t for t in acct.tags() if t not in limits.RESERVED_TAG_IDS)
        acct.set_tags(openid, user_tags[:20])
        wanted = tuple(user_tags[:17] + user_tags[20:23])
        plan = await jobs.plan(SetFollowerTags(openid, wanted))
        assert plan.ok and any(w.code == "swap" for w in plan.warnings)
        final = await jobs.run(jobs.submit(plan))
        assert final.state == DONE and not final.failures_count
        assert sorted(acct.tags_of(openid)) == sorted(wanted)
        too_many = await jobs.plan(SetFollowerTags(openid, tuple(user_tags[:21])))
        assert not too_many.ok


async def test_a_tag_created_by_the_job_that_uses_it_and_undone_with_it(emu, tmp_path):
    acct = emu.account
    async with job_service(emu, tmp_path / "c.sqlite") as jobs:
        openids = acct.follower_openids()[:120]
        tags_before = dict(acct.tags())
        plan = await jobs.plan(CreateTagAndTag("秋季 [promo]", Followers.of(openids)))
        assert plan.ok and plan.targets == 120
        # Planning created nothing, on WeChat or in the cache.
        assert acct.tags() == tags_before
        assert "秋季 [promo]" not in jobs.store.tag_names().values()
        job = jobs.submit(plan)
        assert (await jobs.run(job)).state == DONE
        tagid = next(t for t, (name, _) in acct.tags().items() if name == "秋季 [promo]")
        assert acct.tag_members(tagid) == set(openids)
        assert jobs.store.tag_names()[tagid] == "秋季 [promo]"
        assert jobs.store.tag_counts()[tagid] == 120
        assert (await jobs.run(jobs.submit(jobs.plan_undo(job)))).state == DONE
        assert tagid not in acct.tags() and tagid not in jobs.store.tag_names()
        taken = await jobs.plan(CreateTagAndTag("VIP", Followers.of(openids)))
        assert not taken.ok and taken.errors[0].code == "tag_exists"


async def test_the_card_of_a_follower_the_cache_does_not_hold_yet_comes_from_wechat(emu, tmp_path):
    acct = emu.account
    async with job_service(emu, tmp_path / "c.sqlite", fill=False) as jobs:
        openid = next(o for o in acct.follower_openids() if acct.tags_of(o))
        assert jobs.store.row_by_openid(openid) is None
        card = await read_follower(jobs.client, jobs.store, jobs.journal, openid)
        assert card.language == acct.follower(openid)["language"]
        assert sorted(card.tagids) == sorted(acct.tags_of(openid))
        assert jobs.store.row_by_openid(openid) is not None  # kept for the next look
