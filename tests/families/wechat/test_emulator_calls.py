"""The emulator's tag, blacklist and follower calls, through raw httpx: shapes and errcodes."""

from __future__ import annotations

import re

import httpx
import pytest

from wxtui.families.wechat.emulator import Emulator
from wxtui.families.wechat import limits
from wxtui.families.wechat.errors import ERRORS

BASE = "https://api.weixin.qq.com"
# The openids of the platform's own examples (seeds 000 and 001).
SEED_OPENIDS = ["ocYxcuAEy30bX0NXmGn4ypqx3tI0", "ocYxcuBt0mRugKZ7tGAHPnUaOW7Y"]


class Wx:
    """Raw API calls: the token in the query string, JSON both ways, HTTP 200 always."""

    def __init__(self, http: httpx.AsyncClient, token: str):
        self.http, self.token = http, token

    async def post(self, path: str, body=None, **kw) -> dict:
        r = await self.http.post(f"/cgi-bin/{path}", params={"access_token": self.token}, json=body, **kw)
        assert r.status_code == 200
        return r.json()

    async def get(self, path: str, **params) -> dict:
        r = await self.http.get(f"/cgi-bin/{path}", params={"access_token": self.token, **params})
        assert r.status_code == 200
        return r.json()


async def token_for(http: httpx.AsyncClient, acct) -> str:
    r = await http.post("/cgi-bin/stable_token", json={
        "grant_type": "client_credential", "appid": acct.appid, "secret": acct.secret, "force_refresh": False})
    return r.json()["access_token"]


def assert_error(answer: dict, errcode: int) -> None:
    assert answer["errcode"] == errcode, answer
    assert re.fullmatch(re.escape(ERRORS[errcode].errmsg) + r" rid: [0-9a-f]+-[0-9a-f]+", answer["errmsg"]), answer


OK = {"errcode": 0, "errmsg": "ok"}


@pytest.fixture
def emulator():
    return Emulator.demo(followers=500, seed=11)


@pytest.fixture
async def wx(emulator):
    async with httpx.AsyncClient(transport=emulator.transport(), base_url=BASE) as http:
        yield Wx(http, await token_for(http, emulator.account))


@pytest.fixture
async def seed_wx():
    """An account whose followers include the examples' openids, and 34 tags (ids 100..133)."""
    emu = Emulator(seed=5)
    acct = emu.add_account("Seed examples", followers=0, seed=5, prefix="ocYxcu")
    acct.add_followers(3, openids=SEED_OPENIDS)
    for k in range(34):
        acct.create_tag(f"filler {k}")
    acct.set_tags(SEED_OPENIDS[1], [limits.STAR_TAG_ID])
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE) as http:
        yield Wx(http, await token_for(http, acct)), acct


async def test_seed_tag_examples_verbatim(seed_wx):
    wx, acct = seed_wx
    assert await wx.post("tags/create", {"tag": {"name": "Guangdong"}}) == {"tag": {"id": 134, "name": "Guangdong"}}
    assert await wx.post("tags/update", {"tag": {"id": 134, "name": "Guangdong people"}}) == OK
    body = {"openid_list": ["ocYxcuAEy30bX0NXmGn4ypqx3tI0", "ocYxcuBt0mRugKZ7tGAHPnUaOW7Y"], "tagid": 134}
    assert await wx.post("tags/members/batchtagging", body) == OK
    assert await wx.post("user/tag/get", {"tagid": 134, "next_openid": ""}) == {
        "count": 2,
        "data": {"openid": ["ocYxcuAEy30bX0NXmGn4ypqx3tI0", "ocYxcuBt0mRugKZ7tGAHPnUaOW7Y"]},
        "next_openid": "ocYxcuBt0mRugKZ7tGAHPnUaOW7Y",
    }
    assert await wx.post("tags/getidlist", {"openid": "ocYxcuBt0mRugKZ7tGAHPnUaOW7Y"}) == {"tagid_list": [134, 2]}
    tags = (await wx.get("tags/get"))["tags"]
    assert {"id": 134, "name": "Guangdong people", "count": 2} in tags
    assert await wx.post("tags/members/batchuntagging", body) == OK
    assert acct.tag_members(134) == set()
    assert await wx.post("tags/delete", {"tag": {"id": 134}}) == OK
    assert 134 not in acct.tags()


