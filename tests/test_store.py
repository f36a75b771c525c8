"""The cache file, its migrations, transactions, sync passes and write-through."""

from __future__ import annotations

import sqlite3
import stat
import threading

import pytest
from sqlite_utils import Database

from store_support import crafted_model, load, openid
from wxtui.core import paths
from wxtui.store import Filter, Store
from wxtui.store.schema import cache_migrations
from wxtui.families.wechat.models import Follower, Tag


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "cache.sqlite")
    yield s
    s.close()


def follower(oid: str, t: int = 1_700_000_000, tags=(), remark: str = "") -> Follower:
    return Follower(openid=oid, subscribe_time=t, tagid_list=list(tags), remark=remark, language="zh_CN",
                    subscribe_scene="ADD_SCENE_SEARCH")


def state(store: Store) -> dict:
    """Everything the views rest on, keyed by openid."""
    rows = store.rows_by_ids(list(store.view(Filter()).row_ids()))
    return {r.openid: (r.remark, r.subscribe_time, r.tagids, r.blacklisted) for r in rows}


def model_state(model) -> dict:
    return {o: (f.remark, f.subscribe_time, tuple(sorted(f.tagid_list)), o in model.blacklist)
            for o, f in model.followers.items()}


def test_file_is_private_wal_and_migrated(tmp_path, monkeypatch):
    monkeypatch.setenv("WXTUI_HOME", str(tmp_path / "home"))
    s = Store.open_account("wx1234567890abcdef")
    try:
        path = paths.cache_db("wx1234567890abcdef")
        assert s.path == path
        s.set_meta("probe", "1")
        for name in (path.name, path.name + "-wal", path.name + "-shm"):
            assert stat.S_IMODE((path.parent / name).stat().st_mode) == 0o600, name
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        applied = {m.name for m in cache_migrations.applied(s.db)}
        assert applied == {m.name for m in cache_migrations._migrations}
    finally:
        s.close()
    Store.open(path).close()  # opening again applies nothing and fails nothing


def test_an_old_file_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.sqlite"
    db = Database(sqlite3.connect(path, isolation_level=None))
    cache_migrations.apply(db, stop_before="m002_sync_passes")
    db.execute("INSERT INTO followers (openid, remark, subscribe_time, tag_count) VALUES (?, ?, ?, 1)",
               ["o" * 28, "老顾客", 5])
    db.execute("INSERT INTO memberships (follower, tagid, subscribe_time) VALUES (1, 100, 5)")
    db.conn.close()
    s = Store.open(path)
    try:
        assert s.db["followers"].columns_dict.get("sync_pass") is None
        row = s.rows_by_ids([1])[0]
        assert (row.openid, row.remark, row.tagids) == ("o" * 28, "老顾客", (100,))
        assert [r.id for r in s.view(Filter(text="顾客")).first_rows(5)] == [1]
        with pytest.raises(sqlite3.IntegrityError):
            s.conn.execute("INSERT INTO followers (openid) VALUES (?)", ("o" * 28,))
    finally:
        s.close()


def test_transaction_is_all_or_nothing_and_nests(store):
    store.replace_tags([Tag(100, "a", 0)])
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.apply_tag_renamed(100, "b")
            with store.transaction():
                store.apply_tag_created(Tag(101, "c", 0))
            raise RuntimeError("boom")
    assert store.tag_names() == {100: "a"}
    with store.transaction():
        store.apply_tag_renamed(100, "b")
        with pytest.raises(ValueError):
            with store.transaction():
                store.apply_tag_created(Tag(101, "c", 0))
                raise ValueError("inner only")
    assert store.tag_names() == {100: "b"}


def test_a_pass_makes_the_cache_equal_the_account(store):
    model = crafted_model(300, seed=9)
    load(store, model)
    assert state(store) == model_state(model)
    assert store.tag_counts() == model.tag_counts()
    assert set(store.blacklist()) == model.blacklist
    assert store.last_synced_at() is not None
    assert store.pass_in_progress() is None


def test_the_next_pass_keeps_ids_removes_the_gone_and_numbers_the_new(store):
    model = crafted_model(120, seed=3)
    load(store, model)
    before = store.follower_ids(model.followers)
    gone = sorted(model.followers)[:10]
    for o in gone:
        del model.followers[o]
    model.blacklist -= set(gone)
    changed = sorted(model.followers)[20]
    model.followers[changed].tagid_list = [103]
    model.followers[changed].remark = "新备注"
    new = [follower(f"oTeSt_{i:022d}", tags=(100,)) for i in range(5)]
    model.followers.update({f.openid: f for f in new})
    pass_id = store.begin_pass()
    store.upsert_followers(list(model.followers.values()), pass_id)
    summary = store.finish_pass(pass_id)
    store.replace_blacklist(model.blacklist)
    assert (summary.followers, summary.added, summary.removed) == (115, 5, 10)
    assert state(store) == model_state(model)
    after = store.follower_ids(model.followers)
    assert all(after[o] == before[o] for o in before if o in after)
    assert min(after[f.openid] for f in new) > max(before.values())
    assert store.tag_counts() == model.tag_counts()


