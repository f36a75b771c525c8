"""One member (a follower, an IM account), read as a person asks about them: what the cache
knows, the tags the service says they carry now (the cache corrected when it differs), and the
jobs that touched them.

Each family reads its members' cards (Family.read_member_card); the follower screen and
`wxtui follower show` both show the `FollowerCard` it gives.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from wxtui.core.errors import WxtuiError

LIVE = "live"  # the tags were read from the service just now
CACHED = "cache"  # the service could not be asked: the cache's tags


class NotAFollower(WxtuiError):
    """The id names nobody who follows the account (or no account of the IM app)."""


@dataclass(frozen=True)
class JobTouch:
    """A job that named the follower: enough to list it and find it with `wxtui jobs show`."""

    id: int
    title: str
    state: str
    created_at: float
    undo_of: int | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "state": self.state, "created_at": self.created_at,
                "undo_of": self.undo_of}


@dataclass(frozen=True)
class FollowerCard:
    openid: str
    family: str = "wechat"  # or "tim": an IM account (no remark, blacklist, scene...)
    unionid: str = ""
    remark: str = ""
    language: str = ""
    subscribe_time: int = 0
    scene: str = ""
    qr_scene: int = 0
    qr_scene_str: str = ""
    blacklisted: bool = False
    tags: tuple[tuple[int, str], ...] = ()  # (id, name), as the service said (or the cache)
    tags_from: str = LIVE
    corrected: bool = False  # the cache held other tags and was corrected
    note: str = ""  # why the tags come from the cache
    jobs: tuple[JobTouch, ...] = field(default=())

    @property
    def is_tim(self) -> bool:
        return self.family == "tim"

    @property
    def tagids(self) -> tuple[int, ...]:
        return tuple(t for t, _ in self.tags)

    def to_dict(self) -> dict:
        tags = [{"id": t, "name": name} for t, name in self.tags]
        if self.is_tim:
            return {"account": self.openid, "family": self.family, "tags": [t["name"] for t in tags],
                    "tags_from": self.tags_from, "cache_corrected": self.corrected, "note": self.note,
                    "jobs": [j.to_dict() for j in self.jobs]}
        return {"openid": self.openid, "family": self.family, "unionid": self.unionid, "remark": self.remark,
                "language": self.language, "subscribe_time": self.subscribe_time,
                "subscribe_scene": self.scene, "qr_scene": self.qr_scene, "qr_scene_str": self.qr_scene_str,
                "blacklisted": self.blacklisted, "tags": tags, "tags_from": self.tags_from,
                "cache_corrected": self.corrected, "note": self.note,
                "jobs": [j.to_dict() for j in self.jobs]}


def job_touches(journal: Any, openid: str) -> tuple[JobTouch, ...]:
    return tuple(JobTouch(r.id, r.title, r.state, r.created_at, r.undo_of)
                 for r in journal.jobs_touching(openid))
