"""Exact counts of tag combinations from compressed bitmaps of each tag's members.

Measured on the 1M bench cache (bench/scale_bench.py): SQLite counts two tags OR'd in 0.4 s
(DISTINCT over a temporary b-tree; 1.3 s at 3M, 5.7 s at 10M), and even as a merge of the tags'
index walks the count grows with the members it reads. A roaring bitmap per tag answers any
AND / OR / NOT of them in well under a millisecond at any size; the bitmaps of all tags of a
1M account take ~0.8 MB. A tag's bitmap is built from its index walk the first time it is
needed and kept in the cache file beside the tag (tag_members), with the tag's members_version:
every write that changes a tag's members updates its count, and a trigger bumps the version
with it (schema m004), so a stale bitmap is never used; its size is also checked against the
tag's count. A job's tagging and untagging update a kept bitmap in the same transaction, so
counts stay instant while jobs run. Only counts use them: the first rows never wait for a bitmap.
"""

from __future__ import annotations

import sqlite3
from array import array

from pyroaring import BitMap

from .filters import Filter
from .trouble import CacheTrouble


def counts_by_tags(flt: Filter) -> bool:
    """Whether the filter says only which tags its followers carry, or not."""
    return bool(flt.tags or flt.not_tags) and flt == Filter(tags=flt.tags, match_all_tags=flt.match_all_tags,
                                                            not_tags=flt.not_tags)


def tag_count(store, conn: sqlite3.Connection, flt: Filter) -> int | None:
    """The exact number of followers matching a filter on tags alone, or None when the
    filter says more (or a follower id does not fit the bitmaps)."""
    if not counts_by_tags(flt):
        return None
    try:
        sets = {t: tag_members(store, conn, t) for t in flt.tags | flt.not_tags}
    except OverflowError:
        return None
    excluded = BitMap.union(*(sets[t] for t in flt.not_tags)) if flt.not_tags else BitMap()
    if not flt.tags:
        everyone = store.follower_count()
        return everyone - len(excluded)
    chosen = [sets[t] for t in flt.tags]
    members = BitMap.intersection(*chosen) if flt.match_all_tags and len(chosen) > 1 else BitMap.union(*chosen)
    return members.difference_cardinality(excluded) if flt.not_tags else len(members)


def tagged_candidates(store, conn: sqlite3.Connection, flt: Filter) -> BitMap | None:
    """Exactly the followers the filter's tags (and not-tags) allow, when it names tags."""
    if not flt.tags:
        return None
    try:
        sets = {t: tag_members(store, conn, t) for t in flt.tags | flt.not_tags}
    except OverflowError:
        return None
    chosen = [sets[t] for t in flt.tags]
    members = BitMap.intersection(*chosen) if flt.match_all_tags and len(chosen) > 1 else BitMap.union(*chosen)
    for t in flt.not_tags:
        members -= sets[t]
    return members


def kept_members(conn: sqlite3.Connection, tagid: int) -> BitMap | None:
    """The tag's kept bitmap when it is current (an unknown tag has none), else None: for the
    first rows, which never wait for a bitmap to be built."""
    row = conn.execute("SELECT t.count, k.members FROM tags t LEFT JOIN tag_members k ON k.tagid = t.id "
                       "AND k.version = t.members_version WHERE t.id = ?", (tagid,)).fetchone()
    if row is None:
        return BitMap()
    if row[1] is None:
        return None
    members = BitMap.deserialize(row[1])
    return members if len(members) == row[0] else None


def tag_members(store, conn: sqlite3.Connection, tagid: int) -> BitMap:
    """The ids of the tag's members, as the cache holds them now."""
    own_transaction = not conn.in_transaction
    if own_transaction:
        conn.execute("BEGIN")  # the version, the bitmap and the members from one snapshot
    try:
        row = conn.execute("SELECT members_version, count FROM tags WHERE id = ?", (tagid,)).fetchone()
        if row is None:
            return BitMap()
        version, count = row
        kept = conn.execute("SELECT version, members FROM tag_members WHERE tagid = ?", (tagid,)).fetchone()
        if kept is not None and kept[0] == version:
            members = BitMap.deserialize(kept[1])
            if len(members) == count:
                return members
        ids = array("I")
        cursor = conn.execute("SELECT follower FROM memberships INDEXED BY memberships_by_tag WHERE tagid = ?",
                              (tagid,))
        while batch := cursor.fetchmany(8192):
            ids.extend([r[0] for r in batch])
        members = BitMap(ids)
    finally:
        if own_transaction:
            conn.execute("COMMIT")
    _keep(store, tagid, version, members)
    return members


def _keep(store, tagid: int, version: int, members: BitMap) -> None:
    """Store the bitmap beside the tag, unless a writer is busy (it is then built again later:
    a count never waits for the sync's transaction)."""
    if not store._lock.acquire(blocking=False):
        return
    try:
        with store.transaction():
            store.conn.execute("INSERT OR REPLACE INTO tag_members (tagid, version, members) "
                               "SELECT id, ?, ? FROM tags WHERE id = ?", (version, members.serialize(), tagid))
    except (sqlite3.OperationalError, CacheTrouble):
        pass  # another process holds the write lock, or the disk is full: the count stands
    finally:
        store._lock.release()


def kept_version(conn: sqlite3.Connection, tagid: int) -> int | None:
    """The tag's members_version when its kept bitmap is current, else None (inside the
    writer's transaction, before a write that changes the tag's members)."""
    row = conn.execute("SELECT t.members_version FROM tags t JOIN tag_members k ON k.tagid = t.id "
                       "WHERE t.id = ? AND k.version = t.members_version", (tagid,)).fetchone()
    return row[0] if row else None


def follow_write(conn: sqlite3.Connection, tagid: int, ids, added: bool, version: int | None) -> None:
    """After the write that gave (added) or took these ids the tag, in the same transaction:
    bring the kept bitmap, current at `version` before it, to the tag's new version."""
    follow_change(conn, tagid, () if added else ids, ids if added else (), version)


def kept_versions(conn: sqlite3.Connection, tagids=None) -> dict[int, int]:
    """kept_version of these tags (every tag: None), those with a current bitmap only."""
    rows = conn.execute("SELECT t.id, t.members_version FROM tags t JOIN tag_members k ON k.tagid = t.id "
                        "WHERE k.version = t.members_version").fetchall()
    return {t: v for t, v in rows if tagids is None or t in tagids}


def follow_change(conn: sqlite3.Connection, tagid: int, removed, added, version: int | None) -> None:
    """After a write that took these ids the tag and then gave it to those (in the same
    transaction): bring the kept bitmap, current at `version` before it, to the tag's new
    version (a refresh or an unfollow moves a few followers; the untagged count stays on the
    bitmaps instead of an index scan of every follower)."""
    if version is None:
        return
    found = conn.execute("SELECT members FROM tag_members WHERE tagid = ?", (tagid,)).fetchone()
    if found is None:
        return
    members = BitMap.deserialize(found[0])
    try:
        members -= BitMap(array("I", removed))
        members |= BitMap(array("I", added))
    except OverflowError:
        conn.execute("DELETE FROM tag_members WHERE tagid = ?", (tagid,))
        return
    conn.execute("UPDATE tag_members SET version = (SELECT members_version FROM tags WHERE id = ?), members = ? "
                 "WHERE tagid = ?", (tagid, members.serialize(), tagid))
