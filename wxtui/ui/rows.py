"""What the member table shows: an ordered array of row ids and a way to fetch rows by id.

The table never holds more than a few pages of rows; a view of a million followers is one array
of ids (8 bytes each) plus whatever pages are on screen. No Textual here.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, NamedTuple, Sequence


class MemberRow(NamedTuple):
    id: int
    openid: str
    remark: str
    tags: str  # names, comma separated
    subscribe_time: int
    scene: str


FetchRows = Callable[[Sequence[int]], Sequence[MemberRow]]
SelectedAmong = Callable[[Sequence[int]], "set[int]"]

PAGE_ROWS = 128
CACHED_PAGES = 16


class RowSource:
    """Rows of one view, fetched a page at a time and kept in a small LRU cache."""

    def __init__(self, ids: Sequence[int], fetch: FetchRows, *, complete: bool = True):
        self.ids = ids
        self._fetch = fetch
        # False while only the first rows are known (the full id list is still being read).
        self.complete = complete
        self._pages: OrderedDict[int, dict[int, MemberRow]] = OrderedDict()

    @classmethod
    def empty(cls) -> "RowSource":
        return cls((), lambda ids: [])

    def __len__(self) -> int:
        return len(self.ids)

    def id_at(self, index: int) -> int:
        return self.ids[index]

    def index_of(self, row_id: int, hint: int = 0) -> int | None:
        """Where a row id sits in the view, looking near `hint` first (a re-filter rarely moves far)."""
        ids = self.ids
        n = len(ids)
        if not n:
            return None
        lo, hi = max(0, hint - 512), min(n, hint + 512)
        for i in range(lo, hi):
            if ids[i] == row_id:
                return i
        try:
            return ids.index(row_id)
        except ValueError:
            return None

    def row(self, index: int) -> MemberRow | None:
        if not 0 <= index < len(self.ids):
            return None
        page_no = index // PAGE_ROWS
        page = self._pages.get(page_no)
        if page is None:
            start = page_no * PAGE_ROWS
            ids = self.ids[start:start + PAGE_ROWS]
            page = {r.id: r for r in self._fetch(ids)}
            self._pages[page_no] = page
            if len(self._pages) > CACHED_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page.get(self.ids[index])

    def forget(self) -> None:
        """Drop cached rows (after a job or a sync changed them)."""
        self._pages.clear()
