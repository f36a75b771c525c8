"""The follower sets (bitmaps by scene, language, follow day and remark characters): every view
answered from them equals the plain-Python reference, through every write that changes a
follower (sync pass, refresh, removal, remark, jobs' tags), an interrupted sync resumed by
another process, a cache from an older wxtui, a repaired cache; sets that missed a change are
never used; and the statements they run have one shape whatever the size."""

from __future__ import annotations

import pytest
from pyroaring import BitMap
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store_support import SCENES, TAG_IDS, crafted_followers, crafted_model, expected_ids, load
from wxtui.families.wechat.models import Tag
from wxtui.store import Filter, Sort, SortKey, Store, followersets
from wxtui.store.repair import repair
from wxtui.store.views import View

DAY = 86_400
T0 = 1_600_000_000
SORTS = (Sort(), Sort(descending=False), Sort(SortKey.OPENID, descending=False), Sort(SortKey.OPENID),
         Sort(SortKey.REMARK, descending=False))
FILTERS = (
    Filter(text="李"),
    Filter(text="李娜"),
    Filter(text="vip"),
    Filter(text="VIP客户"),
    Filter(text="王芳 VIP"),
    Filter(text="a_b"),
    Filter(text="%"),
    Filter(text="zzzz"),
    Filter(text="张伟伟伟"),
    Filter(text="oTeSt_"),
    Filter(text="oTeSt_a"),
    Filter(text="新备注"),
    Filter(scenes={"ADD_SCENE_PAID"}),
    Filter(scenes={"ADD_SCENE_QR_CODE", "ADD_SCENE_SEARCH"}, languages={"en"}),
    Filter(subscribed_from=T0 + 3 * DAY + 500, subscribed_to=T0 + 20 * DAY - 7),
    Filter(subscribed_from=T0 + 30 * DAY),
    Filter(subscribed_to=T0 + 2 * DAY + 1),
    Filter(subscribed_from=T0 + 5 * DAY + 10, subscribed_to=T0 + 5 * DAY + 20),
    Filter(tags={100, 101}, not_tags={102}, scenes={"ADD_SCENE_QR_CODE", "ADD_SCENE_SEARCH"},
           subscribed_from=T0 + 4 * DAY, subscribed_to=T0 + 36 * DAY),
    Filter(tags={100, 101, 102}, match_all_tags=True, scenes={"ADD_SCENE_SEARCH"}, subscribed_from=T0),
    Filter(untagged=True, text="vip"),
    Filter(blacklisted=True, scenes={"ADD_SCENE_SEARCH", "ADD_SCENE_PAID"}),
    Filter(blacklisted=False, not_tags={100}, text="李"),
)


@pytest.fixture
def walks(monkeypatch):
    """Members walked day by day (or along the openid index) even when they are few."""
    monkeypatch.setattr("wxtui.store.views.SORT_FEW", 0)
    monkeypatch.setattr("wxtui.store.views.SORT_CAP", 0)


def from_sets(store: Store, flt: Filter, sort: Sort, n: int) -> list[int]:
    """first_ids as the sets answer it (failing if they do not)."""
    found = store.view(flt, sort)._from_sets(n)
    assert found is not None, (flt, sort)
    return list(found)


def assert_views_right(store: Store, model, filters=FILTERS, sorts=SORTS) -> None:
    assert store.follower_count() == len(model.followers)
    assert store.view().count() == len(model.followers)
    ids = store.follower_ids(model.followers)
    for flt in filters:
        for sort in sorts:
            expected = expected_ids(model, ids, flt, sort)
            for n in (1, 7, 60):
                assert list(store.view(flt, sort).first_ids(n)) == expected[:n], (flt, sort, n)
            assert list(store.view(flt, sort).row_ids()) == expected, (flt, sort)
        assert store.view(flt).count() == len(expected_ids(model, ids, flt, Sort())), flt


def assert_current(store: Store) -> None:
    assert followersets.current(store.conn) is not None, "the sets missed a change"


@pytest.fixture
def store(tmp_path):
    store = Store.open(tmp_path / "cache.sqlite")
    yield store
    store.close()


def test_a_sync_pass_keeps_the_sets_it_collected(store, walks):
    model = crafted_model()
    load(store, model)
    assert_current(store)
    ids = store.follower_ids(model.followers)
    for flt in FILTERS:
        for sort in SORTS[:3]:
            assert from_sets(store, flt, sort, 9) == expected_ids(model, ids, flt, sort)[:9], (flt, sort)
    assert_views_right(store, model)


