"""Segments: saved in the cache (a migration adds their table), counted live, and fed to every
bulk action by name (--segment) or as an unsaved query (--query), against the emulator."""

from __future__ import annotations

import json

import pytest

from jobs_support import add_account, served, synced_cli_account
from wxtui.cli.main import main
from wxtui.families.wechat.emulator import Emulator
from wxtui.store import Filter, Store
from wxtui.store.segments import SegmentError, Segments

from store_support import crafted_model, load

GUANGDONG, VIP = 100, 106


# -- the store ------------------------------------------------------------------------------------

def test_segments_are_saved_replaced_counted_live_and_deleted(tmp_path):
    model = crafted_model(n=120, seed=3)
    with Store.open(tmp_path / "cache.db") as store:
        load(store, model)
        segments = Segments(store)
        saved = segments.save("  Big fans ", Filter(tags={100}))
        assert saved.name == "Big fans" and segments.get("Big fans").filter == Filter(tags={100})
        expected = sum(1 for f in model.followers.values() if 100 in f.tagid_list)
        assert segments.count(saved) == expected > 0
        store.apply_untagged(100, [next(o for o, f in model.followers.items() if 100 in f.tagid_list)])
        assert segments.count(segments.get("Big fans")) == expected - 1  # live, not remembered
        segments.save("Big fans", Filter(untagged=True))
        assert [s.filter for s in segments.list()] == [Filter(untagged=True)]
        assert segments.find("big FANS").name == "Big fans"
        for bad in ("", "   ", "a\x1b[31mb", "x" * 101):
            with pytest.raises(SegmentError):
                segments.save(bad, Filter())
        assert segments.delete("Big fans") and not segments.delete("Big fans")
        assert segments.list() == []
    with Store.open(tmp_path / "cache.db") as store:  # the table is there on the next open
        assert Segments(store).list() == []


# -- the command line, against the emulator ---------------------------------------------------------

@pytest.fixture
def emu():
    return Emulator.demo(followers=1200, seed=43)


@pytest.fixture
def account(emu, monkeypatch):
    with synced_cli_account(emu, monkeypatch) as acct:
        yield acct


def _matching(acct, predicate) -> set[str]:
    """Followers the emulator itself says match (not the cache)."""
    snapshot = acct.snapshot()
    members = {int(t): set(m) for t, m in snapshot["members"].items()}
    return {f["openid"] for f in snapshot["followers"] if predicate(f, members)}


def test_save_list_show_and_tag_a_segment(account, capsys):
    query = "tag:广东 scene:qr_code|search -blacklisted"
    assert main(["segments", "save", "Guangdong QR", query]) == 0
    assert "Saved segment Guangdong QR" in capsys.readouterr().out
    blacklisted = set(account.blacklist())
    expected = _matching(account, lambda f, m: f["openid"] in m[GUANGDONG] and f["openid"] not in blacklisted
                         and f["subscribe_scene"] in ("ADD_SCENE_QR_CODE", "ADD_SCENE_SEARCH"))
    assert expected
    assert main(["segments", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == [{"name": "Guangdong QR", "query": "tag:广东 -blacklisted scene:qr_code|search",
                       "count": len(expected)}]
    assert main(["segments", "show", "guangdong qr", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["count"] == len(expected) and set(shown["first"]) <= expected
    before = account.tag_members(VIP)
    assert main(["tag", "--tag", "VIP", "--segment", "Guangdong QR", "--yes"]) == 0
    assert account.tag_members(VIP) == before | expected
    assert main(["segments", "delete", "Guangdong QR"]) == 0
    assert main(["segments", "show", "Guangdong QR"]) == 2
    assert "no segment named 'Guangdong QR' (saved: none)" in capsys.readouterr().err


def test_an_ad_hoc_query_feeds_a_job_and_a_bad_one_points_at_its_token(account, capsys):
    expected = _matching(account, lambda f, m: f["openid"] in m[GUANGDONG] and f["language"] == "en")
    assert expected
    status = main(["untag", "--tag", "广东", "--query", "tag:广东 lang:en", "--yes"])
    assert status == 0
    assert not account.tag_members(GUANGDONG) & expected
    capsys.readouterr()
    blacklist = account.blacklist()
    assert main(["blacklist", "--query", "tag:广东 folowed:2024-01-01..", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "at character 8: no field folowed:" in err
    assert err.splitlines()[-2] == "  tag:广东 folowed:2024-01-01.."
    assert err.splitlines()[-1] == "  " + " " * len("tag:广东 ") + "  " + "^" * len("folowed:")  # 广东: 4 columns
    assert account.blacklist() == blacklist  # nothing was sent
    assert main(["tag", "--tag", "VIP", "--query", "tag:VIP", "--segment", "x", "--yes"]) == 2
    assert "one way" in capsys.readouterr().err
    assert main(["segments", "save", "bad", 'tag:"VIP']) == 2
    assert "quote is not closed" in capsys.readouterr().err
    assert main(["segments", "list"]) == 0
    assert "No segments yet" in capsys.readouterr().out
