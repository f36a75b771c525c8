"""Small typed results of the API calls."""

from __future__ import annotations

from dataclasses import dataclass

from wxtui.core.members import Follower, Tag

__all__ = ["Follower", "OpenidPage", "Quota", "Tag", "Token"]


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    expires_at: float  # unix seconds on the local clock

    def __repr__(self) -> str:  # never show the token itself
        return f"Token(<redacted>, expires_at={self.expires_at:.0f})"


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
