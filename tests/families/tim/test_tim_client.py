"""Every tag call through the client against the IM emulator, both families, and every ErrorCode."""

from __future__ import annotations

import httpx
import pytest

from wxtui.families.tim import limits
from wxtui.families.tim.client import FAMILIES, TimClient, batches, split_user_tags
from wxtui.families.tim.emulator import TimEmulator
from wxtui.families.tim.errors import (
    AccountNotImported,
    TimApiError,
    TimRetryableError,
    UserSigExpired,
    describe,
)
from wxtui.families.tim.usersig import generate_usersig
from wxtui.core.errors import ApiError, BadOpenidError, Category, RetryableError, TokenError, ValidationError

from conftest import FAST_RETRY


@pytest.fixture
def tim_emu():
    return TimEmulator.demo(accounts=300, seed=5)


@pytest.fixture(params=sorted(FAMILIES))
async def tim(request, tim_emu):
    async with tim_emu.client(family=request.param, retry=FAST_RETRY, rate_limit=None, seed=1) as client:
        yield client


def calls(emu, path):
    return emu.stats.calls.get(path, 0)


def path_of(client, command):
    return client.family.path(getattr(client.family, command))


# ---- the calls -----------------------------------------------------------------------------


async def test_get_tags_answers_every_account(tim, tim_emu):
    accounts = ["user000000", "user000001", "user000299"]
    tags = await tim.get_tags(accounts)
    assert set(tags) == set(accounts)
    assert not tags.failed
    for account in accounts:
        assert tags[account] == tim_emu.state.tags_of(account)


async def test_add_tags_keeps_existing_tags_and_deduplicates(tim, tim_emu):
    before = tim_emu.state.tags_of("user000010")
    change = await tim.add_tags({"user000010": ["vip", "深圳 门店", "vip"], "user000011": ["新客"]})
    assert change.ok and change.succeeded == ("user000010", "user000011")
    assert tim_emu.state.tags_of("user000010") == list(dict.fromkeys(before + ["vip", "深圳 门店"]))
    assert "新客" in (await tim.get_tags(["user000011"]))["user000011"]


async def test_remove_tags_and_remove_all_tags(tim, tim_emu):
    await tim.add_tags({"user000020": ["a", "b", "c"]})
    await tim.remove_tags({"user000020": ["b", "never-had"]})
    assert {"a", "c"} <= set(tim_emu.state.tags_of("user000020"))
    assert "b" not in tim_emu.state.tags_of("user000020")
    change = await tim.remove_all_tags(["user000020", "user000021"])
    assert change.ok
    assert (await tim.get_tags(["user000020", "user000021"])) == {"user000020": [], "user000021": []}


async def test_same_tags_onto_and_off_many_accounts(tim, tim_emu):
    accounts = [f"user{i:06d}" for i in range(100)]
    await tim.tag_accounts(accounts, ["campaign-x"])
    assert tim_emu.state.tag_counts()["campaign-x"] == 100
    await tim.untag_accounts(accounts, ["campaign-x"])
    assert "campaign-x" not in tim_emu.state.tag_counts()
    assert calls(tim_emu, path_of(tim, "add")) == 1 and calls(tim_emu, path_of(tim, "remove")) == 1


async def test_account_check(tim, tim_emu):
    status = await tim.account_check(["user000001", "ghost-1", "user000002", "ghost-2"])
    assert status == {"user000001": True, "ghost-1": False, "user000002": True, "ghost-2": False}
    assert status.imported == ["user000001", "user000002"]
    assert status.not_imported == ["ghost-1", "ghost-2"]
    assert calls(tim_emu, "/v4/im_open_login_svc/account_check") == 1


async def test_each_family_calls_its_own_paths(tim, tim_emu):
    await tim.get_tags(["user000001"])
    await tim.remove_all_tags(["user000001"])
    expected = {"im": ("/v4/all_member_push/im_get_tag", "/v4/all_member_push/im_remove_all_tags"),
                "timpush": ("/v4/timpush/get_tag", "/v4/timpush/clear_all_tags")}[tim.family.key]
    assert set(tim_emu.stats.calls) == set(expected)


# ---- partial answers -----------------------------------------------------------------------


