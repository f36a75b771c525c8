"""Bulk tag actions on a Tencent Cloud IM account: plans on the engine's TIM family, and the
`wxtui tag|untag|clear-tags` verbs when the account is of kind "tim".

Who: accounts listed (--file / --stdin, which must be in the cache: import them first with
`wxtui tim-import`), every cached account (--everyone), or those the cache says carry a tag
(--with-tag). The job is journaled and runs like a WeChat one (progress, Ctrl-C cancels and
`wxtui jobs resume` goes on, the same exit codes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from wxtui.jobs.plans import Plan, PlanNote
from wxtui.families.tim.operations import FAMILY, remove_all_calls, tag_calls
from wxtui.families.tim import limits
from wxtui.families.tim.cache import cached_tags_of
from wxtui.families.tim.client import check_tag

VERBS = {"tag": "add_tag", "untag": "remove_tag", "clear-tags": "remove_all_tags"}


@dataclass(frozen=True)
class TimTagIntent:
    kind: str  # tag | untag | clear-tags
    tags: tuple[str, ...] = ()
    accounts: tuple[str, ...] = field(default=(), repr=False)
    job_id: int | None = None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "tags": list(self.tags), "accounts": len(self.accounts)}


def plan_tim(store, verb: str, accounts: Sequence[str], tags: Iterable[str] = ()) -> Plan:
    """The plan of a verb over accounts. Accounts the cache does not hold are left out with a
    warning naming them (import them first: account_check tells whether they exist); the others
    are planned, as a WeChat plan sends the rest when a few openids are unknown."""
    tags = tuple(dict.fromkeys(tags))
    accounts = tuple(dict.fromkeys(accounts))
    intent = TimTagIntent(verb, tags, accounts)
    what = f"{' '.join(tags)} " if tags else ""
    title = {"tag": f"add tag {what}to", "untag": f"remove tag {what}from",
             "clear-tags": "remove all tags from"}[verb] + f" {len(accounts):,} accounts"
    plan = Plan(intent, title, [], family=FAMILY, unit="accounts")
    bad_tags = []
    for tag in tags:
        try:
            check_tag(tag)
        except Exception as exc:
            bad_tags.append(str(exc))
    if bad_tags:
        plan.errors.append(PlanNote("bad-tag", "tags Tencent Cloud IM refuses", tuple(bad_tags)))
    if not plan.ok:
        return plan
    cached = cached_tags_of(store, accounts)
    unknown = [a for a in accounts if a not in cached]
    if unknown:
        plan.warnings.append(PlanNote("not_in_cache", f"{len(unknown):,} accounts are not in the cache: "
                                      "not sent (wxtui tim-import --file ... first)", tuple(unknown)))
        accounts = tuple(a for a in accounts if a in cached)
    if verb == "tag":
        todo = [a for a in accounts if not set(tags) <= set(cached[a])]
        plan.calls = tag_calls("add_tag", tags, todo)
    elif verb == "untag":
        todo = [a for a in accounts if set(tags) & set(cached[a])]
        plan.calls = tag_calls("remove_tag", tags, todo)
    else:
        todo = [a for a in accounts if cached[a]]
        plan.calls = remove_all_calls(todo, cached)
    plan.targets, plan.noops = len(todo), len(accounts) - len(todo)
    plan.estimated_s = len(plan.calls) / limits.CALLS_PER_SECOND
    return plan