def test_the_sets_follow_every_write(store, walks):
    model = crafted_model()
    load(store, model)
    openids = list(model.followers)

    store.apply_remark(openids[0], "新备注 VIP")  # a text no follower had
    model.followers[openids[0]].remark = "新备注 VIP"
    store.apply_remark(openids[1], "")
    model.followers[openids[1]].remark = ""
    assert_current(store)
    assert_views_right(store, model)

    refreshed = crafted_followers(8, seed=23)  # other times, scenes, remarks, tags
    for f, openid in zip(refreshed, openids[2:7]):
        f.openid = openid
    refreshed[5].subscribe_time = T0 + 50 * DAY  # a follower on a day nobody followed yet
    store.upsert_followers(refreshed)  # five refreshed, three new
    model.followers.update({f.openid: f for f in refreshed})
    assert_current(store)
    assert_views_right(store, model)

    store.remove_followers(openids[7:12])
    for openid in openids[7:12]:
        del model.followers[openid]
    assert_current(store)
    assert_views_right(store, model)

    store.apply_tagged(100, openids[12:30])
    store.apply_untagged(101, openids[12:30])
    for openid in openids[12:30]:
        f = model.followers[openid]
        f.tagid_list = sorted((set(f.tagid_list) | {100}) - {101})
    assert_current(store)
    assert_views_right(store, model)

    again = crafted_model(seed=9)  # a new full pass: other followers
    load(store, again)
    assert_current(store)
    assert_views_right(store, again)


def test_a_write_the_sets_missed_makes_them_stale_and_a_count_rebuilds_them(store, walks):
    model = crafted_model()
    load(store, model)
    openid = next(iter(model.followers))
    with store.transaction():  # no store method: nothing moves the follower between sets
        store.conn.execute("UPDATE followers SET scene = 'ADD_SCENE_PAID' WHERE openid = ?", (openid,))
    model.followers[openid].subscribe_scene = "ADD_SCENE_PAID"
    assert followersets.current(store.conn) is None
    assert store.view(Filter(scenes={"ADD_SCENE_PAID"}))._from_sets(5) is None  # never used stale
    ids = store.follower_ids(model.followers)
    paid = Filter(scenes={"ADD_SCENE_PAID"})
    assert list(store.view(paid).first_ids(9)) == expected_ids(model, ids, paid, Sort())[:9]
    assert store.view(paid).count() == len(expected_ids(model, ids, paid, Sort()))
    assert_current(store)  # the count rebuilt them
    assert_views_right(store, model)


def test_sets_without_their_triggers_are_not_trusted(store):
    """An older wxtui's sync swaps the followers table in and loses the triggers."""
    load(store, crafted_model())
    with store.transaction():
        store.conn.execute("DROP TRIGGER follower_sets_update")
    assert followersets.current(store.conn) is None
    store.view(Filter(scenes={"ADD_SCENE_PAID"})).count()
    assert_current(store)  # rebuilt, with the triggers back


def test_a_pass_resumed_by_another_process_leaves_the_sets_stale(tmp_path, walks):
    path = tmp_path / "cache.sqlite"
    model = crafted_model()
    followers = list(model.followers.values())
    first = Store.open(path)
    first.replace_tags([Tag(t, name, 0) for t, name in model.tags.items()])
    pass_id = first.begin_pass()
    first.upsert_followers(followers[:100], pass_id)
    first.close()  # interrupted
    store = Store.open(path)
    try:
        store.upsert_followers(followers[100:], store.pass_in_progress())
        store.finish_pass(pass_id)
        store.replace_blacklist(sorted(model.blacklist))
        assert followersets.current(store.conn) is None
        assert_views_right(store, model)  # the plans, then a count rebuilds the sets
        assert_current(store)
    finally:
        store.close()


def test_a_follower_listed_twice_in_a_pass_leaves_the_sets_stale(store):
    model = crafted_model()
    followers = list(model.followers.values())
    store.replace_tags([Tag(t, name, 0) for t, name in model.tags.items()])
    pass_id = store.begin_pass()
    store.upsert_followers(followers[:50], pass_id)
    changed = crafted_followers(1, seed=77)[0]
    changed.openid = followers[10].openid
    store.upsert_followers([changed, *followers[50:]], pass_id)  # paging while the list changed
    store.finish_pass(pass_id)
    store.replace_blacklist(sorted(model.blacklist))
    model.followers[changed.openid] = changed
    assert followersets.current(store.conn) is None
    assert_views_right(store, model, sorts=SORTS[:1])
    assert_current(store)