def test_an_interrupted_pass_resumes_after_reopening(tmp_path):
    model = crafted_model(100, seed=4)
    followers = list(model.followers.values())
    s = Store.open(tmp_path / "c.sqlite")
    s.replace_tags([Tag(t, n, 0) for t, n in model.tags.items()])
    pass_id = s.begin_pass()
    s.upsert_followers(followers[:40], pass_id)
    s.close()
    s = Store.open(tmp_path / "c.sqlite")
    try:
        assert s.begin_pass() == pass_id and s.pass_size() == 40
        assert s.follower_count() == 0  # views show the last complete pass meanwhile
        s.upsert_followers(followers[40:], pass_id)
        s.finish_pass(pass_id)
        s.replace_blacklist(model.blacklist)
        assert state(s) == model_state(model)
    finally:
        s.close()


def test_unfollowed_followers_are_left_out_or_removed(store):
    a, b = follower("oA" + "a" * 26, tags=(100,)), follower("oB" + "b" * 26, tags=(100,))
    store.replace_tags([Tag(100, "t", 2)])
    store.upsert_followers([a, b])
    assert store.tag_counts() == {100: 2}
    store.upsert_followers([Follower(openid=b.openid, subscribe=0)])
    assert set(store.follower_ids([a.openid, b.openid])) == {a.openid}
    assert store.tag_counts() == {100: 1}
    pass_id = store.begin_pass()
    store.upsert_followers([a, Follower(openid=b.openid, subscribe=0)], pass_id)
    assert store.finish_pass(pass_id).followers == 1


def test_a_follower_listed_twice_in_a_pass_is_kept_once(store):
    a = follower("oA" + "a" * 26, tags=(100,))
    pass_id = store.begin_pass()
    store.upsert_followers([a], pass_id)
    store.upsert_followers([follower(a.openid, tags=(100,), remark="later")], pass_id)
    store.finish_pass(pass_id)
    assert state(store) == {a.openid: ("later", a.subscribe_time, (100,), False)}


def test_a_new_follower_listed_twice_in_a_pass_keeps_the_later_answer_and_its_tags_only(store):
    store.replace_tags([Tag(100, "a", 0), Tag(101, "b", 0)])
    a, b = follower("oA" + "a" * 26, tags=(100,)), follower("oB" + "b" * 26, tags=(100, 101))
    pass_id = store.begin_pass()
    store.upsert_followers([a, b], pass_id)
    store.upsert_followers([follower(a.openid, tags=(101,), remark="later")], pass_id)  # a second id
    store.finish_pass(pass_id)
    assert state(store) == {a.openid: ("later", a.subscribe_time, (101,), False),
                            b.openid: ("", b.subscribe_time, (100, 101), False)}
    assert store.tag_counts() == {100: 1, 101: 2}


def test_a_pass_begun_with_memberships_in_a_plain_table_finishes(store):
    """A pass an older version began (its memberships in a rowid table) resumes and swaps in."""
    store.replace_tags([Tag(100, "a", 0)])
    a, b = follower("oA" + "a" * 26, tags=(100,)), follower("oB" + "b" * 26)
    pass_id = store.begin_pass()
    with store.transaction():
        store.conn.execute("DROP TABLE memberships_next")
        store.conn.execute("CREATE TABLE memberships_next (follower INTEGER NOT NULL, tagid INTEGER NOT NULL, "
                           "subscribe_time INTEGER NOT NULL)")
    store.upsert_followers([a, b], pass_id)
    store.finish_pass(pass_id)
    assert state(store) == {a.openid: ("", a.subscribe_time, (100,), False),
                            b.openid: ("", b.subscribe_time, (), False)}
    assert "WITHOUT ROWID" in store.conn.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'memberships'").fetchone()[0].upper()