async def test_partial_answers_are_counted_by_account(tim, tim_emu):
    accounts = ["user000001", "ghost-a", "user000002", "ghost-b", "ghost-c"]
    change = await tim.add_tags({a: ["vip"] for a in accounts})
    assert change.partial and not change.ok
    assert change.succeeded == ("user000001", "user000002")
    assert sorted(change.failed) == ["ghost-a", "ghost-b", "ghost-c"]
    assert {f.code for f in change.failed.values()} == {70107}
    assert change.failed["ghost-a"].category is Category.BAD_OPENID
    assert change.as_outputs()["succeeded"] == 2
    assert "vip" in tim_emu.state.tags_of("user000002")
    assert tim_emu.stats.account_errors[path_of(tim, "add")][70107] == 3

    tags = await tim.get_tags(["user000001", "ghost-a"])
    assert list(tags) == ["user000001"] and list(tags.failed) == ["ghost-a"]
    for partial in (await tim.remove_tags({"ghost-a": ["x"], "user000001": ["vip"]}),
                    await tim.remove_all_tags(["ghost-b", "user000002"])):
        assert len(partial.succeeded) == 1 and len(partial.failed) == 1


async def test_a_call_where_every_account_fails_is_still_an_answer(tim):
    change = await tim.remove_all_tags(["ghost-1", "ghost-2"])
    assert change.succeeded == () and sorted(change.failed) == ["ghost-1", "ghost-2"]


async def test_too_many_tags_on_one_account_fails_that_account_only(tim, tim_emu):
    tim_emu.state.tag_accounts(["user000030"], "x")
    for i in range(limits.MAX_TAGS_PER_ACCOUNT - len(tim_emu.state.tags_of("user000030"))):
        tim_emu.state.tag_accounts(["user000030"], f"filler-{i}")
    change = await tim.add_tags({"user000030": ["one-too-many"], "user000031": ["fine"]})
    assert change.succeeded == ("user000031",)
    assert change.failed["user000030"].code == 90032
    assert len(tim_emu.state.tags_of("user000030")) == limits.MAX_TAGS_PER_ACCOUNT


# ---- validation before sending -------------------------------------------------------------


@pytest.mark.parametrize("call, arg, match", [
    ("get_tags", [], "no accounts"),
    ("get_tags", [f"u{i}" for i in range(101)], "at most 100"),
    ("get_tags", "user000001", "one string"),
    ("get_tags", ["ok", ""], "not an account"),
    ("remove_all_tags", [None], "not an account"),
    ("account_check", [f"u{i}" for i in range(101)], "at most 100"),
    ("add_tags", {}, "no accounts"),
    ("add_tags", {"user000001": []}, "no tags"),
    ("add_tags", {"user000001": "vip"}, "one string"),
    ("add_tags", {"user000001": [f"t{i}" for i in range(11)]}, "at most 10 tags"),
    ("add_tags", {"user000001": ["x" * 51]}, "51 bytes"),
    ("add_tags", {"user000001": ["标" * 17]}, "51 bytes"),
    ("add_tags", {"user000001": ["  "]}, "Not a tag"),
    ("add_tags", [("user000001", ["a"])], "mapping"),
    ("remove_tags", {f"u{i}": ["a"] for i in range(101)}, "at most 100"),
])
async def test_bad_input_is_refused_before_any_call(tim, tim_emu, call, arg, match):
    with pytest.raises(ValidationError, match=match):
        await getattr(tim, call)(arg)
    assert tim_emu.stats.total_calls() == 0


async def test_limits_themselves_are_accepted(tim):
    accounts = [f"user{i:06d}" for i in range(100)]
    assert len(await tim.get_tags(accounts)) == 100
    tags = [f"{i}" + "x" * 49 for i in range(10)]  # ten tags of exactly 50 bytes
    assert (await tim.add_tags({"user000001": tags})).ok
    assert (await tim.add_tags({"user000002": ["标" * 16]})).ok  # 48 bytes


