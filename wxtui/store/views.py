"""A view: a Filter and a Sort turned into the first rows at once, then the exact count and the
ordered row ids (an array of ints, never a Python object per follower).

A filter with a text, a scene, a language or dates is answered from the follower sets
(followersets.py) when they are current: its members by set algebra, its count their number,
its first rows found day by day (or along the openid index) and only those rows read. Measured on
the 1M bench cache (bench/view_bench.py, best of three runs, a loaded machine): a scene's first
rows 17 -> 1 ms and count 201 -> 0.1 ms, a search that matches nobody 20-51 -> 0.1 ms, a segment
of three tags, a scene and dates 264 -> 3 ms to its first rows and 40 -> 1.6 ms to its count;
at 10M the slowest first rows of every bench filter 29 ms, the slowest count 304 ms (a 3+
character text confirmed on 100k candidates). Everything below is what answers otherwise (and
always for tags, untagged and the blacklist alone, whose plans walk their own indexes).

SQLite's planner, without statistics, joins and then sorts: "tag X by subscribe time" sorts
600k rows (seconds). So the plan is chosen here, from sizes the cache knows exactly (per-tag
counts, untagged, blacklist): the query is driven either by a walk of an index that is already
in the requested order (stopping after n rows for the first screen), or by the smallest set of
candidates, collected and sorted. Whatever drives, every condition of the filter is applied,
and every statement names its index (INDEXED BY, CROSS JOIN), so SQLite's own choice cannot
change with the size of the cache or with statistics.

A walk that stops early is only trusted on a share of matches the cache knows: how many remarks
a text matches, or how many followers came by a scene, is unknown until it runs, and a walk of
every follower that expected many and finds none reads every row (25 s at 3M). Such a walk is
tried under a budget of steps, then the plan bounded whatever matches answers. A text search in
the default order is driven by the remarks' own index, whose worst case is one scan of it.
"""

from __future__ import annotations

import sqlite3
import threading
from array import array
from dataclasses import dataclass, field

from pyroaring import BitMap

from . import followersets
from .filters import Filter, FollowerRow, Sort, SortKey
from .tagsets import tag_count, tagged_candidates
from .textsearch import openid_range, remark_match, text_condition

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
ID_ROW = 0.5  # a follower row read by id, ids in ascending order (a tag bitmap's candidates)
# A guess at the share of followers a search matches, before it runs. It only weighs the cost
# of what comes after the search's own scan; no walk stops early on it.
TEXT_MATCH_SHARE = 0.003
# An openid prefix matching up to this many followers is collected and sorted beside the
# remarks' walk; a shorter prefix matches so many (every openid of an account starts with the
# same few characters) that the walk in order of every follower finds a screenful at once.
OPENID_ARM_CAP = 5000
FETCH = 8192
# A walk chosen on a guessed share of matches (a text in openid order, a scene, "not these
# tags") runs under this budget of SQLite VM steps (~20k followers walked, tens of ms); past it,
# the plan that is bounded whatever matches takes over (a scene nobody has walked every
# follower: 11 s at 1M on a loaded machine).
WALK_BUDGET_STEPS = 80_000
_STEPS_PER_CHECK = 1000
# A filter's members found in the follower sets (followersets.py) are read and sorted by SQL
# when they are at most this many (~1 µs each); more, in subscribe-time order, are walked day by
# day, newest first, until a screenful is found. In openid order, up to SORT_CAP are sorted;
# more are found by a walk of the openid index (~0.3 µs a follower: at most N / SORT_CAP
# followers walked per row found). In remark order, more than SORT_CAP go to the plans below.
SORT_FEW = 5000
SORT_CAP = 20_000
_WALK_BATCH = 4096
# All the ids of a view in order from the sets, up to this many (more: the plans below).
ROW_IDS_CAP = 100_000
# A search of three characters or more: its candidates (every pair of its characters is in the
# remark) are confirmed by LIKE, up to this many.
CONFIRM_CAP = 300_000


