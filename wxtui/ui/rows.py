"""What the member table shows: the view's row ids in order, and a way to fetch rows by id.

The table never holds more than a few pages of rows. A view starts as its first screenful of
ids and its count: the view's length is the count, and the rest of its ids are read only when
something asks for a row past the first ones (scrolling down, the last row, a range selection),
so a filter typed or a tag chosen never reads every matching id (8 bytes each: 80 MB, and
seconds, for ten million). No Textual here.
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
    """Rows of one view, fetched a page at a time and kept in a small LRU cache.

    `ids` are the view's first ids in order (all of them when `length` is not given); `length`
    is how many the view has. A row asked for past the known ids calls `wanted()` once: the
    owner then reads every id and hands over a new source."""

    def __init__(self, ids: Sequence[int], fetch: FetchRows, *, complete: bool = True,
                 length: int | None = None, wanted: Callable[[], None] | None = None):
        self.ids = ids
        self._fetch = fetch
        self._length = len(ids) if length is None else max(length, len(ids))
        # False while only the first rows are known and the view is not counted yet.
        self.complete = complete
        self._wanted = wanted
        self._pages: OrderedDict[int, dict[int, MemberRow]] = OrderedDict()

    @classmethod
    def empty(cls) -> "RowSource":
        return cls((), lambda ids: [])

    def __len__(self) -> int:
        return self._length

    @property
    def all_ids_known(self) -> bool:
        return len(self.ids) >= self._length

    def _want_the_rest(self) -> None:
        wanted, self._wanted = self._wanted, None
        if wanted is not None:
            wanted()

    def id_at(self, index: int) -> int | None:
        """The id at this position; None while it is not read yet (it is then asked for)."""
        if index < len(self.ids):
            return self.ids[index]
        self._want_the_rest()
        return None

    def ids_between(self, first: int, last: int) -> Sequence[int] | None:
        """The ids from position first to last, both included; None while they are not all
        read yet (they are then asked for)."""
        if last < len(self.ids):
            return self.ids[first:last + 1]
        self._want_the_rest()
        return None

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
            if len(self.ids) <= index < self._length:
                self._want_the_rest()
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