async def test_seed_blacklist_examples(seed_wx):
    wx, acct = seed_wx
    # The example's placeholders are not openids: the whole call fails and nothing changes.
    assert_error(await wx.post("tags/members/batchblacklist", {"openid_list": ["OPENID1", " OPENID2"]}), 40003)
    assert acct.blacklist() == []
    assert await wx.post("tags/members/batchblacklist", {"openid_list": SEED_OPENIDS}) == OK
    assert await wx.post("tags/members/getblacklist", {"begin_openid": ""}) == {
        "total": 2, "count": 2, "data": {"openid": SEED_OPENIDS}, "next_openid": SEED_OPENIDS[1]}
    assert await wx.post("tags/members/batchunblacklist", {"openid_list": SEED_OPENIDS[:1]}) == OK
    assert acct.blacklist() == SEED_OPENIDS[1:]


async def test_tags_get_always_has_the_star_group(wx, emulator):
    acct = emulator.account
    tags = (await wx.get("tags/get"))["tags"]
    star = len(acct.tag_members(2))
    assert {"id": 2, "name": "星标组", "count": star} in tags
    assert {t["id"]: (t["name"], t["count"]) for t in tags} == acct.tags()
    empty = Emulator(seed=3)
    empty.add_account("Empty")
    async with httpx.AsyncClient(transport=empty.transport(), base_url=BASE) as http:
        other = Wx(http, await token_for(http, empty.account))
        assert await other.get("tags/get") == {"tags": [{"id": 2, "name": "星标组", "count": 0}]}


async def test_tags_create_rules(wx, emulator):
    acct = emulator.account
    assert_error(await wx.post("tags/create", {"tag": {"name": ""}}), 45157)
    assert_error(await wx.post("tags/create", {"tag": {"name": "广东"}}), 45157)  # a demo tag's name
    assert_error(await wx.post("tags/create", {"tag": {"name": "星标组"}}), 45157)
    assert_error(await wx.post("tags/create", {"tag": {"name": "一二三四五六七八九十一"}}), 45158)  # 33 bytes
    assert_error(await wx.post("tags/create", {"tag": {"name": "x" * 31}}), 45158)
    ten = await wx.post("tags/create", {"tag": {"name": "一二三四五六七八九十"}})  # exactly 30 bytes
    first = ten["tag"]["id"]
    assert first == max(acct.tags()) and first >= 100
    assert await wx.post("tags/delete", {"tag": {"id": first}}) == OK
    again = await wx.post("tags/create", {"tag": {"name": "一二三四五六七八九十"}})
    assert again["tag"]["id"] == first + 1  # ids are never reused
    while acct.user_tag_count() < limits.MAX_TAGS_PER_ACCOUNT:
        acct.create_tag(f"t{acct.user_tag_count()}")
    assert_error(await wx.post("tags/create", {"tag": {"name": "one too many"}}), 45056)


async def test_tags_update_and_delete_errors(wx, emulator):
    acct = emulator.account
    for reserved in (0, 1, 2):
        assert_error(await wx.post("tags/update", {"tag": {"id": reserved, "name": "x"}}), 45058)
        assert_error(await wx.post("tags/delete", {"tag": {"id": reserved}}), 45058)
    assert_error(await wx.post("tags/update", {"tag": {"id": 999, "name": "x"}}), 45159)
    assert_error(await wx.post("tags/delete", {"tag": {"id": 999}}), 45159)
    assert_error(await wx.post("tags/update", {"tag": {"id": 100, "name": "北京"}}), 45157)
    assert_error(await wx.post("tags/update", {"tag": {"id": 100, "name": "y" * 31}}), 45158)
    assert acct.tags()[100][0] == "广东"
    assert await wx.post("tags/update", {"tag": {"id": 100, "name": "Guangdong"}}) == OK
    assert acct.tags()[100][0] == "Guangdong"


