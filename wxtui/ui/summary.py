"""What the confirmation dialog states about an action before it runs. No Textual here."""

from __future__ import annotations

from dataclasses import dataclass, replace

from wxtui.ui import format as fmt


@dataclass(frozen=True)
class ActionSummary:
    """The planner's dry run, in the words of the confirmation dialog."""

    title: str  # "Tag followers"
    verb: str  # the confirm button: "Tag 1,204"
    count: int  # followers (or tags) affected
    target: str  # "tag VIP", "the blacklist", "tag 广东 (deleted with its 12 followers)"
    calls: int  # API calls it will cost
    seconds: float | None = None  # estimated time at the current rate
    quota: str = ""  # "quota ok: 999,976 of 1,000,000 left today"
    skipped: int = 0  # no-ops the planner proved from the cache
    warning: str = ""  # something to read twice (a destructive action, a big tag)
    destructive: bool = False
    noun: str = "followers"
    facts: tuple[tuple[str, str], ...] = ()  # more (name, value) lines, after the target

    def lines(self) -> list[tuple[str, str]]:
        rows = [("Count", f"{self.count:,} {self.noun}"), ("Target", self.target), *self.facts,
                ("API calls", f"{self.calls:,}")]
        if self.skipped:
            rows.append(("Skipped", f"{self.skipped:,} already done (from the cache)"))
        if self.seconds is not None:
            words = fmt.duration(self.seconds)
            rows.append(("Time", words if words.startswith("under") else f"about {words}"))
        if self.quota:
            rows.append(("Quota", self.quota))
        return rows


_TITLES = {  # {members}: "followers", or "users" on a Tencent Cloud IM account
    "tag": ("Tag {members}", "Tag"),
    "untag": ("Untag {members}", "Untag"),
    "clear_tags": ("Clear all tags", "Clear tags of"),
    "blacklist": ("Blacklist {members}", "Blacklist"),
    "unblacklist": ("Take {members} off the blacklist", "Unblacklist"),
    "delete_tag": ("Delete a tag", "Delete"),
    "undo": ("Undo a job", "Undo"),
    "set_remark": ("Set a remark", "Set remark"),
    "set_tags": ("Set the tags of a {member}", "Apply"),
    "repair": ("Repair what a job missed", "Repair"),
    "rule": ("Run a rule", "Run"),
}
DESTRUCTIVE = frozenset({"clear_tags", "blacklist", "delete_tag"})


def quota_text(quota: dict[str, dict]) -> str:
    """'ok: 999,976 of 1,000,000 left today' (the tightest API), 'short: …', or 'unknown'."""
    known = [(q["remain"] - q["needed"], path, q) for path, q in quota.items() if "remain" in q]
    if not known:
        return "unknown (could not ask WeChat)" if quota else ""
    spare, path, q = min(known)
    state = "ok" if spare >= 0 else "SHORT"
    return f"{state}: {q['remain']:,} of {q['daily_limit']:,} left today"


def quota_state(quota: dict[str, dict]) -> tuple[str, bool]:
    """The header's words for the quotas a plan read: ('quota ok', False), ('quota low', True)."""
    known = [q for q in quota.values() if "remain" in q]
    if not known:
        return "", False
    if any(q["remain"] < q["needed"] for q in known):
        return "quota short for this job", True
    remain = min(q["remain"] for q in known)
    # Low: under a tenth of the day's allowance, or under a thousand calls (20,000+ followers).
    if any(q["remain"] < max(q["daily_limit"] // 10, 1000) for q in known):
        return f"quota low: {remain:,} calls left today", True
    return "quota ok", False


def failure_text(message: str, errcode: int | None, describe) -> str:
    """A failure's message with the hint of the family's error table (`describe`), once."""
    if errcode is None:
        return message
    hint = describe(errcode).hint
    return f"{message}: {hint}" if hint and hint not in message else message


def summarize(kind: str, plan, target: str, members: tuple[str, str] = ("follower", "followers")) -> ActionSummary:
    """The confirmation's words for a planner's Plan (wxtui.families.wechat.planner). `members`: what the
    account's people are called, singular and plural."""
    title, verb = _TITLES.get(kind, (plan.title, "Run"))
    title = title.replace("{members}", members[1]).replace("{member}", members[0])
    count = plan.targets
    if kind == "delete_tag":
        noun = "tag"
    elif getattr(plan, "unit", "followers") == "tags":  # an undo of creating or renaming a tag
        noun = "tag" if count == 1 else "tags"
    else:
        noun = members[0] if count == 1 else members[1]
    return ActionSummary(
        title=title,
        verb=f"{verb} {count:,}" if kind not in ("delete_tag", "undo", "set_remark", "set_tags") else verb,
        count=count,
        target=target,
        calls=len(plan.calls),
        seconds=plan.estimated_s,
        quota=quota_text(plan.quota),
        skipped=plan.noops,
        warning="\n".join(w.message for w in plan.warnings),
        destructive=kind in DESTRUCTIVE,
        noun=noun,
    )


def summarize_rule(planned, members: tuple[str, str] = ("follower", "followers")) -> ActionSummary:
    """The confirmation's words for a rule's run (wxtui.jobs.rules.RulePlan): the rule, then how
    many it tags and how many leavers it untags."""
    plan = planned.plan
    base = summarize("rule", plan, f'segment "{planned.rule.segment}"', members)
    rule = planned.rule

    def count(n: int) -> str:
        return f"{n:,} {members[0] if n == 1 else members[1]}"

    facts = [("Rule", f"#{rule.id}: {rule.describe(planned.tag_name)}"),
             ("Tags", f'{count(planned.to_tag)} of the segment, with "{planned.tag_name}"')]
    if rule.remove_leavers:
        facts.append(("Untags", f'{count(planned.to_untag)} who left it, from "{planned.tag_name}"'))
    return replace(base, title=f"Run rule #{rule.id}", verb="Run", facts=tuple(facts),
                   target=f'segment "{rule.segment}" · {rule.mode}')
