"""Selections kept in SQLite: explicit ids, or a filter plus exceptions.

Selecting all 600,000 followers of a filter stores the filter, not 600,000 ids; deselecting a
few of them stores those few. A selection holds:
    selected = (filter matches and not excluded) or included
Members with included = 1 are added, included = 0 are exceptions to the filter.
"""

from __future__ import annotations

from array import array
from typing import Iterable, Iterator, Sequence

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
        """The filter whose matches are selected, or None for explicit ids only."""
        value = self.store._scalar("SELECT filter FROM selections WHERE id = ?", (self.id,))
        return Filter.from_json(value) if value else None

    # ---- changing it -----------------------------------------------------------------------

    def select_all(self, flt: Filter) -> None:
        """Everything the filter matches (now and after later syncs), and nothing else."""
        self._reset(flt.to_json())

    def clear(self) -> None:
        self._reset(None)

    def add(self, ids: Iterable[int]) -> None:
        with self.store.transaction():
            self.store.conn.executemany(
                "INSERT INTO selection_members (selection, follower, included) VALUES (?, ?, 1) "
                "ON CONFLICT (selection, follower) DO UPDATE SET included = 1",
                ((self.id, int(i)) for i in ids),
            )

    def remove(self, ids: Iterable[int]) -> None:
        with self.store.transaction():
            if self.filter is None:
                self.store.conn.executemany(
                    "DELETE FROM selection_members WHERE selection = ? AND follower = ?",
                    ((self.id, int(i)) for i in ids))
            else:
                self.store.conn.executemany(
                    "INSERT INTO selection_members (selection, follower, included) VALUES (?, ?, 0) "
                    "ON CONFLICT (selection, follower) DO UPDATE SET included = 0",
                    ((self.id, int(i)) for i in ids))

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

    def _reset(self, filter_json: str | None) -> None:
        with self.store.transaction():
            conn = self.store.conn
            conn.execute("UPDATE selections SET filter = ? WHERE id = ?", (filter_json, self.id))
            conn.execute("DELETE FROM selection_members WHERE selection = ?", (self.id,))

    # ---- reading it ------------------------------------------------------------------------

    def count(self, build_sets: bool = True) -> int:
        """Exact number of selected followers (that still exist); build_sets as View.count's."""
        flt = self.filter
        included = self._members_count(1, flt, matching=False)
        if flt is None:
            return included
        excluded = self._members_count(0, flt, matching=True)
        return self.store.view(flt).count(build_sets=build_sets) - excluded + included

    def is_empty(self) -> bool:
        return self.count() == 0

    def contains(self, follower_id: int) -> bool:
        return follower_id in self.contained([follower_id])

    def contained(self, ids: Iterable[int]) -> set[int]:
        """Which of these ids are selected: one query for a screenful of rows."""
        ids = [int(i) for i in ids]
        members: dict[int, int] = {}
        conn = self.store.reader()
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            members.update(conn.execute(
                "SELECT follower, included FROM selection_members WHERE selection = ? "
                f"AND follower IN ({','.join('?' * len(chunk))})", [self.id, *chunk]).fetchall())
        selected = {i for i, inc in members.items() if inc}
        flt = self.filter
        if flt is not None:
            selected |= self.store.view(flt).matching_of(i for i in ids if i not in members)
        return selected

    def ids(self) -> array:
        """Every selected id in ascending order, as array('q'), a snapshot of this moment."""
        flt = self.filter
        conn = self.store.reader()
        included = ("SELECT s.follower FROM selection_members s JOIN followers f ON f.id = s.follower "
                    "WHERE s.selection = ? AND s.included = 1")
        if flt is None:
            sql, params = included + " ORDER BY s.follower", [self.id]
        else:
            matching, mparams = self.store.view(flt, NEWEST_FIRST).id_set_sql()
            sql = (f"SELECT id FROM ({matching}) WHERE id NOT IN (SELECT follower FROM "
                   f"selection_members WHERE selection = ? AND included = 0) UNION {included} ORDER BY 1")
            params = [*mparams, self.id, self.id]
        out = array("q")
        cursor = conn.execute(sql, params)
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

    def _members_count(self, included: int, flt: Filter | None, matching: bool) -> int:
        sql = ("SELECT count(*) FROM selection_members s JOIN followers f ON f.id = s.follower "
               "WHERE s.selection = ? AND s.included = ?")
        params: list = [self.id, included]
        if flt is not None:
            where, wparams = self.store.view(flt).condition_sql()
            sql += f" AND {'' if matching else 'NOT '}({where})"
            params += wparams
        return self.store._scalar(sql, params)