def test_a_cache_from_an_older_wxtui_is_migrated(tmp_path):
    path = tmp_path / "cache.sqlite"
    model = crafted_model()
    store = Store.open(path)
    load(store, model)
    with store.transaction():  # as the file was before the sets existed
        for trigger in ("follower_sets_insert", "follower_sets_delete", "follower_sets_update"):
            store.conn.execute(f"DROP TRIGGER {trigger}")
        store.conn.execute("DROP TABLE follower_sets")
        store.conn.execute("DROP TABLE follower_sets_state")
        store.conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm008_follower_sets'")
    store.close()
    store = Store.open(path)
    try:
        assert followersets.current(store.conn) is None
        assert_views_right(store, model, sorts=SORTS[:2])
        assert_current(store)
    finally:
        store.close()


def test_a_repaired_cache_fills_its_sets_at_the_next_sync(tmp_path):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    assert repair(path).repaired
    store = Store.open(path)
    try:
        assert store.view(Filter(text="李")).count() == 0
        model = crafted_model()
        load(store, model)
        assert_current(store)
        assert_views_right(store, model, sorts=SORTS[:2])
    finally:
        store.close()


tag_sets = st.frozensets(st.sampled_from(TAG_IDS), max_size=3)
days = st.one_of(st.none(), st.integers(-3, 43).map(lambda d: T0 + d * DAY), st.integers(T0 - DAY, T0 + 43 * DAY))
filters = st.builds(
    Filter,
    tags=tag_sets,
    match_all_tags=st.booleans(),
    not_tags=tag_sets,
    untagged=st.booleans(),
    blacklisted=st.sampled_from([None, True, False]),
    text=st.one_of(st.just(""), st.sampled_from(["李", "李娜", "vip", "VIP客户", "王芳 VIP", "Wang", "a_b", "\\", "%",
                                                 "say", "zz", "oTeSt_a", "张伟伟"]), st.text(max_size=3)),
    scenes=st.frozensets(st.sampled_from(SCENES + ("ADD_SCENE_OTHERS",)), max_size=2),
    languages=st.frozensets(st.sampled_from(("zh_CN", "en", "fr")), max_size=1),
    subscribed_from=days,
    subscribed_to=days,
)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    model = crafted_model()
    store = Store.open(tmp_path_factory.mktemp("sets") / "cache.sqlite")
    load(store, model)
    yield store, model, store.follower_ids(model.followers)
    store.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flt=filters, sort=st.sampled_from(SORTS), n=st.sampled_from([1, 5, 40]))
def test_any_filter_from_the_sets_matches_the_reference(cache, monkeypatch, flt, sort, n):
    store, model, ids = cache
    expected = expected_ids(model, ids, flt, sort)
    with monkeypatch.context() as m:
        m.setattr("wxtui.store.views.SORT_FEW", 0)
        m.setattr("wxtui.store.views.SORT_CAP", 0)
        assert list(store.view(flt, sort).first_ids(n)) == expected[:n]
    found = store.view(flt, sort)._match(store.reader(), build=False)
    assert found is not None
    assert len(found.members) >= len(expected)
    if found.exact:
        assert sorted(found.members) == sorted(expected)
    assert store.view(flt, sort).count() == len(expected)
    assert list(store.view(flt, sort).first_ids(n)) == expected[:n]


# ---- the statements' shape -----------------------------------------------------------------

BY_ID = "SEARCH f USING INTEGER PRIMARY KEY (rowid=?)"


def statements(store: Store, flt: Filter, sort: Sort, method: str, monkeypatch) -> list[tuple[str, list]]:
    ran: list[tuple[str, list]] = []
    fetch, fetch_into = View._fetch, View._fetch_into
    with monkeypatch.context() as m:
        m.setattr(View, "_fetch", lambda self, conn, sql, params: ran.append((sql, params)) or
                  fetch(self, conn, sql, params))
        m.setattr(View, "_fetch_into", lambda self, conn, sql, params, out: ran.append((sql, params)) or
                  fetch_into(self, conn, sql, params, out))
        getattr(store.view(flt, sort), method)()
    return ran


@pytest.mark.parametrize("forced_walks", [False, True])
def test_the_sets_read_only_rows_by_id_and_a_screenful_at_a_time(cache, monkeypatch, forced_walks):
    """Whatever the size, every statement of a view answered by the sets reads its members'
    rows by id (no walk of a table or an index, whatever SQLite's statistics say; in openid
    order, many members are found along the openid index, outside these statements), and the
    first rows read at most a screenful more than a day's members."""
    store, model, ids = cache
    if forced_walks:
        monkeypatch.setattr("wxtui.store.views.SORT_FEW", 0)
        monkeypatch.setattr("wxtui.store.views.SORT_CAP", 0)
    store.conn.execute("ANALYZE")
    everyone = store.view().row_ids()
    per_day = max(len(m) for _, m in followersets.members_by_day(store.reader(), BitMap(list(everyone)), True))
    for flt in FILTERS:
        if flt.text.startswith("oTeSt_"):
            continue  # an openid prefix matching everyone: the plans answer it
        for sort in SORTS[:3]:
            for method in ("first_ids", "count", "row_ids"):
                for sql, params in statements(store, flt, sort, method, monkeypatch):
                    steps = [r[3] for r in store.reader().execute("EXPLAIN QUERY PLAN " + sql, params)]
                    assert "json_each" in sql and steps[0].startswith("SCAN j") and steps[1] == BY_ID, \
                        (flt, sort, method, sql, steps)
                    assert not any(s.startswith("SCAN f") or s.startswith("SCAN followers") for s in steps)
                    if method == "first_ids" and forced_walks:
                        assert params[0].count(",") + 1 <= 100 + per_day, (flt, sort)
    store.conn.execute("DROP TABLE sqlite_stat1")


