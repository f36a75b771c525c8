"""Views on crafted data: every filter, sort and plan against a plain-Python reference."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from store_support import REMARKS, SCENES, TAG_IDS, crafted_model, expected_ids, load
from wxtui.store import Filter, QueryCancelled, Sort, SortKey, Store

DAY = 86_400
T0 = 1_600_000_000


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    model = crafted_model()
    store = Store.open(tmp_path_factory.mktemp("views") / "cache.sqlite")
    load(store, model)
    ids = store.follower_ids(model.followers)
    yield store, model, ids
    store.close()


tag_sets = st.frozensets(st.sampled_from(TAG_IDS + (999,)), max_size=3)
texts = st.one_of(
    st.sampled_from([r for r in REMARKS if r] + ["李", "vip", "VIP", "%", "_", "\\", '"', "#", "*", "'",
                                                 "oTeSt_", "oTeSt_a", "张伟 ", "x" * 40]),
    st.text(max_size=6),
)
filters = st.builds(
    Filter,
    tags=tag_sets,
    match_all_tags=st.booleans(),
    not_tags=tag_sets,
    untagged=st.booleans(),
    blacklisted=st.sampled_from([None, True, False]),
    text=st.one_of(st.just(""), texts),
    scenes=st.frozensets(st.sampled_from(SCENES + ("ADD_SCENE_OTHERS",)), max_size=2),
    subscribed_from=st.one_of(st.none(), st.integers(-5, 45).map(lambda d: T0 + d * DAY)),
    subscribed_to=st.one_of(st.none(), st.integers(-5, 45).map(lambda d: T0 + d * DAY)),
)
sorts = st.builds(Sort, key=st.sampled_from(list(SortKey)), descending=st.booleans())


def every_plan(view):
    """The ids each candidate plan gives (the planner picks one; all must agree)."""
    conn, conds, sources, _ = view._plan_inputs()
    return {s.name: list(view._ordered_ids(conn, s, conds, limit=None)) for s in sources}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flt=filters, sort=sorts)
@example(flt=Filter(untagged=True, text="\x00"), sort=Sort())  # a forced index and a false condition
def test_view_matches_reference(cache, flt, sort):
    store, model, ids = cache
    expected = expected_ids(model, ids, flt, sort)
    view = store.view(flt, sort)
    assert list(view.first_ids(7)) == expected[:7]
    assert [r.id for r in store.view(flt, sort).first_rows(5)] == expected[:5]
    assert store.view(flt, sort).count() == len(expected)
    assert list(view.row_ids()) == expected
    for name, got in every_plan(store.view(flt, sort)).items():
        assert got == expected, name
    window = list(ids.values())[:60]
    assert view.matching_of(window) == set(window) & set(expected)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=12))
def test_any_search_text_is_safe_and_exact(cache, text):
    store, model, ids = cache
    flt = Filter(text=text)
    expected = expected_ids(model, ids, flt, Sort())
    assert list(store.view(flt).row_ids()) == expected
    assert store.view(flt).count() == len(expected)


def test_chinese_search_of_one_two_and_more_characters(cache):
    store, model, _ = cache
    for text, wanted in (("李", {"李娜", "VIP李娜"}), ("李娜", {"李娜", "VIP李娜"}),
                         ("VIP客户", {"王芳 VIP客户"}), ("vip", {"VIP李娜", "王芳 VIP客户", "vip"})):
        rows = store.view(Filter(text=text)).first_rows(500)
        assert rows and {r.remark for r in rows} == wanted, text


def test_wildcards_are_literal(cache):
    store, _, _ = cache
    assert {r.remark for r in store.view(Filter(text="%")).first_rows(500)} == {"50%_off", "100%"}
    assert {r.remark for r in store.view(Filter(text="_")).first_rows(500)} == {"50%_off", "a_b"}
    assert {r.remark for r in store.view(Filter(text="\\")).first_rows(500)} == {"back\\slash"}


def test_openid_prefix_finds_one_follower(cache):
    store, model, ids = cache
    some = sorted(model.followers)[17]
    rows = store.view(Filter(text=some[:20])).first_rows(10)
    assert [r.openid for r in rows] == [some]


def test_rows_by_ids_keep_order_and_mark_missing(cache):
    store, model, ids = cache
    wanted = [ids[o] for o in sorted(model.followers)[:5]]
    rows = store.rows_by_ids(wanted[::-1] + [10**9])
    assert [r.id for r in rows[:-1]] == wanted[::-1] and rows[-1] is None
    for row in rows[:-1]:
        f = model.followers[row.openid]
        assert (row.remark, row.subscribe_time, row.scene, row.language, row.unionid, row.qr_scene,
                row.qr_scene_str) == (f.remark, f.subscribe_time, f.subscribe_scene, f.language,
                                      f.unionid, f.qr_scene, f.qr_scene_str)
        assert row.tagids == tuple(sorted(f.tagid_list))
        assert row.blacklisted == (row.openid in model.blacklist)


def test_tag_counts_and_names(cache):
    store, model, _ = cache
    assert store.tag_counts() == model.tag_counts()
    assert store.tag_names() == model.tags
    for tag in store.tags():
        assert store.view(Filter(tags={tag.id})).count() == tag.count


def test_a_view_counts_in_another_thread(cache):
    store, model, ids = cache
    flt = Filter(not_tags={100})
    result = {}
    thread = threading.Thread(target=lambda: result.update(n=store.view(flt).count(), ids=store.view(flt).row_ids()))
    thread.start()
    thread.join()
    assert result["n"] == len(expected_ids(model, ids, flt, Sort())) == len(result["ids"])


def test_cancel_stops_a_view(cache):
    store, _, _ = cache
    view = store.view(Filter(not_tags={100}))
    view.cancel()
    with pytest.raises(QueryCancelled):
        view.row_ids()


def test_describe_is_short_and_human():
    names = {100: "广东", 101: "VIP"}
    flt = Filter(tags={100}, not_tags={101}, text="李", blacklisted=False)
    assert flt.describe(names) == 'tag 广东 · not VIP · not blacklisted · remark or openid ~ "李"'
    assert Filter().describe() == "all followers"
    assert Filter.from_json(flt.to_json()) == flt
