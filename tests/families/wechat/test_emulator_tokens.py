"""The emulator's tokens (classic, stable, force_refresh, expiry) and quotas."""

from __future__ import annotations

import httpx
import pytest

from test_emulator_calls import BASE, OK, Wx, assert_error
from wxtui.families.wechat.emulator import Emulator
from wxtui.families.wechat import limits

GRACE = limits.TOKEN_GRACE_S


@pytest.fixture
def emulator():
    return Emulator.demo(followers=50, seed=21)


@pytest.fixture
async def http(emulator):
    async with httpx.AsyncClient(transport=emulator.transport(), base_url=BASE) as client:
        yield client


async def classic(http, acct, **override) -> dict:
    params = {"grant_type": "client_credential", "appid": acct.appid, "secret": acct.secret, **override}
    return (await http.get("/cgi-bin/token", params=params)).json()


async def stable(http, acct, force: bool = False, **override) -> dict:
    body = {"grant_type": "client_credential", "appid": acct.appid, "secret": acct.secret,
            "force_refresh": force, **override}
    return (await http.post("/cgi-bin/stable_token", json=body)).json()


async def tags_get(http, token: str) -> dict:
    return (await http.get("/cgi-bin/tags/get", params={"access_token": token})).json()


def works(answer: dict) -> bool:
    return "tags" in answer


def seconds_to_china_midnight(emu) -> float:
    return 86400 - (emu.clock.now() + 8 * 3600) % 86400


async def test_classic_token_kills_the_previous_one_five_minutes_later(http, emulator):
    acct = emulator.account
    first = await classic(http, acct)
    assert first["expires_in"] == limits.TOKEN_LIFETIME_S
    assert len(first["access_token"]) <= limits.MAX_TOKEN_LENGTH
    emulator.clock.advance(60)
    second = await classic(http, acct)
    assert second["access_token"] != first["access_token"]
    assert works(await tags_get(http, first["access_token"]))  # both valid for a while
    emulator.clock.advance(GRACE - 1)
    assert works(await tags_get(http, first["access_token"]))
    emulator.clock.advance(2)
    assert_error(await tags_get(http, first["access_token"]), 40001)
    assert works(await tags_get(http, second["access_token"]))
    emulator.clock.advance(limits.TOKEN_LIFETIME_S)
    assert_error(await tags_get(http, second["access_token"]), 42001)


async def test_classic_token_near_its_end_dies_at_its_expiry(http, emulator):
    acct = emulator.account
    first = await classic(http, acct)
    emulator.clock.advance(limits.TOKEN_LIFETIME_S - 60)
    await classic(http, acct)
    emulator.clock.advance(61)  # expired before the 5 minutes are over
    assert_error(await tags_get(http, first["access_token"]), 42001)


async def test_stable_token_is_the_same_until_five_minutes_before_expiry(http, emulator):
    acct = emulator.account
    first = await stable(http, acct)
    emulator.clock.advance(100)
    again = await stable(http, acct)
    assert again["access_token"] == first["access_token"]
    assert again["expires_in"] == limits.TOKEN_LIFETIME_S - 100
    # Independent of the classic token: fetching classic tokens does not disturb it.
    await classic(http, acct)
    await classic(http, acct)
    emulator.clock.advance(GRACE + 1)
    assert works(await tags_get(http, first["access_token"]))
    emulator.clock.advance(limits.TOKEN_LIFETIME_S - 100 - 2 * GRACE)  # now inside the last 5 minutes
    renewed = await stable(http, acct)
    assert renewed["access_token"] != first["access_token"]
    assert renewed["expires_in"] == limits.TOKEN_LIFETIME_S
    assert works(await tags_get(http, first["access_token"]))  # the old one lives to its expiry
    emulator.clock.advance(GRACE)
    assert_error(await tags_get(http, first["access_token"]), 42001)
    assert works(await tags_get(http, renewed["access_token"]))


async def test_force_refresh_rotates_at_most_20_a_day_30_seconds_apart(http, emulator):
    acct = emulator.account
    emulator.clock.advance(seconds_to_china_midnight(emulator) + 1)  # a fresh China day
    current = (await stable(http, acct))["access_token"]
    forced = await stable(http, acct, force=True)
    assert forced["access_token"] != current
    assert_error(await tags_get(http, current), 40001)  # a forced refresh kills the old token at once
    assert_error(await stable(http, acct, force=True), 45011)  # under 30 s later
    assert works(await tags_get(http, forced["access_token"]))
    for _ in range(limits.FORCE_REFRESH_PER_DAY - 1):
        emulator.clock.advance(limits.FORCE_REFRESH_MIN_INTERVAL_S)
        assert "access_token" in await stable(http, acct, force=True)
    emulator.clock.advance(limits.FORCE_REFRESH_MIN_INTERVAL_S)
    assert_error(await stable(http, acct, force=True), 45009)
    assert "access_token" in await stable(http, acct)  # the normal mode still answers
    emulator.clock.advance(seconds_to_china_midnight(emulator) + 1)
    assert "access_token" in await stable(http, acct, force=True)


