"""A follower's card (wxtui.core.member_card): the cache's row, the tags WeChat says they carry
now (getidlist; the cache corrected when it differs), and the jobs that touched them."""

from __future__ import annotations

import asyncio
from typing import Any

from wxtui.core.errors import BadOpenidError, WxtuiError, redact
from wxtui.core.member_card import CACHED, LIVE, FollowerCard, NotAFollower, job_touches


async def read_follower(client: Any, store: Any, journal: Any, openid: str) -> FollowerCard:
    """The follower's card; NotAFollower when the service and the cache know nobody by this id.
    Only the tags are asked of the service when the cache knows the follower (one call)."""
    from wxtui.families.wechat.client import is_valid_openid
    from wxtui.families.wechat.planner import correct_cached_tags

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
    jobs = await asyncio.to_thread(job_touches, journal, openid)
    blacklisted = openid in await asyncio.to_thread(lambda: set(store.blacklist()))
    return FollowerCard(
        openid=openid, unionid=row.unionid, remark=row.remark, language=row.language,
        subscribe_time=row.subscribe_time, scene=row.scene, qr_scene=row.qr_scene,
        qr_scene_str=row.qr_scene_str, blacklisted=blacklisted,
        tags=tuple((t, names.get(t, f"#{t}")) for t in tagids), tags_from=LIVE if live is not None else CACHED,
        corrected=corrected, note=note, jobs=jobs)
