"""Running the rules (wxtui.store.rules): each plans the difference between its segment and its
tag as an ordinary job, journaled, verified and undoable like any other.

A rule's run: the followers of its segment who do not carry its tag are tagged; with
remove_leavers, the followers carrying the tag who are in its segment no more lose it. The job's
title names the rule; nothing to change makes no job.

The order of a run, so that two rules never fight:
  - a rule whose segment's query uses another rule's tag runs after that rule (it sees the
    followers that rule has just tagged); otherwise rules run in the order they were added;
  - every rule is planned only when the one before it has run, on the cache as it left it;
  - a follower in the segment of any rule giving the same tag (paused or not) is not a leaver
    of another: one rule never takes away what another rule gives;
  - rules whose queries use each other's tags in a circle, one of them taking its tag away,
    would undo each other run after run: they are reported and skipped.
A rule whose segment or tag was deleted, or whose query names a deleted tag, is reported and
skipped; a tag deleted and created again under the same name is followed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import AsyncIterator, ClassVar, Iterable

from wxtui.store.filters import Filter
from wxtui.store.rules import Rule, Rules, depends_on, self_dependency
from wxtui.store.segments import Segments

from .intents import CreateTag, Followers, Intent, TagFollowers, UntagFollowers
from .plans import Plan, count_of

ORDER_NOTE = ("Rules run one after another after a sync, each on the cache as the one before left it; a rule "
              "whose segment uses another rule's tag runs after it. No rule takes away a tag that another "
              "rule of that tag gives.")


@dataclass(frozen=True)
class ApplyRule(Intent):
    """Tag the segment's followers who lack the rule's tag, untag the leavers: one job."""

    kind: ClassVar[str] = "rule"
    verb: ClassVar[str] = "apply the rule"
    rule_id: int
    segment: str
    tagid: int
    add: Followers
    remove: Followers


@dataclass
class RulePlan:
    """One rule's run as planned: a plan to confirm, nothing to do, or why it is skipped."""

    rule: Rule
    tag_name: str
    add: list[str] = field(default_factory=list)  # openids to tag, as the cache says
    remove: list[str] = field(default_factory=list)  # leavers to untag
    plan: Plan | None = None  # None: nothing to change, or skipped
    problem: str = ""  # why the rule cannot run now
    note: str = ""  # something the user should know (the tag it follows now)

    @property
    def to_tag(self) -> int:
        """Followers the job tags (the planner may leave some out: over 20 tags, say)."""
        return _targets_of(self.plan, "tag") if self.plan else 0

    @property
    def to_untag(self) -> int:
        return _targets_of(self.plan, "untag") if self.plan else 0

    def headline(self) -> str:
        """'rule #3: segment "Guangdong 2024" carries tag "VIP"'."""
        return f"rule #{self.rule.id}: {self.rule.describe(self.tag_name)}"

    def outcome(self) -> str:
        """What the plan would do, in a few words: 'tag 12 followers, untag 3', 'nothing to
        change', 'skipped: …'."""
        if self.problem:
            return f"skipped: {self.problem}"
        if self.plan is None:
            return "nothing to change"
        if not self.plan.ok:
            return "cannot run: " + "; ".join(e.message for e in self.plan.errors)
        parts = []
        if self.to_tag:
            parts.append(f"tag {count_of(self.to_tag, self.plan.unit)}")
        if self.to_untag:
            parts.append(f"untag {count_of(self.to_untag, self.plan.unit)}")
        return ", ".join(parts) or "nothing to change"


def _targets_of(plan: Plan, op_kind: str) -> int:
    ops = {"tag": ("tag", "add_tag"), "untag": ("untag", "remove_tag")}[op_kind]
    return len({t for c in plan.calls if c.op in ops for t in c.targets})


