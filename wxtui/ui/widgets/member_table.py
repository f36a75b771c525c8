"""The member browser's table: a Line-API virtual table over a RowSource.

Only the lines on screen are drawn, from rows fetched a page at a time, so a million followers
cost an array of ids and a few pages. Selection lives in the store; the table asks which of the
rows on screen are selected and posts messages when the user toggles or extends.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wxtui.ui import format as fmt
from wxtui.ui import keys
from wxtui.ui.rows import PAGE_ROWS, MemberRow, RowSource, SelectedAmong


class Column(NamedTuple):
    key: str
    title: str
    width: int


MARK_WIDTH = 1
OPENID_FULL = 28
OPENID_SHORT = 14
DATE_WIDTH = 10
SCENE_WIDTH = 14
MIN_REMARK = 8
MIN_TAGS = 10


def layout_columns(width: int, shown: dict[str, str] | None = None) -> list[Column]:
    """Columns that fit `width` cells (one space between columns): the openid shortens first,
    then the scene and the date drop; remark and tags share what is left. `shown` (key ->
    heading, the account family's columns) keeps only those, under their headings; the last
    of remark and tags takes the room the others leave."""
    columns = _layout_all(width)
    if shown is None:
        return columns
    kept = [Column(c.key, shown.get(c.key, c.title), c.width) for c in columns
            if c.key == "mark" or c.key in shown]
    spare = width - sum(c.width for c in kept) - (len(kept) - 1)
    for index in reversed(range(len(kept))):
        if kept[index].key in ("tags", "remark") and spare > 0:
            kept[index] = kept[index]._replace(width=kept[index].width + spare)
            break
    return kept


def _layout_all(width: int) -> list[Column]:
    # The whole openid as soon as it fits beside a minimal remark, tags and date column.
    full = MARK_WIDTH + 1 + OPENID_FULL + 1 + MIN_REMARK + 1 + MIN_TAGS + 1 + DATE_WIDTH
    openid = OPENID_FULL if width >= full else OPENID_SHORT
    fixed = [Column("mark", "", MARK_WIDTH), Column("openid", "openid", openid)]
    optional = []
    room = width - MARK_WIDTH - 1 - openid - 2 - MIN_REMARK - MIN_TAGS  # remark and tags, 1 space each
    if room >= DATE_WIDTH + 1:
        optional.append(Column("followed", "followed", DATE_WIDTH))
        room -= DATE_WIDTH + 1
    if room >= SCENE_WIDTH + 1 + 12:
        optional.append(Column("scene", "scene", SCENE_WIDTH))
        room -= SCENE_WIDTH + 1
    flex = MIN_REMARK + MIN_TAGS + max(0, room)
    remark = max(MIN_REMARK, flex * 45 // 100)
    tags = flex - remark
    return fixed + [Column("remark", "remark", remark), Column("tags", "tags", tags)] + optional


def cell_texts(row: MemberRow, selected: bool, columns: Sequence[Column]) -> list[str]:
    values = {
        "mark": "✔" if selected else " ",
        "openid": row.openid,
        "remark": row.remark,
        "tags": row.tags,
        "followed": fmt.date(row.subscribe_time),
        "scene": fmt.scene(row.scene),
    }
    out = []
    for col in columns:
        text = values[col.key]
        if col.key == "openid":
            text = fmt.short_openid(text, col.width)
        out.append(fmt.fit(text, col.width))
    return out


class MemberTable(ScrollView, can_focus=True):
    """Followers of the current view, one per line, with a cursor and selection marks."""

    BINDINGS = keys.TABLE

    COMPONENT_CLASSES = {
        "member-table--header",
        "member-table--cursor",
        "member-table--selected",
        "member-table--empty",
    }

    DEFAULT_CSS = """
    MemberTable {
        overflow-x: hidden;
        overflow-y: scroll;
    }
    """

    cursor: reactive[int] = reactive(0, repaint=False, init=False)

    class CursorMoved(Message):
        def __init__(self, table: "MemberTable", index: int, row_id: int | None) -> None:
            super().__init__()
            self.table = table
            self.index = index
            self.row_id = row_id

    class ToggleRequested(Message):
        """The user toggled the selection of one row."""

        def __init__(self, row_id: int) -> None:
            super().__init__()
            self.row_id = row_id

    class RangeRequested(Message):
        """The user extended the selection: select every row between two positions of the view."""

        def __init__(self, first: int, last: int, row_ids: Sequence[int]) -> None:
            super().__init__()
            self.first = first  # positions in the view, both included
            self.last = last
            self.row_ids = row_ids

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self.source: RowSource = RowSource.empty()
        self.selected_among: SelectedAmong = lambda ids: set()
        self.empty_text = "No followers here"
        self._marks: dict[int, set[int]] = {}
        self._anchor: int | None = None
        self._pending_range: tuple[int, int] | None = None  # see _select_range
        self._columns: list[Column] = []
        self._columns_width = -1
        self.shown: dict[str, str] | None = None  # the family's columns (key -> heading); None: all

    # -- data ---------------------------------------------------------------------------------

    def set_source(self, source: RowSource, *, keep_cursor_row: bool = True, same_view: bool = False) -> None:
        """Show another view; the cursor stays on the same follower when it is still there.
        same_view: the source is the one shown, counted or read further (its rows stay where
        they were): a range being extended goes on from the same anchor, and a range asked
        for before its ids were read is selected now."""
        old_id = self.cursor_row_id if keep_cursor_row else None
        old_index = self.cursor
        anchor, pending = self._anchor, self._pending_range
        self.source = source
        self._marks.clear()
        self._anchor = self._pending_range = None
        height = len(source) + 1
        if not source.complete:
            # The first rows of a view not counted yet: its length comes with the count. Until
            # then the table keeps its height when that holds them, so the first rows cost a
            # repaint of the table, not a layout of the screen (~15 ms a keystroke).
            height = max(height, self.virtual_size.height)
        self.virtual_size = Size(self.scrollable_content_region.width, height)
        index = 0
        if keep_cursor_row:
            found = source.index_of(old_id, old_index) if old_id is not None else None
            index = found if found is not None else min(old_index, max(0, len(source) - 1))
        self.set_reactive(MemberTable.cursor, self._clamp(index))
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.CursorMoved(self, self.cursor, self.cursor_row_id))
        if same_view:
            self._anchor = anchor
            if pending is not None:
                row_ids = source.ids_between(*pending)
                if row_ids is None:  # still being read (the next source has them)
                    self._pending_range = pending
                else:
                    self.post_message(self.RangeRequested(*pending, row_ids))

    def refresh_marks(self) -> None:
        """Re-read the selection for the rows on screen (after it changed)."""
        self._marks.clear()
        self.refresh()

    def refresh_rows(self) -> None:
        """Re-read rows (after a job or a sync changed them)."""
        self.source.forget()
        self._marks.clear()
        self.refresh()

    @property
    def cursor_row_id(self) -> int | None:
        if not len(self.source):
            return None
        return self.source.id_at(self.cursor)

    @property
    def cursor_row(self) -> MemberRow | None:
        return self.source.row(self.cursor) if len(self.source) else None

    def _is_selected(self, index: int, row_id: int) -> bool:
        page_no = index // PAGE_ROWS
        marks = self._marks.get(page_no)
        if marks is None:
            start = page_no * PAGE_ROWS
            marks = set(self.selected_among(self.source.ids[start:start + PAGE_ROWS]))
            if len(self._marks) > 16:
                self._marks.clear()
            self._marks[page_no] = marks
        return row_id in marks

    # -- cursor -------------------------------------------------------------------------------

    @property
    def rows_visible(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _clamp(self, index: int) -> int:
        return max(0, min(index, len(self.source) - 1)) if len(self.source) else 0

    def move_cursor(self, index: int) -> None:
        self.cursor = self._clamp(index)

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        for index in (old, new):
            self.refresh_line(index + 1)  # line 0 is the column titles
        self.post_message(self.CursorMoved(self, new, self.cursor_row_id))

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_y)
        visible = self.rows_visible
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self._anchor = None
        self.move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._anchor = None
        self.move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self._anchor = None
        self.scroll_to(y=max(0, self.scroll_y - self.rows_visible), animate=False, immediate=True)
        self.move_cursor(self.cursor - self.rows_visible)

    def action_page_down(self) -> None:
        self._anchor = None
        self.scroll_to(y=self.scroll_y + self.rows_visible, animate=False, immediate=True)
        self.move_cursor(self.cursor + self.rows_visible)

    def action_first(self) -> None:
        self._anchor = None
        self.move_cursor(0)

    def action_last(self) -> None:
        self._anchor = None
        self.move_cursor(len(self.source) - 1)

    def action_toggle(self) -> None:
        row_id = self.cursor_row_id
        if row_id is not None:
            self.post_message(self.ToggleRequested(row_id))

    def action_extend(self, step: int) -> None:
        if not len(self.source):
            return
        if self._anchor is None:
            self._anchor = self.cursor
        self.move_cursor(self.cursor + step)
        self._select_range(*sorted((self._anchor, self.cursor)))

    def _select_range(self, start: int, stop: int) -> None:
        """Ask for the rows from start to stop to be selected. Past the ids read so far, the
        range waits (with those asked for meanwhile: all of them hold the anchor, so they
        make one range) until they are read (set_source), and no key pressed meanwhile is lost."""
        row_ids = self.source.ids_between(start, stop)
        if row_ids is None:
            if self._pending_range is None:
                self.notify("Reading the rest of the view: the range is selected once it is read", timeout=2)
                self._pending_range = (start, stop)
            else:
                self._pending_range = (min(self._pending_range[0], start), max(self._pending_range[1], stop))
            return
        self.post_message(self.RangeRequested(start, stop, row_ids))

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = int(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self.source):
            self._anchor = None
            self.move_cursor(index)
            if offset.x <= MARK_WIDTH or event.chain == 2:
                self.action_toggle()

    # -- drawing ------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.source) + 1)
        self._scroll_to_cursor()

    def _columns_for(self, width: int) -> list[Column]:
        if width != self._columns_width:
            self._columns = layout_columns(width, self.shown)
            self._columns_width = width
        return self._columns

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = self._columns_for(width)
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("member-table--header")
            text = " ".join(fmt.fit(c.title, c.width) for c in columns)
            return Strip([Segment(fmt.fit(text, width), style)], width)
        index = int(self.scroll_y) + y - 1
        if index >= len(self.source):
            if index == 0 and y == 1:
                style = base + self.get_component_rich_style("member-table--empty")
                return Strip([Segment(fmt.fit("  " + self.empty_text, width), style)], width)
            return Strip.blank(width, base)
        row = self.source.row(index)
        if row is None:
            return Strip([Segment(fmt.fit("  …", width), base)], width)
        selected = self._is_selected(index, row.id)
        style: Style = base
        if selected:
            style += self.get_component_rich_style("member-table--selected")
        if index == self.cursor:
            style += self.get_component_rich_style("member-table--cursor")
        text = " ".join(cell_texts(row, selected, columns))
        return Strip([Segment(fmt.fit(text, width), style)], width)