def test_write_through_keeps_every_view_right(store):
    model = crafted_model(80, seed=2)
    load(store, model)
    some = sorted(model.followers)[:6]
    untagged_before = store.view(Filter(untagged=True)).count()
    newly_untagged = [o for o in some if not model.followers[o].tagid_list]
    added = store.apply_tagged(104, some + ["oUnknown" + "x" * 20])
    assert added == sum(104 not in model.followers[o].tagid_list for o in some)
    assert store.view(Filter(untagged=True)).count() == untagged_before - len(newly_untagged)
    assert store.tag_counts()[104] == model.tag_counts()[104] + added
    assert set(some) <= {r.openid for r in store.view(Filter(tags={104})).first_rows(500)}
    assert store.apply_untagged(104, some) == len(some)
    assert store.tag_counts()[104] == model.tag_counts()[104] - sum(104 in model.followers[o].tagid_list for o in some)
    store.apply_blacklisted(some[:2])
    assert {r.openid for r in store.view(Filter(blacklisted=True)).first_rows(500)} >= set(some[:2])
    store.apply_unblacklisted(some[:1])
    assert not store.row_by_openid(some[0]).blacklisted
    store.apply_remark(some[3], "供应商 Zhao")
    assert [r.openid for r in store.view(Filter(text="zhao")).first_rows(5)] == [some[3]]
    store.apply_tag_created(Tag(150, "新标签", 0))
    store.apply_tagged(150, some)
    store.apply_tag_renamed(150, "改名")
    assert store.tag_names()[150] == "改名" and store.tag_counts()[150] == 6
    store.apply_tag_deleted(150)
    assert 150 not in store.tag_names()
    assert all(150 not in r.tagids for r in store.rows_by_ids(list(store.follower_ids(some).values())))
    assert store.view(Filter(tags={150})).count() == 0


def test_write_through_during_a_pass_survives_the_swap(store):
    model = crafted_model(60, seed=8)
    load(store, model)
    target = sorted(model.followers)[0]
    pass_id = store.begin_pass()
    store.upsert_followers(list(model.followers.values()), pass_id)  # fetched before the action
    store.apply_tagged(103, [target])
    store.apply_remark(target, "VIP 新")
    store.apply_blacklisted([target])
    store.finish_pass(pass_id)
    row = store.row_by_openid(target)
    assert 103 in row.tagids and row.remark == "VIP 新" and row.blacklisted
    expected = model.tag_counts()[103] + (103 not in model.followers[target].tagid_list)
    assert store.tag_counts()[103] == expected


def test_lookups_for_the_planner(store):
    store.upsert_followers([follower("oA" + "a" * 26, tags=(101, 100)), follower("oB" + "b" * 26)])
    ids = store.follower_ids(["oA" + "a" * 26, "oC" + "c" * 26])
    assert list(ids) == ["oA" + "a" * 26]
    assert store.tag_ids_of(["oA" + "a" * 26, "oB" + "b" * 26]) == {"oA" + "a" * 26: (100, 101),
                                                                    "oB" + "b" * 26: ()}
    assert store.openids_of(list(ids.values())) == {v: k for k, v in ids.items()}


def test_readers_in_other_threads_see_committed_data_while_a_write_is_open(store):
    store.upsert_followers([follower("oA" + "a" * 26)])
    seen = []
    with store.transaction():
        store.upsert_followers([follower("oB" + "b" * 26)])
        assert store.follower_count() == 2  # the writer sees its own write
        thread = threading.Thread(target=lambda: seen.append(store.follower_count()))
        thread.start()
        thread.join()
    assert seen == [1]
    assert store.follower_count() == 2


def test_openids_are_never_confused_across_passes_with_reused_ids(store):
    a, b = follower("oA" + "a" * 26), follower("oB" + "b" * 26)
    store.upsert_followers([a, b])
    old_b = store.follower_ids([b.openid])[b.openid]
    store.remove_followers([b.openid])
    c = follower(openid(__import__("random").Random(1)))
    store.upsert_followers([c])
    assert store.follower_ids([c.openid])[c.openid] > old_b


def test_closing_the_store_under_another_threads_query_interrupts_it_and_does_not_crash(tmp_path):
    # The app quits while a count it started still runs in a worker thread; the session then
    # closes the store. Closing the connection under that query used to crash the process.
    store = Store.open(tmp_path / "cache.sqlite")
    started, outcome = threading.Event(), {}

    def long_query():
        conn = store.reader()
        conn.create_function("started", 0, lambda: started.set() or 0)
        try:
            conn.execute("WITH RECURSIVE c(x) AS (SELECT started() UNION ALL SELECT x + 1 FROM c "
                         "WHERE x < 2000000000) SELECT count(*) FROM c").fetchone()
            outcome["result"] = "finished"
        except sqlite3.OperationalError as exc:
            outcome["result"] = str(exc)

    worker = threading.Thread(target=long_query)
    worker.start()
    assert started.wait(30)
    store.close()
    worker.join(60)  # a guard against a hang only: two billion rows take minutes
    assert not worker.is_alive()
    assert outcome == {"result": "interrupted"}