class RuleRunner:
    """Plans the rules of one account through its JobService (its planner, journal, scheduler)."""

    def __init__(self, jobs):
        self.jobs = jobs
        self.store = jobs.store
        self.rules = Rules(self.store)

    async def each(self, *, automatic_only: bool = False,
                   chosen: Iterable[int] | None = None) -> AsyncIterator[RulePlan]:
        """The active rules' plans, in the run's order, each planned when the caller asks for
        the next one (once it has run the one before: the next plans on the cache it left).
        Paused rules are left out; `chosen`: only these rules (by id)."""
        order, problems = await asyncio.to_thread(self.order)
        wanted = set(chosen) if chosen is not None else None
        for rule in order:
            # As it is now: the user may have paused, changed or deleted it while the rules
            # before it ran (the app's rules screen stays usable meanwhile).
            rule = await asyncio.to_thread(self.rules.get, rule.id)
            if rule is None or rule.paused:
                continue
            if wanted is not None and rule.id not in wanted:
                continue
            if automatic_only and not rule.automatic:
                continue
            yield await self.plan(rule, problems.get(rule.id, ""))

    def order(self) -> tuple[list[Rule], dict[int, str]]:
        """The active rules in the order they run, and the problems known before planning."""
        active = [r for r in self.rules.list() if not r.paused]
        filters = self._filters()
        deps: dict[int, set[int]] = {}
        for rule in active:
            flt = filters.get(rule.segment)
            deps[rule.id] = {o.id for o in active if o.id != rule.id and o.tagid != rule.tagid
                             and flt is not None and depends_on(flt, o.tagid)}
        problems: dict[int, str] = {}
        by_id = {r.id: r for r in active}
        for rule in active:
            circle = _circle(rule.id, deps)
            if circle and any(by_id[i].remove_leavers for i in circle | {rule.id}):
                others = ", ".join(f"#{i}" for i in sorted(circle - {rule.id}))
                problems[rule.id] = (f"its segment and that of rule {others} use each other's tags, and one "
                                     "takes its tag from leavers: they would undo each other run after run "
                                     "(pause one, or change a segment)")
        placed: list[Rule] = []
        waiting = sorted(active, key=lambda r: r.id)
        while waiting:
            done = {r.id for r in placed}
            # Within a circle (left to run only when none of it takes a tag away) by id.
            ready = next((r for r in waiting if all(d in done or d in _circle(r.id, deps) for d in deps[r.id])),
                         waiting[0])
            placed.append(ready)
            waiting.remove(ready)
        return placed, problems

    def _filters(self) -> dict[str, Filter]:
        return {s.name: s.filter for s in Segments(self.store).list()}

    async def plan(self, rule: Rule, problem: str = "") -> RulePlan:
        """The rule's job on the cache as it is now."""
        rule, tag_name, note, problem = await self._resolve(rule, problem)
        found = RulePlan(rule, tag_name, problem=problem, note=note)
        if problem:
            return found
        found.add, found.remove = await asyncio.to_thread(self._difference, rule)
        if not found.add and not found.remove:
            return found
        found.plan = await self._plan_job(rule, tag_name, found.add, found.remove)
        if found.plan is not None and found.plan.ok and not found.plan.calls:
            found.plan = None  # the planner proved every change a no-op
        return found

    async def _resolve(self, rule: Rule, problem: str) -> tuple[Rule, str, str, str]:
        """The rule with its tag as the cache knows it now, the tag's name, a note, and why the
        rule cannot run ('' when it can)."""
        names = self.store.tag_names()
        note = ""
        if rule.tagid not in names:
            if self.jobs.family.capabilities.free_tags and rule.tag_name not in names.values():
                # Free tags (Tencent Cloud IM) are made by using them: number it in the cache again.
                await self.jobs.plan(CreateTag(rule.tag_name))
                names = self.store.tag_names()
            same = [t for t, n in names.items() if n == rule.tag_name]
            if len(same) == 1:
                rule = await asyncio.to_thread(self.rules.follow_tag, rule.id, same[0], rule.tag_name)
                note = f'its tag "{rule.tag_name}" was created again (#{same[0]}): the rule follows it'
        elif names[rule.tagid] != rule.tag_name:  # renamed: the rule says its new name
            rule = await asyncio.to_thread(self.rules.follow_tag, rule.id, rule.tagid, names[rule.tagid])
        return rule, rule.tag_name, note, problem or health(self.store, rule)  # the tag is numbered by now

    def _difference(self, rule: Rule) -> tuple[list[str], list[str]]:
        """(segment followers without the tag, tag holders no rule of that tag covers)."""
        filters = self._filters()
        members = set(self.store.view(filters[rule.segment]).row_ids())
        holders = set(self.store.view(Filter(tags={rule.tagid})).row_ids())
        add = members - holders
        remove: set[int] = set()
        if rule.remove_leavers:
            covered = set(members)
            for other in self.rules.list():
                if other.id != rule.id and other.tagid == rule.tagid and other.segment in filters:
                    covered |= set(self.store.view(filters[other.segment]).row_ids())
            remove = holders - covered
        openids = self.store.openids_of(sorted(add | remove))
        return sorted(openids[i] for i in add if i in openids), sorted(openids[i] for i in remove if i in openids)

    async def _plan_job(self, rule: Rule, tag_name: str, add: list[str], remove: list[str]) -> Plan:
        """One plan of the tagging and the untagging (each planned by the family as it would be
        alone: no-ops dropped, limits kept), under an ApplyRule intent."""
        intent = ApplyRule(rule.id, rule.segment, rule.tagid, Followers.of(add), Followers.of(remove))
        parts = []
        if add:
            parts.append(await self.jobs.plan(TagFollowers(rule.tagid, Followers.of(add))))
        if remove:
            parts.append(await self.jobs.plan(UntagFollowers(rule.tagid, Followers.of(remove))))
        calls = [c for p in parts for c in p.calls]
        plan = Plan(intent, "", calls, sum(p.targets for p in parts), sum(p.noops for p in parts),
                    [w for p in parts for w in p.warnings], [e for p in parts for e in p.errors],
                    sum(p.estimated_s for p in parts), {k: v for p in parts for k, v in p.quota.items()},
                    parts[0].family, unit=parts[0].unit)
        tagged, untagged = _targets_of(plan, "tag"), _targets_of(plan, "untag")
        words = [f"tag {tagged:,}"] if tagged or not untagged else []
        if untagged:
            words.append(f"untag {untagged:,} who left")
        plan.title = f'rule #{rule.id} "{rule.segment}" → "{tag_name}": {", ".join(words)}'
        return plan

    def submit(self, planned: RulePlan) -> int:
        """Journal the rule's job (not started) and note it as the rule's last run."""
        job_id = self.jobs.submit(planned.plan)
        self.rules.record_run(planned.rule.id, f"job #{job_id}: {planned.outcome()}", job_id)
        return job_id

    def record(self, planned: RulePlan, result: str | None = None) -> None:
        """Note a run that made no job: nothing to change, skipped, or declined."""
        self.rules.record_run(planned.rule.id, result or planned.outcome())