async def test_deleting_a_tag_removes_it_from_its_followers(wx, emulator):
    acct = emulator.account
    members = sorted(acct.tag_members(100))
    assert members
    assert await wx.post("tags/delete", {"tag": {"id": 100}}) == OK
    assert all(100 not in acct.tags_of(o) for o in members)
    assert 100 not in (await wx.post("tags/getidlist", {"openid": members[0]}))["tagid_list"]
    assert_error(await wx.post("user/tag/get", {"tagid": 100}), 45159)


async def test_a_tag_over_100000_followers_cannot_be_deleted():
    emu = Emulator(seed=2)
    acct = emu.add_account("Big", followers=limits.TAG_DELETE_MAX_FOLLOWERS + 1, seed=2)
    big = acct.create_tag("everyone")
    acct.tag_rows(list(range(acct.row_count())), big)
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE) as http:
        wx = Wx(http, await token_for(http, acct))
        assert_error(await wx.post("tags/delete", {"tag": {"id": big}}), 45057)
        assert acct.tags()[big][1] == limits.TAG_DELETE_MAX_FOLLOWERS + 1
        one = acct.follower_openids()[:1]
        assert await wx.post("tags/members/batchuntagging", {"openid_list": one, "tagid": big}) == OK
        assert await wx.post("tags/delete", {"tag": {"id": big}}) == OK  # exactly 100,000 may go


async def test_batchtagging_rules(wx, emulator):
    acct = emulator.account
    fans = acct.follower_openids()
    tag = acct.create_tag("Batch")
    assert_error(await wx.post("tags/members/batchtagging", {"openid_list": [], "tagid": tag}), 40032)
    assert_error(await wx.post("tags/members/batchtagging", {"openid_list": fans[:51], "tagid": tag}), 40032)
    assert_error(await wx.post("tags/members/batchtagging", {"openid_list": fans[:2], "tagid": 999}), 45159)
    assert_error(await wx.post("tags/members/batchtagging", {"openid_list": fans[:2], "tagid": 0}), 45159)
    assert await wx.post("tags/members/batchtagging", {"openid_list": fans[:50], "tagid": tag}) == OK
    assert acct.tag_members(tag) == set(fans[:50])
    # Idempotent: tagging tagged followers succeeds and changes nothing.
    before = acct.snapshot()
    assert await wx.post("tags/members/batchtagging", {"openid_list": fans[:50], "tagid": tag}) == OK
    assert acct.snapshot() == before
    assert await wx.post("tags/members/batchuntagging", {"openid_list": fans[:10], "tagid": tag}) == OK
    assert await wx.post("tags/members/batchuntagging", {"openid_list": fans[:10], "tagid": tag}) == OK
    assert acct.tag_members(tag) == set(fans[10:50])
    assert_error(await wx.post("tags/members/batchuntagging", {"openid_list": fans[:51], "tagid": tag}), 40032)
    assert_error(await wx.post("tags/members/batchuntagging", {"openid_list": fans[:1], "tagid": 999}), 45159)


@pytest.mark.parametrize("path", ["tags/members/batchtagging", "tags/members/batchuntagging",
                                  "tags/members/batchblacklist", "tags/members/batchunblacklist"])
async def test_one_bad_openid_fails_the_whole_call_and_changes_nothing(wx, emulator, path):
    acct = emulator.account
    fans = acct.follower_openids()
    gone = fans[-1]
    acct.remove_followers([gone])
    foreign = "oXXXXX" + fans[0][6:]  # well-formed, another account's prefix
    bad = {40003: ["not-an-openid", fans[0][:-1] + "!", acct.prefix + "A" * 22, gone, 134], 49003: [foreign]}
    tag = acct.create_tag("Probe")
    acct.set_tags(fans[5], [tag])
    acct.blacklist_rows([acct.row(fans[5])], True)
    before = acct.snapshot()
    for errcode, openids in bad.items():
        for openid in openids:
            answer = await wx.post(path, {"openid_list": [fans[3], openid, fans[5]], "tagid": tag})
            assert_error(answer, errcode)
            assert acct.snapshot() == before


