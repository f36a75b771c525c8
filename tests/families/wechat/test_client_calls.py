"""Every call of the API through the client, against the emulator: success and its errcodes."""

from __future__ import annotations

import pytest

from wxtui.families.wechat import limits
from wxtui.families.wechat.errors import ApiError, BadOpenidError, QuotaExceeded, ValidationError
from wxtui.families.wechat.models import Follower, Tag

# The seeds' own examples (seed 001 and 000): a tag named Guangdong, two openids of prefix ocYxcu.
SEED_OPENIDS = ["ocYxcuAEy30bX0NXmGn4ypqx3tI0", "ocYxcuBt0mRugKZ7tGAHPnUaOW7Y"]


async def test_tags_create_get_update_delete(client, emu):
    tag = await client.create_tag("Guangdong")
    assert isinstance(tag, Tag) and tag.name == "Guangdong" and tag.id >= 100
    tags = {t.id: t for t in await client.get_tags()}
    assert tags[tag.id] == Tag(tag.id, "Guangdong", 0)
    assert tags[2].name == "星标组"
    await client.update_tag(tag.id, "Guangdong people")
    assert emu.account.tags()[tag.id][0] == "Guangdong people"
    await client.delete_tag(tag.id)
    assert tag.id not in emu.account.tags()


async def test_tag_name_limits_checked_before_sending(client, emu):
    emu.stats.reset()
    with pytest.raises(ValidationError, match="30"):
        await client.create_tag("广东省深圳市南山区科技园")  # 11 Chinese characters = 33 bytes
    with pytest.raises(ValidationError, match="empty"):
        await client.create_tag("   ")
    with pytest.raises(ValidationError, match="reserved"):
        await client.update_tag(2, "Stars")
    with pytest.raises(ValidationError, match="reserved"):
        await client.delete_tag(1)
    assert sum(emu.stats.calls.values()) == 0  # nothing reached the server


async def test_tag_name_of_exactly_30_bytes_is_accepted(client, emu):
    tag = await client.create_tag("广东省深圳市南山区科")  # 10 characters = 30 bytes
    assert emu.account.tags()[tag.id][0] == "广东省深圳市南山区科"


async def test_duplicate_tag_name_is_45157(client):
    await client.create_tag("VIP-dup")
    with pytest.raises(ApiError) as info:
        await client.create_tag("VIP-dup")
    assert info.value.errcode == 45157
    assert "taken" in str(info.value)


async def test_too_many_tags_is_45056(client, emu):
    existing = len([i for i in emu.account.tags() if i not in limits.RESERVED_TAG_IDS])
    for n in range(limits.MAX_TAGS_PER_ACCOUNT - existing):
        await client.create_tag(f"t{n}")
    with pytest.raises(ApiError) as info:
        await client.create_tag("one too many")
    assert info.value.errcode == 45056


async def test_batch_tag_and_untag_and_getidlist(client, emu):
    tag = await client.create_tag("Seeded")
    openids = emu.account.follower_openids()[:50]
    await client.batch_tag(tag.id, openids)
    assert emu.account.tag_members(tag.id) == set(openids)
    assert tag.id in await client.get_tag_ids(openids[0])
    await client.batch_tag(tag.id, openids)  # idempotent: nothing changes, no error
    assert emu.account.tag_members(tag.id) == set(openids)
    await client.batch_untag(tag.id, openids[:10])
    assert emu.account.tag_members(tag.id) == set(openids[10:])
    assert tag.id not in await client.get_tag_ids(openids[0])


async def test_batch_sizes_are_checked_before_sending(client, emu):
    openids = emu.account.follower_openids()
    emu.stats.reset()
    with pytest.raises(ValidationError, match="at most 50"):
        await client.batch_tag(2, openids[:51])
    with pytest.raises(ValidationError, match="at most 20"):
        await client.batch_blacklist(openids[:21])
    with pytest.raises(ValidationError, match="at most 100"):
        await client.user_info_batch(openids[:101])
    with pytest.raises(ValidationError, match="no openids"):
        await client.batch_untag(2, [])
    assert sum(emu.stats.calls.values()) == 0


async def test_unknown_openid_fails_the_whole_call(client, emu):
    tag = await client.create_tag("Whole")
    good = emu.account.follower_openids()[:3]
    bad = emu.account.prefix + "x" * (limits.OPENID_LENGTH - len(emu.account.prefix))
    with pytest.raises(BadOpenidError) as info:
        await client.batch_tag(tag.id, good + [bad])
    assert info.value.errcode == 40003
    assert emu.account.tag_members(tag.id) == set()


