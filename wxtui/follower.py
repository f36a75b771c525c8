"""One follower, read as a person asks about them: what the cache knows, the tags the service
says they carry now (the cache corrected when it differs), and the jobs that touched them.

Plain Python over a client, a store and the job journal: the follower screen and `wxtui
follower show` both read a `FollowerCard` from `read_follower`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from wxtui.wechat.errors import BadOpenidError, WxtuiError, redact

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


def _touches(journal: Any, openid: str) -> tuple[JobTouch, ...]:
    return tuple(JobTouch(r.id, r.title, r.state, r.created_at, r.undo_of)
                 for r in journal.jobs_touching(openid))


async def read_follower(client: Any, store: Any, journal: Any, openid: str, *, tim: bool = False) -> FollowerCard:
    """The follower's card; NotAFollower when the service and the cache know nobody by this id.
    Only the tags are asked of the service when the cache knows the follower (one call)."""
    if tim:
        return await _read_tim_account(client, store, journal, openid)
    from wxtui.jobs.planner import correct_cached_tags
    from wxtui.wechat.client import is_valid_openid

    if not is_valid_openid(openid):
        raise NotAFollower(f"not an openid (28 characters of A-Z a-z 0-9 _ -): {openid!r}")
    row = await asyncio.to_thread(store.row_by_openid, openid)
    live: list[int] | None = None
    note = ""
    try:
        if row is None:  # not synced yet: the service has the rest of the card too
            info = await client.user_info(openid)
            if not info.subscribe:
                raise NotAFollower(f"{openid} does not follow the account (any more)")
            await asyncio.to_thread(store.upsert_followers, [info])
            row = await asyncio.to_thread(store.row_by_openid, openid)
        live = sorted(set(await client.get_tag_ids(openid)))
    except BadOpenidError:
        raise NotAFollower(f"{openid} is not a follower of this account") from None
    except WxtuiError as exc:
        if row is None:
            raise
        note = f"could not ask WeChat for the tags: {redact(str(exc))}"
    corrected = False
    if live is not None and list(row.tagids) != live:
        await asyncio.to_thread(correct_cached_tags, store, openid, row.tagids, live)
        corrected = True
    names = await asyncio.to_thread(store.tag_names)
    tagids = live if live is not None else list(row.tagids)
    jobs = await asyncio.to_thread(_touches, journal, openid)
    blacklisted = openid in await asyncio.to_thread(lambda: set(store.blacklist()))
    return FollowerCard(
        openid=openid, unionid=row.unionid, remark=row.remark, language=row.language,
        subscribe_time=row.subscribe_time, scene=row.scene, qr_scene=row.qr_scene,
        qr_scene_str=row.qr_scene_str, blacklisted=blacklisted,
        tags=tuple((t, names.get(t, f"#{t}")) for t in tagids), tags_from=LIVE if live is not None else CACHED,
        corrected=corrected, note=note, jobs=jobs)


async def _read_tim_account(client: Any, store: Any, journal: Any, account: str) -> FollowerCard:
    from wxtui.tim.cache import cached_tags_of, remember_accounts

    cached = (await asyncio.to_thread(cached_tags_of, store, [account])).get(account)
    live: list[str] | None = None
    note = ""
    try:
        answer = await client.get_tags([account])
        if account in answer:
            live = list(answer[account])
        else:
            failure = answer.failed.get(account)
            note = ("could not ask Tencent Cloud IM for the tags: "
                    + (f"{failure.info or 'error'} ({failure.code})" if failure else "no answer"))
    except WxtuiError as exc:
        note = f"could not ask Tencent Cloud IM for the tags: {redact(str(exc))}"
    if live is None and cached is None:
        raise NotAFollower(f"{account} is not in the cache and Tencent Cloud IM could not be asked ({note})")
    corrected = False
    if live is not None and (cached is None or sorted(cached) != sorted(live)):
        await asyncio.to_thread(remember_accounts, store, {account: live})
        corrected = cached is not None
    names = live if live is not None else cached
    by_name = {name: tagid for tagid, name in (await asyncio.to_thread(store.tag_names)).items()}
    jobs = await asyncio.to_thread(_touches, journal, account)
    return FollowerCard(openid=account, family="tim", tags=tuple((by_name.get(n, 0), n) for n in names),
                        tags_from=LIVE if live is not None else CACHED, corrected=corrected, note=note,
                        jobs=jobs)