async def test_a_follower_carries_at_most_20_tags(wx, emulator):
    acct = emulator.account
    fans = acct.follower_openids()
    tags = [t for t in acct.tags() if t >= 100]
    while len(tags) < limits.MAX_TAGS_PER_FOLLOWER + 1:
        tags.append(acct.create_tag(f"extra {len(tags)}"))
    acct.set_tags(fans[0], tags[:limits.MAX_TAGS_PER_FOLLOWER])
    acct.set_tags(fans[1], [])
    before = acct.snapshot()
    answer = await wx.post("tags/members/batchtagging", {"openid_list": [fans[1], fans[0]], "tagid": tags[-1]})
    assert_error(answer, 45059)
    assert acct.snapshot() == before  # fans[1] was not tagged either
    # A tag it already carries is no new tag.
    assert await wx.post("tags/members/batchtagging", {"openid_list": fans[:2], "tagid": tags[0]}) == OK


async def test_getidlist(wx, emulator):
    acct = emulator.account
    fan = acct.follower_openids()[7]
    acct.set_tags(fan, [101, 100, 2])
    assert await wx.post("tags/getidlist", {"openid": fan}) == {"tagid_list": [101, 100, 2]}
    assert_error(await wx.post("tags/getidlist", {"openid": "short"}), 40003)
    assert_error(await wx.post("tags/getidlist", {"openid": "oOTHER" + fan[6:]}), 49003)


async def test_user_info_fields(wx, emulator):
    acct = emulator.account
    fans = acct.follower_openids()
    info = await wx.get("user/info", openid=fans[0], lang="zh_CN")
    assert info == acct.follower(fans[0])
    assert set(info) - {"unionid"} == {"subscribe", "openid", "language", "subscribe_time", "remark", "groupid",
                                       "tagid_list", "subscribe_scene", "qr_scene", "qr_scene_str"}
    assert info["subscribe"] == 1 and info["groupid"] == 0 and info["openid"] == fans[0]
    assert any("unionid" in acct.follower(o) for o in fans) and any("unionid" not in acct.follower(o) for o in fans)
    acct.remove_followers([fans[1]])
    assert await wx.get("user/info", openid=fans[1]) == {"subscribe": 0, "openid": fans[1]}
    assert_error(await wx.get("user/info", openid="nope"), 40003)
    assert_error(await wx.get("user/info", openid=acct.prefix + "Z" * 22), 40003)
    assert_error(await wx.get("user/info", openid="oOTHER" + fans[0][6:]), 49003)


async def test_user_info_batchget(wx, emulator):
    acct = emulator.account
    fans = acct.follower_openids()
    acct.remove_followers([fans[2]])
    answer = await wx.post("user/info/batchget", {"user_list": [{"openid": o, "lang": "zh_CN"} for o in fans[:100]]})
    assert answer["user_info_list"] == [acct.follower(o) for o in fans[:100]]
    assert answer["user_info_list"][2] == {"subscribe": 0, "openid": fans[2]}
    too_many = [{"openid": o} for o in fans[:101]]
    assert_error(await wx.post("user/info/batchget", {"user_list": too_many}), 40032)
    assert_error(await wx.post("user/info/batchget", {"user_list": []}), 40032)
    assert_error(await wx.post("user/info/batchget", {"user_list": [{"openid": fans[0]}, {"openid": "x"}]}), 40003)
    assert_error(await wx.post("user/info/batchget", {"user_list": [{"openid": "oOTHER" + fans[0][6:]}]}), 49003)