class QueryCancelled(Exception):
    """View.cancel() interrupted a query that was running in another thread."""


class _OverBudget(Exception):
    """A walk bet on a guessed share of matches did not find its rows within its budget."""


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
    sure: float | None = None  # matches known for certain, when estimate is a guess
    # A union of candidate sets on followers f, each (FROM, WHERE, params), instead of from_sql.
    arms: list[tuple[str, str, list]] = field(default_factory=list)
    extra: float = 0.0  # a fixed cost on top of the per-row ones
    hint: str = ""  # its index, named when no walk names one (SQLite's choice could change)
    arm_columns: dict[str, str] = field(default_factory=dict)  # what the arms give without f


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


def _guessed_by_plans(flt: Filter) -> bool:
    """Whether the filter holds a condition whose share of followers the plans can only guess
    (a text, a scene, a language, dates): then its members come from the follower sets."""
    return bool(flt.text or flt.scenes or flt.languages or flt.subscribed_from is not None
                or flt.subscribed_to is not None)


def _json(ids) -> str:
    return "[" + ",".join(map(str, ids)) + "]"


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
        self._budget: int | None = None  # VM steps left to the query under way, if limited

    def __repr__(self) -> str:
        return f"View({self.filter.describe()} · {self.sort.describe()})"

    # ---- public ----------------------------------------------------------------------------

    def first_ids(self, n: int = 100) -> array:
        if _guessed_by_plans(self.filter):
            found = self._from_sets(n)
            if found is not None:
                return found
        conn, conds, sources, estimate = self._plan_inputs()
        bet = min(sources, key=lambda s: self._first_cost(s, conds, n, estimate))
        safe = min(sources, key=lambda s: self._first_cost(s, conds, n, self._sure_estimate, sure=True))
        if bet is not safe:
            try:
                return self._ordered_ids(conn, bet, conds, limit=n, budget=WALK_BUDGET_STEPS)
            except _OverBudget:
                pass
        return self._ordered_ids(conn, safe, conds, limit=n)

    def first_rows(self, n: int = 100) -> list[FollowerRow]:
        """The first n rows in order, at once (the screen the user sees first)."""
        return [r for r in self.store.rows_by_ids(self.first_ids(n)) if r is not None]

    def row_ids(self) -> array:
        """Every matching id in order, as array('q'). Up to a second at 1M: run it off the UI."""
        if _guessed_by_plans(self.filter):
            found = self._from_sets(None)
            if found is not None:
                self._count = len(found)
                return found
        conn, conds, sources, estimate = self._plan_inputs()
        source = min(sources, key=lambda s: self._all_cost(s, conds, estimate))
        ids = self._ordered_ids(conn, source, conds, limit=None)
        self._count = len(ids)
        return ids

    def count(self, build_sets: bool = True) -> int:
        """The exact number of matching followers (remembered once known). Without build_sets,
        follower sets (or a tag's bitmap) that are stale are not built first (30 s at 10M): the
        plans count instead, by an index (the tag list's counts, on the way to the first frame)."""
        if self._count is None and self.filter.is_empty:
            self._count = self._fetch(self.store.reader(), followersets.FOLLOWER_COUNT_SQL, [])[0][0]
        if self._count is None:
            self._count = self._guarded(self.store.reader(), lambda: tag_count(self.store, self.store.reader(),
                                                                               self.filter))
        if self._count is None:
            self._count = self._count_from_sets(build_sets)
        if self._count is None:
            conn, conds, sources, _ = self._plan_inputs()
            source = min(sources, key=lambda s: self._scan_cost(s, conds, sort_needs_f=False))
            sql, params = self._select(source, conds, "count(*)", need_f=False)
            tagged = self._guarded(conn, lambda: tagged_candidates(self.store, conn, self.filter))
            if tagged is not None and len(tagged) * ID_ROW < self._scan_cost(source, conds, sort_needs_f=False):
                # The tags' bitmaps name exactly the followers the tags allow: read just those
                # rows, in id order, for the other conditions (no membership probe at all).
                rest = [c for c in conds if c.name not in ("tags", "not_tags") and not c.name.startswith("tag:")]
                where = " AND ".join(c.sql.format(id="f.id") for c in rest) or "1"
                sql = f"SELECT count(*) FROM json_each(?) j CROSS JOIN followers f ON f.id = j.value WHERE {where}"
                params = ["[" + ",".join(map(str, tagged)) + "]"] + [p for c in rest for p in c.params]
            self._count = self._fetch(conn, sql, params)[0][0]
        return self._count

    def member_set(self) -> BitMap:
        """Every matching id, unordered: from the follower sets when they are current (never
        rebuilt here), the text condition confirmed by SQL; else from the plans."""
        conn = self.store.reader()
        found = self._match(conn, build=False)
        if found is not None and found.exact:
            return BitMap(found.members)
        out = array("I")  # follower ids fit 32 bits, as in every set
        if found is not None and len(found.members) <= CONFIRM_CAP:
            where, params = self._confirm(found)
            self._fetch_into(conn, f"SELECT f.id FROM json_each(?) j CROSS JOIN followers f ON f.id = j.value{where}",
                             [_json(found.members), *params], out)
            return BitMap(out)
        sql, params = self.id_set_sql()
        self._fetch_into(conn, sql, params, out)
        return BitMap(out)

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

    # ---- from the follower sets --------------------------------------------------------------

    def _match(self, conn, build: bool) -> followersets.Match | None:
        return self._guarded(conn, lambda: followersets.match(self.store, conn, self.filter, build))

    def _count_from_sets(self, build: bool) -> int | None:
        """The exact count by set algebra (with build, the sets are built first if they are
        stale; without, stale sets answer None)."""
        conn = self.store.reader()
        found = self._match(conn, build=build)
        if found is None:
            return None
        if found.exact:
            return len(found.members)
        if len(found.members) > CONFIRM_CAP:
            return None
        where, params = self._confirm(found)
        return self._fetch(conn, f"SELECT count(*) FROM json_each(?) j CROSS JOIN followers f ON f.id = j.value{where}",
                           [_json(found.members), *params])[0][0]

    def _from_sets(self, limit: int | None) -> array | None:
        """The first `limit` ids in order (all of them: None) from the kept sets, or None when
        they are stale or the plans do better. One read snapshot for the sets and the rows."""
        conn = self.store.reader()
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")
        try:
            found = self._match(conn, build=False)
            if found is None:
                return None
            members = found.members
            if limit is None:
                return self._sorted_members(conn, found, members, None) if len(members) <= ROW_IDS_CAP else None
            if len(members) <= SORT_FEW:
                return self._sorted_members(conn, found, members, limit)
            if self.sort.key is SortKey.SUBSCRIBE_TIME:
                return self._first_by_days(conn, found, limit)
            if len(members) <= SORT_CAP:
                return self._sorted_members(conn, found, members, limit)
            if self.sort.key is SortKey.OPENID:
                return self._first_by_openid(conn, found, limit)
            return None
        finally:
            if own and conn.in_transaction:
                conn.execute("COMMIT")

    def _first_by_days(self, conn, found: followersets.Match, n: int) -> array:
        """Days newest first (oldest first, ascending): the members of each are collected until
        a screenful is, then only those are read and sorted; every member of a later day comes
        before any of an earlier one, so the order across days is the days' own."""
        out = array("q")
        pending = BitMap()
        walk = followersets.members_by_day(conn, found.members, self.sort.descending)
        try:
            for _, those in walk:
                if self._cancelled.is_set():
                    raise QueryCancelled(repr(self))
                pending |= those
                if len(pending) >= n - len(out):
                    out.extend(self._sorted_members(conn, found, pending, n - len(out)))
                    pending = BitMap()
                    if len(out) >= n:
                        return out
            if pending:
                out.extend(self._sorted_members(conn, found, pending, n - len(out)))
            return out
        finally:
            walk.close()

    def _first_by_openid(self, conn, found: followersets.Match, n: int) -> array:
        """A walk of the openid index in order, keeping the members, until a screenful is."""
        d = "DESC" if self.sort.descending else "ASC"
        out = array("q")
        pending: list[int] = []
        members = found.members

        def walk():
            cursor = conn.execute(f"SELECT id FROM followers INDEXED BY followers_by_openid ORDER BY openid {d}")
            try:
                while batch := cursor.fetchmany(_WALK_BATCH):
                    if self._cancelled.is_set():
                        raise QueryCancelled(repr(self))
                    yield [r[0] for r in batch if r[0] in members]
            finally:
                cursor.close()

        batches = walk()
        try:
            for kept in batches:
                pending += kept
                if len(pending) >= n - len(out):
                    out.extend(self._sorted_members(conn, found, BitMap(pending), n - len(out)))
                    pending = []
                    if len(out) >= n:
                        return out
            if pending:
                out.extend(self._sorted_members(conn, found, BitMap(pending), n - len(out)))
            return out
        finally:
            batches.close()

    def _sorted_members(self, conn, found: followersets.Match, members: BitMap, limit: int | None) -> array:
        """These members (confirmed by the text condition when they are candidates) in order."""
        where, params = self._confirm(found)
        sql = (f"SELECT f.id FROM json_each(?) j CROSS JOIN followers f ON f.id = j.value{where} "
               f"ORDER BY {_order_by(self.sort)}")
        if limit is not None:
            sql += f" LIMIT {limit}"
        out = array("q")
        self._fetch_into(conn, sql, [_json(members), *params], out)
        return out

    def _confirm(self, found: followersets.Match) -> tuple[str, list]:
        if found.exact:
            return "", []
        sql, params = text_condition(self.filter.text)
        return f" WHERE {sql}", params

    # ---- planning --------------------------------------------------------------------------

    def _plan_inputs(self):
        conn = self.store.reader()
        conds = _conditions(self.filter)
        self._text_sure = 0
        self._sure_shares: dict[str, float] = {}
        sources = self._sources(conn, conds)
        self._sure_estimate = self._estimate(sources, conds, sure=True)
        return conn, conds, sources, self._estimate(sources, conds)

    def _sources(self, conn, conds: list[_Condition]) -> list[_Source]:
        flt = self.filter
        one = lambda sql, params=(): self._size(conn, sql, list(params))  # noqa: E731
        n_all = one(followersets.FOLLOWER_COUNT_SQL)
        sources = [
            # Walk an index in the order asked for (stops early for the first rows).
            _Source("all", n_all, "followers f{hint}", "", [], "f.id", frozenset(), True, _ALL_WALKS),
            # Read the table in rowid order, then sort what matched.
            _Source("table", n_all, "followers f NOT INDEXED", "", [], "f.id", frozenset(), True,
                    per_row=TABLE_ROW, f_cost=0.0),
        ]
        counts = self._tag_sizes(conn)
        dates = [c for c in conds if c.name in ("from", "to")]
        date_sql = "".join(" AND " + c.sql.replace("f.", "d.") for c in dates)
        date_params = [p for c in dates for p in c.params]
        if flt.tags and (flt.match_all_tags or len(flt.tags) == 1):
            for t in sorted(flt.tags):
                covers = {f"tag:{t}" if flt.match_all_tags else "tags", "from", "to"}
                sources.append(_Source(
                    f"tag {t}", counts.get(t, n_all), "memberships d INDEXED BY memberships_by_tag",
                    "d.tagid = ?" + date_sql,
                    [t, *date_params], "d.follower", frozenset(covers), False,
                    {SortKey.SUBSCRIBE_TIME: [_Segment("d.subscribe_time {d}, d.follower {d}")]},
                ))
        elif flt.tags:
            sources.append(_Source(
                "any tag", sum(counts.get(t, n_all) for t in flt.tags), "", "", [], "d.follower",
                frozenset({"tags", "from", "to"}), False,
                # Each tag's memberships are in subscribe-time order in the index and a follower's
                # subscribe_time is the same in each of its memberships: a UNION ordered by
                # (subscribe_time, follower) merges the tags' walks, no follower row read, no
                # sort, and the first rows come at once (DISTINCT and ORDER BY sorted them all:
                # 0.4 s at 1M, 5.7 s at 3M).
                walks={SortKey.SUBSCRIBE_TIME: [_Segment("")]},
                arms=[("memberships d INDEXED BY memberships_by_tag", "d.tagid = ?" + date_sql, [t, *date_params])
                      for t in sorted(flt.tags)],
                arm_columns={"subscribe_time": "d.subscribe_time"},
            ))
        if dates:
            where = " AND ".join(c.sql for c in dates)
            size = one(f"SELECT count(*) FROM followers f INDEXED BY followers_by_subscribe_time WHERE {where}",
                       date_params)
            sources.append(_Source("followed", size, "followers f{hint}", where, date_params, "f.id",
                                   frozenset({"from", "to"}), True, {SortKey.SUBSCRIBE_TIME: _ALL_WALKS[SortKey.SUBSCRIBE_TIME]},
                                   hint="followers_by_subscribe_time"))
        if flt.untagged:
            # At most everyone but the biggest tag's members: an exact count here (a scan of the
            # untagged index, 50-80 ms at 1M) would be on every first screen of the untagged view.
            size = max(n_all - max(counts.values(), default=0), 0)
            sources.append(_Source("untagged", size, "followers f{hint}", "f.tag_count = 0", [], "f.id",
                                   frozenset({"untagged"}), True,
                                   {SortKey.SUBSCRIBE_TIME: [_Segment("f.subscribe_time {d}, f.id {d}",
                                                                      hint="followers_untagged")]},
                                   per_row=REMARK_ROW, hint="followers_untagged"))
        if flt.blacklisted:
            sources.append(_Source("blacklist", one("SELECT count(*) FROM blacklist"),
                                   "blacklist d CROSS JOIN followers f ON f.openid = d.openid", "", [],
                                   "f.id", frozenset({"blacklisted"}), True, per_row=INDEX_ROW + ROW_LOOKUP,
                                   f_cost=0.0))
        if flt.text:
            sources.append(self._text_source(conn, flt.text, n_all))
        # What the guessed shares are at least: nobody may have the scene; those without these
        # tags are at least everyone less their members, the unblacklisted everyone less the list.
        if flt.not_tags:
            self._sure_shares["not_tags"] = max(0, n_all - sum(counts.get(t, 0) for t in flt.not_tags)) / max(n_all, 1)
        if flt.blacklisted is False:
            self._sure_shares["not_blacklisted"] = max(0, n_all - one("SELECT count(*) FROM blacklist")) / max(n_all, 1)
        return sources

    # The sizes a plan is chosen from: all of them pass here (a test scales them up to see that
    # the plans of a bigger cache keep their shape).
    def _size(self, conn, sql: str, params: list) -> int:
        return self._fetch(conn, sql, params)[0][0]

    def _tag_sizes(self, conn) -> dict[int, int]:
        return dict(self._fetch(conn, "SELECT id, count FROM tags", []))

    def _text_source(self, conn, text: str, n_all: int) -> _Source:
        """The followers whose remark contains text or whose openid starts with it: a walk of
        the remarks' index in subscribe-time order (its cost is at most one scan of that
        index, whatever matches), merged with the openids of the prefix, if any."""
        remark_where, remark_params = remark_match(text)
        remarks = ("followers f INDEXED BY followers_remark_by_time", remark_where, remark_params)
        prefix = openid_range(text)
        openids = 0
        if prefix is not None:
            openids = min(OPENID_ARM_CAP, self._size(
                conn, "SELECT count(*) FROM (SELECT 1 FROM followers INDEXED BY followers_by_openid "
                "WHERE openid >= ? AND openid < ? LIMIT ?)", [*prefix, OPENID_ARM_CAP]))
        # Openids are random beyond the account's prefix, so the prefix's share of followers is
        # the same all along the subscribe-time order, and a walk in that order may count on it;
        # in openid order they are all in one place, and only the range itself finds them.
        self._text_sure = openids if self.sort.key is not SortKey.OPENID else 0
        if self.sort.key is SortKey.OPENID:
            extra = openids * INDEX_ROW  # the range, walked in order beside the remarks
        elif openids >= OPENID_ARM_CAP:
            extra = n_all * (ROW_LOOKUP + SORT_ROW)  # a range this wide is not collected
        else:
            extra = openids * (ROW_LOOKUP + SORT_ROW)
        # The size is an upper bound of the remarks (what they are is not worth a count per
        # keystroke): the scan's cost, not the matches, is what is known.
        common = dict(name="text", size=n_all, id_col="f.id", covers=frozenset({"text"}), has_f=True,
                      per_row=REMARK_ROW, estimate=max(n_all * TEXT_MATCH_SHARE, openids), sure=openids,
                      extra=extra)
        if openids:
            return _Source(from_sql="", where="", params=[], arms=[
                remarks, ("followers f INDEXED BY followers_by_openid", "f.openid >= ? AND f.openid < ?",
                          list(prefix))], **common)
        return _Source(from_sql=remarks[0], where=remark_where, params=remark_params,
                       walks={SortKey.SUBSCRIBE_TIME: [_Segment("f.subscribe_time {d}, f.id {d}")]},
                       **common)

    def _estimate(self, sources: list[_Source], conds: list[_Condition], sure: bool = False) -> float:
        """Expected matches, taking conditions as independent; with sure, a search's matches
        are only those known for certain (a walk must not bet on a guess)."""
        n_all = max(sources[0].size, 1)
        estimate = float(n_all)
        for s in sources[2:]:
            matches = s.size if s.estimate is None else s.estimate
            if sure and s.name == "text":
                matches = self._text_sure
            estimate *= min(matches / n_all, 1.0)
        for c in conds:
            if c.name in ("not_tags", "scenes", "languages", "not_blacklisted"):
                estimate *= self._sure_shares.get(c.name, 0.0) if sure else 0.5
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
        return s.extra + s.size * s.per_row + yielded * self._row_cost(s, conds, sort_needs_f)

    def _first_cost(self, s: _Source, conds: list[_Condition], n: int, estimate: float,
                    sure: bool = False) -> float:
        """The cost of the first n rows; with sure, of those a walk is certain to find: a walk
        that counts on a guessed share is costed as reading all it may have to read."""
        if self.sort.key in s.walks:
            if sure and s.sure is not None:
                # The search's own walk: at its worst, one scan of the remarks' index.
                return self._scan_cost(s, conds, False)
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
        if s.arms:
            # Ordered, the UNION is a merge of the arms' walks instead of a temporary b-tree.
            union, params = self._union(s, rest, ("id", "subscribe_time"))
            return f"SELECT {what.format(id='id')} FROM ({union} ORDER BY subscribe_time, id)", params
        join_f = not s.has_f and (need_f or any(c.needs_f for c in rest))
        id_expr = "f.id" if (s.has_f or join_f) else s.id_col
        hint = segment.hint if segment and segment.hint else s.hint
        from_sql = s.from_sql.format(hint=f" INDEXED BY {hint}" if hint else "")
        if join_f:
            from_sql += f" CROSS JOIN followers f ON f.id = {s.id_col}"
        where = [w for w in (s.where, segment.where if segment else "") if w]
        where += [c.sql.format(id=id_expr) for c in rest]
        sql = f"SELECT {what.format(id=id_expr)} FROM {from_sql}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return sql, s.params + [p for c in rest for p in c.params]

    def _union(self, s: _Source, rest: list[_Condition], names: tuple[str, ...]) -> tuple[str, list]:
        """The arms of s as one UNION of these columns (id first), every condition of the
        filter applied in each arm, ordered when it can be a merge of ordered arms."""
        join_f = not s.has_f and (any(c.needs_f for c in rest) or any(n not in s.arm_columns for n in names[1:]))
        id_expr = "f.id" if s.has_f or join_f else s.id_col
        columns = ", ".join([f"{id_expr} AS id"] + [f"{s.arm_columns.get(n, 'f.' + n)} AS {n}" for n in names[1:]])
        selects, params = [], []
        for from_sql, where, arm_params in s.arms:
            if join_f:
                from_sql += f" CROSS JOIN followers f ON f.id = {s.id_col}"
            wheres = [where] + [c.sql.format(id=id_expr) for c in rest]
            selects.append(f"SELECT {columns} FROM {from_sql} WHERE {' AND '.join(wheres)}")
            params += arm_params + [p for c in rest for p in c.params]
        return " UNION ".join(selects), params

    def _ordered_union_ids(self, conn, s: _Source, conds: list[_Condition], limit: int | None) -> array:
        rest = [c for c in conds if c.name not in s.covers]
        d = "DESC" if self.sort.descending else "ASC"
        tail = f" LIMIT {limit}" if limit is not None else ""
        if self.sort.key is SortKey.REMARK:
            union, params = self._union(s, rest, ("id", "remark", "subscribe_time"))
            sql = f"SELECT f.id FROM ({union}) f ORDER BY {_order_by(self.sort)}{tail}"
        else:
            # Ordered by its result columns, the UNION is a merge of its arms, each read in
            # that order (the remarks' walk stops as soon as the first rows are out).
            key = "subscribe_time" if self.sort.key is SortKey.SUBSCRIBE_TIME else "openid"
            union, params = self._union(s, rest, ("id", key))
            order = f"{key} {d}, id {d}" if key == "subscribe_time" else f"{key} {d}"
            sql = f"{union} ORDER BY {order}{tail}"
        out = array("q")
        self._fetch_into(conn, sql, params, out)
        return out

    def _ordered_ids(self, conn, s: _Source, conds: list[_Condition], limit: int | None,
                     budget: int | None = None) -> array:
        self._budget = budget
        try:
            return self._ordered_source_ids(conn, s, conds, limit)
        finally:
            self._budget = None

    def _ordered_source_ids(self, conn, s: _Source, conds: list[_Condition], limit: int | None) -> array:
        if s.arms:
            return self._ordered_union_ids(conn, s, conds, limit)
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
        checks = [0]
        budget = self._budget
        if budget is not None and budget <= 0:
            raise _OverBudget()
        self._running = conn
        if budget is not None:
            def over_budget() -> int:
                checks[0] += 1
                return checks[0] * _STEPS_PER_CHECK > budget
            conn.set_progress_handler(over_budget, _STEPS_PER_CHECK)
        try:
            return run()
        except sqlite3.OperationalError as exc:
            if "interrupt" in str(exc):
                if budget is not None and checks[0] * _STEPS_PER_CHECK > budget and not self._cancelled.is_set():
                    raise _OverBudget() from None
                raise QueryCancelled(repr(self)) from None
            raise
        finally:
            if budget is not None:
                conn.set_progress_handler(None, 0)
                self._budget = budget - checks[0] * _STEPS_PER_CHECK
            self._running = None
