"""The tag list: All, Untagged, Blacklisted, then every tag with its follower count, then the
saved segments under their own heading, each with its live count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from wxtui.ui import format as fmt
from wxtui.ui import keys

NAME_WIDTH = 13
COUNT_WIDTH = 5


@dataclass(frozen=True)
class TagEntry:
    """What a line of the tag list stands for."""

    kind: str  # "all" | "untagged" | "blacklisted" | "tag" | "segment"
    tagid: int | None = None  # a segment's id for a segment
    name: str = ""
    count: int = 0
    reserved: bool = False  # kept by the service: cannot be renamed, deleted or put on anyone
    filter: object = None  # a segment's Filter
    ruled: bool = False  # a segment carrying a rule (wxtui.store.rules)

    @property
    def option_id(self) -> str:
        if self.kind in ("tag", "segment"):
            return f"{self.kind}:{self.tagid}"
        return self.kind


def _prompt(entry: TagEntry) -> Text:
    label = entry.name
    style = ""
    if entry.kind == "segment":
        style = "italic"
        if entry.ruled:
            label = "↻" + label  # keeps a tag on its followers: K lists the rules
    elif entry.kind != "tag":
        style = "bold"
    elif entry.reserved:
        label = "*" + label  # reserved by the service: cannot be renamed or deleted
        style = "italic"
    text = Text(no_wrap=True)
    text.append(fmt.fit(label, NAME_WIDTH), style=style)
    text.append(" ")
    text.append(fmt.count(entry.count).rjust(COUNT_WIDTH), style="dim" if not entry.count else "")
    return text


class TagList(OptionList):
    """Moving the highlight filters the member browser (TagList.Chosen)."""

    BINDINGS = keys.TAGS

    class Chosen(Message):
        def __init__(self, entry: TagEntry, go: bool = False) -> None:
            super().__init__()
            self.entry = entry
            self.go = go  # Enter: take the user on to the followers

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.entries: dict[str, TagEntry] = {}
        self._fixed: list[TagEntry] = []
        self._tags: list[TagEntry] = []
        self._segments: list[TagEntry] = []

    def set_entries(self, total: int, untagged: int, blacklisted: int, tags: Iterable[TagEntry], *,
                    blacklist: bool = True) -> None:
        """Replace the list, keeping the highlight on the same entry. blacklist=False: the
        account has none (Tencent Cloud IM), so no Blacklisted entry."""
        fixed = [TagEntry("all", name="All", count=total), TagEntry("untagged", name="Untagged", count=untagged)]
        if blacklist:
            fixed.append(TagEntry("blacklisted", name="Blacklisted", count=blacklisted))
        self._fixed, self._tags = fixed, list(tags)
        self._rebuild()

    def set_segments(self, segments: Iterable[TagEntry]) -> None:
        """Replace the saved segments (kind "segment"), shown after the tags under a heading."""
        self._segments = list(segments)
        self._rebuild()

    def _rebuild(self) -> None:
        current = self.highlighted_entry
        fixed, tag_entries = self._fixed, self._tags
        options: list[Option | None] = [Option(_prompt(e), id=e.option_id) for e in fixed]
        options.append(None)
        options.extend(Option(_prompt(e), id=e.option_id) for e in tag_entries)
        if self._segments:
            options.append(None)
            options.append(Option(Text("Segments", style="bold underline"), id="segments-heading", disabled=True))
            options.extend(Option(_prompt(e), id=e.option_id) for e in self._segments)
        self.entries = {e.option_id: e for e in fixed + tag_entries + self._segments}
        with self.prevent(OptionList.OptionHighlighted):
            self.set_options(options)
            wanted = current.option_id if current and current.option_id in self.entries else "all"
            self.highlighted = self.get_option_index(wanted)

    @property
    def highlighted_entry(self) -> TagEntry | None:
        option = self.highlighted_option
        return self.entries.get(option.id) if option is not None and option.id else None

    @property
    def tag_entries(self) -> list[TagEntry]:
        return [e for e in self.entries.values() if e.kind == "tag"]

    @property
    def segment_entries(self) -> list[TagEntry]:
        return list(self._segments)

    def choose(self, option_id: str) -> None:
        if option_id in self.entries:
            self.highlighted = self.get_option_index(option_id)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        entry = self.entries.get(event.option.id or "")
        if entry is not None:
            self.post_message(self.Chosen(entry))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        # Enter: the view already follows the highlight; take the user to the followers.
        event.stop()
        entry = self.entries.get(event.option.id or "")
        if entry is not None:
            self.post_message(self.Chosen(entry, go=True))
