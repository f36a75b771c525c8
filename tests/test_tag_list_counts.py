"""The tag list's counts (everyone, untagged, blacklisted) on the way to the first frame: from the
follower sets and the tags' bitmaps while they are current, equal to SQL's counts through a sync,
jobs, a remark and blacklist changes; by the plans when they are stale, which are then left as
they are (rebuilding them takes 30 s at 10M) until a count that needs them."""

from __future__ import annotations

import random

import pytest

from wxtui.core.session import Session
from wxtui.families.wechat.client import WeChatClient
from wxtui.families.wechat.emulator import Emulator
from wxtui.families.wechat.family import FAMILY as WECHAT
from wxtui.families.wechat.models import Follower
from wxtui.families.wechat.sync import Sync
from wxtui.jobs.intents import (BlacklistFollowers, ClearTags, Followers, SetRemark, TagFollowers,
                                UnblacklistFollowers, UntagFollowers)
from wxtui.store import Filter, Store, followersets
from wxtui.ui.account import AccountModel

VIP = 106


def sql_count(store: Store, flt: Filter) -> int:
    where, params = store.view(flt).condition_sql()
    return store.conn.execute(f"SELECT count(*) FROM followers f WHERE {where}", params).fetchone()[0]


def from_sets(store: Store, flt: Filter) -> int | None:
    """The count as the kept sets alone give it (None: they cannot)."""
    found = followersets.match(store, store.reader(), flt, build=False)
    return None if found is None else len(found.members)


def assert_tag_list_right(model: AccountModel, *, by_sets: bool) -> None:
    store = model.store
    if by_sets:  # before the counts: they must find the sets current, not make them so
        assert followersets.current(store.conn) is not None
        untagged, blacklisted = from_sets(store, Filter(untagged=True)), from_sets(store, Filter(blacklisted=True))
    summary = model.tag_summary()
    assert summary.total == sql_count(store, Filter())
    assert summary.untagged == sql_count(store, Filter(untagged=True))
    assert summary.blacklisted == sql_count(store, Filter(blacklisted=True))
    assert 0 < summary.untagged < summary.total and summary.blacklisted > 0
    if by_sets:
        assert (untagged, blacklisted) == (summary.untagged, summary.blacklisted)


@pytest.fixture
async def synced(tmp_path):
    emu = Emulator.demo(followers=1500, seed=23)
    acct = emu.account
    store = Store.open(tmp_path / "c.db")
    client = WeChatClient.with_secret(acct.appid, acct.secret, transport=emu.transport())
    await Sync(client, store).run()
    model = AccountModel(Session("emu", acct.appid, client, store, family=WECHAT))
    yield emu, model
    await model.aclose()
    await client.aclose()
    store.close()


async def run(model: AccountModel, intent) -> None:
    plan = await model.jobs.plan(intent)
    await model.jobs.run(model.jobs.submit(plan))


async def test_the_counts_from_the_sets_follow_a_sync_jobs_remarks_and_the_blacklist(synced):
    emu, model = synced
    store = model.store
    assert_tag_list_right(model, by_sets=True)
    openids = random.Random(4).sample(emu.account.follower_openids(), 200)
    untagged = [o for o in openids if not emu.account.follower(o).get("tagid_list")][:40]
    assert untagged  # tagging them changes the untagged count

    await run(model, TagFollowers(VIP, Followers.of(untagged)))
    assert_tag_list_right(model, by_sets=True)
    await run(model, UntagFollowers(VIP, Followers.of(untagged[:25])))
    assert_tag_list_right(model, by_sets=True)
    await run(model, ClearTags(Followers.of(openids[100:160])))
    assert_tag_list_right(model, by_sets=True)
    await run(model, SetRemark(openids[0], "新备注"))
    assert_tag_list_right(model, by_sets=True)
    await run(model, BlacklistFollowers(Followers.of(openids[160:170])))
    assert_tag_list_right(model, by_sets=True)
    await run(model, UnblacklistFollowers(Followers.of(openids[160:165])))
    assert_tag_list_right(model, by_sets=True)
    store.remove_followers(openids[170:180])  # unfollowed, as a refresh finds them
    assert_tag_list_right(model, by_sets=True)
    refreshed = [Follower.from_api(emu.account.follower(o)) for o in openids[180:190]]
    for i, f in enumerate(refreshed):  # their tags changed on WeChat: a refresh reads them anew
        f.tagid_list = [] if i % 2 else [VIP, 100]
    store.upsert_followers(refreshed)
    assert_tag_list_right(model, by_sets=True)


async def test_stale_sets_are_counted_by_the_plans_and_not_rebuilt_for_the_tag_list(synced):
    _, model = synced
    store = model.store
    some = store.conn.execute("SELECT openid FROM followers WHERE tag_count = 0 LIMIT 3").fetchall()
    with store.transaction():  # a write no store method made: the sets cannot have followed it
        store.conn.executemany("UPDATE followers SET remark = 'x' WHERE openid = ?", some)
        store.conn.execute("DELETE FROM followers WHERE openid = ?", some[0])
    assert followersets.current(store.conn) is None
    assert_tag_list_right(model, by_sets=False)
    model.selection.select_all(Filter(untagged=True))  # "select all" on the untagged view
    model.selection.remove(store.follower_ids([some[1][0]]).values())  # and one unmarked
    assert model.selection_count() == sql_count(store, Filter(untagged=True)) - 1
    assert followersets.current(store.conn) is None  # not rebuilt on the way to the first frame
    # A count that needs them rebuilds them; the tag list then counts from them again.
    assert store.view(Filter(text="x")).count() == sql_count(store, Filter(text="x"))
    assert_tag_list_right(model, by_sets=True)


async def test_a_tag_without_its_bitmap_is_counted_by_the_plans(synced):
    _, model = synced
    store = model.store
    with store.transaction():
        store.conn.execute("DELETE FROM tag_members WHERE tagid = ?", (VIP,))
    assert from_sets(store, Filter(untagged=True)) is None
    assert_tag_list_right(model, by_sets=False)
    kept = {r[0] for r in store.conn.execute("SELECT tagid FROM tag_members")}
    assert VIP not in kept  # the tag list did not wait for it to be built