async def test_foreign_openid_is_49003(client, emu):
    # The seed's openids belong to another account (prefix ocYxcu).
    with pytest.raises(BadOpenidError) as info:
        await client.batch_blacklist(SEED_OPENIDS)
    assert info.value.errcode == 49003


async def test_unknown_tag_is_45159_after_retries(client, emu):
    emu.stats.reset()
    with pytest.raises(ApiError) as info:
        await client.batch_tag(9999, emu.account.follower_openids()[:2])
    assert info.value.errcode == 45159
    # 45159 may be a tag created a moment ago: retried a bounded number of times, not forever.
    assert emu.stats.calls["/cgi-bin/tags/members/batchtagging"] == 1 + client.transport.retry.max_retries


async def test_followers_paging_walks_every_follower(client, emu):
    emu.account.add_followers(limits.PAGE_SIZE + 5 - len(emu.account.follower_openids()))
    pages = [p async for p in client.iter_followers()]
    assert [len(p.openids) for p in pages] == [limits.PAGE_SIZE, 5]
    assert pages[0].total == limits.PAGE_SIZE + 5
    assert [o for p in pages for o in p.openids] == emu.account.follower_openids()


async def test_tag_followers_paging(client, emu):
    tag = await client.create_tag("Paged")
    openids = emu.account.follower_openids()[:120]
    for i in range(0, 120, 50):
        await client.batch_tag(tag.id, openids[i:i + 50])
    got = [o async for p in client.iter_tag_followers(tag.id) for o in p.openids]
    assert sorted(got) == sorted(openids)


async def test_blacklist_calls(client, emu):
    before = set(emu.account.blacklist())
    openids = [o for o in emu.account.follower_openids() if o not in before][:20]
    await client.batch_blacklist(openids)
    listed = [o async for p in client.iter_blacklist() for o in p.openids]
    assert set(listed) == before | set(openids)
    first = await client.blacklist_page()
    assert first.total == len(before) + 20
    await client.batch_unblacklist(openids)
    assert set(emu.account.blacklist()) == before


async def test_user_info_and_batchget(client, emu):
    openids = emu.account.follower_openids()[:100]
    followers = await client.user_info_batch(openids)
    assert [f.openid for f in followers] == openids
    for f in followers[:20]:
        expected = emu.account.follower(f.openid)
        assert f.subscribe_time == expected["subscribe_time"]
        assert f.remark == expected["remark"]
        assert f.tagid_list == expected["tagid_list"]
        assert f.subscribe_scene == expected["subscribe_scene"]
    one = await client.user_info(openids[0])
    assert isinstance(one, Follower) and one.openid == openids[0]


async def test_unfollowed_user_reads_as_subscribe_0(client, emu):
    gone = emu.account.follower_openids()[0]
    emu.account.remove_followers([gone])
    [info] = await client.user_info_batch([gone])
    assert info.subscribe == 0
    assert gone not in [o async for p in client.iter_followers() for o in p.openids]


async def test_update_remark(client, emu):
    openid = emu.account.follower_openids()[0]
    await client.update_remark(openid, "VIP李娜")
    assert emu.account.follower(openid)["remark"] == "VIP李娜"
    with pytest.raises(ValidationError, match="under 30 bytes"):
        await client.update_remark(openid, "很长的备注" * 3)


async def test_quota_get_and_exhaustion(client, emu):
    emu.account.set_quota("/cgi-bin/tags/get", 3)
    quota = await client.get_quota("/cgi-bin/tags/get")
    assert quota.daily_limit == 3
    await client.get_tags()
    with pytest.raises(QuotaExceeded) as info:
        for _ in range(5):
            await client.get_tags()
    assert info.value.errcode == 45009
    await client.clear_quota()
    assert (await client.get_quota("/cgi-bin/tags/get")).used == 0
    await client.get_tags()


async def test_unknown_quota_path_is_76021(client):
    with pytest.raises(ApiError) as info:
        await client.get_quota("/cgi-bin/no/such/api")
    assert info.value.errcode == 76021


async def test_unverified_account_is_48001_with_a_plain_message(client, emu):
    emu.account.verified = False
    with pytest.raises(ApiError) as info:
        await client.get_tags()
    assert info.value.errcode == 48001
    assert "verified" in str(info.value)


async def test_ip_not_whitelisted_names_the_ip(client, emu):
    emu.account.ip_whitelist = {"10.9.8.7"}
    with pytest.raises(ApiError) as info:
        await client.get_tags()
    assert info.value.errcode == 40164
    assert "add 127.0.0.1 to the API IP whitelist" in str(info.value)