async def test_updateremark(wx, emulator):
    acct = emulator.account
    fan = acct.follower_openids()[3]
    remark = "王芳 VIP客户 广州天河"  # 29 bytes
    assert len(remark.encode()) == 29
    assert await wx.post("user/info/updateremark", {"openid": fan, "remark": remark}) == OK
    assert acct.follower(fan)["remark"] == remark
    assert_error(await wx.post("user/info/updateremark", {"openid": fan, "remark": remark + "x"}), 40092)
    assert acct.follower(fan)["remark"] == remark
    assert_error(await wx.post("user/info/updateremark", {"openid": "x" * 27, "remark": "a"}), 40003)
    assert await wx.post("user/info/updateremark", {"openid": fan, "remark": ""}) == OK
    assert acct.follower(fan)["remark"] == ""


async def test_user_get_pages_to_the_end():
    emu = Emulator(seed=4)
    acct = emu.add_account("Pages", followers=2 * limits.PAGE_SIZE + 500, seed=4)
    fans = acct.follower_openids()
    acct.remove_followers(fans[5:9])
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE) as http:
        wx = Wx(http, await token_for(http, acct))
        seen, cursor, counts = [], "", []
        while True:
            page = await wx.get("user/get", next_openid=cursor)
            assert page["total"] == len(fans) - 4
            if page["count"] == 0:
                assert page == {"total": len(fans) - 4, "count": 0, "next_openid": ""}
                break
            counts.append(page["count"])
            assert page["next_openid"] == page["data"]["openid"][-1]
            seen += page["data"]["openid"]
            cursor = page["next_openid"]
        assert counts == [10_000, 10_000, 496]
        assert seen == acct.follower_openids()
        assert_error(await wx.get("user/get", next_openid=acct.prefix + "Q" * 22), 40003)
        # A full last page: the next call is the empty end.
        acct.remove_followers(acct.follower_openids()[limits.PAGE_SIZE:])
        page = await wx.get("user/get")
        assert page["count"] == limits.PAGE_SIZE == page["total"]
        assert await wx.get("user/get", next_openid=page["next_openid"]) == {
            "total": limits.PAGE_SIZE, "count": 0, "next_openid": ""}


async def test_user_tag_get_and_getblacklist_page_to_the_end():
    emu = Emulator(seed=6)
    acct = emu.add_account("Pages", followers=limits.PAGE_SIZE + 30, seed=6)
    tag = acct.create_tag("All")
    acct.tag_rows(list(range(acct.row_count())), tag)
    acct.blacklist_rows(list(range(acct.row_count())), True)
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE) as http:
        wx = Wx(http, await token_for(http, acct))
        first = await wx.post("user/tag/get", {"tagid": tag, "next_openid": ""})
        assert "total" not in first and first["count"] == limits.PAGE_SIZE
        second = await wx.post("user/tag/get", {"tagid": tag, "next_openid": first["next_openid"]})
        assert second["count"] == 30
        assert set(first["data"]["openid"] + second["data"]["openid"]) == acct.tag_members(tag)
        assert await wx.post("user/tag/get", {"tagid": tag, "next_openid": second["next_openid"]}) == {
            "count": 0, "next_openid": ""}
        assert_error(await wx.post("user/tag/get", {"tagid": tag, "next_openid": "bogus"}), 40003)
        assert_error(await wx.post("user/tag/get", {"tagid": 999}), 45159)

        first = await wx.post("tags/members/getblacklist", {"begin_openid": ""})
        assert (first["total"], first["count"]) == (limits.PAGE_SIZE + 30, limits.PAGE_SIZE)
        second = await wx.post("tags/members/getblacklist", {"begin_openid": first["next_openid"]})
        assert (second["total"], second["count"]) == (limits.PAGE_SIZE + 30, 30)
        assert first["data"]["openid"] + second["data"]["openid"] == acct.blacklist()
        end = await wx.post("tags/members/getblacklist", {"begin_openid": second["next_openid"]})
        assert end == {"total": limits.PAGE_SIZE + 30, "count": 0, "next_openid": ""}
        assert_error(await wx.post("tags/members/getblacklist", {"begin_openid": "bogus"}), 40003)
        assert_error(await wx.post("tags/members/getblacklist", {"begin_openid": "oOTHER" + "a" * 22}), 49003)


