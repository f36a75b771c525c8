"""Selections kept in SQLite: explicit ids, or the followers a filter matched.

A selection is one of:
- explicit ids, one row each in selection_members (space, shift+arrows, an imported file);
- the followers a filter matched when "select all" was pressed, as a compressed bitmap in
  selections.members (10M ids take a megabyte or so), with the filter it came from beside it.
  Later rows picked or dropped change the bitmap. It is a snapshot: a job that tags the
  untagged it selected leaves them selected, and a sync does not add the followers it brings.

Followers that have gone (unfollowed, dropped by a sync) are never counted nor returned, in
either form. A selection an older version kept as a live filter (plus exceptions) is turned
into its members when it is first read.
"""

from __future__ import annotations

from array import array
from typing import Iterable, Iterator, Sequence

from pyroaring import BitMap

from . import followersets
from .filters import Filter, NEWEST_FIRST

_CHUNK = 500


class Selection:
    def __init__(self, store, selection_id: int, name: str):
        self.store = store
        self.id = selection_id
        self.name = name

    @classmethod
    def named(cls, store, name: str) -> "Selection":
        with store.transaction():
            store.conn.execute("INSERT OR IGNORE INTO selections (name) VALUES (?)", (name,))
            (sid,) = store.conn.execute("SELECT id FROM selections WHERE name = ?", (name,)).fetchone()
        return cls(store, sid, name)

    @staticmethod
    def names(store) -> list[str]:
        """The names of the selections saved in this cache."""
        return [name for (name,) in store.conn.execute("SELECT name FROM selections ORDER BY name")]

    def __repr__(self) -> str:
        return f"Selection({self.name!r})"

    @property
    def filter(self) -> Filter | None:
        """The filter whose matches "select all" took (the selection may have changed since),
        or None for explicit ids only."""
        value = self.store._scalar("SELECT filter FROM selections WHERE id = ?", (self.id,))
        return Filter.from_json(value) if value else None

    # ---- changing it -----------------------------------------------------------------------

    def select_all(self, flt: Filter) -> None:
        """Everything the filter matches now, and nothing else."""
        members = self.store.view(flt).member_set()
        with self.store.transaction():
            conn = self.store.conn
            conn.execute("UPDATE selections SET filter = ?, members = ? WHERE id = ?",
                         (flt.to_json(), members.serialize(), self.id))
            conn.execute("DELETE FROM selection_members WHERE selection = ?", (self.id,))

    def clear(self) -> None:
        with self.store.transaction():
            conn = self.store.conn
            conn.execute("UPDATE selections SET filter = NULL, members = NULL WHERE id = ?", (self.id,))
            conn.execute("DELETE FROM selection_members WHERE selection = ?", (self.id,))

    def add(self, ids: Iterable[int]) -> None:
        ids = [int(i) for i in ids]
        with self.store.transaction():
            members = self._members()
            if members is not None:
                members |= BitMap(ids)
                self._keep(members)
                return
            self.store.conn.executemany(
                "INSERT OR IGNORE INTO selection_members (selection, follower, included) VALUES (?, ?, 1)",
                ((self.id, i) for i in ids))

    def remove(self, ids: Iterable[int]) -> None:
        ids = [int(i) for i in ids]
        with self.store.transaction():
            members = self._members()
            if members is not None:
                members -= BitMap(ids)
                self._keep(members)
                return
            self.store.conn.executemany(
                "DELETE FROM selection_members WHERE selection = ? AND follower = ?", ((self.id, i) for i in ids))

    def add_range(self, view_ids: Sequence[int], start: int, stop: int) -> None:
        """Rows start..stop-1 (positions) of a view's row ids, as a shift-click selects."""
        lo, hi = sorted((start, stop))
        self.add(view_ids[max(lo, 0) : hi])

    def toggle(self, follower_id: int) -> bool:
        """Flip one row; returns whether it is selected now."""
        if self.contains(follower_id):
            self.remove([follower_id])
            return False
        self.add([follower_id])
        return True

    def _keep(self, members: BitMap) -> None:
        self.store.conn.execute("UPDATE selections SET members = ? WHERE id = ?", (members.serialize(), self.id))

    # ---- reading it ------------------------------------------------------------------------

    def count(self) -> int:
        """Exact number of selected followers that still exist (never rebuilds the follower
        sets: stale, the followers are read instead)."""
        members = self._members()
        if members is None:
            return self.store._scalar(
                "SELECT count(*) FROM selection_members s JOIN followers f ON f.id = s.follower "
                "WHERE s.selection = ?", (self.id,))
        return len(members & self._everyone())

    def is_empty(self) -> bool:
        return self.count() == 0

    def contains(self, follower_id: int) -> bool:
        return follower_id in self.contained([follower_id])

    def contained(self, ids: Iterable[int]) -> set[int]:
        """Which of these ids are selected: one query for a screenful of rows."""
        ids = [int(i) for i in ids]
        members = self._members()
        if members is not None:
            return {i for i in ids if i in members}
        conn = self.store.reader()
        selected: set[int] = set()
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            selected.update(r[0] for r in conn.execute(
                "SELECT follower FROM selection_members WHERE selection = ? "
                f"AND follower IN ({','.join('?' * len(chunk))})", [self.id, *chunk]))
        return selected

    def ids(self) -> array:
        """Every selected id that still exists, in ascending order, as array('q')."""
        members = self._members()
        if members is not None:
            return array("q", (members & self._everyone()).to_array())
        out = array("q")
        cursor = self.store.reader().execute(
            "SELECT s.follower FROM selection_members s JOIN followers f ON f.id = s.follower "
            "WHERE s.selection = ? ORDER BY s.follower", (self.id,))
        while batch := cursor.fetchmany(8192):
            out.extend([r[0] for r in batch])
        return out

    def iter_openids(self, chunk: int = 1000) -> Iterator[list[str]]:
        """The selected openids in chunks (in row id order); a snapshot taken when it starts."""
        ids = self.ids()
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            openids = self.store.openids_of(part)
            found = [openids[i] for i in part if i in openids]
            if found:
                yield found

    # ---- the bitmap ------------------------------------------------------------------------

    def _members(self) -> BitMap | None:
        """The selection's bitmap, or None when it is explicit ids. One kept by an older version
        as a filter with exceptions is turned into its members here, once."""
        row = self.store.reader().execute("SELECT filter, members FROM selections WHERE id = ?",
                                          (self.id,)).fetchone()
        if row is None or (row[0] is None and row[1] is None):
            return None
        if row[1] is not None:
            return BitMap.deserialize(row[1])
        members = self._of_old_form(Filter.from_json(row[0]))
        with self.store.transaction():
            self._keep(members)
            self.store.conn.execute("DELETE FROM selection_members WHERE selection = ?", (self.id,))
        return members

    def _of_old_form(self, flt: Filter) -> BitMap:
        """(what the filter matches and is not excluded) or included, as an older version kept it."""
        rows = self.store.reader().execute(
            "SELECT follower, included FROM selection_members WHERE selection = ?", (self.id,)).fetchall()
        members = self.store.view(flt, NEWEST_FIRST).member_set()
        members -= BitMap([f for f, included in rows if not included])
        members |= BitMap([f for f, included in rows if included])
        return members

    def _everyone(self) -> BitMap:
        """Every follower in the cache: the kept set when current, else read."""
        conn = self.store.reader()
        everyone = followersets.everyone(conn)
        if everyone is not None:
            return everyone
        out = array("I")
        cursor = conn.execute("SELECT id FROM followers")
        while batch := cursor.fetchmany(8192):
            out.extend([r[0] for r in batch])
        return BitMap(out)
