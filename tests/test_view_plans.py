"""The shape of every view's plan, not its time: the same at 1M, 3M and 10M followers, with or
without SQLite's statistics, and a text search never walks every follower.

A small crafted cache stands in for the big ones: the sizes the planner reads (followers, tag
counts, untagged, blacklist, date ranges, openid prefixes) are scaled up, the distribution kept.
These are the plans that answer when the follower sets cannot (stale after an interrupted sync,
or an openid prefix matching too many); tests/test_follower_sets.py holds the sets' own shape.
"""

from __future__ import annotations

import pytest

from store_support import crafted_model, load
from wxtui.store import Filter, Sort, SortKey, Store
from wxtui.store.views import View

SIZES = (1_000_000, 3_000_000, 10_000_000)
SORTS = (Sort(), Sort(SortKey.OPENID, descending=False), Sort(SortKey.REMARK, descending=False))
TEXTS = ("王", "李娜", "VIP客户", "zzzz", "张伟伟伟", "q", "Kevin", '%_"*#\\', "oTeSt_", "oTeSt_a")


@pytest.fixture(autouse=True)
def without_follower_sets(monkeypatch):
    monkeypatch.setattr("wxtui.store.followersets.match", lambda *args, **kwargs: None)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = Store.open(tmp_path_factory.mktemp("plans") / "cache.sqlite")
    load(store, crafted_model())
    yield store
    store.close()


def bench_filters(store: Store) -> dict[str, Filter]:
    """The filters of bench/view_bench.py, on the crafted cache's tags."""
    tags = sorted(store.tags(), key=lambda t: t.count)
    big, other, rare = tags[-1].id, tags[-2].id, tags[0].id
    named = {
        "all": Filter(),
        "big_tag": Filter(tags={big}),
        "rare_tag": Filter(tags={rare}),
        "untagged": Filter(untagged=True),
        "tag_and_not_tag": Filter(tags={big}, not_tags={other}),
        "any_of_two_tags": Filter(tags={big, other}),
        "all_of_two_tags": Filter(tags={big, other}, match_all_tags=True),
        "blacklisted": Filter(blacklisted=True),
        "followed": Filter(subscribed_from=1_600_000_000, subscribed_to=1_601_000_000),
        "tag_and_text": Filter(tags={big}, text="李娜"),
        "untagged_text": Filter(untagged=True, text="zzzz"),
    }
    named.update({f"text {t!r}": Filter(text=t) for t in TEXTS})
    return named


def plan(store: Store, flt: Filter, sort: Sort, followers: int | None, monkeypatch) -> list:
    """What each of first_ids, row_ids and count runs: the statement and SQLite's plan of it,
    with the planner seeing `followers` followers (the cache's own sizes scaled up)."""
    with monkeypatch.context() as m:
        if followers is not None:
            scale = followers / store.follower_count()
            size, tag_sizes = View._size, View._tag_sizes
            m.setattr(View, "_size", lambda self, conn, sql, params: round(size(self, conn, sql, params) * scale))
            m.setattr(View, "_tag_sizes", lambda self, conn: {t: round(n * scale)
                                                             for t, n in tag_sizes(self, conn).items()})
        ran: list[tuple[str, list]] = []
        fetch, fetch_into = View._fetch, View._fetch_into
        m.setattr(View, "_fetch", lambda self, conn, sql, params: ran.append((sql, params)) or
                  fetch(self, conn, sql, params))
        m.setattr(View, "_fetch_into", lambda self, conn, sql, params, out: ran.append((sql, params)) or
                  fetch_into(self, conn, sql, params, out))
        shapes = []
        for method in ("first_ids", "row_ids", "count"):
            ran.clear()
            getattr(store.view(flt, sort), method)()
            if not ran:  # a count of tags alone, from their bitmaps
                shapes.append((method, "tag bitmaps", []))
                continue
            sql, params = ran[-1]
            steps = [r[3] for r in store.reader().execute("EXPLAIN QUERY PLAN " + sql, params)]
            shapes.append((method, sql, steps))
    return shapes


def test_every_view_keeps_its_plan_from_1m_to_10m_followers(store, monkeypatch):
    """The plan that answers whatever matches is the same at every size. (A walk that counts on
    a guessed share may be tried before it, under a budget of steps: spent at once here.)"""
    monkeypatch.setattr("wxtui.store.views.WALK_BUDGET_STEPS", 0)
    changed = []
    for name, flt in bench_filters(store).items():
        for sort in SORTS:
            plans = [plan(store, flt, sort, n, monkeypatch) for n in SIZES]
            if any(p != plans[0] for p in plans[1:]):
                changed.append(f"{name} · {sort.describe()}")
    assert not changed, f"plans that change with the size: {changed}"


