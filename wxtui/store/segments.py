"""Segments: named audiences saved in the cache, each a Filter (what the query meant).

The filter is kept by tag id, not by the text typed: a renamed tag stays in the segment, and
the query shown is written afresh from the current names (query.format). Counts are live: a
segment is counted through a view whenever it is asked.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass

from .filters import Filter

MAX_NAME = 100


class SegmentError(ValueError):
    """A name or query that cannot be saved; str() says why, for the user."""


@dataclass(frozen=True, slots=True)
class Segment:
    id: int
    name: str
    filter: Filter
    created_at: float
    updated_at: float


def check_name(name: str) -> str:
    """The name as it will be saved (trimmed), or SegmentError saying what is wrong with it."""
    name = name.strip()
    if not name:
        raise SegmentError("a segment needs a name")
    if len(name) > MAX_NAME:
        raise SegmentError(f"a segment's name has at most {MAX_NAME} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise SegmentError("a segment's name cannot hold control characters")
    return name


class Segments:
    """The segments of one account's cache."""

    def __init__(self, store, clock=time.time):
        self.store = store
        self._clock = clock

    def list(self) -> list[Segment]:
        rows = self.store._read("SELECT id, name, filter, created_at, updated_at FROM segments ORDER BY name")
        return [_segment(r) for r in rows]

    def get(self, name: str) -> Segment | None:
        rows = self.store._read("SELECT id, name, filter, created_at, updated_at FROM segments WHERE name = ?",
                                (name.strip(),))
        return _segment(rows[0]) if rows else None

    def find(self, name: str) -> Segment | None:
        """By exact name, else the one whose name matches ignoring case."""
        found = self.get(name)
        if found is None:
            folded = [s for s in self.list() if s.name.casefold() == name.strip().casefold()]
            found = folded[0] if len(folded) == 1 else None
        return found

    def save(self, name: str, flt: Filter) -> Segment:
        """Create the segment, or replace the filter of the one of that name."""
        name = check_name(name)
        now = self._clock()
        with self.store.transaction():
            self.store.conn.execute(
                "INSERT INTO segments (name, filter, created_at, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET filter = excluded.filter, updated_at = excluded.updated_at",
                (name, flt.to_json(), now, now))
        return self.get(name)

    def delete(self, name: str) -> bool:
        with self.store.transaction():
            cursor = self.store.conn.execute("DELETE FROM segments WHERE name = ?", (name.strip(),))
        return cursor.rowcount > 0

    def count(self, segment: Segment) -> int:
        return self.store.view(segment.filter).count()


def _segment(row) -> Segment:
    id_, name, flt, created_at, updated_at = row
    return Segment(id_, name, Filter.from_json(flt), created_at, updated_at)


def segment_or_query_filter(store, segment: str | None = None, query: str | None = None) -> Filter:
    """The filter of a saved segment (by name) or of a query; SegmentError says what is wrong,
    pointing at the bad token of a query."""
    from .query import parse

    if segment is not None:
        found = Segments(store).find(segment)
        if found is None:
            from wxtui.core.outside_text import visible

            saved = ", ".join(visible(s.name) for s in Segments(store).list()) or "none"
            raise SegmentError(f"no segment named {visible(repr(segment))} (saved: {saved})")
        return found.filter
    parsed = parse(query or "", store.tag_names())
    if parsed.error is not None:
        raise SegmentError(query_problem(query or "", parsed.error))
    return parsed.filter


def query_problem(query: str, error) -> str:
    """The error, then the query with carets under the bad token (control characters escaped,
    wide characters counted two columns)."""
    from rich.cells import cell_len

    from wxtui.core.outside_text import visible

    before = visible(query[: error.start])
    bad = visible(query[error.start : error.end])
    return (f"in the query, at character {error.start + 1}: {visible(error.message)}\n"
            f"  {visible(query)}\n  {' ' * cell_len(before)}{'^' * max(1, cell_len(bad))}")