def health(store, rule: Rule, *, free_tags: bool = False) -> str:
    """Why the rule cannot run on the cache as it is ('' when it can): its segment or tag was
    deleted, its query names a deleted tag, or it would undo itself. With free tags (made by
    using them) a tag is never gone."""
    names = store.tag_names()
    segment = Segments(store).get(rule.segment)
    known = rule.tagid in names or list(names.values()).count(rule.tag_name) == 1
    if not known and not free_tags:
        return (f'its tag "{rule.tag_name}" (#{rule.tagid}) was deleted: delete the rule '
                f"(wxtui rules delete {rule.id}) or add it again with another tag")
    if segment is None:
        return (f'its segment "{rule.segment}" was deleted: save a segment of that name again, or delete '
                f"the rule (wxtui rules delete {rule.id})")
    unknown = sorted((segment.filter.tags | segment.filter.not_tags) - set(names))
    if unknown:
        return (f'its segment "{rule.segment}" uses a tag that was deleted (#{unknown[0]}): save the '
                "segment again with the tags it should use")
    tagid = rule.tagid if rule.tagid in names else next((t for t, n in names.items() if n == rule.tag_name), None)
    if tagid is None:
        return ""
    return self_dependency(segment.filter, tagid, rule.remove_leavers, names)


def _circle(start: int, deps: dict[int, set[int]]) -> set[int]:
    """The rules in a circle of dependencies with `start` (itself included); empty when none."""
    reach = _reachable(start, deps)
    if start not in reach:
        return set()
    return {n for n in reach if start in _reachable(n, deps)}


def _reachable(start: int, deps: dict[int, set[int]]) -> set[int]:
    seen: set[int] = set()
    stack = list(deps.get(start, ()))
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(deps.get(node, ()))
    return seen