@pytest.mark.parametrize("followers", SIZES)
@pytest.mark.parametrize("text", TEXTS)
def test_a_text_search_never_walks_every_follower(store, monkeypatch, text, followers):
    """A search's first rows come from the remarks' index (with the openid range beside it),
    whatever share of followers the search may match; only an openid prefix so short that
    thousands match walks every follower, and then finds a screenful at once. (A walk in another
    order may be tried first under a budget of steps: here the budget is spent at once.)"""
    monkeypatch.setattr("wxtui.store.views.WALK_BUDGET_STEPS", 0)
    for sort in SORTS:
        for method, sql, steps in plan(store, Filter(text=text), sort, followers, monkeypatch):
            walks_everyone = [s for s in steps if s.startswith("SCAN") and "followers_remark_by_time" not in s]
            if text.startswith("oTeSt_"):
                # Scaled up, an openid prefix matches thousands (every follower for the account's
                # own prefix): in subscribe-time order they are everywhere and a walk finds a
                # screenful at once; in openid order they are one range, read in place.
                if method == "first_ids" and sort.key is SortKey.SUBSCRIBE_TIME:
                    assert "followers_by_subscribe_time" in sql, sql
                if method == "first_ids" and sort.key is SortKey.OPENID:
                    assert "SEARCH f USING COVERING INDEX followers_by_openid (openid>? AND openid<?)" in steps
                continue
            if method == "first_ids" or method == "count":
                assert "followers_remark_by_time" in sql, (method, sort, sql)
                assert not walks_everyone or "NOT INDEXED" in sql, (method, sort, steps)


def test_sqlite_statistics_do_not_change_a_plan(tmp_path, monkeypatch):
    """Every statement names its index: ANALYZE, or statistics claiming tens of millions of
    rows, leave SQLite's plan of each view as it was."""
    path = tmp_path / "cache.sqlite"
    store = Store.open(path)
    try:
        load(store, crafted_model())
        flts = bench_filters(store)
        before = {(n, s): plan(store, f, s, 3_000_000, monkeypatch) for n, f in flts.items() for s in SORTS}
        store.conn.execute("ANALYZE")
        store.close()
        store = Store.open(path)
        analyzed = {(n, s): plan(store, f, s, 3_000_000, monkeypatch) for n, f in flts.items() for s in SORTS}
        store.conn.execute("UPDATE sqlite_stat1 SET stat = '30000000' || substr(stat, instr(stat || ' ', ' ')) "
                           "WHERE tbl IN ('followers', 'memberships')")
        store.close()
        store = Store.open(path)
        skewed = {(n, s): plan(store, f, s, 3_000_000, monkeypatch) for n, f in flts.items() for s in SORTS}
    finally:
        store.close()
    assert [k for k in before if analyzed[k] != before[k]] == []
    assert [k for k in before if skewed[k] != before[k]] == []


def ran_statements(store: Store, flt: Filter, monkeypatch, followers: int = 3_000_000) -> tuple[list, list[str]]:
    """first_ids of the filter (sizes scaled up) and every statement it ran after planning."""
    scale = followers / store.follower_count()
    size, tag_sizes = View._size, View._tag_sizes
    ran: list[str] = []
    fetch_into = View._fetch_into
    with monkeypatch.context() as m:
        m.setattr(View, "_size", lambda self, conn, sql, params: round(size(self, conn, sql, params) * scale))
        m.setattr(View, "_tag_sizes", lambda self, conn: {t: round(n * scale) for t, n in tag_sizes(self, conn).items()})
        m.setattr(View, "_fetch_into", lambda self, conn, sql, params, out: ran.append(sql) or
                  fetch_into(self, conn, sql, params, out))
        ids = list(store.view(flt).first_ids(5))
    return ids, ran


def test_a_walk_bet_on_a_guess_gives_way_to_the_bounded_plan(store, monkeypatch):
    """A scene's share is a guess: the walk in order is tried within a budget of steps, and a
    scene nobody has ends in the scan of the table (bounded), not a walk of every follower."""
    monkeypatch.setattr("wxtui.store.views.WALK_BUDGET_STEPS", 300)
    reference = {r.id for r in store.rows_by_ids(list(store.view().row_ids()))
                 if r is not None and r.scene == "ADD_SCENE_PAID"}
    ids, ran = ran_statements(store, Filter(scenes={"ADD_SCENE_PAID"}), monkeypatch)
    assert len(ran) == 1 and "followers_by_subscribe_time" in ran[0]  # found at once, no fallback
    assert len(ids) == 5 and set(ids) <= reference
    assert ids == list(store.view(Filter(scenes={"ADD_SCENE_PAID"})).row_ids())[:5]

    ids, ran = ran_statements(store, Filter(scenes={"ADD_SCENE_OTHERS"}), monkeypatch)
    assert ids == []
    assert len(ran) == 2 and "followers_by_subscribe_time" in ran[0] and "NOT INDEXED" in ran[1]
