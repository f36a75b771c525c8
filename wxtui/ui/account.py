"""The open account as the screen sees it: views, rows, tag counts and the selection.

Plain Python over the session's store (no Textual), so every method can run in a worker thread
and be tested on its own. The screen decides when; this decides what.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

from wxtui.store import Filter, Store, TagRow, View
from wxtui.ui.rows import MemberRow, RowSource
from wxtui.ui.summary import ActionSummary
from wxtui.wechat import limits

SELECTION_NAME = "main"


@dataclass(frozen=True)
class TagSummary:
    """What the tag list shows."""

    total: int
    untagged: int
    blacklisted: int
    tags: list[TagRow]


@dataclass(frozen=True)
class Intent:
    """What the user asked for, in the screen's terms (the engine's intents are built from it)."""

    kind: str  # tag | untag | clear_tags | blacklist | unblacklist | delete_tag
    target: "Target | None" = None
    tagid: int | None = None
    tag_name: str = ""


@dataclass
class PlannedAction:
    """A dry run, ready to confirm and start."""

    summary: ActionSummary | None
    plan: object = None  # wxtui.jobs.planner.Plan
    nothing_to_do: str = ""  # set when there is nothing to confirm (all no-ops, or refused)


@dataclass(frozen=True)
class Target:
    """What an action applies to: the selection, or the follower under the cursor."""

    description: str  # "12 selected followers", "oAbc…Xyz"
    count: int
    row_id: int | None = None  # set when the target is the one follower under the cursor

    @property
    def is_selection(self) -> bool:
        return self.row_id is None


class AccountModel:
    def __init__(self, session, clock: Callable[[], float] = time.time):
        self.session = session
        self.store: Store = session.store
        self.clock = clock
        self.selection = self.store.selection(SELECTION_NAME)
        self._tag_names: dict[int, str] = {}
        self.refresh_tag_names()

    # -- identity -----------------------------------------------------------------------------

    @property
    def label(self) -> str:
        return self.session.label

    @property
    def appid(self) -> str:
        return self.session.account_key

    # -- tags ---------------------------------------------------------------------------------

    def refresh_tag_names(self) -> dict[int, str]:
        self._tag_names = self.store.tag_names()
        return self._tag_names

    @property
    def tag_names(self) -> dict[int, str]:
        return self._tag_names

    def tag_summary(self) -> TagSummary:
        """Counts for the tag list (a few indexed counts: run it off the UI on big caches)."""
        tags = self.store.tags()
        self._tag_names = {t.id: t.name for t in tags}
        return TagSummary(
            total=self.store.follower_count(),
            untagged=self.store.view(Filter(untagged=True)).count(),
            blacklisted=self.store.view(Filter(blacklisted=True)).count(),
            tags=tags,
        )

    def tag_named(self, name: str) -> TagRow | None:
        folded = name.strip().casefold()
        return next((t for t in self.store.tags() if t.name.casefold() == folded), None)

    # -- rows ---------------------------------------------------------------------------------

    def view(self, flt: Filter) -> View:
        return self.store.view(flt)

    def rows(self, ids: Sequence[int]) -> list[MemberRow]:
        names = self._tag_names
        out = []
        for row in self.store.rows_by_ids(ids):
            if row is None:
                continue
            tags = ", ".join(names.get(t, f"#{t}") for t in row.tagids if t != limits.STAR_TAG_ID)
            if limits.STAR_TAG_ID in row.tagids:
                tags = "★ " + tags if tags else "★"
            out.append(MemberRow(row.id, row.openid, row.remark, tags, row.subscribe_time, row.scene))
        return out

    def row_source(self, ids: Sequence[int], *, complete: bool = True) -> RowSource:
        return RowSource(ids, self.rows, complete=complete)

    # -- selection ----------------------------------------------------------------------------

    def selected_among(self, ids: Sequence[int]) -> set[int]:
        return self.selection.contained(ids)

    def selection_count(self) -> int:
        return self.selection.count()

    def target(self, cursor_row: MemberRow | None, selected: int) -> Target | None:
        """The selection when there is one, else the follower under the cursor, else None."""
        if selected:
            noun = "follower" if selected == 1 else "followers"
            return Target(f"{selected:,} selected {noun}", selected)
        if cursor_row is not None:
            return Target(cursor_row.openid, 1, cursor_row.id)
        return None

    def target_openids(self, target: Target) -> list[str]:
        if target.row_id is not None:
            return list(self.store.openids_of([target.row_id]).values())
        return [openid for chunk in self.selection.iter_openids() for openid in chunk]

    async def aclose(self) -> None:
        """Stop what runs for this account (the scheduler's jobs stay resumable)."""