async def test_token_errors(http, emulator):
    acct = emulator.account
    assert_error((await http.get("/cgi-bin/tags/get")).json(), 41001)
    assert_error(await tags_get(http, "made-up-token"), 40001)
    for fetch in (classic, stable):
        assert_error(await fetch(http, acct, appid="wx0000000000000000"), 40013)
        assert_error(await fetch(http, acct, secret="0" * 32), 40125)
        assert_error(await fetch(http, acct, grant_type="password"), 40002)
        assert_error(await fetch(http, acct, appid=""), 41002)
        assert_error(await fetch(http, acct, secret=""), 41004)
    assert_error((await http.get("/cgi-bin/stable_token")).json(), 43002)
    token = (await stable(http, acct))["access_token"]
    emulator.invalidate_tokens()
    assert_error(await tags_get(http, token), 40001)
    assert (await stable(http, acct))["access_token"] != token


async def test_token_fetch_is_refused_outside_the_ip_whitelist(http, emulator):
    acct = emulator.account
    acct.ip_whitelist = {"198.51.100.1"}
    answer = await classic(http, acct)
    assert answer["errcode"] == 40164 and "invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1" in answer["errmsg"]


async def test_a_token_is_valid_on_every_host(http, emulator):
    token = (await stable(http, emulator.account))["access_token"]
    for host in ("https://api2.weixin.qq.com", "https://sh.api.weixin.qq.com"):
        r = await http.get(f"{host}/cgi-bin/tags/get", params={"access_token": token})
        assert works(r.json())


async def test_daily_quota_is_counted_per_call_and_resets_at_china_midnight(http, emulator):
    acct = emulator.account
    emulator.clock.advance(seconds_to_china_midnight(emulator) + 10)
    wx = Wx(http, (await stable(http, acct))["access_token"])
    acct.set_quota("/cgi-bin/user/get", 3)
    for _ in range(3):
        assert (await wx.get("user/get"))["total"] == 50
    assert_error(await wx.get("user/get"), 45009)
    assert await wx.post("openapi/quota/get", {"cgi_path": "/cgi-bin/user/get"}) == {
        "errcode": 0, "errmsg": "ok", "quota": {"daily_limit": 3, "used": 3, "remain": 0}}
    assert works(await wx.get("tags/get"))  # other APIs have their own quota
    emulator.clock.advance(seconds_to_china_midnight(emulator) - 5)  # 23:59:55 China time
    wx.token = (await stable(http, acct))["access_token"]
    assert_error(await wx.get("user/get"), 45009)
    emulator.clock.advance(10)
    assert "total" in await wx.get("user/get")
    assert (await wx.post("openapi/quota/get", {"cgi_path": "/cgi-bin/user/get"}))["quota"]["used"] == 1


async def test_quota_get_defaults_and_unknown_path(http, emulator):
    acct = emulator.account
    wx = Wx(http, (await stable(http, acct))["access_token"])
    answer = await wx.post("openapi/quota/get", {"cgi_path": "/cgi-bin/tags/members/batchtagging"})
    assert answer["quota"] == {"daily_limit": limits.DEFAULT_DAILY_QUOTAS["/cgi-bin/tags/members/batchtagging"],
                               "used": 0, "remain": limits.DEFAULT_DAILY_QUOTAS["/cgi-bin/tags/members/batchtagging"]}
    stable_quota = (await wx.post("openapi/quota/get", {"cgi_path": "/cgi-bin/stable_token"}))["quota"]
    assert stable_quota["used"] == 1
    assert_error(await wx.post("openapi/quota/get", {"cgi_path": "/cgi-bin/no/such"}), 76021)


async def test_token_calls_have_quotas_too(http, emulator):
    acct = emulator.account
    acct.set_quota("/cgi-bin/token", 2)
    await classic(http, acct)
    await classic(http, acct)
    assert_error(await classic(http, acct), 45009)


async def test_clear_quota_ten_times_a_month(http, emulator):
    acct = emulator.account
    wx = Wx(http, (await stable(http, acct))["access_token"])
    acct.set_quota("/cgi-bin/tags/get", 1)
    assert_error(await wx.post("clear_quota", {"appid": "wx0000000000000000"}), 40013)
    for _ in range(limits.CLEAR_QUOTA_PER_MONTH):
        assert works(await wx.get("tags/get"))
        assert_error(await wx.get("tags/get"), 45009)
        assert await wx.post("clear_quota", {"appid": acct.appid}) == OK
    assert works(await wx.get("tags/get"))
    assert_error(await wx.post("clear_quota", {"appid": acct.appid}), 48006)
    emulator.clock.advance(32 * 86400)  # next month
    wx.token = (await stable(http, acct))["access_token"]
    assert await wx.post("clear_quota", {"appid": acct.appid}) == OK
