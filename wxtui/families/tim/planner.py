"""Plans of Tencent Cloud IM accounts for the engine's intents (wxtui.jobs.intents).

Tags are free text on each account: the cache numbers them, so an intent's tag id names a tag
through the cache. Who an intent applies to (listed ids, a selection, a filter) is read from the
cache as for any family. What the service cannot do (a blacklist, renaming a tag, deleting a tag
whose carriers it cannot list, remarks) is refused in the plan, plainly, with nothing sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

from wxtui.families.tim import limits
from wxtui.families.tim.actions import plan_tim
from wxtui.families.tim.cache import cached_tag_ids
from wxtui.families.tim.client import check_tag
from wxtui.families.tim.operations import FAMILY
from wxtui.jobs.intents import ClearTags, CreateTag, CreateTagAndTag, TagFollowers, UntagFollowers
from wxtui.jobs.plans import Plan, PlanNote

VERBS = {TagFollowers: "tag", UntagFollowers: "untag", ClearTags: "clear-tags"}


def refusal(intent) -> str:
    if "blacklist" in intent.kind:
        return "Tencent Cloud IM has no blacklist: nothing was sent"
    if intent.kind == "delete_tag":
        return "Tencent Cloud IM cannot list who carries a tag, so it cannot delete one: untag the accounts"
    if intent.kind == "rename_tag":
        return "Tencent Cloud IM tags are free text on each account: they cannot be renamed"
    return f"Tencent Cloud IM cannot {intent.verb}: nothing was sent"


class TimPlanner:
    """Plans intents for one Tencent Cloud IM account from its cache."""

    def __init__(self, store: Any, client: Any = None, *, operations=None,
                 seconds_per_call: float | None = None, concurrency: int | None = None):
        self.store = store
        self.client = client

    async def plan(self, intent, *, check_quota: bool = True) -> Plan:
        if isinstance(intent, CreateTag):
            return await asyncio.to_thread(self._create_tag, intent)
        if isinstance(intent, CreateTagAndTag):  # a tag is free text: tagging is what makes it
            return await asyncio.to_thread(self._create_and_tag, intent)
        verb = VERBS.get(type(intent))
        if verb is None:
            plan = Plan(intent, intent.verb, [], family=FAMILY)
            plan.errors.append(PlanNote("unsupported", refusal(intent)))
            return plan
        return await asyncio.to_thread(self._tagging, intent, verb)

    def estimate(self, calls: int) -> float:
        return calls / limits.CALLS_PER_SECOND

    def _tagging(self, intent, verb: str) -> Plan:
        accounts = [a for chunk in intent.followers.chunks(self.store) for a in chunk]
        tags: list[str] = []
        if verb != "clear-tags":
            name = self.store.tag_names().get(intent.tagid)
            if name is None:
                plan = Plan(intent, f"{verb} {len(accounts):,} accounts", [], family=FAMILY)
                plan.errors.append(PlanNote("unknown_tag", f"no tag #{intent.tagid} in the cache"))
                return plan
            tags = [name]
        plan = plan_tim(self.store, verb, accounts, tags)
        plan.intent = intent  # the engine's intent is what the journal keeps
        return plan

    def _create_and_tag(self, intent: CreateTagAndTag) -> Plan:
        try:
            check_tag(intent.name)
        except Exception as exc:
            plan = Plan(intent, f'tag "{intent.name}"', [], family=FAMILY)
            plan.errors.append(PlanNote("tag_name", str(exc)))
            return plan
        (tagid,) = cached_tag_ids(self.store, [intent.name]).values()
        return self._tagging(TagFollowers(tagid, intent.followers), "tag")

    def _create_tag(self, intent: CreateTag) -> Plan:
        """A tag is free text: the cache numbers it now, the service learns it when it is added."""
        plan = Plan(intent, f'create tag "{intent.name}"', [], family=FAMILY)
        try:
            check_tag(intent.name)
        except Exception as exc:
            plan.errors.append(PlanNote("tag_name", str(exc)))
            return plan
        cached_tag_ids(self.store, [intent.name])
        plan.noops = 1
        return plan