async def test_blacklist_calls(wx, emulator):
    acct = emulator.account
    fans = [o for o in acct.follower_openids() if not acct.is_blacklisted(o)]
    assert_error(await wx.post("tags/members/batchblacklist", {"openid_list": fans[:21]}), 40032)
    assert_error(await wx.post("tags/members/batchblacklist", {"openid_list": []}), 40032)
    assert_error(await wx.post("tags/members/batchunblacklist", {"openid_list": fans[:21]}), 40032)
    before = set(acct.blacklist())
    assert await wx.post("tags/members/batchblacklist", {"openid_list": fans[:20]}) == OK
    assert await wx.post("tags/members/batchblacklist", {"openid_list": fans[:20]}) == OK  # idempotent
    assert set(acct.blacklist()) == before | set(fans[:20])
    page = await wx.post("tags/members/getblacklist", {"begin_openid": ""})
    assert page["total"] == page["count"] == len(before) + 20
    assert await wx.post("tags/members/batchunblacklist", {"openid_list": fans[:20]}) == OK
    assert set(acct.blacklist()) == before


async def test_unfollowers_are_skipped_and_refused(wx, emulator):
    acct = emulator.account
    fans = acct.follower_openids()
    acct.remove_followers(fans[:3])
    page = await wx.get("user/get")
    assert page["total"] == len(fans) - 3 and fans[0] not in page["data"]["openid"]
    assert acct.follower(fans[0]) == {"subscribe": 0, "openid": fans[0]}
    assert all(fans[0] not in acct.tag_members(t) for t in acct.tags())
    assert_error(await wx.post("tags/getidlist", {"openid": fans[0]}), 40003)
    assert_error(await wx.post("user/info/updateremark", {"openid": fans[0], "remark": "x"}), 40003)


async def test_unverified_account_and_ip_whitelist():
    emu = Emulator(seed=8)
    acct = emu.add_account("Unverified", followers=10, seed=8, verified=False)
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE) as http:
        wx = Wx(http, await token_for(http, acct))
        for path in ("tags/get", "user/get"):
            assert_error(await wx.get(path), 48001)
        assert_error(await wx.post("tags/members/batchblacklist", {"openid_list": acct.follower_openids()[:1]}), 48001)
        assert (await wx.post("openapi/quota/get", {"cgi_path": "/cgi-bin/user/get"}))["errcode"] == 0
        acct.verified = True
        acct.ip_whitelist = {"203.0.113.7"}
        answer = await wx.get("tags/get")
        assert answer["errcode"] == 40164
        assert re.fullmatch(r"invalid ip 127\.0\.0\.1 ipv6 ::ffff:127\.0\.0\.1, not in whitelist rid: [0-9a-f]+-[0-9a-f]+",
                            answer["errmsg"])
    async with httpx.AsyncClient(transport=emu.transport(client=("203.0.113.7", 4000)), base_url=BASE) as http:
        wx = Wx(http, await token_for(http, acct))
        assert "tags" in await wx.get("tags/get")


async def test_malformed_requests(wx):
    r = await wx.http.get("/cgi-bin/tags/create", params={"access_token": wx.token})
    assert_error(r.json(), 43002)
    assert_error(await wx.post("tags/create", content=b""), 44002)
    for raw in (b"{not json", b"[1, 2]"):
        answer = await wx.post("tags/create", content=raw)
        assert answer["errcode"] == 47001 and re.fullmatch(r"data format error rid: [0-9a-f]+-[0-9a-f]+",
                                                           answer["errmsg"])
    r = await wx.http.post("/cgi-bin/no/such/api", params={"access_token": wx.token}, json={})
    assert r.status_code == 404
