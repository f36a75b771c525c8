"""The demo kept between launches: the emulator's snapshot and change log, the demo's folder."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import FAST_RETRY
from wxtui.families.wechat.emulator.persist import FORMAT_VERSION, ChangeLog, StateUnreadable, load_state, save_state
from wxtui.families.wechat.kept_demo import CACHE_FILE, LOG_FILE, STATE_FILE, demo_folder, open_kept_demo


async def _change_everything(emu) -> None:
    """One call of each kind that changes the account, through the API as the app makes them."""
    from wxtui.families.wechat.client import WeChatClient

    acct = emu.account
    openids = acct.follower_openids()
    async with WeChatClient.with_secret(acct.appid, acct.secret, transport=emu.transport(),
                                        retry=FAST_RETRY, seed=1) as client:
        tag = await client.create_tag("Kept 保留")
        await client.batch_tag(tag.id, openids[:40])
        await client.batch_untag(tag.id, openids[:5])
        gone = await client.create_tag("Gone soon")
        await client.update_tag(gone.id, "Renamed")
        await client.delete_tag(gone.id)
        await client.batch_blacklist(openids[50:60])
        await client.batch_unblacklist(openids[50:52])
        await client.update_remark(openids[70], "备注 kept\n")
        await client.batch_tag(tag.id, openids[90:95])
    acct.remove_followers(openids[100:103])
    acct.add_followers(4)


async def test_a_snapshot_and_its_change_log_give_back_the_account_as_it_was(tmp_path, emu):
    state, log = tmp_path / "emulator.state", tmp_path / "emulator.log"
    save_state(emu, state)
    emu.account.changes = changes = ChangeLog(log)
    await _change_everything(emu)
    changes.close()
    expected = emu.account.snapshot()
    assert len(log.read_text().splitlines()) >= 10

    loaded = load_state(state, log)
    acct = loaded.account
    assert acct.snapshot() == expected
    assert (acct.appid, acct.secret, acct.prefix) == (emu.account.appid, emu.account.secret, emu.account.prefix)
    assert acct.quotas.get("/cgi-bin/tags/members/batchtagging")["used"] == 0  # charged after the snapshot
    # A snapshot of the loaded account needs no log and keeps the quotas spent.
    save_state(loaded, state)
    assert load_state(state).account.snapshot() == expected


async def test_a_line_cut_short_by_a_kill_is_left_out_and_a_damaged_one_is_refused(tmp_path, emu):
    state, log = tmp_path / "emulator.state", tmp_path / "emulator.log"
    save_state(emu, state)
    emu.account.changes = changes = ChangeLog(log)
    await _change_everything(emu)
    changes.close()
    expected = emu.account.snapshot()
    with open(log, "a", encoding="utf-8") as handle:
        handle.write('["tag", 100, [1, 2')  # the process died in the middle of this write
    assert load_state(state, log).account.snapshot() == expected

    lines = log.read_text().split("\n")
    lines[1] = lines[1][:-3]
    log.write_text("\n".join(lines))
    with pytest.raises(StateUnreadable, match="line 2 of its change log"):
        load_state(state, log)


def test_a_state_of_another_version_or_damaged_is_refused_with_the_reason(tmp_path, emu):
    state = tmp_path / "emulator.state"
    save_state(emu, state)
    data = bytearray(state.read_bytes())
    data[-5] ^= 0xFF
    state.write_bytes(bytes(data))
    with pytest.raises(StateUnreadable, match="damaged"):
        load_state(state)

    save_state(emu, state)
    magic, header, rest = state.read_bytes().split(b"\n", 2)
    other = json.loads(header)
    other["version"] = FORMAT_VERSION + 1
    state.write_bytes(magic + b"\n" + json.dumps(other).encode() + b"\n" + rest)
    with pytest.raises(StateUnreadable, match=f"format {FORMAT_VERSION + 1}"):
        load_state(state)

    state.write_bytes(b"\x00garbage")
    with pytest.raises(StateUnreadable, match="not a wxtui emulator state"):
        load_state(state)


async def test_the_demo_comes_back_as_it_was_left_even_after_a_kill(tmp_path):
    demo = open_kept_demo(300, 5)
    folder = demo.folder
    assert folder == demo_folder(300, 5) and (folder / STATE_FILE).exists() and demo.kept
    await _change_everything(demo.emulator)
    expected = demo.emulator.account.snapshot()
    # Killed: no snapshot at exit, only the change log; the kernel drops the lock.
    os.close(demo._lock_fd)
    demo._log.close()

    again = open_kept_demo(300, 5)
    assert again.emulator.account.snapshot() == expected and again.notice == ""
    assert (folder / LOG_FILE).stat().st_size == 0  # replayed into a new snapshot
    again.emulator.account.set_remark(0, "after the kill")
    again.close()  # a clean exit: a snapshot
    third = open_kept_demo(300, 5)
    assert third.emulator.account.follower(third.emulator.account.follower_openids()[0])["remark"] == "after the kill"
    third.close()


def test_fresh_starts_over_and_each_size_is_a_demo_of_its_own(tmp_path):
    demo = open_kept_demo(200, 1)
    demo.emulator.account.create_tag("Mine")
    (demo.cache_path).write_bytes(b"cache")
    demo.close()
    other = open_kept_demo(300, 1)  # --followers 300: its own folder, the 200 one untouched
    assert other.emulator.account.subscribed_count() == 300 and other.folder != demo.folder
    other.close()
    kept = open_kept_demo(200, 1)
    assert "Mine" in {name for name, _ in kept.emulator.account.tags().values()}
    assert kept.cache_path.exists()
    kept.close()
    fresh = open_kept_demo(200, 1, fresh=True)
    assert "Mine" not in {name for name, _ in fresh.emulator.account.tags().values()}
    assert _new_demo_cache(fresh.cache_path, 200)  # not the old one: the new demo's, filled
    fresh.close()


def test_an_unreadable_state_is_set_aside_with_its_cache_and_the_demo_starts_over(tmp_path):
    demo = open_kept_demo(200, 1)
    demo.emulator.account.create_tag("Mine")
    demo.cache_path.write_bytes(b"the cache of that state")
    demo.close()
    (demo.folder / STATE_FILE).write_bytes(b"wxtui emulator state\n{\"version\": 0}\n")

    again = open_kept_demo(200, 1)
    assert "could not be read" in again.notice and "format 0" in again.notice
    asides = [p for p in again.folder.iterdir() if p.name.startswith("set-aside-")]
    assert len(asides) == 1 and str(asides[0]) in again.notice
    assert (asides[0] / CACHE_FILE).read_bytes() == b"the cache of that state"
    assert _new_demo_cache(again.cache_path, 200)
    assert "Mine" not in {name for name, _ in again.emulator.account.tags().values()}
    assert again.emulator.account.subscribed_count() == 200
    again.close()


def test_a_demo_open_elsewhere_is_not_shared(tmp_path):
    first = open_kept_demo(200, 1)
    second = open_kept_demo(200, 1)
    assert not second.kept and "already open" in second.notice
    assert second.folder != first.folder
    second.emulator.account.create_tag("Not kept")
    second.close()
    assert not second.folder.exists()
    first.close()
    kept = open_kept_demo(200, 1)
    assert "Not kept" not in {n for n, _ in kept.emulator.account.tags().values()}
    kept.close()


# -- import messages ---------------------------------------------------------------------------


async def test_import_names_the_lines_it_could_not_use_and_counts_in_words(tmp_path):
    from tests.ui_fixtures import demo_session
    from wxtui.ui.account import AccountModel

    async with demo_session(tmp_path, followers=50) as session:
        model = AccountModel(session)
        try:
            openids = session.emulator.account.follower_openids()
            other = "oAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            listing = tmp_path / "one.txt"
            listing.write_text(f"{openids[0]}\n\nbad line\n", encoding="utf-8")
            result = model.import_openids(listing)
            assert result.message() == ("Added 1 follower to the selection; 1 line is not an openid: line 3")
            assert model.selection.count() == 1

            lines = ["openid,remark"] + [f"{o},x" for o in openids[1:4]] + [f"{other},y"] + \
                    [f"junk{k},z" for k in range(7)] + [f"{other[:-1]}B,w"]
            listing = tmp_path / "many.csv"
            listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
            result = model.import_openids(listing)
            assert result.message() == (
                "Added 3 followers to the selection; 2 openids are not in the cache (not followers, or "
                "sync first): lines 5 and 13; 7 lines are not openids: lines 6, 7, 8, 9, 10 and 2 more")
            assert model.selection.count() == 4
            assert set(model.selection.ids()) == set(session.store.follower_ids(openids[:4]).values())
        finally:
            await model.aclose()


def _new_demo_cache(path, followers: int) -> bool:
    """The cache is a new demo's: a cache file (not what the test wrote there), filled."""
    from wxtui.store import Store

    if path.read_bytes().startswith(b"cache") or path.read_bytes().startswith(b"the cache"):
        return False
    store = Store.open(path)
    try:
        return store.follower_count() == followers
    finally:
        store.close()


