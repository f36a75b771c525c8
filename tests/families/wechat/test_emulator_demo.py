"""The emulator's demo data, Python API, admin API, and serving over real HTTP."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys

import httpx
import pytest

from test_emulator_calls import BASE, Wx, token_for
from wxtui.families.wechat.emulator import ApiFailure, Emulator
from wxtui.emulation.server import serving
from wxtui.families.wechat import limits

OPENID = re.compile(r"[A-Za-z0-9_-]{28}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_same_seed_same_snapshot_other_seed_other_data():
    first, again = Emulator.demo(followers=1500, seed=3), Emulator.demo(followers=1500, seed=3)
    assert first.account.snapshot() == again.account.snapshot()
    assert (first.account.appid, first.account.secret) == (again.account.appid, again.account.secret)
    other = Emulator.demo(followers=1500, seed=4)
    assert other.account.appid != first.account.appid
    assert other.account.follower_openids() != first.account.follower_openids()


def test_demo_data_looks_like_a_real_account():
    emu = Emulator.demo(followers=20_000, seed=1)
    acct = emu.account
    assert acct.name == "Acme Coffee"
    assert re.fullmatch(r"wx[0-9a-f]{16}", acct.appid) and re.fullmatch(r"[0-9a-f]{32}", acct.secret)
    fans = acct.follower_openids()
    assert len(fans) == len(set(fans)) == 20_000
    assert all(OPENID.fullmatch(o) and o.startswith(acct.prefix) for o in fans)
    infos = [acct.follower(o) for o in fans]
    remarks = [f["remark"] for f in infos]
    assert 0.6 < remarks.count("") / len(remarks) < 0.8
    assert any(CJK.search(r) and re.search("[A-Za-z]", r) for r in remarks)  # mixed, like "Kevin 陈"
    assert all(len(r.encode()) < limits.MAX_REMARK_BYTES for r in remarks)
    languages = [f["language"] for f in infos]
    assert languages.count("zh_CN") / len(languages) > 0.7 and {"en", "zh_TW"} <= set(languages)
    assert len({f["subscribe_scene"] for f in infos}) == 7
    times = sorted(f["subscribe_time"] for f in infos)
    assert times[0] >= 1420070400 and times[-1] < 1798761600  # 2015 .. 2026
    assert times[len(times) // 2] > (times[0] + times[-1]) / 2  # skewed towards recent years
    assert 0 < sum("unionid" in f for f in infos) < len(infos) / 2
    counts = sorted((count for tagid, (_, count) in acct.tags().items() if tagid != 2), reverse=True)
    assert counts[0] == round(0.12 * 20_000) and counts[-1] < 20 and len(counts) >= 12
    assert len(acct.tag_members(2)) > 0
    assert len(acct.blacklist()) == 200
    big = Emulator.demo(followers=40_000, seed=1).account
    assert len(big.blacklist()) == 300  # "a few hundred", capped


def test_secret_appears_in_no_repr_and_no_admin_answer():
    emu = Emulator.demo(followers=10, seed=1)
    secret = emu.account.secret
    assert secret not in repr(emu) and secret not in repr(emu.account)
    async def admin_texts():
        async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE) as http:
            return [(await http.get(p)).text for p in ("/_emulator/state", "/_emulator/stats")]

    assert all(secret not in text for text in asyncio.run(admin_texts()))


def test_python_api():
    emu = Emulator(seed=9)
    acct = emu.add_account("Small", followers=30, seed=9)
    fans = acct.follower_openids()
    new = acct.add_followers(2)
    assert acct.follower_openids() == fans + new
    assert abs(acct.follower(new[0])["subscribe_time"] - emu.clock.now()) <= 1  # they follow now
    tag = acct.create_tag("Python")
    acct.set_tags(new[0], [tag, 2])
    assert acct.tags_of(new[0]) == [tag, 2]
    assert acct.tag_members(tag) == {new[0]}
    assert acct.tags()[tag] == ("Python", 1)
    acct.set_tags(new[0], [])
    assert acct.tags_of(new[0]) == []
    with pytest.raises(ApiFailure) as info:
        acct.create_tag("Python")
    assert info.value.errcode == 45157
    acct.remove_followers([new[1]])
    assert new[1] not in acct.follower_openids()
    assert acct.follower(new[1]) == {"subscribe": 0, "openid": new[1]}
    with pytest.raises(KeyError):
        acct.follower(acct.prefix + "A" * 22)
    with pytest.raises(ValueError):
        acct.add_followers(openids=["oOTHER" + "a" * 22])
    second = emu.add_account("Second", followers=5, seed=10)
    assert second.prefix != acct.prefix and emu.account is acct
    with pytest.raises(ValueError):
        emu.add_account("Clash", seed=9)


async def test_admin_api(wx_admin):
    http, emu = wx_admin
    acct = emu.account
    state = (await http.get("/_emulator/state")).json()
    assert state["accounts"][0]["followers"] == 40 and state["accounts"][0]["appid"] == acct.appid
    r = await http.post("/_emulator/faults", json={"latency_ms": 1, "p_busy": 0.5})
    assert r.status_code == 200 and emu.faults.p_busy == 0.5
    assert (await http.post("/_emulator/faults", json={"p_busy": 7})).status_code == 400
    assert (await http.post("/_emulator/faults", json={"nonsense": 1})).status_code == 400
    emu.faults.update(p_busy=0, latency_ms=0)
    before = emu.clock.now()
    r = await http.post("/_emulator/clock/advance", json={"seconds": 7300})
    assert r.json()["now"] >= before + 7300
    wx = Wx(http, await token_for(http, acct))
    assert "tags" in await wx.get("tags/get")
    assert (await http.post("/_emulator/tokens/invalidate")).status_code == 200
    assert (await wx.get("tags/get"))["errcode"] == 40001
    gone = acct.follower_openids()[:2]
    r = await http.post("/_emulator/followers/remove", json={"openids": gone})
    assert r.json() == {"removed": 2, "followers": 38}
    assert (await http.post("/_emulator/followers/remove", json={"openids": ["nobody"]})).status_code == 400
    r = await http.get("/_emulator/follower", params={"openid": gone[0]})
    assert r.json() == {"follower": {"subscribe": 0, "openid": gone[0]}, "blacklisted": False}
    added = (await http.post("/_emulator/followers/add", json={"count": 3})).json()["openids"]
    assert acct.follower_openids()[-3:] == added
    stats = (await http.get("/_emulator/stats")).json()
    assert stats["calls"]["/cgi-bin/tags/get"] == 2 and stats["errcodes"]["/cgi-bin/tags/get"]["40001"] == 1


@pytest.fixture
async def wx_admin():
    emu = Emulator.demo(followers=40, seed=12)
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE) as http:
        yield http, emu


async def test_served_by_uvicorn_on_loopback():
    emu = Emulator.demo(followers=25, seed=13)
    async with serving(emu) as url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        async with httpx.AsyncClient(base_url=url) as http:
            acct = emu.account
            r = await http.get("/cgi-bin/token", params={
                "grant_type": "client_credential", "appid": acct.appid, "secret": acct.secret})
            token = r.json()["access_token"]
            page = (await http.get("/cgi-bin/user/get", params={"access_token": token})).json()
            assert page["data"]["openid"] == acct.follower_openids()
            acct.ip_whitelist = {"10.1.2.3"}
            answer = (await http.get("/cgi-bin/tags/get", params={"access_token": token})).json()
            assert answer["errcode"] == 40164 and "invalid ip 127.0.0.1" in answer["errmsg"]


def test_wxtui_emulator_command_serves_and_prints_its_credentials():
    proc = subprocess.Popen(
        [sys.executable, "-m", "wxtui", "emulator", "--port", "0", "--followers", "50", "--latency-ms", "0",
         "--seed", "14"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = {}
        while "Base URL" not in lines:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            key, _, value = line.partition(":")
            lines[key.strip()] = value.strip()
        url = lines["Base URL"].split()[0]
        expected = Emulator.demo(followers=0, seed=14).account
        assert (lines["AppID"], lines["AppSecret"]) == (expected.appid, expected.secret)
        r = httpx.get(f"{url}/cgi-bin/token", params={
            "grant_type": "client_credential", "appid": lines["AppID"], "secret": lines["AppSecret"]})
        token = r.json()["access_token"]
        assert httpx.get(f"{url}/cgi-bin/user/get", params={"access_token": token}).json()["total"] == 50
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert token not in proc.stderr.read()  # no access log with tokens in it
