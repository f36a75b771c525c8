"""Followers by scene, language, day of following and remark characters, as compressed bitmaps
kept in the cache: any filter's followers are then found by set algebra, never by reading rows.

Measured on the 1M bench cache (bench/view_bench.py, a loaded 2-core machine): SQLite counts a
scene by reading every row (200 ms at 1M, growing with the account), a segment of three tags, a
scene and a range of days in 300 ms; a search that matches nobody reads every remark (20-80 ms
at 1M, ten times that at 10M). With these sets a filter's members are a few unions and
intersections of bitmaps (milliseconds at any size): a count is their cardinality; the first
rows in subscribe-time order come from the day sets walked newest first, intersected with the
members, until a screenful is found; only those few rows are read, sorted by SQL.

What is kept (table follower_sets, one row per set):
  all       every follower
  scene     by subscribe scene        language  by language
  day       by UTC day of subscribe_time (the edges of a range of dates are read from the
            subscribe-time index, exactly)
  block     by 32 days (day // 32): a range of years is a few dozen blocks and the days at
            its ends, not thousands of days (25 ms of a 30 ms count at 1M)
  gram      by every character and every pair of adjacent characters of the remark, ASCII
            letters folded as SQLite's LIKE folds them: a text of one or two characters is
            exactly its set; a longer one is the intersection of its pairs' sets, confirmed by
            the real LIKE on those few candidates. Past GRAM_CAP of them (remarks that are
            people's names), none is kept and a text search is left to the plans

The sets are current while follower_sets_state.built equals its changes, a counter that
triggers on followers bump at every insert, delete and change of those four columns. A full
sync collects them while it writes its pass (a few dict appends per follower, no second read)
and stores them with the swap; a remark change, a refresh or a removal of a few followers
updates the sets it touches in the same transaction. Anything else (an interrupted sync resumed
by another process, a cache from an older wxtui) leaves them stale: a view then plans as before
without them, and the next exact count rebuilds them from the table (seconds at 1M).
"""

from __future__ import annotations

import sqlite3
from array import array
from dataclasses import dataclass
from itertools import groupby, repeat

from pyroaring import BitMap

from .filters import Filter
from .tagsets import kept_members, tag_members
from .textsearch import openid_range
from .trouble import CacheTrouble

DAY = 86_400
BLOCK = 32  # days
# What the kept sets are (their kinds and keys); sets of another format are rebuilt.
FORMAT = 1
_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# An openid prefix matching more followers than this is left to the plans (every openid of an
# account starts with the same few characters: "o" matches everyone).
OPENID_CAP = 20_000
# Ids collected while a sync's pass is written, before they are folded into the bitmaps.
_FLUSH_IDS = 250_000
# Remark sets kept at most. Each costs ~450 bytes in memory while a sync collects it, however
# few its members: remarks that are people's names (30% of a million followers) make ~330,000
# characters and pairs, 150 MB; at 10M, gigabytes. Past this many, no remark set is kept (the
# row NO_GRAMS says so) and a text search is left to the plans, as with stale sets.
GRAM_CAP = 100_000
NO_GRAMS = ("nograms", "")

TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS follower_sets_insert AFTER INSERT ON followers BEGIN "
    "UPDATE follower_sets_state SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS follower_sets_delete AFTER DELETE ON followers BEGIN "
    "UPDATE follower_sets_state SET changes = changes + 1; END",
    "CREATE TRIGGER IF NOT EXISTS follower_sets_update AFTER UPDATE OF remark, subscribe_time, scene, language "
    "ON followers BEGIN UPDATE follower_sets_state SET changes = changes + 1; END",
)
_TRIGGER_NAMES = ("follower_sets_insert", "follower_sets_delete", "follower_sets_update")


# How many followers there are: kept with current sets, counted otherwise (one statement, so
# that the views' planner reads it as it reads every size).
FOLLOWER_COUNT_SQL = (
    "SELECT CASE WHEN s.built = s.changes AND s.format = {format} AND s.followers IS NOT NULL AND "
    "(SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'followers' AND name IN ({names})) "
    "= {triggers} THEN s.followers ELSE (SELECT count(*) FROM followers) END FROM follower_sets_state s"
)


def fold(text: str) -> str:
    """Text as LIKE compares it: ASCII letters in lower case, every other character as it is."""
    return text.translate(_FOLD)


def grams(remark: str) -> set[str]:
    folded = fold(remark)
    return set(folded) | {folded[i : i + 2] for i in range(len(folded) - 1)}


