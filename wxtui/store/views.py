"""A view: a Filter and a Sort turned into the first rows at once, then the exact count and the
ordered row ids (an array of ints, never a Python object per follower).

SQLite's planner, without statistics, joins and then sorts: "tag X by subscribe time" sorts
600k rows (seconds). So the plan is chosen here, from sizes the cache knows exactly (per-tag
counts, untagged, blacklist): the query is driven either by a walk of an index that is already
in the requested order (stopping after n rows for the first screen), or by the smallest set of
candidates, collected and sorted. Whatever drives, every condition of the filter is applied.
"""

from __future__ import annotations

import sqlite3
import threading
from array import array
from dataclasses import dataclass, field

from .filters import Filter, FollowerRow, Sort, SortKey
from .textsearch import text_candidates, text_condition

# Costs in µs per row, measured on a 1M-follower cache (bench/view_bench.py; ±30%): only
# their ratios steer the choice. Reading an index that covers what is asked is cheap; reaching
# the follower row from it (random access) costs the most; the table read in rowid order is
# cheapest per row; a probe of memberships or the blacklist, and sorting, sit between.
INDEX_ROW = 0.3
ROW_LOOKUP = 1.7
TABLE_ROW = 0.1
REMARK_ROW = 0.08
PROBE = 0.4
SORT_ROW = 0.6
# A cautious guess at the share of remarks a search matches, before it runs: a walk that
# expects many matches and finds none reads every follower (2 s at 1M), the scan of the
# remarks is bounded (~25 ms at 300k remarks), so the guess leans towards the scan.
TEXT_MATCH_SHARE = 0.01
FETCH = 8192


class QueryCancelled(Exception):
    """View.cancel() interrupted a query that was running in another thread."""


@dataclass
class _Condition:
    name: str
    sql: str  # {id} stands for the follower id; other columns are read through f
    params: list
    needs_f: bool


@dataclass
class _Segment:
    """One ORDER BY walk; the remark order is two of them (with a remark, then without)."""

    order: str  # with {d} for ASC/DESC
    where: str = ""
    hint: str = ""  # INDEXED BY for the followers table


@dataclass
class _Source:
    """A way to enumerate candidates: the FROM clause and its own conditions."""

    name: str
    size: int
    from_sql: str  # may hold {hint} after "followers f"
    where: str
    params: list
    id_col: str
    covers: frozenset[str]  # filter conditions this source guarantees
    has_f: bool  # "followers f" is part of from_sql
    walks: dict[SortKey, list[_Segment]] = field(default_factory=dict)
    per_row: float = INDEX_ROW  # to enumerate one candidate
    f_cost: float = ROW_LOOKUP  # more per candidate when a condition or the order reads f
    estimate: float | None = None  # matches among the candidates, when not size
    sorts: dict[SortKey, str] = field(default_factory=dict)  # ORDER BY on d alone, no row read


def _conditions(flt: Filter) -> list[_Condition]:
    out = []
    member = "EXISTS (SELECT 1 FROM memberships m WHERE m.follower = {id} AND m.tagid "
    if flt.tags and flt.match_all_tags:
        out += [_Condition(f"tag:{t}", member + "= ?)", [t], False) for t in sorted(flt.tags)]
    elif flt.tags:
        out.append(_Condition("tags", member + f"IN ({_marks(flt.tags)}))", sorted(flt.tags), False))
    if flt.not_tags:
        out.append(_Condition("not_tags", "NOT " + member + f"IN ({_marks(flt.not_tags)}))",
                              sorted(flt.not_tags), False))
    if flt.untagged:
        out.append(_Condition("untagged", "f.tag_count = 0", [], True))
    if flt.blacklisted is not None:
        sql = "EXISTS (SELECT 1 FROM blacklist b WHERE b.openid = f.openid)"
        out.append(_Condition("blacklisted" if flt.blacklisted else "not_blacklisted",
                              sql if flt.blacklisted else "NOT " + sql, [], True))
    if flt.text:
        out.append(_Condition("text", *text_condition(flt.text), True))
    if flt.scenes:
        out.append(_Condition("scenes", f"f.scene IN ({_marks(flt.scenes)})", sorted(flt.scenes), True))
    if flt.languages:
        out.append(_Condition("languages", f"f.language IN ({_marks(flt.languages)})", sorted(flt.languages), True))
    if flt.subscribed_from is not None:
        out.append(_Condition("from", "f.subscribe_time >= ?", [flt.subscribed_from], True))
    if flt.subscribed_to is not None:
        out.append(_Condition("to", "f.subscribe_time < ?", [flt.subscribed_to], True))
    return out


