"""The sync's fast path: batchget answers written into a pass as they came, without a Follower
each, must leave the cache exactly as the Follower path does; garbage answers are refused."""

from __future__ import annotations

import dataclasses
import json
import time

import httpx
import pytest

from conftest import FAST_RETRY
from store_support import crafted_followers
from wxtui.store import Store
from wxtui.families.wechat.client import WeChatClient
from wxtui.families.wechat.errors import BadResponseError
from wxtui.families.wechat.models import Follower, Token
from wxtui.core.secret_str import SecretStr
from wxtui.families.wechat.tokens import TokenSource


def dump(store: Store) -> tuple[list, list]:
    followers = store.conn.execute("SELECT * FROM followers ORDER BY id").fetchall()
    memberships = store.conn.execute("SELECT * FROM memberships ORDER BY follower, tagid").fetchall()
    return followers, memberships


def answers_of(followers: list[Follower]) -> list[dict]:
    answers = []
    for f in followers:
        d = dataclasses.asdict(f)
        if f.subscribe == 0:
            d = {"subscribe": 0, "openid": f.openid}  # what WeChat answers for someone gone
        answers.append(d)
    return answers


def test_answers_and_followers_give_the_same_cache(tmp_path):
    followers = crafted_followers(300, seed=11)
    edge = [
        Follower(openid=followers[0].openid, remark="listed twice, the later wins", tagid_list=[5, 2, 5]),
        Follower(openid="o" + "g" * 27, subscribe=0),
        Follower(openid="o" + "h" * 27, tagid_list=[7]),
    ]
    everyone = followers + edge
    stores = [Store.open(tmp_path / f"{name}.sqlite") for name in ("followers", "answers")]
    try:
        for store in stores:
            store.begin_pass()
        by_followers, by_answers = stores
        for start in range(0, len(everyone), 100):
            by_followers.upsert_followers(everyone[start : start + 100], 1, synced_at=123)
            by_answers.write_pass_answers(answers_of(everyone[start : start + 100]), 1, synced_at=123)
        for store in stores:
            store.finish_pass(1)
        assert dump(by_answers) == dump(by_followers)
        assert by_answers.follower_count() == len({f.openid for f in everyone if f.subscribe}) > 0
    finally:
        for store in stores:
            store.close()


class _FixedToken(TokenSource):
    async def fetch(self, request, *, force: bool = False) -> Token:
        return Token(SecretStr("T" * 32), time.time() + 7200)


@pytest.mark.parametrize("variable_limit", [None, 40, 11])
def test_a_page_is_written_whole_whatever_the_statement_size(tmp_path, variable_limit):
    """Rows go in by statements of many rows, as many as SQLite's parameter limit allows, and
    the rest one by one: every follower and membership lands once, whatever the page size."""
    import sqlite3

    followers = crafted_followers(1_037, seed=5)
    store = Store.open(tmp_path / "cache.sqlite")
    try:
        if variable_limit is not None:
            store.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, variable_limit)
        store.begin_pass()
        store.write_pass_answers(answers_of(followers[:1_000]), 1, synced_at=7)
        store.write_pass_answers(answers_of(followers[1_000:]), 1, synced_at=7)
        store.finish_pass(1)
        rows = store.conn.execute(
            "SELECT openid, remark, subscribe_time, scene, language, unionid, qr_scene, qr_scene_str, "
            "tag_count, synced_at FROM followers").fetchall()
        assert sorted(rows) == sorted(
            (f.openid, f.remark, f.subscribe_time, f.subscribe_scene, f.language, f.unionid, f.qr_scene,
             f.qr_scene_str, len(set(f.tagid_list)), 7) for f in followers)
        memberships = store.conn.execute(
            "SELECT f.openid, m.tagid, m.subscribe_time FROM memberships m JOIN followers f ON f.id = m.follower"
        ).fetchall()
        assert sorted(memberships) == sorted(
            (f.openid, tag, f.subscribe_time) for f in followers for tag in set(f.tagid_list))
    finally:
        store.close()


@pytest.mark.parametrize("answer, complaint", [
    ({"user_info_list": [{"subscribe": 1}]}, "without openid"),
    ({"user_info_list": ["o" * 28]}, "without openid"),
    ({"user_info_list": [{"openid": "o" * 28, "tagid_list": 5}]}, "tagid_list"),
    ({"nothing": []}, "no user_info_list"),
])
async def test_garbage_answers_are_refused(answer, complaint):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=json.dumps(answer).encode())

    async with WeChatClient(_FixedToken(), appid="wx1", hosts=["http://wx.test"], retry=FAST_RETRY,
                            transport=httpx.MockTransport(handler)) as client:
        for call in (client.user_info_answers, client.user_info_batch):
            with pytest.raises(BadResponseError, match=complaint):
                await call(["o" * 28])