def _keys(row: tuple) -> list[tuple[str, object]]:
    """The sets a follower row (id, subscribe_time, scene, language, remark) belongs to."""
    _, t, scene, language, remark = row
    keys: list[tuple[str, object]] = [("all", ""), ("scene", scene), ("language", language), ("day", t // DAY),
                                      ("block", t // DAY // BLOCK)]
    if remark:
        keys += [("gram", g) for g in grams(remark)]
    return keys


# ---- state ---------------------------------------------------------------------------------

FOLLOWER_COUNT_SQL = FOLLOWER_COUNT_SQL.format(format=FORMAT, names=",".join(f"'{n}'" for n in _TRIGGER_NAMES),
                                              triggers=len(_TRIGGER_NAMES))


def current(conn: sqlite3.Connection) -> int | None:
    """The changes counter the kept sets reflect, or None when they are stale or missing."""
    row = conn.execute("SELECT changes, built, format FROM follower_sets_state").fetchone()
    if row is None or row[1] is None or row[0] != row[1] or row[2] != FORMAT:
        return None
    # An older wxtui's sync drops the followers table with its triggers and does not put them
    # back: without them a change would go unseen.
    (triggers,) = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'followers' "
                               f"AND name IN ({','.join('?' * len(_TRIGGER_NAMES))})", _TRIGGER_NAMES).fetchone()
    return row[0] if triggers == len(_TRIGGER_NAMES) else None


def _store(conn: sqlite3.Connection, sets: dict[tuple[str, object], BitMap]) -> None:
    """Replace every kept set by these and mark them current (inside the writer's transaction)."""
    for sql in TRIGGERS:
        conn.execute(sql)
    conn.execute("DELETE FROM follower_sets")
    rows = ((kind, key, members.serialize()) for (kind, key), members in sets.items()
            if kind not in ("tag", "block") and (members or kind in ("all", NO_GRAMS[0])))
    conn.executemany("INSERT INTO follower_sets (kind, key, members) VALUES (?, ?, ?)", rows)
    conn.executemany("INSERT INTO follower_sets (kind, key, members) VALUES (?, ?, ?)", _blocks(sets))
    conn.execute("UPDATE follower_sets_state SET built = changes, format = ?, followers = ?",
                 (FORMAT, len(sets[("all", "")])))


def _blocks(sets: dict[tuple[str, object], BitMap]):
    """("block", n, members) rows, each the union of its BLOCK days: made and serialized one at
    a time, so the blocks (a fifth of the sets at 10M) never all sit in memory beside the days."""
    by_block: dict[int, list[BitMap]] = {}
    for (kind, day), members in sets.items():
        if kind == "day" and members:
            by_block.setdefault(day // BLOCK, []).append(members)
    for block in sorted(by_block):
        yield "block", block, BitMap.union(*by_block[block]).serialize()


def mark_stale(conn: sqlite3.Connection) -> None:
    for sql in TRIGGERS:
        conn.execute(sql)
    conn.execute("UPDATE follower_sets_state SET built = NULL")


# ---- building ------------------------------------------------------------------------------

class SetsBuilder:
    """Collects the sets from follower rows, in batches, without keeping a Python object each:
    ids are appended to arrays by day, by (scene, language) and by remark, and folded into the
    bitmaps every _FLUSH_IDS ids (one loop, two dict lookups a follower: the sync's hot path)."""

    def __init__(self) -> None:
        self.sets: dict[tuple[str, object], BitMap] = {("all", ""): BitMap()}
        self.added = 0  # rows seen (a follower seen twice makes it larger than the sets' "all")
        self._everyone = array("I")
        self._days: dict[int, array] = {}
        self._pairs: dict[tuple[str, str], array] = {}
        self._remarks: dict[str, array] = {}
        self._tags: dict[int, array] = {}
        self._waiting = 0
        self._grams = 0  # remark sets made so far (see GRAM_CAP)

    @property
    def no_grams(self) -> bool:
        return NO_GRAMS in self.sets

    def add_columns(self, ids, times, scenes, languages, remarks) -> None:
        """One batch of rows as columns (equal-length sequences)."""
        days, pairs, by_remark = self._days, self._pairs, self._remarks
        if self.no_grams:
            remarks = repeat("")
        for i, t, pair, remark in zip(ids, times, zip(scenes, languages), remarks):
            ids_of = days.get(t // DAY)
            if ids_of is None:
                ids_of = days[t // DAY] = array("I")
            ids_of.append(i)
            ids_of = pairs.get(pair)
            if ids_of is None:
                ids_of = pairs[pair] = array("I")
            ids_of.append(i)
            if remark:
                ids_of = by_remark.get(remark)
                if ids_of is None:
                    ids_of = by_remark[remark] = array("I")
                ids_of.append(i)
        before = len(self._everyone)
        self._everyone.extend(ids)
        added = len(self._everyone) - before
        self.added += added
        self._waiting += added
        if self._waiting >= _FLUSH_IDS:
            self.flush()

    def add_memberships(self, followers, tagids) -> None:
        """Memberships as two columns: each tag's members are kept as a ("tag", id) set."""
        tags = self._tags
        for i, tagid in zip(followers, tagids):
            ids_of = tags.get(tagid)
            if ids_of is None:
                ids_of = tags[tagid] = array("I")
            ids_of.append(i)
        self._waiting += len(tagids)

    def add_remark_groups(self, groups) -> None:
        """(remark, ids) pairs, each remark once (a walk of the remark index)."""
        for remark, ids in groups:
            self._fold_remark(remark, BitMap(ids))

    def _into(self, key: tuple[str, object], ids) -> None:
        found = self.sets.get(key)
        if found is None:
            self.sets[key] = BitMap(ids)
        else:
            found.update(ids)

    def flush(self) -> None:
        self._into(("all", ""), self._everyone)
        for day, ids in self._days.items():
            self._into(("day", day), ids)
        for (scene, language), ids in self._pairs.items():
            self._into(("scene", scene), ids)
            self._into(("language", language), ids)
        for tagid, ids in self._tags.items():
            self._into(("tag", tagid), ids)
        for remark, ids in self._remarks.items():
            self._fold_remark(remark, BitMap(ids))
        self._everyone = array("I")
        for collected in (self._days, self._pairs, self._remarks, self._tags):
            collected.clear()
        self._waiting = 0
        # The containers of the ids folded in so far will not grow again (a sync numbers its
        # followers in order): give back what they hold beyond their size (6 of 122 MB at 10M).
        for members in self.sets.values():
            members.shrink_to_fit()

    def _fold_remark(self, remark: str, members: BitMap) -> None:
        if self.no_grams:
            return
        for gram in grams(remark):
            found = self.sets.get(("gram", gram))
            if found is None:
                self._grams += 1
                if self._grams > GRAM_CAP:
                    self._drop_grams()
                    return
                self.sets[("gram", gram)] = BitMap(members)
            else:
                found |= members

    def _drop_grams(self) -> None:
        for key in [key for key in self.sets if key[0] == "gram"]:
            del self.sets[key]
        self.sets[NO_GRAMS] = BitMap()

    def finished(self) -> dict[tuple[str, object], BitMap]:
        """Every set but the blocks of days, which _store writes one at a time as it goes."""
        self.flush()
        return self.sets


class PassSets:
    """The sets of a sync's pass, collected from the rows it writes (see passes.py)."""

    def __init__(self, pass_id: int):
        self.pass_id = pass_id
        self.builder = SetsBuilder()
        self.broken = False
        self.stored = False

    def add_rows(self, rows: list, width: int, memberships: list) -> None:
        """Rows as the pass writes them: flat values, `width` a row, (id, openid, remark,
        subscribe_time, scene, language, ...); memberships flat too, (follower, tag, time)."""
        if self.broken:
            return
        try:
            self.builder.add_columns(rows[0::width], rows[3::width], rows[4::width], rows[5::width],
                                     rows[2::width])
            self.builder.add_memberships(memberships[0::3], memberships[1::3])
        except OverflowError:  # a row id beyond 32 bits: the plans work without the sets
            self.broken = True

    def store(self, conn: sqlite3.Connection) -> bool:
        """After the swap, inside its transaction: keep the sets if they are exactly the
        followers now in the table (a row written twice, or lost to a rolled back page,
        makes them wrong: they are then left stale)."""
        if self.broken:
            mark_stale(conn)
            return False
        sets = self.builder.finished()
        (count,) = conn.execute("SELECT count(*) FROM followers").fetchone()
        if not (self.builder.added == len(sets[("all", "")]) == count):
            mark_stale(conn)
            return False
        _store(conn, sets)
        self.stored = True
        return True

    def store_tags(self, conn: sqlite3.Connection) -> None:
        """After the tags are recounted, and only when the pass's sets were kept and nothing
        was replayed onto it: each tag's members as the pass wrote them, as its kept bitmap
        (tagsets.py), where their number is the tag's count."""
        if not self.stored:
            return
        members = {key[1]: found for key, found in self.builder.sets.items() if key[0] == "tag"}
        for tagid, version, count in conn.execute("SELECT id, members_version, count FROM tags").fetchall():
            found = members.get(tagid, BitMap())
            if len(found) == count:
                conn.execute("INSERT OR REPLACE INTO tag_members (tagid, version, members) VALUES (?, ?, ?)",
                             (tagid, version, found.serialize()))


def build(conn: sqlite3.Connection) -> dict[tuple[str, object], BitMap]:
    """Every set, from the followers table (one read of it and one of the remarks' index)."""
    builder = SetsBuilder()
    cursor = conn.execute("SELECT id, subscribe_time, scene, language FROM followers")
    while batch := cursor.fetchmany(65536):
        ids, times, scenes, languages = zip(*batch)
        builder.add_columns(ids, times, scenes, languages, repeat(""))
    cursor = conn.execute("SELECT remark, id FROM followers INDEXED BY followers_by_remark WHERE remark != '' "
                          "ORDER BY remark")
    builder.flush()
    builder.add_remark_groups((remark, array("I", (r[1] for r in rows)))
                              for remark, rows in groupby(cursor, key=lambda r: r[0]))
    return builder.finished()


def rebuild(store, conn: sqlite3.Connection) -> bool:
    """Build the sets from a read snapshot and keep them, unless the followers changed since or
    a writer is busy (a count never waits for the sync's transaction). Whether they were kept."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        state = conn.execute("SELECT changes FROM follower_sets_state").fetchone()
        if state is None:
            return False
        changes = state[0]
        sets = build(conn)
    except OverflowError:
        return False
    finally:
        if own:
            conn.execute("COMMIT")
    if not store._lock.acquire(blocking=False):
        return False
    try:
        with store.transaction():
            now = store.conn.execute("SELECT changes FROM follower_sets_state").fetchone()
            if now is None or now[0] != changes:
                return False
            _store(store.conn, sets)
            return True
    except (sqlite3.OperationalError, CacheTrouble):
        return False  # another process holds the write lock, or the disk is full
    finally:
        store._lock.release()


# ---- following a write of a few followers ----------------------------------------------------

_ROWS_OF = "SELECT id, subscribe_time, scene, language, remark FROM followers WHERE id IN (SELECT value FROM json_each(?))"


@dataclass
class Change:
    ids: list[int]
    before: list[tuple]


def before_change(conn: sqlite3.Connection, ids) -> Change | None:
    """Inside the writer's transaction, before a write that may change these followers' rows:
    what they were, when the sets are current (None: nothing to follow)."""
    if current(conn) is None:
        return None
    ids = [int(i) for i in ids]
    return Change(ids, conn.execute(_ROWS_OF, (_json(ids),)).fetchall())


def after_change(conn: sqlite3.Connection, change: Change | None, ids=()) -> None:
    """After the write, in the same transaction: move the followers between the sets as their
    rows changed (new ids: also those rows inserted), and mark the sets current again."""
    if change is None:
        return
    every = sorted(set(change.ids) | {int(i) for i in ids})
    after = conn.execute(_ROWS_OF, (_json(every),)).fetchall()
    removed: dict[tuple[str, object], list[int]] = {}
    added: dict[tuple[str, object], list[int]] = {}
    keep_grams = not _no_grams(conn)
    for rows, into in ((change.before, removed), (after, added)):
        for row in rows:
            for key in _keys(row):
                if keep_grams or key[0] != "gram":
                    into.setdefault(key, []).append(row[0])
    try:
        for key in removed.keys() | added.keys():
            kind, value = key
            found = conn.execute("SELECT members FROM follower_sets WHERE kind = ? AND key = ?", key).fetchone()
            members = BitMap.deserialize(found[0]) if found else BitMap()
            members -= BitMap(removed.get(key, ()))
            members |= BitMap(added.get(key, ()))
            if kind == "all":
                conn.execute("UPDATE follower_sets_state SET followers = ?", (len(members),))
            if members or kind == "all":
                conn.execute("INSERT OR REPLACE INTO follower_sets (kind, key, members) VALUES (?, ?, ?)",
                             (kind, value, members.serialize()))
            else:
                conn.execute("DELETE FROM follower_sets WHERE kind = ? AND key = ?", key)
    except OverflowError:
        mark_stale(conn)
        return
    conn.execute("UPDATE follower_sets_state SET built = changes")


def _json(ids) -> str:
    return "[" + ",".join(map(str, ids)) + "]"


# ---- a filter's members ----------------------------------------------------------------------

@dataclass
class Match:
    """The followers a filter allows: exactly (exact), or a few more that its text condition,
    confirmed by SQL, takes out."""

    members: BitMap
    exact: bool


def everyone(conn: sqlite3.Connection) -> BitMap | None:
    """Every follower's id, from the kept sets (None when they are stale or missing)."""
    if current(conn) is None:
        return None
    found = conn.execute("SELECT members FROM follower_sets WHERE kind = 'all' AND key = ''").fetchone()
    return BitMap.deserialize(found[0]) if found else None


def present(conn: sqlite3.Connection, kind: str) -> set[str] | None:
    """The scenes ("scene") or languages ("language") at least one cached follower has; None
    while the kept sets are stale (nothing says it cheaply then)."""
    if current(conn) is None:
        return None
    return {key for key, members in conn.execute("SELECT key, members FROM follower_sets WHERE kind = ?", (kind,))
            if BitMap.deserialize(members)}


def _no_grams(conn) -> bool:
    """Whether the remark sets were left out (too many: see GRAM_CAP)."""
    return conn.execute("SELECT 1 FROM follower_sets WHERE kind = ? AND key = ?", NO_GRAMS).fetchone() is not None


def _one(conn, kind: str, key) -> BitMap:
    found = conn.execute("SELECT members FROM follower_sets WHERE kind = ? AND key = ?", (kind, key)).fetchone()
    return BitMap.deserialize(found[0]) if found else BitMap()


def _union(conn, kind: str, keys) -> BitMap:
    return BitMap.union(BitMap(), *(_one(conn, kind, k) for k in keys))


def _tag_sets(store, conn, tagids, build: bool) -> dict[int, BitMap] | None:
    out = {}
    for t in tagids:
        members = kept_members(conn, t)
        if members is None:
            if not build:
                return None
            members = tag_members(store, conn, t)
        out[t] = members
    return out


def _days(conn, start: int | None, end: int | None) -> BitMap:
    """Followers with start <= subscribe_time < end: whole blocks and whole days from their
    sets, the partial days at either end from the subscribe-time index."""
    first = None if start is None else -(-start // DAY)  # the first day starting at or after start
    last = None if end is None else end // DAY  # the days before this one end at or before end
    if first is not None and last is not None and first >= last:
        return _time_range(conn, start, end)
    block_first = None if first is None else -(-first // BLOCK)
    block_last = None if last is None else last // BLOCK
    parts = []
    if block_first is not None and block_last is not None and block_first >= block_last:
        parts.append(_ranged(conn, "day", first, last))
    else:
        parts.append(_ranged(conn, "block", block_first, block_last))
        if block_first is not None and first < block_first * BLOCK:
            parts.append(_ranged(conn, "day", first, block_first * BLOCK))
        if block_last is not None and block_last * BLOCK < last:
            parts.append(_ranged(conn, "day", block_last * BLOCK, last))
    if first is not None and start < first * DAY:
        parts.append(_time_range(conn, start, first * DAY))
    if last is not None and last * DAY < end:
        parts.append(_time_range(conn, last * DAY, end))
    return BitMap.union(*parts) if len(parts) > 1 else parts[0]


def _ranged(conn, kind: str, low: int | None, high: int | None) -> BitMap:
    """The union of the sets of this kind keyed low <= key < high (None: no bound)."""
    wheres, params = ["kind = ?"], [kind]
    if low is not None:
        wheres.append("key >= ?")
        params.append(low)
    if high is not None:
        wheres.append("key < ?")
        params.append(high)
    return BitMap.union(BitMap(), *(BitMap.deserialize(r[0]) for r in conn.execute(
        f"SELECT members FROM follower_sets WHERE {' AND '.join(wheres)}", params)))


def _time_range(conn, start: int | None, end: int | None) -> BitMap:
    wheres, params = [], []
    if start is not None:
        wheres.append("subscribe_time >= ?")
        params.append(start)
    if end is not None:
        wheres.append("subscribe_time < ?")
        params.append(end)
    ids = array("I")
    cursor = conn.execute("SELECT id FROM followers INDEXED BY followers_by_subscribe_time WHERE "
                          + " AND ".join(wheres or ["1"]), params)
    while batch := cursor.fetchmany(8192):
        ids.extend([r[0] for r in batch])
    return BitMap(ids)


def _text(conn, text: str) -> tuple[BitMap, bool] | None:
    """The followers whose remark may contain text (exactly those, for one or two characters)
    or whose openid starts with it; None when the openid prefix matches too many."""
    if "\x00" in text:
        return BitMap(), True
    if _no_grams(conn):
        return None
    folded = fold(text)
    if len(folded) <= 2:
        remarks, exact = _one(conn, "gram", folded), True
    else:
        pairs = sorted({folded[i : i + 2] for i in range(len(folded) - 1)})
        sets = sorted((_one(conn, "gram", p) for p in pairs), key=len)
        remarks, exact = BitMap.intersection(*sets) if len(sets) > 1 else sets[0], False
    prefix = openid_range(text)
    if prefix is not None:
        found = [r[0] for r in conn.execute(
            "SELECT id FROM followers INDEXED BY followers_by_openid WHERE openid >= ? AND openid < ? LIMIT ?",
            [*prefix, OPENID_CAP + 1])]
        if len(found) > OPENID_CAP:
            return None
        remarks |= BitMap(found)
    return remarks, exact


def match(store, conn: sqlite3.Connection, flt: Filter, build: bool) -> Match | None:
    """The filter's followers from the kept sets, or None when they are stale (with build, they
    are built first: seconds at 1M, never on the way to the first rows) or cannot answer."""
    if current(conn) is None:
        if not build or not rebuild(store, conn):
            return None
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")  # the state, the sets and the tags' bitmaps from one snapshot
    try:
        if current(conn) is None:
            return None
        return _match(store, conn, flt, build)
    except OverflowError:
        return None
    finally:
        if own and conn.in_transaction:
            conn.execute("COMMIT")


def _match(store, conn, flt: Filter, build: bool) -> Match | None:
    parts: list[BitMap] = []
    minus: list[BitMap] = []
    exact = True
    if flt.tags or flt.not_tags:
        sets = _tag_sets(store, conn, flt.tags | flt.not_tags, build)
        if sets is None:
            return None
        if flt.tags:
            chosen = [sets[t] for t in flt.tags]
            parts.append(BitMap.intersection(*chosen) if flt.match_all_tags and len(chosen) > 1
                         else BitMap.union(*chosen))
        minus += [sets[t] for t in flt.not_tags]
    if flt.untagged:
        sets = _tag_sets(store, conn, [r[0] for r in conn.execute("SELECT id FROM tags")], build)
        if sets is None:
            return None
        minus += list(sets.values())
    if flt.blacklisted is not None:
        listed = BitMap(r[0] for r in conn.execute(
            "SELECT f.id FROM blacklist b CROSS JOIN followers f INDEXED BY followers_by_openid ON f.openid = b.openid"))
        (parts if flt.blacklisted else minus).append(listed)
    if flt.scenes:
        parts.append(_union(conn, "scene", sorted(flt.scenes)))
    if flt.languages:
        parts.append(_union(conn, "language", sorted(flt.languages)))
    if flt.subscribed_from is not None or flt.subscribed_to is not None:
        parts.append(_days(conn, flt.subscribed_from, flt.subscribed_to))
    if flt.text:
        found = _text(conn, flt.text)
        if found is None:
            return None
        parts.append(found[0])
        exact = found[1]
    if not parts:
        parts.append(_one(conn, "all", ""))
    parts.sort(key=len)
    members = BitMap.intersection(*parts) if len(parts) > 1 else BitMap(parts[0])
    for other in minus:
        if not members:
            break
        members -= other
    return Match(members, exact)


def members_by_day(conn: sqlite3.Connection, members: BitMap, descending: bool):
    """(day, those of the members who followed that day) for every day some did, in order
    (newest first when descending). A block of days none of them is in is skipped whole."""
    d = "DESC" if descending else "ASC"
    blocks = conn.execute(f"SELECT key, members FROM follower_sets WHERE kind = 'block' ORDER BY key {d}")
    try:
        while batch := blocks.fetchmany(16):
            for block, blob in batch:
                found = members & BitMap.deserialize(blob)
                if not found:
                    continue
                days = conn.execute(f"SELECT key, members FROM follower_sets WHERE kind = 'day' AND key >= ? "
                                    f"AND key < ? ORDER BY key {d}", (block * BLOCK, (block + 1) * BLOCK)).fetchall()
                for day, day_blob in days:
                    those = found & BitMap.deserialize(day_blob)
                    if those:
                        yield day, those
    finally:
        blocks.close()  # a walk that stops early must not keep its read snapshot open
