"""The filter bar's query (see wxtui.store.query) and saved segments, on the main screen.

The query is parsed as it is typed: a good one filters the browser at once (as the text filter
did), a bad one leaves the rows as they were and says under the bar what is wrong, with the bad
token marked. `?` alone in the bar explains the syntax; tag names complete (→ accepts). `S`
saves what the browser shows as a named segment; segments sit in the tag pane under their own
heading with live counts, and choosing one filters the browser like a tag does.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Label, Static

from wxtui.store.query import SYNTAX_HELP, QueryError, complete
from wxtui.store.segments import SegmentError, Segments, check_name
from wxtui.ui import format as fmt
from wxtui.ui.screens.guard import screen_work
from wxtui.ui.widgets.tag_list import TagEntry


class QuerySuggester(Suggester):
    """Completes the last term of the query: a tag name after tag:, a field or a word."""

    def __init__(self, tag_names) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._tag_names = tag_names  # a callable: the names change with syncs and renames

    async def get_suggestion(self, value: str) -> str | None:
        return complete(value, self._tag_names())


class QueryHelpScreen(ModalScreen[None]):
    """What the filter bar understands."""

    BINDINGS = [Binding("escape,q,question_mark,f1,enter", "dismiss", "Close", id="query_help.close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help query-help"):
            yield Label("Filter queries", classes="dialog-title")
            yield Static(Text(SYNTAX_HELP), id="query-syntax")
            # One term a line: at 80 columns a query this long wraps anywhere.
            yield Static("Example:\n  tag:VIP tag:广东 -tag:Staff scene:qr_code\n  followed:2024-01-01..2024-06-30 李",
                         classes="note")
            yield Static("→ accepts a suggested tag name · esc clears the bar\nS saves the query as a segment",
                         classes="note")
            yield Label("esc closes", classes="meter")


def error_text(query: str, error: QueryError) -> Text:
    """The query with its bad token marked, then what is wrong (outside text shown literally)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("✗ ", style="bold red")
    text.append_text(fmt.literal(query[: error.start]))
    text.append_text(fmt.literal(query[error.start : error.end] or " ", style="bold reverse red"))
    text.append_text(fmt.literal(query[error.end :]))
    text.append("  ")
    text.append_text(fmt.literal(error.message, style="red"))
    return text


def segment_entries(store) -> list[TagEntry]:
    """The saved segments with their counts now (a few indexed counts: run it off the UI)."""
    from wxtui.store.rules import Rules

    segments = Segments(store)
    ruled = {rule.segment for rule in Rules(store).list()}
    return [TagEntry("segment", s.id, s.name, segments.count(s), filter=s.filter, ruled=s.name in ruled)
            for s in segments.list()]


class SegmentsMixin:
    """The main screen's segment actions (it provides model, tag_list, current_filter...)."""

    @screen_work(group="segments", exclusive=True, what="Could not read the segments")
    async def load_segments(self) -> None:
        entries = await asyncio.to_thread(segment_entries, self.model.store)
        self.tag_list.set_segments(entries)
        chosen = self.entry
        if chosen.kind == "segment":
            fresh = next((e for e in entries if e.tagid == chosen.tagid), None)
            if fresh is None:  # deleted: back to everyone
                self.tag_list.choose("all")
                self._show_entry(self.tag_list.entries["all"])
            elif fresh.filter != chosen.filter:  # saved again under the same name
                self._show_entry(fresh)

    def show_query_error(self, query: str, error: QueryError | None) -> None:
        label = self.query_one("#filter-error", Label)
        label.display = error is not None
        if error is not None:
            label.update(error_text(query, error))

    def action_query_help(self) -> None:
        self.app.push_screen(QueryHelpScreen())

    @screen_work(group="action", one=True, what="Could not save the segment")
    async def action_save_segment(self) -> None:
        from wxtui.ui.screens.prompts import TextPromptScreen

        flt = self.current_filter()
        if flt is None:
            self.notify("Fix the query first: it has an error (see under the filter bar)", severity="warning")
            return
        if self.refused_for_query_error("save it as a segment"):
            return
        if flt.is_empty:
            self.notify("The view shows every follower: filter it first (/ then a query)", severity="warning")
            return
        existing = {e.name.casefold() for e in self.tag_list.segment_entries}

        def check(text: str) -> str:
            try:
                name = check_name(text)
            except SegmentError as exc:
                return str(exc).capitalize()
            return "Saving replaces the segment of this name" if name.casefold() in existing else ""

        name = await self.app.push_screen_wait(TextPromptScreen(
            f"Save as a segment: {flt.describe(self.model.tag_names)}", placeholder="segment name",
            check=lambda text: "" if check(text).startswith("Saving") else check(text), ok="Save"))
        if not name:
            return
        saved = await asyncio.to_thread(Segments(self.model.store).save, name, flt)
        self.notify(fmt.literal(f"Saved the segment {saved.name!r}").plain, markup=False)
        self.load_segments()

    def action_delete_tag(self) -> None:
        entry = self.tag_list.highlighted_entry
        if entry is None or entry.kind != "segment":
            super().action_delete_tag()
        else:
            self._delete_segment(entry)

    @screen_work(group="action", one=True, what="Could not delete the segment")
    async def _delete_segment(self, entry: TagEntry) -> None:
        from wxtui.store.query import format as format_query

        # No confirmation: a segment changes no follower, and the note gives back its query.
        from wxtui.store.rules import Rules, orphaned_note

        await asyncio.to_thread(Segments(self.model.store).delete, entry.name)
        query = format_query(entry.filter, self.model.tag_names)
        note = orphaned_note(entry.name, await asyncio.to_thread(Rules(self.model.store).list))
        self.notify(fmt.literal(f"Deleted the segment {entry.name!r} ({query})" + (f". {note}" if note else "")).plain,
                    timeout=10, markup=False)
        self.load_segments()

    def action_audit_log(self) -> None:
        from wxtui.ui.screens.audit_log import AuditLogScreen

        self.app.push_screen(AuditLogScreen(self.model.jobs.journal))
