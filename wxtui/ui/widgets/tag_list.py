"""The tag list: All, Untagged, Blacklisted, then every tag with its follower count."""

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

    kind: str  # "all" | "untagged" | "blacklisted" | "tag"
    tagid: int | None = None
    name: str = ""
    count: int = 0
    reserved: bool = False  # kept by the service: cannot be renamed, deleted or put on anyone

    @property
    def option_id(self) -> str:
        return f"tag:{self.tagid}" if self.kind == "tag" else self.kind


def _prompt(entry: TagEntry) -> Text:
    label = entry.name
    style = ""
    if entry.kind != "tag":
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

    def set_entries(self, total: int, untagged: int, blacklisted: int, tags: Iterable[TagEntry], *,
                    blacklist: bool = True) -> None:
        """Replace the list, keeping the highlight on the same entry. blacklist=False: the
        account has none (Tencent Cloud IM), so no Blacklisted entry."""
        current = self.highlighted_entry
        fixed = [TagEntry("all", name="All", count=total), TagEntry("untagged", name="Untagged", count=untagged)]
        if blacklist:
            fixed.append(TagEntry("blacklisted", name="Blacklisted", count=blacklisted))
        tag_entries = list(tags)
        options: list[Option | None] = [Option(_prompt(e), id=e.option_id) for e in fixed]
        options.append(None)
        options.extend(Option(_prompt(e), id=e.option_id) for e in tag_entries)
        self.entries = {e.option_id: e for e in fixed + tag_entries}
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
