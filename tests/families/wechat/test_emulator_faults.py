"""The emulator's knobs: latency and 45169, injected errors, failover hosts, token churn,
tag propagation, reproducibility, and the call statistics."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from test_emulator_calls import BASE, OK, Wx, assert_error, token_for
from wxtui.families.wechat.emulator import Emulator

TAGGING = "tags/members/batchtagging"
UNTAGGING = "tags/members/batchuntagging"


@pytest.fixture
def emulator():
    return Emulator.demo(followers=200, seed=31)


@pytest.fixture
async def wx(emulator):
    async with httpx.AsyncClient(transport=emulator.transport(), base_url=BASE) as http:
        yield Wx(http, await token_for(http, emulator.account))


async def in_flight(acct) -> None:
    while not acct.inflight:
        await asyncio.sleep(0.001)


async def test_overlapping_tagging_calls_on_a_shared_openid_answer_45169(wx, emulator):
    acct = emulator.account
    fans = acct.follower_openids()
    tag_a, tag_b = acct.create_tag("A"), acct.create_tag("B")
    emulator.faults.latency_ms = 150
    first = asyncio.create_task(wx.post(TAGGING, {"openid_list": fans[0:3], "tagid": tag_a}))
    await in_flight(acct)
    clash = await wx.post(UNTAGGING, {"openid_list": fans[2:5], "tagid": tag_b})
    apart = await wx.post(TAGGING, {"openid_list": fans[10:12], "tagid": tag_b})
    assert_error(clash, 45169)
    assert apart == OK
    assert await first == OK
    assert emulator.stats.openid_much_req == 1
    assert acct.inflight == {}
    # Once the first call has answered, the same openids are free again.
    assert await wx.post(TAGGING, {"openid_list": fans[2:5], "tagid": tag_b}) == OK
    assert acct.tag_members(tag_b) == set(fans[2:5] + fans[10:12])


async def test_a_call_naming_an_openid_twice_is_fine_and_releases_it(wx, emulator):
    acct = emulator.account
    fans = acct.follower_openids()
    emulator.faults.latency_ms = 20
    assert await wx.post(TAGGING, {"openid_list": [fans[0], fans[1], fans[0]], "tagid": 100}) == OK
    assert acct.inflight == {}
    assert {fans[0], fans[1]} <= acct.tag_members(100)


async def test_blacklisting_holds_its_openids_against_tagging(wx, emulator):
    acct = emulator.account
    fans = acct.follower_openids()
    emulator.faults.latency_ms = 150
    blacklisting = asyncio.create_task(wx.post("tags/members/batchblacklist", {"openid_list": fans[:2]}))
    await in_flight(acct)
    assert_error(await wx.post(TAGGING, {"openid_list": fans[1:2], "tagid": 100}), 45169)
    assert await blacklisting == OK


async def test_latency_delays_every_answer(wx, emulator):
    emulator.faults.latency_ms = 120
    started = time.monotonic()
    assert "tags" in await wx.get("tags/get")
    assert_error(await wx.get("user/info", openid="bad"), 40003)
    assert time.monotonic() - started >= 0.24


@pytest.mark.parametrize(("knob", "errcode"), [("p_busy", -1), ("p_minute", 45011)])
async def test_injected_errcodes(wx, emulator, knob, errcode):
    acct = emulator.account
    setattr(emulator.faults, knob, 1.0)
    fans = acct.follower_openids()
    before = acct.snapshot()
    assert_error(await wx.post(TAGGING, {"openid_list": fans[:5], "tagid": 101}), errcode)
    assert acct.snapshot() == before
    assert emulator.stats.errcodes["/cgi-bin/tags/members/batchtagging"][errcode] == 1
    # Token calls and the admin API are spared.
    assert (await wx.http.post("/cgi-bin/stable_token", json={
        "grant_type": "client_credential", "appid": acct.appid, "secret": acct.secret})).status_code == 200
    assert (await wx.http.get("/_emulator/state")).status_code == 200


async def test_http_503_and_garbage(wx, emulator):
    emulator.faults.p_5xx = 1.0
    r = await wx.http.get("/cgi-bin/tags/get", params={"access_token": wx.token})
    assert r.status_code == 503
    emulator.faults.p_5xx = 0.0
    emulator.faults.p_garbage = 1.0
    r = await wx.http.get("/cgi-bin/tags/get", params={"access_token": wx.token})
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        r.json()
    assert emulator.stats.http_5xx["/cgi-bin/tags/get"] == 1 and emulator.stats.garbage == 1


async def test_slow_answers_outlast_a_client_timeout_but_still_apply(wx, emulator):
    acct = emulator.account
    fans = acct.follower_openids()
    emulator.faults.p_slow, emulator.faults.slow_s = 1.0, 0.3
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(wx.post(TAGGING, {"openid_list": fans[:2], "tagid": 102}), 0.05)
    assert set(fans[:2]) <= acct.tag_members(102)  # the platform did it; only the answer was lost
    started = time.monotonic()
    assert await wx.post(UNTAGGING, {"openid_list": fans[:2], "tagid": 102}) == OK
    assert time.monotonic() - started >= 0.3


async def test_down_hosts_answer_503_and_the_backup_host_serves(wx, emulator):
    emulator.faults.down_hosts = {"api.weixin.qq.com"}
    r = await wx.http.get("/cgi-bin/tags/get", params={"access_token": wx.token})
    assert r.status_code == 503
    r = await wx.http.get("https://api2.weixin.qq.com/cgi-bin/tags/get", params={"access_token": wx.token})
    assert r.status_code == 200 and "tags" in r.json()


async def test_invalidate_token_every_n_calls(wx, emulator):
    emulator.faults.invalidate_token_every = 3
    assert "tags" in await wx.get("tags/get")
    assert "tags" in await wx.get("tags/get")
    assert_error(await wx.get("tags/get"), 40001)
    wx.token = await token_for(wx.http, emulator.account)
    assert "tags" in await wx.get("tags/get")


async def test_a_new_tag_propagates_after_a_while(wx, emulator):
    acct = emulator.account
    emulator.faults.tag_propagation_s = 5
    tagid = (await wx.post("tags/create", {"tag": {"name": "Fresh"}}))["tag"]["id"]
    body = {"openid_list": acct.follower_openids()[:1], "tagid": tagid}
    assert_error(await wx.post(TAGGING, body), 45159)
    assert_error(await wx.post("user/tag/get", {"tagid": tagid}), 45159)
    emulator.clock.advance(5)
    assert await wx.post(TAGGING, body) == OK


async def outcomes(seed: int, calls: int = 60) -> list:
    emu = Emulator.demo(followers=20, seed=seed)
    emu.faults.update(p_busy=0.2, p_minute=0.2, p_5xx=0.1, p_garbage=0.1, jitter_ms=1)
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE) as http:
        wx = Wx(http, await token_for(http, emu.account))
        seen = []
        for _ in range(calls):
            r = await http.get("/cgi-bin/tags/get", params={"access_token": wx.token})
            seen.append(r.status_code if r.status_code != 200 else r.text[:20])
        return seen


async def test_faults_are_reproducible_from_the_seed():
    first, again, other = await outcomes(5), await outcomes(5), await outcomes(6)
    assert first == again
    assert first != other
    assert len(set(first)) >= 4  # ok, -1, 45011, 503, garbage all occur


async def test_stats_count_calls_and_errcodes_and_reset(wx, emulator):
    await wx.get("tags/get")
    await wx.get("user/info", openid="bad")
    await wx.get("user/info", openid="bad")
    stats = emulator.stats
    assert stats.calls["/cgi-bin/tags/get"] == 1 and stats.calls["/cgi-bin/stable_token"] == 1
    assert stats.errcodes["/cgi-bin/user/info"][40003] == 2
    assert stats.total_calls() == 4
    stats.reset()
    assert stats.total_calls() == 0 and stats.openid_much_req == 0


def test_fault_knobs_are_validated():
    emu = Emulator(seed=1)
    with pytest.raises(ValueError, match="unknown fault knob"):
        emu.faults.update(p_nonsense=1)
    with pytest.raises(ValueError, match="probability"):
        emu.faults.update(p_busy=1.5)
    with pytest.raises(ValueError):
        emu.faults.update(latency_ms=-1)
    emu.faults.update(latency_ms=5, down_hosts=["api.weixin.qq.com"])
    assert emu.faults.to_dict()["down_hosts"] == ["api.weixin.qq.com"] and emu.faults.latency_ms == 5


def test_clock_runs_fast_and_advances():
    emu = Emulator(seed=1)
    clock = emu.clock
    start = clock.now()
    clock.advance(3600)
    assert 3600 <= clock.now() - start < 3601
    clock.speed = 1000
    time.sleep(0.01)
    assert clock.now() - start >= 3610
    clock.speed = 0
    frozen = clock.now()
    time.sleep(0.005)
    assert clock.now() == frozen
