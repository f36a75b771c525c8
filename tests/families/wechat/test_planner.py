"""The planner: calls within every limit, proven no-ops dropped and counted, checks and costs
stated before anything is sent."""

from __future__ import annotations

import pytest

from jobs_support import FAST_RETRY, fill_cache
from wxtui.families.wechat.emulator import Emulator
from wxtui.jobs.intents import ClearTags, DeleteTag, Followers, TagFollowers, UnblacklistFollowers
from wxtui.families.wechat.planner import Planner, openid_lines
from wxtui.store import Store
from wxtui.store.filters import Filter
from wxtui.families.wechat import limits
from wxtui.families.wechat.client import WeChatClient

VIP = 106


@pytest.fixture
def emu():
    return Emulator.demo(followers=1200, seed=51)


@pytest.fixture
def store(emu, tmp_path):
    s = Store.open(tmp_path / "c.sqlite")
    fill_cache(s, emu.account)
    yield s
    s.close()


@pytest.fixture
async def client(emu):
    acct = emu.account
    async with WeChatClient.with_secret(acct.appid, acct.secret, transport=emu.transport(),
                                        retry=FAST_RETRY) as c:
        yield c


def test_openid_lines_keeps_openids_and_reports_junk_by_line_number():
    good = "o" + "A" * 27
    text = ["# a comment", good, "", "  " + good[:-1] + "B  ", "oops", "o" + "A" * 26 + "!", "\ufeff" + good]
    openids, junk = openid_lines(text)
    assert openids == [good, good[:-1] + "B", good]
    assert junk == [(5, "oops"), (6, "o" + "A" * 26 + "!")]


async def test_estimate_uses_the_rate_and_the_calls_in_flight(store):
    planner = Planner(store, seconds_per_call=0.2, concurrency=4)
    plan = await planner.plan(TagFollowers(VIP, Followers(filter=Filter())))
    assert len(plan.calls) == -(-plan.targets // limits.TAGGING_BATCH)
    assert plan.estimated_s == pytest.approx(len(plan.calls) * 0.2 / 4)
    assert plan.noops == store.tag_counts()[VIP]
    assert plan.quota == {}  # no client: quota/get cannot be asked


async def test_quota_left_comes_from_quota_get(store, client, emu):
    emu.account.set_quota("/cgi-bin/tags/members/batchtagging", 1000)
    plan = await Planner(store, client).plan(TagFollowers(VIP, Followers(filter=Filter())))
    quota = plan.quota["/cgi-bin/tags/members/batchtagging"]
    assert quota == {"daily_limit": 1000, "remain": 1000, "needed": len(plan.calls)}
    assert not any(w.code == "quota" for w in plan.warnings)
    assert emu.stats.calls["/cgi-bin/tags/members/batchtagging"] == 0


async def test_clear_tags_asks_wechat_for_followers_the_cache_does_not_know(store, client, emu):
    acct = emu.account
    newcomers = acct.add_followers(3)
    acct.set_tags(newcomers[0], [100, 101])
    stranger = acct.prefix + "N" * (limits.OPENID_LENGTH - len(acct.prefix))
    plan = await Planner(store, client).plan(ClearTags(Followers.of(newcomers + [stranger])))
    assert sorted((c.params["tagid"], c.targets) for c in plan.calls) == [(100, (newcomers[0],)), (101, (newcomers[0],))]
    assert plan.targets == 1 and plan.noops == 2
    assert [w.items for w in plan.warnings if w.code == "not_followers"] == [(stranger,)]
    assert store.row_by_openid(newcomers[0]).tagids == (100, 101)  # the answers refreshed the cache


async def test_clear_tags_with_refresh_trusts_wechat_over_a_stale_cache(store, client, emu):
    acct = emu.account
    someone = next(o for o in acct.follower_openids() if not acct.tags_of(o))
    acct.set_tags(someone, [VIP])  # the cache still says: no tag
    stale = await Planner(store, client).plan(ClearTags(Followers.of([someone])))
    assert stale.calls == [] and stale.noops == 1
    fresh = await Planner(store, client).plan(ClearTags(Followers.of([someone]), refresh=True))
    assert [(c.op, c.params["tagid"], c.targets) for c in fresh.calls] == [("untag", VIP, (someone,))]


async def test_unblacklisting_someone_who_unfollowed_is_not_reported_unknown(store, emu):
    acct = emu.account
    listed = acct.blacklist()[0]
    store.remove_followers([listed])  # gone from the followers, still on the blacklist
    plan = await Planner(store).plan(UnblacklistFollowers(Followers.of([listed])))
    assert [c.targets for c in plan.calls] == [(listed,)]
    assert not plan.warnings


async def test_deleting_a_big_tag_plans_the_drain_from_wechats_member_list(store, client, emu, monkeypatch):
    monkeypatch.setattr(limits, "TAG_DELETE_MAX_FOLLOWERS", 50)
    members = emu.account.tag_members(100)
    plan = await Planner(store, client).plan(DeleteTag(100))
    drained = [o for c in plan.calls if c.op == "untag" for o in c.targets]
    delete = plan.calls[-1]
    assert delete.op == "delete_tag" and delete.phase == 1
    assert {c.phase for c in plan.calls if c.op == "untag"} == {0}
    assert len(drained) == len(members) - 50
    assert set(drained) | set(delete.params["members"]) == members
    assert "untagged first" in plan.warnings[0].message and "draining" in plan.title


async def test_a_selection_of_the_cache_is_planned_in_chunks(store):
    selection = store.selection("main")
    ids = list(store.view(Filter(tags={101})).row_ids())
    selection.add(ids)
    plan = await Planner(store).plan(TagFollowers(VIP, Followers(selection="main")))
    assert plan.targets + plan.noops == len(ids)
