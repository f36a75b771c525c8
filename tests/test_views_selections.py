"""Selections: explicit ids, a filter with exceptions, ranges of a view, openids in chunks."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store_support import crafted_model, expected_ids, load
from wxtui.store import Filter, Sort, Store


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    model = crafted_model(150, seed=11)
    store = Store.open(tmp_path_factory.mktemp("sel") / "cache.sqlite")
    load(store, model)
    yield store, model, store.follower_ids(model.followers)
    store.close()


def test_select_all_of_a_filter_with_exceptions(cache):
    store, model, ids = cache
    sel = store.selection("t1")
    flt = Filter(tags={100})
    matching = expected_ids(model, ids, flt, Sort())
    sel.select_all(flt)
    assert sel.count() == len(matching)
    assert store.conn.execute("SELECT count(*) FROM selection_members WHERE selection = ?", (sel.id,)).fetchone()[0] == 0
    outside = next(i for i in ids.values() if i not in matching)
    sel.remove(matching[:3])
    sel.add([outside])
    wanted = (set(matching) - set(matching[:3])) | {outside}
    assert sel.count() == len(wanted)
    assert set(sel.ids()) == wanted and list(sel.ids()) == sorted(wanted)
    assert sel.contained(list(ids.values())) == wanted
    assert not sel.contains(matching[0]) and sel.contains(outside) and sel.contains(matching[5])
    chunks = list(sel.iter_openids(chunk=7))
    assert all(len(c) <= 7 for c in chunks)
    by_id = {v: k for k, v in ids.items()}
    assert [o for c in chunks for o in c] == [by_id[i] for i in sorted(wanted)]


def test_explicit_ids_ranges_and_toggle(cache):
    store, model, ids = cache
    sel = store.selection("t2")
    view_ids = store.view(Filter(untagged=True)).row_ids()
    sel.add_range(view_ids, 10, 4)
    assert set(sel.ids()) == set(view_ids[4:10])
    assert sel.toggle(view_ids[4]) is False
    assert sel.toggle(view_ids[20]) is True
    assert sel.count() == 6 and sel.filter is None
    sel.clear()
    assert sel.count() == 0 and list(sel.iter_openids()) == []


def test_selections_are_kept_by_name_across_reopening(tmp_path):
    model = crafted_model(40, seed=1)
    s = Store.open(tmp_path / "c.sqlite")
    load(s, model)
    s.selection("ui").select_all(Filter(text="李"))
    s.selection("ui").remove(list(s.view(Filter(text="李")).first_ids(1)))
    before = list(s.selection("ui").ids())
    s.close()
    s = Store.open(tmp_path / "c.sqlite")
    try:
        assert list(s.selection("ui").ids()) == before and s.selection("ui").filter == Filter(text="李")
    finally:
        s.close()


ops = st.lists(st.one_of(
    st.tuples(st.just("all"), st.sampled_from([Filter(tags={100}), Filter(untagged=True), Filter(text="VIP"),
                                                Filter(not_tags={101}, blacklisted=False)])),
    st.tuples(st.just("add"), st.lists(st.integers(0, 149), max_size=8)),
    st.tuples(st.just("remove"), st.lists(st.integers(0, 149), max_size=8)),
    st.tuples(st.just("range"), st.integers(0, 149), st.integers(0, 149)),
    st.tuples(st.just("clear")),
), max_size=8)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=ops)
def test_selection_agrees_with_a_set(cache, steps):
    store, model, ids = cache
    everyone = sorted(ids.values())
    sel = store.selection("prop")
    sel.clear()
    wanted: set[int] = set()
    for step in steps:
        if step[0] == "all":
            sel.select_all(step[1])
            wanted = set(expected_ids(model, ids, step[1], Sort()))
        elif step[0] == "add":
            sel.add(everyone[i] for i in step[1])
            wanted |= {everyone[i] for i in step[1]}
        elif step[0] == "remove":
            sel.remove(everyone[i] for i in step[1])
            wanted -= {everyone[i] for i in step[1]}
        elif step[0] == "range":
            sel.add_range(everyone, step[1], step[2])
            lo, hi = sorted(step[1:])
            wanted |= set(everyone[lo:hi])
        else:
            sel.clear()
            wanted = set()
    assert sel.count() == len(wanted)
    assert list(sel.ids()) == sorted(wanted)
    assert sel.contained(everyone) == wanted


def test_select_all_keeps_who_matched_then_whatever_jobs_and_syncs_change(tmp_path):
    """"Select all" of the untagged, then a job tags them: they stay selected (the selection
    used to follow the filter, and emptied itself as the job ran). Followers who leave are
    no longer counted nor acted on."""
    model = crafted_model(120, seed=5)
    store = Store.open(tmp_path / "c.sqlite")
    try:
        load(store, model)
        untagged = Filter(untagged=True)
        chosen = set(store.view(untagged).row_ids())
        assert len(chosen) > 10
        sel = store.selection("main")
        sel.select_all(untagged)
        by_id = {v: k for k, v in store.follower_ids(model.followers).items()}
        store.apply_tagged(100, [by_id[i] for i in sorted(chosen)])  # the job's write-through
        assert store.view(untagged).count() < len(chosen)
        assert sel.count() == len(chosen) and set(sel.ids()) == chosen
        assert sel.contained(list(by_id)) == chosen and sel.filter == untagged
        # A follower who leaves is not selected any more; one who was not chosen never is.
        gone = min(chosen)
        store.remove_followers([by_id[gone]])
        assert sel.count() == len(chosen) - 1 and set(sel.ids()) == chosen - {gone}
        assert [o for chunk in sel.iter_openids() for o in chunk] == [by_id[i] for i in sorted(chosen - {gone})]
    finally:
        store.close()


def test_a_selection_kept_as_a_filter_by_an_older_version_becomes_its_members(tmp_path):
    model = crafted_model(80, seed=9)
    store = Store.open(tmp_path / "c.sqlite")
    try:
        load(store, model)
        flt = Filter(tags={100})
        matching = list(store.view(flt).row_ids())
        outside = next(i for i in store.follower_ids(model.followers).values() if i not in matching)
        sel = store.selection("old")
        with store.transaction():  # as the older version wrote it: the filter, and exceptions
            store.conn.execute("UPDATE selections SET filter = ?, members = NULL WHERE id = ?", (flt.to_json(), sel.id))
            store.conn.executemany("INSERT INTO selection_members VALUES (?, ?, ?)",
                                   [(sel.id, matching[0], 0), (sel.id, outside, 1)])
        wanted = (set(matching) - {matching[0]}) | {outside}
        assert sel.count() == len(wanted) and set(sel.ids()) == wanted
        row = store.conn.execute("SELECT members IS NOT NULL FROM selections WHERE id = ?", (sel.id,)).fetchone()
        assert row[0] == 1  # turned into its members, once
        assert store.conn.execute("SELECT count(*) FROM selection_members WHERE selection = ?",
                                  (sel.id,)).fetchone()[0] == 0
    finally:
        store.close()
