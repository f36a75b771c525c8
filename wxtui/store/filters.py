"""What a view shows (Filter), in which order (Sort), and the rows it hands out."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from enum import Enum


@dataclass(frozen=True, slots=True)
class Filter:
    """Followers matching every field that is set; the empty Filter() matches everyone.

    tags: carries at least one of these tag ids (all of them when match_all_tags).
    not_tags: carries none of these. untagged: carries no tag at all.
    blacklisted: True only blacklisted followers, False only the others, None both.
    text: the remark contains it (case-insensitive for Latin letters), or the openid starts
    with it. scenes: subscribe_scene is one of these. subscribed_from / subscribed_to: unix
    seconds, from inclusive, to exclusive. languages: the follower's language is one of these.
    """

    tags: frozenset[int] = frozenset()
    match_all_tags: bool = False
    not_tags: frozenset[int] = frozenset()
    untagged: bool = False
    blacklisted: bool | None = None
    text: str = ""
    scenes: frozenset[str] = frozenset()
    subscribed_from: int | None = None
    subscribed_to: int | None = None
    languages: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # Accept any iterable from callers; keep the frozen, hashable form.
        for name in ("tags", "not_tags", "scenes", "languages"):
            value = getattr(self, name)
            if not isinstance(value, frozenset):
                object.__setattr__(self, name, frozenset(value))
        object.__setattr__(self, "text", self.text.strip())

    @property
    def is_empty(self) -> bool:
        return self == Filter()

    def describe(self, tag_names: dict[int, str] | None = None) -> str:
        """A short human summary, e.g. 'tag 广东 · not VIP · remark ~ "李"'."""
        names = tag_names or {}

        def tag_list(ids: frozenset[int], joiner: str) -> str:
            return joiner.join(sorted(names.get(t, f"#{t}") for t in ids))

        parts = []
        if self.tags:
            label = "tags" if len(self.tags) > 1 else "tag"
            parts.append(f"{label} {tag_list(self.tags, ' & ' if self.match_all_tags else ' | ')}")
        if self.not_tags:
            parts.append(f"not {tag_list(self.not_tags, ' | ')}")
        if self.untagged:
            parts.append("untagged")
        if self.blacklisted is True:
            parts.append("blacklisted")
        elif self.blacklisted is False:
            parts.append("not blacklisted")
        if self.text:
            parts.append(f'remark or openid ~ "{self.text}"')
        if self.scenes:
            parts.append("scene " + " | ".join(sorted(s.removeprefix("ADD_SCENE_").lower() for s in self.scenes)))
        if self.subscribed_from is not None or self.subscribed_to is not None:
            start = _day(self.subscribed_from) if self.subscribed_from is not None else ""
            # subscribed_to is the first second left out; the query language names the last day in.
            end = _day(self.subscribed_to - 1) if self.subscribed_to is not None else ""
            parts.append(f"followed {start}" if start == end else f"followed {start}..{end}")
        if self.languages:
            parts.append("language " + " | ".join(sorted(self.languages)))
        return " · ".join(parts) if parts else "all followers"

    def to_json(self) -> str:
        d = asdict(self)
        for name in ("tags", "not_tags", "scenes", "languages"):
            d[name] = sorted(d[name])
        return json.dumps(d, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Filter":
        return cls(**json.loads(text))


def _day(ts: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


class SortKey(str, Enum):
    SUBSCRIBE_TIME = "subscribe_time"
    OPENID = "openid"
    REMARK = "remark"  # followers with a remark in order of it; those without come after


@dataclass(frozen=True, slots=True)
class Sort:
    """Order of a view; ties are broken by row id, so every order is total and stable."""

    key: SortKey = SortKey.SUBSCRIBE_TIME
    descending: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.key, SortKey):
            object.__setattr__(self, "key", SortKey(self.key))

    def describe(self) -> str:
        arrow = "↓" if self.descending else "↑"
        return f"{self.key.value.replace('_', ' ')} {arrow}"


NEWEST_FIRST = Sort(SortKey.SUBSCRIBE_TIME, descending=True)


@dataclass(frozen=True, slots=True)
class TagRow:
    id: int
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class FollowerRow:
    """One follower as a view shows it; tagids are sorted (names: Store.tag_names())."""

    id: int
    openid: str
    remark: str
    subscribe_time: int
    scene: str
    language: str
    tagids: tuple[int, ...] = field(default=())
    blacklisted: bool = False
    unionid: str = ""
    qr_scene: int = 0
    qr_scene_str: str = ""
