"""What the account layer does differently for a Tencent Cloud IM account (session kind "tim"):
tag actions planned as the command line plans them (wxtui.families.tim.actions.plan_tim, on the engine's
TIM family), a sync that learns the tags of the accounts the cache knows, free-text tags, and no
blacklist. The store's openid column holds the IM account id."""

from __future__ import annotations

import asyncio
from typing import Callable

from wxtui.ui.account import AccountModel, Intent, PlannedAction

VERBS = {"tag": "tag", "untag": "untag", "clear_tags": "clear-tags"}


def refusal(kind: str) -> str:
    if "blacklist" in kind:
        return "Tencent Cloud IM has no blacklist: nothing was sent"
    return "Tencent Cloud IM cannot list who carries a tag, so it cannot delete one: untag the accounts (u)"


async def plan_tim_intent(model: AccountModel, intent: Intent) -> PlannedAction:
    """The dry run of a tag action over the target's accounts."""
    from wxtui.families.tim.actions import plan_tim

    verb = VERBS.get(intent.kind)
    if verb is None:
        return PlannedAction(None, None, refusal(intent.kind))

    def accounts() -> list[str]:
        target = intent.target
        ids = list(model.selection.ids()) if target.is_selection else [target.row_id]
        found = model.store.openids_of(ids)
        return [found[i] for i in ids if i in found]

    name = intent.tag_name or model.tag_names.get(intent.tagid, "")
    tags = [name] if intent.kind != "clear_tags" else []
    plan = await asyncio.to_thread(plan_tim, model.store, verb, await asyncio.to_thread(accounts), tags)
    return model._planned(intent.kind, plan, model._target_words(intent))


async def learn_tim_tags(model: AccountModel, progress: Callable[[str], None]):
    """im_get_tag over every cached account; a SyncResult, as the WeChat sync returns."""
    from wxtui.families.wechat.sync import DONE as SYNCED, FAILED as SYNC_FAILED, SyncResult
    from wxtui.families.tim.sync import known_accounts, learn_tags

    accounts = await asyncio.to_thread(known_accounts, model.store)
    failed = await learn_tags(model.session.client, model.store, accounts,
                              progress=lambda done, total: progress(f"syncing tags {done:,}/{total:,}"))
    names = model.refresh_tag_names()
    model.store.set_meta("sync.finished_at", str(model.clock()))
    message = f"tags of {len(accounts) - len(failed):,} accounts read"
    if failed:
        message += f"; {len(failed):,} could not be read: {next(iter(failed.values()))}"
    return SyncResult(SYNC_FAILED if failed else SYNCED, len(accounts), tags=len(names), message=message)


async def create_tim_tag(model: AccountModel, name: str):
    """A TIM tag is free text: the cache numbers it now, the service learns it when it is added."""
    from wxtui.families.tim.cache import cached_tag_ids
    from wxtui.families.tim.client import check_tag

    check_tag(name)
    await asyncio.to_thread(cached_tag_ids, model.store, [name])
    model.refresh_tag_names()
    return model.tag_named(name)