def test_split_user_tags_respects_both_limits():
    user_tags = {f"u{i}": [f"t{j}" for j in range(25 if i == 0 else 3)] for i in range(150)}
    bodies = split_user_tags(user_tags)
    assert all(len(b) <= 100 and all(len(t) <= 10 for t in b.values()) for b in bodies)
    merged: dict[str, list[str]] = {}
    for body in bodies:
        for account, tags in body.items():
            merged.setdefault(account, []).extend(tags)
    assert merged == user_tags
    assert len(bodies) == 4  # 150 accounts in round one (2 calls), u0's 2nd and 3rd chunks
    assert [len(b) for b in batches([f"u{i}" for i in range(250)] + ["u1"])] == [100, 100, 50]


# ---- every ErrorCode through the client ----------------------------------------------------


async def test_client_refusals_that_the_emulator_would_also_refuse(tim, tim_emu):
    # Sent past the client's validation, straight through its transport.
    add = path_of(tim, "add")
    cases = [
        (path_of(tim, "get"), {"To_Account": [f"u{i}" for i in range(101)]}, 90018),
        (add, {"UserTags": [{"To_Account": "user000001", "Tags": ["x" * 51]}]}, 90020),
        (add, {"UserTags": [{"To_Account": "user000001", "Tags": [f"t{i}" for i in range(11)]}]}, 90032),
        (add, {"UserTags": "not a list"}, 90001),
        ("/v4/im_open_login_svc/account_check", {"CheckItem": [{"UserID": f"u{i}"} for i in range(101)]}, 70402),
    ]
    for path, body, code in cases:
        with pytest.raises(TimApiError) as info:
            await tim.transport.post(path, body)
        assert info.value.errcode == code
        assert info.value.category is Category.FATAL
        assert describe(code).message in str(info.value)
        assert tim_emu.stats.errcodes[path][code] == 1


async def test_json_that_does_not_parse_is_90001(tim_emu):
    usersig = generate_usersig(tim_emu.sdkappid, tim_emu.secret_key, tim_emu.identifier)
    async with httpx.AsyncClient(transport=tim_emu.transport(), base_url="https://console.tim.qq.com") as http:
        params = dict(sdkappid=tim_emu.sdkappid, identifier=tim_emu.identifier, usersig=str(usersig),
                      random=7, contenttype="json")
        answer = (await http.post("/v4/all_member_push/im_get_tag", params=params, content=b"{nope")).json()
        assert (answer["ActionStatus"], answer["ErrorCode"]) == ("FAIL", 90001)
        for change, code in [(dict(usersig="garbage"), 70003), (dict(random="x"), 70402),
                             (dict(random=2 ** 32), 70402), (dict(contenttype="xml"), 70402),
                             (dict(identifier="someone"), 70013), (dict(sdkappid=1), 70020),
                             (dict(usersig=str(generate_usersig(tim_emu.sdkappid + 1, tim_emu.secret_key,
                                                                tim_emu.identifier))), 70014)]:
            answer = (await http.post("/v4/all_member_push/im_get_tag", params=params | change,
                                      json={"To_Account": ["user000001"]})).json()
            assert answer["ErrorCode"] == code, change


async def test_the_1000_distinct_tags_of_an_app_fail_the_whole_call(tim, tim_emu):
    room = limits.MAX_DISTINCT_TAGS_PER_APP - tim_emu.state.distinct_tags()
    for i in range(room):
        tim_emu.state.tag_accounts(["user000100"] if i < 50 else ["user000101"], f"bulk-{i}")
    assert tim_emu.state.distinct_tags() == limits.MAX_DISTINCT_TAGS_PER_APP
    before = tim_emu.state.tags_of("user000001")
    with pytest.raises(TimApiError) as info:
        await tim.add_tags({"user000001": ["vip"], "user000002": ["brand-new"]})
    assert info.value.errcode == 90032 and "1,000" in info.value.errmsg
    assert tim_emu.state.tags_of("user000001") == before  # nothing of the call was applied
    assert "brand-new" not in tim_emu.state.tag_counts()
    assert (await tim.add_tags({"user000003": ["vip"]})).ok  # an existing tag still fits


