"""Whatever JSON a caller sends, the emulator answers HTTP 200 with the API's JSON, never a crash."""

from __future__ import annotations

import asyncio
import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wxtui.families.wechat.emulator import Emulator
from wxtui.families.wechat.emulator.api import ENDPOINTS

EMU = Emulator.demo(followers=30, seed=41)
FANS = EMU.account.follower_openids()

scalars = st.none() | st.booleans() | st.integers(-5, 200) | st.text(max_size=40) | st.sampled_from(FANS + ["", 134, 2])
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.sampled_from(["openid", "name", "id", "lang"]), inner, max_size=3), max_leaves=10)
bodies = st.dictionaries(
    st.sampled_from(["openid_list", "tagid", "tag", "next_openid", "begin_openid", "openid", "remark",
                     "user_list", "cgi_path", "appid"]), values, max_size=4) | values


async def send(method: str, path: str, query: dict, body) -> httpx.Response:
    async with httpx.AsyncClient(transport=EMU.transport(), base_url="https://api.weixin.qq.com") as http:
        token = (await http.post("/cgi-bin/stable_token", json={
            "grant_type": "client_credential", "appid": EMU.account.appid, "secret": EMU.account.secret,
        })).json()["access_token"]
        return await http.request(method, path, params={"access_token": token, **query}, content=json.dumps(body))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(sorted(ENDPOINTS)), method=st.sampled_from(["GET", "POST"]), body=bodies,
       query=st.dictionaries(st.sampled_from(["openid", "next_openid", "lang"]), st.text(max_size=30), max_size=2))
def test_any_json_gets_a_json_answer(path, method, body, query):
    r = asyncio.run(send(method, path, query, body))
    assert r.status_code == 200
    answer = r.json()
    assert isinstance(answer, dict)
    if answer.get("errcode", 0) != 0:
        assert " rid: " in answer["errmsg"]
    assert EMU.account.inflight == {}
