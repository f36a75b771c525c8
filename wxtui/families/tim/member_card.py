"""An IM account's card (wxtui.core.member_card): the tags Tencent Cloud IM says it carries now
(the cache corrected when it differs) and the jobs that touched it."""

from __future__ import annotations

import asyncio
from typing import Any

from wxtui.core.errors import WxtuiError, redact
from wxtui.core.member_card import CACHED, LIVE, FollowerCard, NotAFollower, job_touches


async def read_account_card(client: Any, store: Any, journal: Any, account: str) -> FollowerCard:
    from wxtui.families.tim.cache import cached_tags_of, remember_accounts

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
    jobs = await asyncio.to_thread(job_touches, journal, account)
    return FollowerCard(openid=account, family="tim", tags=tuple((by_name.get(n, 0), n) for n in names),
                        tags_from=LIVE if live is not None else CACHED, corrected=corrected, note=note,
                        jobs=jobs)
