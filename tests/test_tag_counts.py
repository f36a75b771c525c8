"""Counts of tag combinations come from per-tag bitmaps kept in the cache: they must follow
every write that changes a tag's members, and a count must never wait for a writer."""

from __future__ import annotations

import threading

import pytest

from store_support import crafted_followers, crafted_model, load
from wxtui.store import Filter, Store
from wxtui.families.wechat.models import Tag

COMBINATIONS = (
    Filter(tags={100}),
    Filter(tags={100, 101}),
    Filter(tags={100, 101, 102}, match_all_tags=True),
    Filter(tags={100, 103}, not_tags={101}),
    Filter(not_tags={100, 2}),
    Filter(tags={101}, not_tags={101}),
)


@pytest.fixture
def store(tmp_path):
    store = Store.open(tmp_path / "cache.sqlite")
    yield store
    store.close()


def counted_by_sql(store: Store, flt: Filter) -> int:
    where, params = store.view(flt).condition_sql()
    return store.conn.execute(f"SELECT count(*) FROM followers f WHERE {where}", params).fetchone()[0]


def assert_counts_right(store: Store) -> None:
    for flt in COMBINATIONS:
        assert store.view(flt).count() == counted_by_sql(store, flt), flt


def kept_bitmaps(store: Store) -> set[int]:
    return {r[0] for r in store.conn.execute("SELECT tagid FROM tag_members")}


def test_counts_from_bitmaps_follow_every_write(store):
    model = crafted_model()
    load(store, model)
    assert_counts_right(store)
    assert kept_bitmaps(store) >= {2, 100, 101, 102, 103}  # built once, kept for the next count
    some = list(model.followers)[:40]

    store.apply_tagged(100, some)
    assert_counts_right(store)
    store.apply_untagged(101, some[:20])
    assert_counts_right(store)
    store.remove_followers(some[:5])
    assert_counts_right(store)
    store.apply_tag_deleted(101)
    assert 101 not in kept_bitmaps(store)
    assert_counts_right(store)
    store.apply_tag_created(Tag(101, "again", 0))
    store.apply_tagged(101, some[5:12])
    assert_counts_right(store)
    store.replace_tags([Tag(t, f"tag {t}", 0) for t in (2, 100, 101, 102, 103)])  # a tag gone
    assert_counts_right(store)

    refreshed = [f for f in crafted_followers(60, seed=11)]
    for f, openid in zip(refreshed, some[12:]):
        f.openid = openid
    store.upsert_followers(refreshed[:25])  # a refresh outside a pass changes their tags
    assert_counts_right(store)

    load(store, crafted_model(seed=9))  # a new full pass: other followers, other memberships
    assert_counts_right(store)


def test_a_tag_written_anew_does_not_inherit_its_old_bitmap(store):
    load(store, crafted_model())
    before = store.view(Filter(tags={100})).count()
    assert before and 100 in kept_bitmaps(store)
    (kept_version,) = store.conn.execute("SELECT version FROM tag_members WHERE tagid = 100").fetchone()
    # The platform reuses no tag id, but a cache may be told a tag anew (INSERT OR REPLACE, which
    # fires no delete trigger); its version starts again and may climb back to the kept one.
    store.apply_tag_created(Tag(100, "again", before))
    with store.transaction():
        store.conn.execute("DELETE FROM memberships WHERE tagid = 100")
        while store.conn.execute("SELECT members_version FROM tags WHERE id = 100").fetchone()[0] < kept_version:
            store.conn.execute("UPDATE tags SET count = ? WHERE id = 100", (before,))
    assert store.view(Filter(tags={100})).count() == 0


def test_a_count_does_not_wait_for_a_writer(store):
    load(store, crafted_model())
    with store.transaction():  # the bitmaps the sync kept: gone, so the count builds them
        store.conn.execute("DELETE FROM tag_members")
    writing, done = threading.Event(), threading.Event()

    def hold_the_writer():
        with store.transaction():
            writing.set()
            done.wait(10)

    writer = threading.Thread(target=hold_the_writer)
    writer.start()
    try:
        assert writing.wait(10)
        counted = []
        reader = threading.Thread(target=lambda: counted.append(store.view(Filter(tags={100, 101})).count()))
        reader.start()
        reader.join(5)
        assert not reader.is_alive(), "the count waited for the writer"
        assert counted == [counted_by_sql(store, Filter(tags={100, 101}))]
        assert kept_bitmaps(store) == set()  # not kept this time: the writer was busy
    finally:
        done.set()
        writer.join()


def current_bitmaps(store: Store) -> set[int]:
    return {r[0] for r in store.conn.execute(
        "SELECT k.tagid FROM tag_members k JOIN tags t ON t.id = k.tagid WHERE k.version = t.members_version")}


def test_a_sync_keeps_the_bitmaps_of_the_tags_it_wrote(store):
    """A full pass keeps every tag's members as the pass wrote them: no count builds one."""
    load(store, crafted_model())
    assert current_bitmaps(store) == {2, 100, 101, 102, 103, 104}
    assert_counts_right(store)
    load(store, crafted_model(seed=9))
    assert current_bitmaps(store) == {2, 100, 101, 102, 103, 104}
    assert_counts_right(store)


def test_a_job_keeps_the_bitmaps_current(store):
    """Tagging and untagging update the kept bitmap with the write: no rebuild while a job runs."""
    model = crafted_model()
    load(store, model)
    assert_counts_right(store)
    assert current_bitmaps(store) >= {100, 101}
    some = list(model.followers)[:50]
    store.apply_tagged(100, some)
    store.apply_untagged(101, some[10:30])
    assert current_bitmaps(store) >= {100, 101}
    assert_counts_right(store)