def _marks(items) -> str:
    return ",".join("?" * len(items))


def _order_by(sort: Sort) -> str:
    """ORDER BY for collected candidates: the same order as the walks."""
    d = "DESC" if sort.descending else "ASC"
    if sort.key is SortKey.SUBSCRIBE_TIME:
        return f"f.subscribe_time {d}, f.id {d}"
    if sort.key is SortKey.OPENID:
        return f"f.openid {d}"
    # Followers without a remark come last in both directions (nobody wants 700k blanks first).
    # Those without a remark follow in row id order (as the walk gives them: no sort of 700k).
    return (f"f.remark = '' ASC, f.remark {d}, CASE WHEN f.remark = '' THEN 0 ELSE f.subscribe_time END {d}, "
            f"f.id {d}")


_ALL_WALKS = {
    SortKey.SUBSCRIBE_TIME: [_Segment("f.subscribe_time {d}, f.id {d}", hint="followers_by_subscribe_time")],
    SortKey.OPENID: [_Segment("f.openid {d}", hint="followers_by_openid")],
    SortKey.REMARK: [_Segment("f.remark {d}, f.subscribe_time {d}, f.id {d}", "f.remark != ''",
                              "followers_by_remark"),
                     _Segment("f.id {d}", "f.remark = ''")],
}