def test_writes_while_a_pass_runs_are_replayed_onto_its_sets(store, walks):
    model = crafted_model()
    followers = list(model.followers.values())
    store.replace_tags([Tag(t, name, 0) for t, name in model.tags.items()])
    pass_id = store.begin_pass()
    store.upsert_followers(followers[:120], pass_id)
    store.apply_remark(followers[3].openid, "新备注")  # a job's effects while the sync runs
    store.apply_tagged(102, [f.openid for f in followers[:10]])
    store.upsert_followers(followers[120:], pass_id)
    store.finish_pass(pass_id)
    store.replace_blacklist(sorted(model.blacklist))
    model.followers[followers[3].openid].remark = "新备注"
    for f in followers[:10]:
        f.tagid_list = sorted(set(f.tagid_list) | {102})
    assert_current(store)
    assert_views_right(store, model, sorts=SORTS[:2])


def test_an_openid_prefix_matching_many_is_left_to_the_plans(cache, monkeypatch):
    store, model, ids = cache
    monkeypatch.setattr("wxtui.store.followersets.OPENID_CAP", 10)
    for text in ("oTeSt_", "oTeSt_a", "李"):
        flt = Filter(text=text)
        answered = store.view(flt)._from_sets(5)
        prefixed = sum(1 for openid in model.followers if openid.startswith(text))
        assert (answered is None) == (prefixed > 10), (text, prefixed)
        expected = expected_ids(model, ids, flt, Sort())
        assert list(store.view(flt).first_ids(5)) == expected[:5]
        assert store.view(flt).count() == len(expected)


def test_too_many_remark_characters_leave_text_to_the_plans_and_everything_else_to_the_sets(store, walks,
                                                                                           monkeypatch):
    # Remarks that are people's names make hundreds of thousands of character sets at 1M, each
    # with its own overhead; past the cap none are kept, so a sync's memory stays bounded.
    model = crafted_model()
    distinct = {g for f in model.followers.values() if f.remark for g in followersets.grams(f.remark)}
    monkeypatch.setattr(followersets, "GRAM_CAP", len(distinct) // 2)
    load(store, model)
    assert_current(store)
    kinds = {r[0] for r in store.conn.execute("SELECT DISTINCT kind FROM follower_sets")}
    assert "gram" not in kinds and followersets.NO_GRAMS[0] in kinds
    assert store.view(Filter(text="李"))._from_sets(5) is None  # text: the plans answer
    assert store.view(Filter(scenes={"ADD_SCENE_PAID"}))._from_sets(5) is not None  # the rest: the sets
    assert_views_right(store, model)

    openids = list(model.followers)
    store.apply_remark(openids[0], "新备注 VIP")  # a remark change keeps the sets current, no grams
    model.followers[openids[0]].remark = "新备注 VIP"
    assert_current(store)
    assert "gram" not in {r[0] for r in store.conn.execute("SELECT DISTINCT kind FROM follower_sets")}
    assert_views_right(store, model)

    with store.transaction():  # stale: the count rebuilds them, under the same cap
        store.conn.execute("UPDATE follower_sets_state SET built = NULL")
    assert store.view(Filter(text="VIP")).count() == len(
        expected_ids(model, store.follower_ids(model.followers), Filter(text="VIP"), Sort()))
    assert_current(store)
    assert followersets.NO_GRAMS[0] in {r[0] for r in store.conn.execute("SELECT DISTINCT kind FROM follower_sets")}

    distinct = {g for f in model.followers.values() if f.remark for g in followersets.grams(f.remark)}
    monkeypatch.setattr(followersets, "GRAM_CAP", len(distinct))  # exactly as many: all kept
    load(store, model)
    kinds = {r[0] for r in store.conn.execute("SELECT DISTINCT kind FROM follower_sets")}
    assert "gram" in kinds and followersets.NO_GRAMS[0] not in kinds
    assert store.view(Filter(text="李"))._from_sets(5) is not None
    assert_views_right(store, model)