async def test_non_admin_identifier_is_90009(tim_emu):
    async with TimClient(tim_emu.sdkappid, "some-user", tim_emu.secret_key, transport=tim_emu.transport(),
                         retry=FAST_RETRY, rate_limit=None) as c:
        with pytest.raises(TimApiError) as info:
            await c.get_tags(["user000001"])
        assert info.value.errcode == 90009
        assert "admin" in str(info.value)
        with pytest.raises(TimApiError) as info:
            await c.account_check(["user000001"])
        assert info.value.errcode == 70403


async def test_wrong_key_is_fatal_with_a_clear_message(tim_emu):
    async with TimClient(tim_emu.sdkappid, tim_emu.identifier, "0" * 64, transport=tim_emu.transport(),
                         retry=FAST_RETRY, rate_limit=None) as c:
        with pytest.raises(TimApiError) as info:
            await c.get_tags(["user000001"])
    assert info.value.errcode == 70009 and info.value.category is Category.FATAL
    assert "secret key" in str(info.value)
    assert tim_emu.stats.total_calls() == 1  # not retried


@pytest.mark.parametrize("region, sdkappid_delta, code", [("singapore", 0, 70016), ("china", 1, 70020)])
async def test_wrong_region_or_app_hints_at_the_region(tim_emu, region, sdkappid_delta, code):
    async with TimClient(tim_emu.sdkappid + sdkappid_delta, tim_emu.identifier, tim_emu.secret_key,
                         region=region, transport=tim_emu.transport(), retry=FAST_RETRY, rate_limit=None) as c:
        with pytest.raises(TimApiError) as info:
            await c.get_tags(["user000001"])
    assert info.value.errcode == code
    assert "wrong region/domain" in str(info.value)


async def test_internal_error_91000_is_retried_then_raised(tim, tim_emu):
    tim_emu.faults.p_busy = 1.0
    with pytest.raises(TimRetryableError) as info:
        await tim.get_tags(["user000001"])
    assert isinstance(info.value, RetryableError) and info.value.errcode == 91000
    assert calls(tim_emu, path_of(tim, "get")) == 1 + FAST_RETRY.max_retries


async def test_rate_limit_answer_is_retried_with_backoff(tim, tim_emu):
    tim_emu.faults.p_minute = 0.5  # answers 60018 half the time
    for _ in range(10):
        assert (await tim.remove_all_tags(["user000001"])).ok
    limited = tim_emu.stats.errcodes[path_of(tim, "clear")][60018]
    assert limited > 0
    assert tim.stats.retries == limited


async def test_expired_usersig_is_renewed_once_and_the_call_retried(tim_emu):
    client_now = [tim_emu.clock.now()]
    async with tim_emu.client(retry=FAST_RETRY, rate_limit=None, usersig_expire_s=7200,
                              clock=lambda: client_now[0]) as c:
        await c.get_tags(["user000001"])
        # The server's clock runs ahead of ours past the signature's life; ours thinks it still lives.
        tim_emu.clock.advance(7200 + 60)
        client_now[0] += 3000  # less than the UserSig life minus the renew margin
        await c.get_tags(["user000001"])
        assert c.signer.generated == 2
        assert tim_emu.stats.errcodes["/v4/all_member_push/im_get_tag"][70001] == 1


async def test_usersig_that_stays_expired_raises_after_one_renewal(tim_emu):
    stale = tim_emu.clock.now() - 10 * 86400  # this machine's clock is ten days late
    async with tim_emu.client(retry=FAST_RETRY, rate_limit=None, clock=lambda: stale) as c:
        with pytest.raises(UserSigExpired) as info:
            await c.get_tags(["user000001"])
    assert isinstance(info.value, TokenError) and "clock" in str(info.value)
    assert calls(tim_emu, "/v4/all_member_push/im_get_tag") == 2


def test_error_classes_follow_categories():
    from wxtui.families.tim.errors import tim_api_error

    assert isinstance(tim_api_error(70107), AccountNotImported)
    assert isinstance(tim_api_error(70107), BadOpenidError)
    assert isinstance(tim_api_error(60019), RetryableError)
    assert isinstance(tim_api_error(70001), TokenError)
    assert type(tim_api_error(12345)) is TimApiError and isinstance(tim_api_error(12345), ApiError)
    assert "Tencent Cloud IM error 12345" in str(tim_api_error(12345))