class View:
    """Followers matching a filter, in an order. Every method may run in any thread."""

    def __init__(self, store, flt: Filter, sort: Sort):
        self.store = store
        self.filter = flt
        self.sort = sort
        self._count: int | None = None
        self._running: sqlite3.Connection | None = None
        self._cancelled = threading.Event()

    def __repr__(self) -> str:
        return f"View({self.filter.describe()} · {self.sort.describe()})"

    # ---- public ----------------------------------------------------------------------------

    def first_ids(self, n: int = 100) -> array:
        conn, conds, sources, estimate = self._plan_inputs()
        source = min(sources, key=lambda s: self._first_cost(s, conds, n, estimate))
        return self._ordered_ids(conn, source, conds, limit=n)

    def first_rows(self, n: int = 100) -> list[FollowerRow]:
        """The first n rows in order, at once (the screen the user sees first)."""
        return [r for r in self.store.rows_by_ids(self.first_ids(n)) if r is not None]

    def row_ids(self) -> array:
        """Every matching id in order, as array('q'). Up to a second at 1M: run it off the UI."""
        conn, conds, sources, estimate = self._plan_inputs()
        source = min(sources, key=lambda s: self._all_cost(s, conds, estimate))
        ids = self._ordered_ids(conn, source, conds, limit=None)
        self._count = len(ids)
        return ids

    def count(self) -> int:
        """The exact number of matching followers (remembered once known)."""
        if self._count is None and self.filter.is_empty:
            self._count = self._fetch(self.store.reader(), "SELECT count(*) FROM followers", [])[0][0]
        if self._count is None:
            conn, conds, sources, _ = self._plan_inputs()
            source = min(sources, key=lambda s: self._scan_cost(s, conds, sort_needs_f=False))
            sql, params = self._select(source, conds, "count(*)", need_f=False)
            self._count = self._fetch(conn, sql, params)[0][0]
        return self._count

    def id_set_sql(self) -> tuple[str, list]:
        """A subquery of the matching ids (column `id`, no order), for set operations."""
        _, conds, sources, _ = self._plan_inputs()
        source = min(sources, key=lambda s: self._scan_cost(s, conds, sort_needs_f=False))
        return self._select(source, conds, "{id} AS id", need_f=False)

    def condition_sql(self) -> tuple[str, list]:
        """The filter as one SQL condition on followers aliased f ("1" when it matches all)."""
        conds = _conditions(self.filter)
        where = " AND ".join(c.sql.format(id="f.id") for c in conds) or "1"
        return where, [p for c in conds for p in c.params]

    def matching_of(self, ids) -> set[int]:
        """Which of these ids the filter matches (a window of rows, a selection's members)."""
        conn = self.store.reader()
        cond, params = self.condition_sql()
        where = f" AND {cond}"
        out: set[int] = set()
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"SELECT f.id FROM followers f WHERE f.id IN ({_marks(chunk)}){where}"
            out.update(r[0] for r in conn.execute(sql, chunk + params))
        return out

    def contains(self, follower_id: int) -> bool:
        return bool(self.matching_of([follower_id]))

    def cancel(self) -> None:
        """Stop this view's query running in another thread; it raises QueryCancelled there."""
        self._cancelled.set()
        running = self._running
        if running is not None:
            running.interrupt()

    # ---- planning --------------------------------------------------------------------------

    def _plan_inputs(self):
        conn = self.store.reader()
        conds = _conditions(self.filter)
        sources = self._sources(conn, conds)
        return conn, conds, sources, self._estimate(sources, conds)

    def _sources(self, conn, conds: list[_Condition]) -> list[_Source]:
        flt = self.filter
        one = lambda sql, params=(): self._fetch(conn, sql, list(params))[0][0]  # noqa: E731
        n_all = one("SELECT count(*) FROM followers")
        sources = [
            # Walk an index in the order asked for (stops early for the first rows).
            _Source("all", n_all, "followers f{hint}", "", [], "f.id", frozenset(), True, _ALL_WALKS),
            # Read the table in rowid order, then sort what matched.
            _Source("table", n_all, "followers f NOT INDEXED", "", [], "f.id", frozenset(), True,
                    per_row=TABLE_ROW, f_cost=0.0),
        ]
        counts = dict(self._fetch(conn, "SELECT id, count FROM tags", []))
        dates = [c for c in conds if c.name in ("from", "to")]
        date_sql = "".join(" AND " + c.sql.replace("f.", "d.") for c in dates)
        date_params = [p for c in dates for p in c.params]
        if flt.tags and (flt.match_all_tags or len(flt.tags) == 1):
            for t in sorted(flt.tags):
                covers = {f"tag:{t}" if flt.match_all_tags else "tags", "from", "to"}
                sources.append(_Source(
                    f"tag {t}", counts.get(t, n_all), "memberships d", "d.tagid = ?" + date_sql,
                    [t, *date_params], "d.follower", frozenset(covers), False,
                    {SortKey.SUBSCRIBE_TIME: [_Segment("d.subscribe_time {d}, d.follower {d}")]},
                ))
        elif flt.tags:
            sources.append(_Source(
                "any tag", sum(counts.get(t, n_all) for t in flt.tags),
                # A follower's subscribe_time is the same in each of its memberships, so the pair
                # is distinct per follower and the order needs no follower row.
                "(SELECT DISTINCT follower, subscribe_time FROM memberships "
                f"WHERE tagid IN ({_marks(flt.tags)})) d",
                "", sorted(flt.tags), "d.follower", frozenset({"tags"}), False, per_row=INDEX_ROW + SORT_ROW,
                sorts={SortKey.SUBSCRIBE_TIME: "d.subscribe_time {d}, d.follower {d}"},
            ))
        if dates:
            where = " AND ".join(c.sql for c in dates)
            size = one(f"SELECT count(*) FROM followers f INDEXED BY followers_by_subscribe_time WHERE {where}",
                       date_params)
            sources.append(_Source("followed", size, "followers f{hint}", where, date_params, "f.id",
                                   frozenset({"from", "to"}), True, {SortKey.SUBSCRIBE_TIME: _ALL_WALKS[SortKey.SUBSCRIBE_TIME]}))
        if flt.untagged:
            size = one("SELECT count(*) FROM followers WHERE tag_count = 0")
            sources.append(_Source("untagged", size, "followers f{hint}", "f.tag_count = 0", [], "f.id",
                                   frozenset({"untagged"}), True,
                                   {SortKey.SUBSCRIBE_TIME: [_Segment("f.subscribe_time {d}, f.id {d}",
                                                                      hint="followers_untagged")]}))
        if flt.blacklisted:
            sources.append(_Source("blacklist", one("SELECT count(*) FROM blacklist"),
                                   "blacklist d CROSS JOIN followers f ON f.openid = d.openid", "", [],
                                   "f.id", frozenset({"blacklisted"}), True, per_row=INDEX_ROW + ROW_LOOKUP,
                                   f_cost=0.0))
        if flt.text:
            sql, params = text_candidates(flt.text)
            remarks = one("SELECT count(*) FROM followers INDEXED BY followers_by_remark WHERE remark != ''")
            # Its cost is known (a scan of the compact index of non-empty remarks); how many
            # match is not, until it runs.
            sources.append(_Source("text", remarks, f"({sql}) d", "", params, "d.id", frozenset({"text"}),
                                   False, per_row=REMARK_ROW, estimate=remarks * TEXT_MATCH_SHARE,
                                   sorts={SortKey.SUBSCRIBE_TIME: "d.subscribe_time {d}, d.id {d}"}))
        return sources

    @staticmethod
    def _estimate(sources: list[_Source], conds: list[_Condition]) -> float:
        """Expected matches, taking conditions as independent."""
        n_all = max(sources[0].size, 1)
        estimate = float(n_all)
        for s in sources[2:]:
            estimate *= min((s.size if s.estimate is None else s.estimate) / n_all, 1.0)
        for c in conds:
            if c.name in ("not_tags", "scenes", "languages", "not_blacklisted"):
                estimate *= 0.5
        return estimate

    def _row_cost(self, s: _Source, conds: list[_Condition], sort_needs_f: bool) -> float:
        """Cost per candidate the source yields, beyond enumerating it."""
        rest = [c for c in conds if c.name not in s.covers]
        cost = sum(PROBE if "EXISTS" in c.sql else TABLE_ROW for c in rest)
        if sort_needs_f or any(c.needs_f for c in rest):
            cost += s.f_cost
        return cost

    def _scan_cost(self, s: _Source, conds: list[_Condition], sort_needs_f: bool) -> float:
        yielded = s.size if s.estimate is None else s.estimate
        return s.size * s.per_row + yielded * self._row_cost(s, conds, sort_needs_f)

    def _first_cost(self, s: _Source, conds: list[_Condition], n: int, estimate: float) -> float:
        if self.sort.key in s.walks:
            share = max(estimate, 1.0) / max(s.size, 1)
            return min(s.size, n / share) * (s.per_row + self._row_cost(s, conds, False))
        return self._all_cost(s, conds, estimate)

    def _all_cost(self, s: _Source, conds: list[_Condition], estimate: float) -> float:
        if self.sort.key in s.walks:
            return self._scan_cost(s, conds, False)
        sort_needs_f = self.sort.key not in s.sorts
        return self._scan_cost(s, conds, sort_needs_f) + min(estimate, s.size) * SORT_ROW

    # ---- SQL -------------------------------------------------------------------------------

    def _select(self, s: _Source, conds: list[_Condition], what: str, need_f: bool,
                segment: _Segment | None = None) -> tuple[str, list]:
        rest = [c for c in conds if c.name not in s.covers]
        join_f = not s.has_f and (need_f or any(c.needs_f for c in rest))
        id_expr = "f.id" if (s.has_f or join_f) else s.id_col
        from_sql = s.from_sql.format(hint=f" INDEXED BY {segment.hint}" if segment and segment.hint else "")
        if join_f:
            from_sql += f" CROSS JOIN followers f ON f.id = {s.id_col}"
        where = [w for w in (s.where, segment.where if segment else "") if w]
        where += [c.sql.format(id=id_expr) for c in rest]
        sql = f"SELECT {what.format(id=id_expr)} FROM {from_sql}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return sql, s.params + [p for c in rest for p in c.params]

    def _ordered_ids(self, conn, s: _Source, conds: list[_Condition], limit: int | None) -> array:
        d = "DESC" if self.sort.descending else "ASC"
        walk = s.walks.get(self.sort.key)
        own_sort = s.sorts.get(self.sort.key)
        segments = walk or [_Segment(own_sort or _order_by(self.sort))]
        out = array("q")
        for segment in segments:
            sql, params = self._select(s, conds, "{id}", need_f=not (walk or own_sort), segment=segment)
            sql += " ORDER BY " + segment.order.format(d=d)
            if limit is not None:
                sql += f" LIMIT {limit - len(out)}"
            self._fetch_into(conn, sql, params, out)
            if limit is not None and len(out) >= limit:
                break
        return out

    def _fetch(self, conn, sql: str, params: list) -> list[tuple]:
        return self._guarded(conn, lambda: conn.execute(sql, params).fetchall())

    def _fetch_into(self, conn, sql: str, params: list, out: array) -> None:
        def run():
            cursor = conn.execute(sql, params)
            while batch := cursor.fetchmany(FETCH):
                out.extend([r[0] for r in batch])
        self._guarded(conn, run)

    def _guarded(self, conn, run):
        if self._cancelled.is_set():
            raise QueryCancelled(repr(self))
        self._running = conn
        try:
            return run()
        except sqlite3.OperationalError as exc:
            if "interrupt" in str(exc):
                raise QueryCancelled(repr(self)) from None
            raise
        finally:
            self._running = None
