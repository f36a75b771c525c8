"""The records the cache keeps of an account's people and tags, whichever family fills them.

A WeChat follower arrives in this shape from user/info/batchget; a Tencent Cloud IM account is
kept as one too (its account id in `openid`, its tags in `tagid_list`, the rest left empty).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Tag:
    id: int
    name: str
    count: int = 0


@dataclass(slots=True)
class Follower:
    openid: str
    subscribe: int = 1
    language: str = ""
    subscribe_time: int = 0
    unionid: str = ""
    remark: str = ""
    groupid: int = 0
    tagid_list: list[int] = field(default_factory=list)
    subscribe_scene: str = ""
    qr_scene: int = 0
    qr_scene_str: str = ""

    @classmethod
    def from_api(cls, d: dict) -> "Follower":
        # Positional, in the order of the fields: a sync builds a million of these, and
        # keywords cost a fifth more.
        get = d.get
        return cls(d["openid"], get("subscribe", 1), get("language", ""), get("subscribe_time", 0),
                   get("unionid", ""), get("remark", ""), get("groupid", 0),
                   list(get("tagid_list") or ()), get("subscribe_scene", ""), get("qr_scene", 0),
                   get("qr_scene_str", ""))
