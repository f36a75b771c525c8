"""Small typed results of the API calls."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    expires_at: float  # unix seconds on the local clock

    def __repr__(self) -> str:  # never show the token itself
        return f"Token(<redacted>, expires_at={self.expires_at:.0f})"


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
        return cls(
            openid=d["openid"],
            subscribe=d.get("subscribe", 1),
            language=d.get("language", ""),
            subscribe_time=d.get("subscribe_time", 0),
            unionid=d.get("unionid", ""),
            remark=d.get("remark", ""),
            groupid=d.get("groupid", 0),
            tagid_list=list(d.get("tagid_list") or ()),
            subscribe_scene=d.get("subscribe_scene", ""),
            qr_scene=d.get("qr_scene", 0),
            qr_scene_str=d.get("qr_scene_str", ""),
        )


@dataclass(frozen=True, slots=True)
class OpenidPage:
    """One page of a paged openid list (followers, followers of a tag, blacklist)."""

    openids: list[str]
    next_openid: str
    total: int | None = None  # user/get and getblacklist say it; user/tag/get does not


@dataclass(frozen=True, slots=True)
class Quota:
    daily_limit: int
    used: int
    remain: int