def _cache_contents(path):
    """Everything a sync writes into a cache, but when it wrote it."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(followers)") if r[1] != "synced_at"]
        return {
            "followers": conn.execute(f"SELECT {', '.join(columns)} FROM followers ORDER BY id").fetchall(),
            "memberships": conn.execute("SELECT * FROM memberships ORDER BY follower, tagid").fetchall(),
            "tags": conn.execute("SELECT id, name, count FROM tags ORDER BY id").fetchall(),
            "blacklist": conn.execute("SELECT openid FROM blacklist ORDER BY openid").fetchall(),
            "history": conn.execute("SELECT count(*) FROM history_snapshots").fetchone()[0],
            "sets": conn.execute("SELECT kind, key, members FROM follower_sets ORDER BY kind, key").fetchall(),
            "sets_state": conn.execute("SELECT changes, built IS NOT NULL, format, followers "
                                       "FROM follower_sets_state").fetchall(),
            "meta": sorted(k for (k,) in conn.execute("SELECT key FROM meta")),
        }
    finally:
        conn.close()


async def test_a_new_demo_has_the_cache_its_first_sync_would_leave(tmp_path):
    """A new demo's cache is written from the emulator's state instead of a first sync through
    the API: it must be the very cache that sync leaves (row ids, memberships, counts,
    blacklist, the history point), so that nothing after it can tell them apart."""
    from wxtui.core.session import open_session
    from wxtui.families.wechat.emulator import Emulator
    from wxtui.families.wechat.kept_demo import fill_cache
    from wxtui.families.wechat.sync import Sync

    emu = Emulator.demo(followers=3000, seed=5)
    emu.account.remove_followers(emu.account.follower_openids()[10:20])  # user/get skips them
    fill_cache(emu, tmp_path / "filled.sqlite")
    async with open_session(emulator=emu, store_path=tmp_path / "synced.sqlite") as session:
        result = await Sync(session.client, session.store).run()
        assert result.ok, result.message
    filled, synced = _cache_contents(tmp_path / "filled.sqlite"), _cache_contents(tmp_path / "synced.sqlite")
    assert len(filled["followers"]) == 2990 and filled["history"] == 1 and filled["sets"]
    assert filled == synced


def test_a_new_kept_demo_opens_with_its_cache_filled_and_a_kept_one_keeps_it(tmp_path, monkeypatch):
    from wxtui.store import Store

    monkeypatch.setenv("WXTUI_HOME", str(tmp_path))
    demo = open_kept_demo(500, 3)
    try:
        assert "fill" in demo.timings
        store = Store.open(demo.cache_path)
        assert store.follower_count() == 500 and store.last_synced_at() is not None
        store.close()
    finally:
        demo.close()
    again = open_kept_demo(500, 3)
    try:
        assert "load" in again.timings and "fill" not in again.timings  # kept, not written again
    finally:
        again.close()
