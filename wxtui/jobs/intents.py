"""What the user asks for, before it becomes calls: an intent names an action and its followers.

Intents are small frozen values. `Followers` says who: explicit openids (a file, standard input,
the UI's picks), a filter over the cache, or a named selection of the cache. An intent's
`to_dict()` is what the journal keeps (explicit openids are summarised, the calls hold them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterator

from wxtui.store.filters import Filter

OPENIDS_CHUNK = 2000


@dataclass(frozen=True)
class Followers:
    """Who an intent applies to; exactly one of openids, filter, selection is set."""

    openids: tuple[str, ...] | None = None
    filter: Filter | None = None
    selection: str | None = None

    def __post_init__(self) -> None:
        given = sum(x is not None for x in (self.openids, self.filter, self.selection))
        if given != 1:
            raise ValueError("say who: openids, a filter or a selection (exactly one)")
        if self.openids is not None and not isinstance(self.openids, tuple):
            object.__setattr__(self, "openids", tuple(self.openids))

    @classmethod
    def of(cls, openids) -> "Followers":
        return cls(openids=tuple(dict.fromkeys(openids)))

    def chunks(self, store) -> Iterator[list[str]]:
        """The openids, deduplicated, in chunks (a selection or a filter streams from the store)."""
        if self.openids is not None:
            unique = list(dict.fromkeys(self.openids))
            for start in range(0, len(unique), OPENIDS_CHUNK):
                yield unique[start : start + OPENIDS_CHUNK]
            return
        if self.selection is not None:
            yield from store.selection(self.selection).iter_openids(OPENIDS_CHUNK)
            return
        ids = store.view(self.filter).row_ids()
        for start in range(0, len(ids), OPENIDS_CHUNK):
            part = ids[start : start + OPENIDS_CHUNK]
            names = store.openids_of(part)
            yield [names[i] for i in part if i in names]

    def describe(self, tag_names: dict[int, str] | None = None) -> str:
        if self.openids is not None:
            n = len(self.openids)
            return f"{n:,} listed follower{'s' if n != 1 else ''}"
        if self.selection is not None:
            return f"selection {self.selection!r}"
        return self.filter.describe(tag_names)

    def to_dict(self) -> dict:
        if self.openids is not None:
            return {"openids": len(self.openids)}
        if self.selection is not None:
            return {"selection": self.selection}
        return {"filter": self.filter.to_json()}


@dataclass(frozen=True)
class Intent:
    kind: ClassVar[str] = ""
    verb: ClassVar[str] = ""

    def to_dict(self) -> dict:
        d = {"kind": self.kind}
        for name, value in vars(self).items():
            d[name] = value.to_dict() if isinstance(value, Followers) else value
        return d


@dataclass(frozen=True)
class TagFollowers(Intent):
    kind: ClassVar[str] = "tag"
    verb: ClassVar[str] = "tag"
    tagid: int
    followers: Followers


@dataclass(frozen=True)
class UntagFollowers(Intent):
    kind: ClassVar[str] = "untag"
    verb: ClassVar[str] = "untag"
    tagid: int
    followers: Followers


@dataclass(frozen=True)
class ClearTags(Intent):
    """Remove every tag of the followers (getidlist or the cached tags, then untag per tag)."""

    kind: ClassVar[str] = "clear_tags"
    verb: ClassVar[str] = "clear all tags of"
    followers: Followers
    refresh: bool = False  # ask WeChat (getidlist per follower) instead of trusting the cache


@dataclass(frozen=True)
class BlacklistFollowers(Intent):
    kind: ClassVar[str] = "blacklist"
    verb: ClassVar[str] = "blacklist"
    followers: Followers


@dataclass(frozen=True)
class UnblacklistFollowers(Intent):
    kind: ClassVar[str] = "unblacklist"
    verb: ClassVar[str] = "unblacklist"
    followers: Followers


@dataclass(frozen=True)
class DeleteTag(Intent):
    """Delete a tag; one with more than 100,000 followers is drained first by untagging."""

    kind: ClassVar[str] = "delete_tag"
    verb: ClassVar[str] = "delete tag"
    tagid: int


@dataclass(frozen=True)
class CreateTagAndTag(Intent):
    """Create a tag, then put it on the followers: one job, so nothing exists until confirmed."""

    kind: ClassVar[str] = "create_and_tag"
    verb: ClassVar[str] = "create and tag"
    name: str
    followers: Followers


@dataclass(frozen=True)
class SetFollowerTags(Intent):
    """Give one follower exactly these tags: the missing ones are added before the dropped ones
    are removed, so the follower never carries fewer tags than before and after."""

    kind: ClassVar[str] = "set_tags"
    verb: ClassVar[str] = "set the tags of"
    openid: str
    tagids: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "tagids", tuple(sorted(set(self.tagids))))


@dataclass(frozen=True)
class CreateTag(Intent):
    kind: ClassVar[str] = "create_tag"
    verb: ClassVar[str] = "create tag"
    name: str


@dataclass(frozen=True)
class RenameTag(Intent):
    kind: ClassVar[str] = "rename_tag"
    verb: ClassVar[str] = "rename tag"
    tagid: int
    name: str


@dataclass(frozen=True)
class SetRemark(Intent):
    kind: ClassVar[str] = "set_remark"
    verb: ClassVar[str] = "set the remark of"
    openid: str
    remark: str
