"""`wxtui follower show`, `wxtui remark set` and `wxtui tags ...` on a configured account served
by the emulator on loopback; each asserts the emulator's and the cache's state."""

from __future__ import annotations

import json

import pytest

from jobs_support import add_account, served, synced_cli_account
from wxtui.cli.main import main
from wxtui.families.wechat.emulator import Emulator
from wxtui.store import Store
from wxtui.families.wechat import limits


@pytest.fixture
def emu():
    return Emulator.demo(followers=400, seed=23)


@pytest.fixture
def account(emu, monkeypatch):
    with synced_cli_account(emu, monkeypatch) as acct:
        yield acct


def cache(acct) -> Store:
    return Store.open_account(acct.appid)


def tag_named(acct, name: str) -> int:
    return next(t for t, (n, _) in acct.tags().items() if n == name)


def test_remark_set_then_follower_show_as_json_and_as_text(account, capsys):
    openid = account.follower_openids()[3]
    remark = "Li \x1b[31m[b]vip[/b]"
    assert main(["remark", "set", openid, remark, "--yes"]) == 0
    assert account.follower(openid)["remark"] == remark
    with cache(account) as store:
        assert store.row_by_openid(openid).remark == remark
    capsys.readouterr()

    # Tagged behind the cache's back: show asks WeChat and corrects the cache.
    extra = next(t for t in account.tags() if t > 2 and t not in account.tags_of(openid))
    account.tag_rows([account.row(openid)], extra)
    assert main(["follower", "show", openid, "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["openid"] == openid and card["remark"] == remark
    assert sorted(t["id"] for t in card["tags"]) == sorted(account.tags_of(openid))
    assert card["cache_corrected"] is True and card["tags_from"] == "live"
    assert [j["title"] for j in card["jobs"]] == [f'set the remark of {openid} to "{remark}"']
    with cache(account) as store:
        assert sorted(store.tag_ids_of([openid])[openid]) == sorted(account.tags_of(openid))

    assert main(["follower", "show", openid]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "Li \\x1b[31m[b]vip[/b]" in out
    assert f"openid       {openid}" in out and "#1" in out


def test_remark_set_refuses_a_long_remark_and_a_stranger_is_named(account, capsys):
    openid = account.follower_openids()[0]
    assert main(["remark", "set", openid, "一二三四五六七八九十", "--yes"]) == 2  # 30 bytes
    assert "30 bytes" in capsys.readouterr().out
    assert account.follower(openid)["remark"] != "一二三四五六七八九十"
    stranger = account.prefix + "Q" * 22
    assert main(["follower", "show", stranger]) == 2
    assert "not a follower" in capsys.readouterr().err


def test_tags_list_create_rename_delete_with_dry_run(account, capsys, emu):
    assert main(["tags", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {t["id"]: (t["name"], t["count"]) for t in listed["tags"]} == account.tags()

    assert main(["tags", "create", "Autumn [promo]", "--dry-run"]) == 0
    assert "Autumn [promo]" not in {n for n, _ in account.tags().values()}
    assert main(["tags", "create", "Autumn [promo]", "--yes"]) == 0
    created = tag_named(account, "Autumn [promo]")
    with cache(account) as store:
        assert store.tag_names()[created] == "Autumn [promo]"
    assert main(["tags", "create", "Autumn [promo]", "--yes"]) == 2  # taken: nothing sent
    capsys.readouterr()

    assert main(["tags", "rename", "Autumn [promo]", "Winter", "--yes"]) == 0
    assert account.tags()[created][0] == "Winter"
    assert main(["tags", "list"]) == 0
    assert "Winter" in capsys.readouterr().out

    assert main(["tags", "delete", "Winter", "--yes"]) == 0
    assert created not in account.tags()
    with cache(account) as store:
        assert created not in store.tag_names()
    assert main(["tags", "delete", "Winter", "--yes"]) == 2
    assert "no tag named 'Winter'" in capsys.readouterr().err
    assert main(["jobs", "undo", "3", "--yes"]) == 0  # job 3, the delete, undone: the tag is back
    assert "Winter" in {n for n, _ in account.tags().values()}


def test_tags_delete_of_a_big_tag_shows_the_drain_plan(account, capsys, monkeypatch):
    monkeypatch.setattr(limits, "TAG_DELETE_MAX_FOLLOWERS", 10)
    vip = tag_named(account, "VIP")
    members = set(account.tag_members(vip))
    assert len(members) > 10
    assert main(["tags", "delete", "VIP", "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["calls_by_op"] == {"untag": -(-(len(members) - 10) // 50), "delete_tag": 1}
    assert [w["code"] for w in plan["warnings"]] == ["drain"]
    assert account.tag_members(vip) == members  # a dry run sends nothing
    assert main(["tags", "delete", "VIP", "--yes"]) == 0
    assert vip not in account.tags()


def test_on_a_tencent_cloud_im_account_the_card_shows_id_and_tags_and_says_what_is_missing(
        monkeypatch, tmp_path, capsys):
    from conftest import FAST_RETRY
    from wxtui.core import paths
    from wxtui.core.config import Config, new_profile, save_config
    from wxtui.families.tim.family import account_key as tim_appid
    from wxtui.families.tim.cache import cached_tags_of
    from wxtui.families.tim.emulator import TimEmulator

    emu = TimEmulator.demo(accounts=40, seed=6)
    config = Config()
    config.add(new_profile("im", tim_appid(emu.sdkappid), kind="tim", sdkappid=emu.sdkappid,
                           identifier=emu.identifier, region="china"))
    save_config(config)
    monkeypatch.setattr("wxtui.families.tim.session.build_tim_client",
                        lambda profile, **kw: emu.client(retry=FAST_RETRY, rate_limit=None, seed=1))
    accounts = emu.state.accounts()
    listed = tmp_path / "accounts.txt"
    listed.write_text("\n".join(accounts[:10]) + "\n")
    assert main(["tim-import", "--file", str(listed)]) == 0
    assert main(["tag", "--tag", "beta [x]", "--file", str(listed), "--yes"]) == 0
    capsys.readouterr()

    assert main(["follower", "show", accounts[2], "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["account"] == accounts[2] and card["family"] == "tim"
    assert sorted(card["tags"]) == sorted(emu.state.tags_of(accounts[2]))
    assert "beta [x]" in card["tags"] and [j["id"] for j in card["jobs"]] == [1]
    assert main(["follower", "show", accounts[2]]) == 0
    assert "not available on Tencent Cloud IM" in capsys.readouterr().out
    assert main(["remark", "set", accounts[2], "hello", "--yes"]) == 2
    assert "no remark" in capsys.readouterr().err
    assert main(["tags", "delete", "beta [x]", "--yes"]) == 2
    assert "cannot be renamed or deleted" in capsys.readouterr().err
    assert main(["tags", "--json"]) == 0
    assert "beta [x]" in {t["name"] for t in json.loads(capsys.readouterr().out)["tags"]}
    store = Store.open(paths.cache_db(tim_appid(emu.sdkappid)))
    try:
        assert "beta [x]" in cached_tags_of(store, [accounts[2]])[accounts[2]]
    finally:
        store.close()
