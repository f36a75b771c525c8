"""The main screen: tag list, member browser (filter bar, table, counts), jobs panel.

Queries run in threads (asyncio.to_thread) inside workers; a newer filter cancels the older
query (View.cancel interrupts SQLite), so typing never waits for a count. The bulk actions live
in screens/actions.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Label

from wxtui.jobs.events import PAUSED
from wxtui.store import Filter, QueryCancelled, View
from wxtui.store.query import combine, parse as parse_query
from wxtui.ui import format as fmt, keys
from wxtui.ui.account import AccountModel, TagSummary
from wxtui.ui.rows import RowSource
from wxtui.ui.screens.actions import ActionsMixin
from wxtui.ui.screens.guard import screen_is_live, screen_work
from wxtui.ui.screens.rules import RulesMixin
from wxtui.ui.screens.segments import QuerySuggester, SegmentsMixin
from wxtui.ui.widgets.footer import FittingFooter
from wxtui.ui.widgets.header import AccountHeader
from wxtui.ui.widgets.jobs_panel import JobsPanel
from wxtui.ui.widgets.member_table import MemberTable
from wxtui.ui.widgets.tag_list import TagEntry, TagList

FIRST_ROWS = 80  # more than a screenful of the tallest terminal; the full id list follows


class MemberBrowser(Vertical):
    """The followers pane; its bindings are the member actions shown in the footer."""

    BINDINGS = keys.MEMBERS


def entry_filter(entry: TagEntry) -> Filter:
    if entry.kind == "untagged":
        return Filter(untagged=True)
    if entry.kind == "blacklisted":
        return Filter(blacklisted=True)
    if entry.kind == "tag":
        return Filter(tags={entry.tagid})
    if entry.kind == "segment":
        return entry.filter
    return Filter()


class MainScreen(RulesMixin, SegmentsMixin, ActionsMixin, Screen):
    BINDINGS = keys.MAIN

    def __init__(self, model: AccountModel) -> None:
        super().__init__()
        self.model = model
        self.entry = TagEntry("all", name="All")
        self.text = ""
        self.query_filter = Filter()  # what the filter bar's query means (its last good one)
        self.view_filter = Filter()
        self.shown_filter: Filter | None = None  # the filter of the rows on screen
        self.view_total: int | None = None  # followers in the cache
        self.matching: int | None = None  # followers in the view (None while counting)
        self.selected = 0
        self._view: View | None = None
        self._counts_text = ""
        self._counts_width = 0

    # Actions a family may lack, and the capability each needs (wxtui.family.Capabilities).
    NEEDS = {"blacklist": "blacklist", "unblacklist": "blacklist", "rename_tag": "rename_tag",
             "delete_tag": "delete_tag"}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The bindings of what the account's family cannot do are hidden, and do nothing."""
        needed = self.NEEDS.get(action)
        if needed is not None and not getattr(self.model.capabilities, needed):
            return False
        return True

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield AccountHeader(clock=self.app.clock, id="header")
        with Horizontal(id="body"):
            yield TagList(id="tags")
            with MemberBrowser(id="browser"):
                with Horizontal(id="browser-bar"):
                    yield Label(self.model.members[1].capitalize(), id="view-title")
                    yield Label("", id="view-counts")
                yield Input(placeholder=f"/ filter by {self.model.family.nouns.member_id}, or tag:A -tag:B · ? explains"
                            if not self.model.capabilities.remarks
                            else "/ filter: remark, openid, or tag:VIP -tag:Staff followed:2024-01.. · ? explains",
                            id="filter", suggester=QuerySuggester(lambda: self.model.tag_names))
                yield Label("", id="filter-error")
                yield MemberTable(id="members")
        yield JobsPanel(id="jobs")
        yield FittingFooter(compact=True)

    @property
    def table(self) -> MemberTable:
        return self.query_one(MemberTable)

    @property
    def tag_list(self) -> TagList:
        return self.query_one(TagList)

    @property
    def header(self) -> AccountHeader:
        return self.query_one(AccountHeader)

    @property
    def jobs_panel(self) -> JobsPanel:
        return self.query_one(JobsPanel)

    def on_mount(self) -> None:
        header = self.header
        header.account = self.model.label
        header.appid = self.model.appid
        header.synced_at = self.model.store.last_synced_at()
        self.table.selected_among = self.model.selected_among
        self.table.shown = {column.key: column.label for column in self.model.family.columns()}
        self.jobs_panel.members = self.model.members[1]
        self.table.focus()
        self._unsubscribe = self.model.jobs.subscribe(self.job_event)
        self._first_load()
        self.show_recent_jobs()
        self.read_quota()

    @screen_work(group="quota", exclusive=True)
    async def read_quota(self) -> None:
        if not self.model.capabilities.quota:  # a family without a daily quota: nothing to say
            self.header.quota = ""
            return
        try:
            self._show_quota(await self.model.tagging_quota())
        except Exception:  # the header then says so; the actions report real errors themselves
            self.header.quota = "quota unknown"

    def on_unmount(self) -> None:
        self._unsubscribe()

    @screen_work(group="jobs", what="Could not read the jobs")
    async def show_recent_jobs(self) -> None:
        recent = await asyncio.to_thread(self.model.recent_jobs)
        interrupted = await asyncio.to_thread(self.model.interrupted_jobs)
        stopped = {record.id for record in interrupted}
        for event in recent:
            if event.job_id in stopped:
                # The journal still says running: the process died under it. It resumes.
                event = replace(event, state=PAUSED, message="interrupted")
            if event.job_id not in self.jobs_panel.events:
                verification = await asyncio.to_thread(self.model.verification, event.job_id)
                if verification is not None:
                    self.jobs_panel.verifications[event.job_id] = verification
                self.jobs_panel.show_event(event)
        if interrupted:
            n = len(interrupted)
            self.notify(f"{n} job{'s were' if n != 1 else ' was'} interrupted when wxtui last stopped. "
                        "Press j, then R to resume.", title="Interrupted jobs", timeout=15)

    @screen_work(group="view", exclusive=True, what="Could not read the cache")
    async def _first_load(self) -> None:
        """The first frame: a screenful of rows before anything else; the tag counts, read
        beside them, as soon as they are in; then the view's count."""
        view = self._view = self.model.view(self.current_filter() or Filter())
        summary = asyncio.ensure_future(self.model.read_tag_summary())
        try:
            first = await asyncio.to_thread(view.first_ids, FIRST_ROWS)
        except BaseException:
            summary.cancel()
            raise
        if self._view is view:  # else the user chose another view meanwhile: its worker shows it
            self._show_first(view, first, keep_cursor=False)
        self._apply_tags(await summary)
        self.count_selection()
        if self._view is view:
            await self._count_view(view, first)

    def reload(self) -> None:
        """Re-read tag counts, the view and the selection count (after a sync or a job)."""
        self.load_tags()
        self.load_view(keep_cursor=True)
        self.count_selection()

    # -- tags ---------------------------------------------------------------------------------

    @screen_work(group="tags", exclusive=True, what="Could not read the tags")
    async def load_tags(self) -> None:
        self._apply_tags(await self.model.read_tag_summary())
        self.table.refresh_rows()  # tag names in the rows may have changed

    def _apply_tags(self, summary: TagSummary) -> None:
        self.tag_list.set_entries(
            summary.total, summary.untagged, summary.blacklisted,
            (TagEntry("tag", t.id, t.name, t.count, reserved=t.id in self.model.family.reserved_tags)
             for t in summary.tags),
            blacklist=self.model.capabilities.blacklist)
        self.view_total = summary.total
        if self.entry.option_id not in self.tag_list.entries:
            # The tag being viewed is gone (deleted here or on WeChat): show everyone instead.
            self._show_entry(self.tag_list.entries["all"])
        self._show_counts()
        self.load_segments()

    @on(TagList.Chosen)
    def _tag_chosen(self, event: TagList.Chosen) -> None:
        self._show_entry(event.entry)
        if event.go:
            self.table.focus()

    def _show_entry(self, entry: TagEntry) -> None:
        self.entry = entry
        members = self.model.members[1]
        title = "Blacklist" if entry.kind == "blacklisted" else f"{members.capitalize()} · {entry.name}"
        if entry.kind == "all":
            title = members.capitalize()
        elif entry.kind == "segment":
            title = f"{members.capitalize()} · segment {entry.name}"
        self.query_one("#view-title", Label).update(fmt.literal(title))
        self.table.empty_text = self.empty_text()
        self.set_class(entry.kind == "blacklisted", "-blacklist")
        self.load_view()

    def empty_text(self) -> str:
        """What the table says when the view has no rows."""
        return "Nobody is blacklisted" if self.entry.kind == "blacklisted" else f"No {self.model.members[1]} here"

    # -- filtering ----------------------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if event.value.strip() == "?":  # asks what the bar understands; the query stays as it was
            event.input.value = self.text
            self.action_query_help()
            return
        self.text = event.value
        parsed = parse_query(event.value, self.model.tag_names)
        self.show_query_error(event.value, parsed.error)
        if parsed.error is not None:
            # A term still being typed (the last one) leaves the terms before it in force;
            # an error earlier in the query keeps the rows of the last good query.
            error = parsed.error
            if event.value[error.end:].strip():
                return
            parsed = parse_query(event.value[: event.value.rfind(" ", 0, error.start) + 1], self.model.tag_names)
            if parsed.error is not None:
                return
        self.query_filter = parsed.filter
        # At once, no debounce: a newer keystroke's query cancels the older one in its thread.
        self.load_view(query_checked=True)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def current_filter(self) -> Filter | None:
        """The tag pane's choice and the filter bar's query together; None when one Filter
        cannot say both (the bar then says so)."""
        return combine(entry_filter(self.entry), self.query_filter)

    def load_view(self, keep_cursor: bool = False, query_checked: bool = False) -> None:
        flt = self.current_filter()
        if flt is None:
            from wxtui.store.query import QueryError

            self.show_query_error(self.text, QueryError(
                "the tag pane's choice and this query cannot be combined: choose All, or fold them into one query",
                0, len(self.text)))
            return
        if not query_checked:
            self.show_query_error(self.text, parse_query(self.text, self.model.tag_names).error)
        if self._view is not None:
            self._view.cancel()  # the older query stops in its thread
        self.view_filter = flt
        self._view = view = self.model.view(flt)
        self._run_view(view, keep_cursor)

    @screen_work(group="view", exclusive=True, what="Could not read the cache")
    async def _run_view(self, view: View, keep_cursor: bool) -> None:
        try:
            # A screenful at once; then the count. The rest of the ids is read only when a row
            # past the first ones is wanted (RowSource).
            first = await asyncio.to_thread(view.first_ids, FIRST_ROWS)
        except QueryCancelled:
            return
        if view.filter != self.shown_filter:
            self._show_first(view, first, keep_cursor)
        await self._count_view(view, first)

    def _show_first(self, view: View, first, keep_cursor: bool) -> None:
        self.table.set_source(self.model.row_source(first, complete=False), keep_cursor_row=keep_cursor)
        self.shown_filter = view.filter
        self.matching = None
        self._show_counts()

    async def _count_view(self, view: View, first) -> None:
        """The view's count (inside the view's worker: a newer view cancels it)."""
        try:
            count = len(first) if len(first) < FIRST_ROWS else await asyncio.to_thread(view.count)
        except QueryCancelled:
            return
        why = ""
        if count == 0 and (view.filter.scenes or view.filter.languages):
            why = await asyncio.to_thread(self.model.store.why_nobody, view.filter)
        # The view is read: empty now means empty (and a scene or language nobody has says so).
        self.table.empty_text = self.empty_text() + (f": {why}" if why else "")
        self.table.set_source(self.model.row_source(first, length=count, wanted=lambda: self._want_all_ids(view)),
                              keep_cursor_row=True, same_view=view.filter == self.shown_filter)
        self.shown_filter = view.filter
        self.matching = count
        self._show_counts()

    def _want_all_ids(self, view: View) -> None:
        # Asked while the table draws: the read starts after this refresh.
        self.call_later(self._read_all_ids, view)

    @screen_work(group="all-ids", exclusive=True, what="Could not read the cache")
    async def _read_all_ids(self, view: View) -> None:
        if view is not self._view:
            return
        try:
            ids = await asyncio.to_thread(view.row_ids)
        except QueryCancelled:
            return
        if view is not self._view:
            return
        self.table.set_source(self.model.row_source(ids), keep_cursor_row=True, same_view=True)
        self.matching = len(ids)  # a job or a sync may have changed it since the count
        self._show_counts()

    def _show_counts(self) -> None:
        matching = self.matching
        parts = []
        if matching is None:
            parts.append("counting…")
        elif self.view_total is not None and not self.view_filter.is_empty:
            parts.append(f"{matching:,} of {self.view_total:,}")
        else:
            parts.append(f"{matching:,}")
        if self.selected:
            parts.append(f"{self.selected:,} selected")
        text = " · ".join(parts)
        if text != self._counts_text:
            # The label only widens (its least width follows the widest text it has shown),
            # so a new count repaints the label, not the whole screen (a layout of the screen
            # took ~15 ms of every keystroke).
            label = self.query_one("#view-counts", Label)
            widened = len(text) > self._counts_width
            if widened:
                self._counts_width = len(text)
                label.styles.min_width = self._counts_width
            self._counts_text = text
            label.update(text, layout=widened)

    # -- selection ----------------------------------------------------------------------------

    @screen_work(group="count", exclusive=True, what="Could not count the selection")
    async def count_selection(self) -> None:
        self.selected = await asyncio.to_thread(self.model.selection_count)
        self._show_counts()

    def _selection_changed(self) -> None:
        self.table.refresh_marks()
        self.count_selection()

    @on(MemberTable.ToggleRequested)
    def _toggle(self, event: MemberTable.ToggleRequested) -> None:
        self.model.selection.toggle(event.row_id)
        self._selection_changed()

    @on(MemberTable.RangeRequested)
    def _range(self, event: MemberTable.RangeRequested) -> None:
        self.model.selection.add(event.row_ids)
        self._selection_changed()

    def action_select_all(self) -> None:
        if self.refused_for_query_error("select all that match"):
            return
        self.model.selection.select_all(self.view_filter)
        self._selection_changed()

    def refused_for_query_error(self, what: str) -> bool:
        """While the filter bar marks an error, the rows shown are those of the last query that
        read (everyone, for a first term mistyped): what it would match is not known, and
        taking the rows shown instead would act on followers the user did not ask for."""
        if not self.query_one("#filter-error", Label).display:
            return False
        self.notify(f"The filter has an error (marked under the bar): fix it, or clear it with esc, to {what}",
                    severity="warning")
        return True

    def action_clear_selection(self) -> None:
        self.model.selection.clear()
        self._selection_changed()

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
        self.table.focus()

    def action_history(self) -> None:
        from wxtui.ui.screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen(self.model))

    def action_focus_jobs(self) -> None:
        if self.jobs_panel.display:
            self.jobs_panel.focus()
        else:
            self.notify("No jobs yet")

    def action_open_follower(self) -> None:
        from wxtui.ui.screens.follower import FollowerScreen

        row = self.table.cursor_row
        if row is None:
            self.notify(f"No {self.model.members[0]} under the cursor", severity="warning")
            return
        # What changed there (remark, tags, blacklist) shows in the rows on return.
        self.app.push_screen(FollowerScreen(self.model, row.openid), lambda _: self.reload())
