"""The planner: an intent and its followers become the calls of a job, within every limit.

It reads the cache to drop the no-ops it can prove (tagging the tagged, blacklisting the
blacklisted) and says how many; checks beforehand what would fail (followers who would pass 20
tags, reserved or unknown tags, malformed openids, names over 30 bytes) and lists who; and says
what the job will cost: calls by operation, seconds at the current rate, the quota left today.
The result, a `Plan`, is the dry run the UI and the command line show before anything is sent.

The calls carry only followers whose state changes, so the journal's done calls are exactly
what the job changed, which is what an undo inverts.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from typing import Any, Iterable

from wxtui.families.wechat import limits
from wxtui.families.wechat.client import check_remark, check_tag_name, is_valid_openid
from wxtui.families.wechat.errors import BadOpenidError, CredentialsUnavailable, ValidationError, WxtuiError

from wxtui.jobs.intents import (BlacklistFollowers, ClearTags, CreateTag, CreateTagAndTag, DeleteTag,
                                Followers, Intent, RenameTag, SetFollowerTags, SetRemark, TagFollowers,
                                UnblacklistFollowers, UntagFollowers)
from wxtui.jobs.operations import CallSpec
from wxtui.jobs.plans import Plan, PlanNote, count_of, followers  # noqa: F401 (count_of: the plans' words)
from wxtui.families.wechat.operations import FAMILY, WeChatOperations

DEFAULT_SECONDS_PER_CALL = 0.15  # until calls have been timed: WeChat from mainland China


class Planner:
    """Plans intents for one account: its cache, and optionally its client (for quota/get,
    fresh tag lists of unknown followers, and the members of a tag to delete)."""

    def __init__(self, store: Any, client: Any = None, *, operations: WeChatOperations | None = None,
                 seconds_per_call: float | None = None, concurrency: int | None = None):
        self.store = store
        self.client = client
        self.ops = operations or WeChatOperations()
        self.seconds_per_call = seconds_per_call or DEFAULT_SECONDS_PER_CALL
        self.concurrency = concurrency or getattr(client, "max_in_flight", 8)

    async def plan(self, intent: Intent, *, check_quota: bool = True) -> Plan:
        handler = {
            TagFollowers: self._tagging, UntagFollowers: self._tagging, ClearTags: self._clear_tags,
            BlacklistFollowers: self._blacklisting, UnblacklistFollowers: self._blacklisting,
            DeleteTag: self._delete_tag, CreateTag: self._create_tag, RenameTag: self._rename_tag,
            SetRemark: self._set_remark, CreateTagAndTag: self._create_and_tag,
            SetFollowerTags: self._set_follower_tags,
        }.get(type(intent))
        if handler is None:
            raise TypeError(f"no plan for {type(intent).__name__}")
        plan = await handler(intent)
        plan.family = FAMILY
        plan.estimated_s = self.estimate(len(plan.calls))
        if check_quota and self.client is not None and plan.calls and plan.ok:
            await self._quota(plan)
        return plan

    def estimate(self, calls: int) -> float:
        """Seconds for this many calls: one call's latency spread over the calls in flight."""
        return calls * self.seconds_per_call / max(1, self.concurrency)

    # -- followers ----------------------------------------------------------------------------

    def _tag_names(self) -> dict[int, str]:
        return self.store.tag_names()

    def _check_tag(self, tagid: int, errors: list[PlanNote], *, modifiable: bool = False) -> str:
        names = self._tag_names()
        if modifiable and tagid in limits.RESERVED_TAG_IDS:
            errors.append(PlanNote("reserved_tag", f"Tag {tagid} is reserved by WeChat: it cannot be "
                                   "renamed or deleted"))
        elif tagid not in names:
            errors.append(PlanNote("unknown_tag", f"No tag {tagid} in the cache (check the id, or sync "
                                   "the account: wxtui sync)"))
        return names.get(tagid, f"#{tagid}")

    async def _classify(self, followers: Followers, warnings: list[PlanNote],
                        also_known: frozenset[str] | set[str] = frozenset()):
        """Yields (chunk of well-formed openids, their cached tag ids) off the event loop; records
        malformed ones and those the cache does not know."""
        malformed: list[str] = []
        unknown: list[str] = []
        iterator = iter(followers.chunks(self.store))
        while True:
            chunk = await asyncio.to_thread(next, iterator, None)
            if chunk is None:
                break
            good = [o for o in chunk if is_valid_openid(o)]
            malformed += [o for o in chunk if not is_valid_openid(o)]
            tags = await asyncio.to_thread(self.store.tag_ids_of, good)
            unknown += [o for o in good if o not in tags and o not in also_known]
            yield good, tags
        if malformed:
            warnings.append(PlanNote("malformed", f"{len(malformed):,} entries are not openids "
                                     "(28 characters of A-Z a-z 0-9 _ -): not sent", tuple(malformed)))
        if unknown:
            warnings.append(PlanNote("not_in_cache", f"{len(unknown):,} followers are not in the cache: "
                                     "sent as they are (a sync may be due)", tuple(unknown)))

    async def _tagging(self, intent: TagFollowers | UntagFollowers) -> Plan:
        tagging = isinstance(intent, TagFollowers)
        errors: list[PlanNote] = []
        warnings: list[PlanNote] = []
        name = self._check_tag(intent.tagid, errors)
        targets: list[str] = []
        noops = 0
        too_many: list[str] = []
        async for chunk, tags in self._classify(intent.followers, warnings):
            for openid in chunk:
                has = tags.get(openid)
                if has is None:
                    targets.append(openid)
                elif (intent.tagid in has) == tagging:
                    noops += 1
                elif tagging and len(has) >= limits.MAX_TAGS_PER_FOLLOWER:
                    too_many.append(openid)
                else:
                    targets.append(openid)
        if too_many:
            warnings.append(PlanNote("over_20_tags", f"{len(too_many):,} followers already carry "
                                     f"{limits.MAX_TAGS_PER_FOLLOWER} tags: skipped", tuple(too_many)))
        op = "tag" if tagging else "untag"
        title = f'{op} "{name}" → {followers(len(targets))}'
        calls = list(self.ops.chunk(op, {"tagid": intent.tagid}, targets))
        return Plan(intent, title, calls, len(targets), noops, warnings, errors)

    async def _blacklisting(self, intent: BlacklistFollowers | UnblacklistFollowers) -> Plan:
        listing = isinstance(intent, BlacklistFollowers)
        warnings: list[PlanNote] = []
        blacklisted = set(await asyncio.to_thread(self.store.blacklist))
        targets: list[str] = []
        noops = 0
        # The blacklist may name people who no longer follow: the cache knows them by openid.
        known = frozenset() if listing else blacklisted
        async for chunk, _tags in self._classify(intent.followers, warnings, known):
            for openid in chunk:
                if (openid in blacklisted) == listing:
                    noops += 1
                else:
                    targets.append(openid)
        op = "blacklist" if listing else "unblacklist"
        title = f"{op} {followers(len(targets))}"
        calls = list(self.ops.chunk(op, {}, targets))
        return Plan(intent, title, calls, len(targets), noops, warnings, [])

    async def _clear_tags(self, intent: ClearTags) -> Plan:
        warnings: list[PlanNote] = []
        by_tag: dict[int, list[str]] = defaultdict(list)
        changed = noops = 0
        to_ask: list[str] = []
        async for chunk, tags in self._classify(intent.followers, warnings):
            for openid in chunk:
                has = tags.get(openid)
                if has is None or intent.refresh:
                    to_ask.append(openid)
                    continue
                if not has:
                    noops += 1
                    continue
                changed += 1
                for t in has:
                    by_tag[t].append(openid)
        if to_ask:
            if self.client is None:
                warnings.append(PlanNote("tags_unknown", f"{len(to_ask):,} followers' tags are unknown "
                                         "(not in the cache) and WeChat cannot be asked: skipped",
                                         tuple(to_ask)))
            else:
                asked, bad = await self._ask_tags(to_ask)
                for openid, has in asked.items():
                    if not has:
                        noops += 1
                        continue
                    changed += 1
                    for t in has:
                        by_tag[t].append(openid)
                if bad:
                    warnings.append(PlanNote("not_followers", f"{len(bad):,} are not followers of this "
                                             "account (errcode 40003/49003): skipped", tuple(bad)))
        calls: list[CallSpec] = []
        # Tag after tag: calls in flight together then hold different followers of one tag, and
        # the calls of two tags for the same follower come far apart.
        for tagid in sorted(by_tag):
            calls.extend(self.ops.chunk("untag", {"tagid": tagid}, by_tag[tagid]))
        title = f"clear all tags of {followers(changed)}"
        # One change is one follower's tag taken off (what each untag call counts as it runs).
        memberships = sum(len(members) for members in by_tag.values())
        return Plan(intent, title, calls, changed, noops, warnings, [], changes=memberships,
                    unit="tag memberships")

    async def _ask_tags(self, openids: list[str]) -> tuple[dict[str, list[int]], list[str]]:
        """Tag ids from WeChat (user/info/batchget, 100 a call, which also refreshes the cache);
        a call failing on a bad openid is split until the bad ones stand alone."""
        found: dict[str, list[int]] = {}
        bad: list[str] = []
        semaphore = asyncio.Semaphore(max(1, self.concurrency))

        async def fetch(batch: list[str]) -> None:
            try:
                async with semaphore:
                    infos = await self.client.user_info_batch(batch)
            except BadOpenidError:
                if len(batch) == 1:
                    bad.append(batch[0])
                    return
                half = len(batch) // 2
                await asyncio.gather(fetch(batch[:half]), fetch(batch[half:]))
                return
            present = [f for f in infos if f.subscribe]
            await asyncio.to_thread(self.store.upsert_followers, infos)
            for f in present:
                found[f.openid] = sorted(set(f.tagid_list))
            for f in infos:
                if not f.subscribe:
                    bad.append(f.openid)

        size = limits.USER_INFO_BATCH
        await asyncio.gather(*(fetch(openids[i : i + size]) for i in range(0, len(openids), size)))
        return found, bad

    async def _delete_tag(self, intent: DeleteTag) -> Plan:
        errors: list[PlanNote] = []
        warnings: list[PlanNote] = []
        name = self._check_tag(intent.tagid, errors, modifiable=True)
        if errors:
            return Plan(intent, f'delete tag "{name}"', [], 0, 0, warnings, errors, unit="tags")
        members = await self._members(intent.tagid)
        excess = len(members) - limits.TAG_DELETE_MAX_FOLLOWERS
        calls: list[CallSpec] = []
        title = f'delete tag "{name}" ({len(members):,} followers)'
        if excess > 0:
            drained, members = members[:excess], members[excess:]
            calls.extend(self.ops.chunk("untag", {"tagid": intent.tagid, "draining": True}, drained, phase=0))
            warnings.append(PlanNote("drain", f"The tag has {len(drained) + len(members):,} followers; "
                                     f"WeChat deletes only tags of at most {limits.TAG_DELETE_MAX_FOLLOWERS:,}: "
                                     f"{excess:,} are untagged first ({len(calls):,} calls), then it is deleted"))
            title += f", draining {excess:,} first"
        # The followers it still has go with the call: an undo tags them again.
        calls.append(CallSpec("delete_tag", {"tagid": intent.tagid, "name": name, "members": members}, phase=1))
        return Plan(intent, title, calls, 1, 0, warnings, errors, unit="tags")

    async def _members(self, tagid: int) -> list[str]:
        """The tag's followers: from WeChat when a client is at hand (the cache may be behind)."""
        if self.client is not None:
            members: list[str] = []
            async for page in self.client.iter_tag_followers(tagid):
                members.extend(page.openids)
            return members
        from wxtui.store.filters import Filter

        out: list[str] = []
        for chunk in await asyncio.to_thread(lambda: list(Followers(filter=Filter(tags={tagid})).chunks(self.store))):
            out.extend(chunk)
        return out

    async def _create_tag(self, intent: CreateTag) -> Plan:
        errors: list[PlanNote] = []
        try:
            name = check_tag_name(intent.name)
        except ValidationError as exc:
            return Plan(intent, f'create tag "{intent.name}"', [], 0, 0, [], [PlanNote("tag_name", str(exc))],
                        unit="tags")
        names = self._tag_names()
        if name in names.values():
            errors.append(PlanNote("tag_exists", f'A tag named "{name}" already exists'))
        user_tags = [t for t in names if t not in limits.RESERVED_TAG_IDS]
        if len(user_tags) >= limits.MAX_TAGS_PER_ACCOUNT:
            errors.append(PlanNote("too_many_tags", f"The account already has {limits.MAX_TAGS_PER_ACCOUNT} "
                                   "tags: delete one first"))
        calls = [CallSpec("create_tag", {"name": name})]
        return Plan(intent, f'create tag "{name}"', calls, 1, 0, [], errors, unit="tags")

    async def _create_and_tag(self, intent: CreateTagAndTag) -> Plan:
        """The tag is created by the job's first call and used by the next ones, so a job that is
        never confirmed leaves no tag behind."""
        created = await self._create_tag(CreateTag(intent.name))
        name = created.calls[0].params["name"] if created.calls else intent.name
        warnings: list[PlanNote] = []
        targets: list[str] = []
        full: list[str] = []
        async for chunk, tags in self._classify(intent.followers, warnings):
            for openid in chunk:
                has = tags.get(openid)
                if has is not None and len(has) >= limits.MAX_TAGS_PER_FOLLOWER:
                    full.append(openid)
                else:
                    targets.append(openid)
        if full:
            warnings.append(PlanNote("over_20_tags", f"{len(full):,} followers already carry "
                                     f"{limits.MAX_TAGS_PER_FOLLOWER} tags: skipped", tuple(full)))
        title = f'create tag "{name}" and tag {followers(len(targets))}'
        if not created.ok:
            return Plan(intent, title, [], 0, 0, warnings, created.errors)
        calls = [CallSpec("create_tag", {"name": name}, (), phase=0)]
        calls.extend(self.ops.chunk("tag", {"tagid": {"$var": "tagid"}}, targets, phase=1))
        return Plan(intent, title, calls, len(targets), 0, warnings, [])

    async def _set_follower_tags(self, intent: SetFollowerTags) -> Plan:
        errors: list[PlanNote] = []
        warnings: list[PlanNote] = []
        openid = intent.openid
        names = self._tag_names()
        wanted = list(intent.tagids)
        title = f"set the tags of {openid}"
        if not is_valid_openid(openid):
            errors.append(PlanNote("malformed", "Not an openid (28 characters of A-Z a-z 0-9 _ -)", (openid,)))
        unknown = [t for t in wanted if t not in names or t in (0, 1)]
        if unknown:
            errors.append(PlanNote("unknown_tag", "No such tag in the cache: "
                                   f"{', '.join(str(t) for t in unknown)} (sync the account: wxtui sync)"))
        if len(wanted) > limits.MAX_TAGS_PER_FOLLOWER:
            errors.append(PlanNote("over_20_tags", f"A follower carries at most {limits.MAX_TAGS_PER_FOLLOWER} "
                                   f"tags; {len(wanted)} were chosen"))
        if errors:
            return Plan(intent, title, [], 0, 0, warnings, errors)
        current = await self._current_tags(openid, warnings, errors)
        if errors:
            return Plan(intent, title, [], 0, 0, warnings, errors)
        adds = [t for t in wanted if t not in current]
        drops = [t for t in current if t not in wanted]
        if not adds and not drops:
            return Plan(intent, title, [], 0, 1, warnings, errors)
        steps = tag_swap_steps(len(current), adds, drops)
        if len(current) + len(adds) > limits.MAX_TAGS_PER_FOLLOWER:
            lowest = limits.MAX_TAGS_PER_FOLLOWER - 1
            warnings.append(PlanNote("swap", f"Both tag sets together pass {limits.MAX_TAGS_PER_FOLLOWER}: "
                                     f"tags are swapped one at a time (at least {lowest} on the way)"))
        calls = [CallSpec(op, {"tagid": tagid}, (openid,), phase) for phase, (op, tagid) in enumerate(steps)]
        parts = [f"+{names.get(t, t)}" for t in adds] + [f"-{names.get(t, t)}" for t in drops]
        title = f"set the tags of {openid}: {' '.join(parts)}"
        return Plan(intent, title, calls, 1, 0, warnings, errors)

    async def _current_tags(self, openid: str, warnings: list[PlanNote], errors: list[PlanNote]) -> list[int]:
        """The follower's tags: asked of WeChat (getidlist) when a client is at hand, the cache
        corrected when it differs; else the cache's."""
        cached = (await asyncio.to_thread(self.store.tag_ids_of, [openid])).get(openid)
        if self.client is None:
            if cached is None:
                warnings.append(PlanNote("not_in_cache", "The follower is not in the cache and WeChat "
                                         "cannot be asked: its tags are taken as none", (openid,)))
            return list(cached or ())
        try:
            live = sorted(set(await self.client.get_tag_ids(openid)))
        except BadOpenidError:
            errors.append(PlanNote("not_follower", "Not a follower of this account (errcode 40003/49003)",
                                   (openid,)))
            return []
        if cached is not None and list(cached) != live:
            await asyncio.to_thread(correct_cached_tags, self.store, openid, cached, live)
        return live

    async def _rename_tag(self, intent: RenameTag) -> Plan:
        errors: list[PlanNote] = []
        old = self._check_tag(intent.tagid, errors, modifiable=True)
        try:
            name = check_tag_name(intent.name)
        except ValidationError as exc:
            errors.append(PlanNote("tag_name", str(exc)))
            name = intent.name
        title = f'rename tag "{old}" to "{name}"'
        if errors:
            return Plan(intent, title, [], 0, 0, [], errors, unit="tags")
        if old == name:
            return Plan(intent, title, [], 0, 1, [], [], unit="tags")
        if name in self._tag_names().values():
            errors.append(PlanNote("tag_exists", f'A tag named "{name}" already exists'))
        calls = [CallSpec("rename_tag", {"tagid": intent.tagid, "name": name, "previous": old})]
        return Plan(intent, title, calls, 1, 0, [], errors, unit="tags")

    async def _set_remark(self, intent: SetRemark) -> Plan:
        errors: list[PlanNote] = []
        warnings: list[PlanNote] = []
        title = f'set the remark of {intent.openid} to "{intent.remark}"'
        try:
            check_remark(intent.remark)
        except ValidationError as exc:
            errors.append(PlanNote("remark", str(exc)))
        if not is_valid_openid(intent.openid):
            errors.append(PlanNote("malformed", "Not an openid (28 characters of A-Z a-z 0-9 _ -)",
                                   (intent.openid,)))
        if errors:
            return Plan(intent, title, [], 0, 0, warnings, errors)
        row = await asyncio.to_thread(self.store.row_by_openid, intent.openid)
        if row is None:
            warnings.append(PlanNote("not_in_cache", "The follower is not in the cache: sent as is; an "
                                     "undo would clear the remark", (intent.openid,)))
        elif row.remark == intent.remark:
            return Plan(intent, title, [], 0, 1, warnings, errors)
        previous = row.remark if row is not None else ""
        calls = [CallSpec("set_remark", {"remark": intent.remark, "previous": previous}, (intent.openid,))]
        return Plan(intent, title, calls, 1, 0, warnings, errors)

    # -- cost ---------------------------------------------------------------------------------

    async def _quota(self, plan: Plan) -> None:
        needed = Counter(self.ops[c.op].quota_key for c in plan.calls if self.ops[c.op].quota_key)
        for path, n in needed.items():
            try:
                q = await self.client.get_quota(path)
            except CredentialsUnavailable:  # the job says what was tried and what to do, once
                plan.quota[path] = {"needed": n, "error": "no AppSecret is available"}
                continue
            except WxtuiError as exc:
                plan.quota[path] = {"needed": n, "error": str(exc).split("\n", 1)[0]}
                continue
            plan.quota[path] = {"daily_limit": q.daily_limit, "remain": q.remain, "needed": n}
            if q.remain < n:
                plan.warnings.append(PlanNote("quota", f"{path} has {q.remain:,} calls left today and the "
                                              f"job needs {n:,}: it will pause when they run out and can "
                                              "resume after midnight China time"))


def tag_swap_steps(count: int, adds: list[int], drops: list[int]) -> list[tuple[str, int]]:
    """The order of one follower's tag changes, one call each: the added tags before the dropped
    ones, so the follower never carries fewer tags than before and after; where both sets together
    would pass the limit of 20, a dropped tag makes room for each further added one."""
    adds, drops = list(adds), list(drops)
    steps: list[tuple[str, int]] = []
    while adds or drops:
        if adds and count < limits.MAX_TAGS_PER_FOLLOWER:
            steps.append(("tag", adds.pop(0)))
            count += 1
        else:
            steps.append(("untag", drops.pop(0)))
            count -= 1
    return steps


def correct_cached_tags(store, openid: str, cached, live) -> None:
    """Make the cache's tags of one follower what WeChat says they are (tags the cache does not
    know yet come with the next sync)."""
    known = store.tag_names()
    with store.transaction():
        for tagid in (set(live) - set(cached)) & set(known):
            store.apply_tagged(tagid, [openid])
        for tagid in set(cached) - set(live):
            store.apply_untagged(tagid, [openid])


def openid_lines(lines: Iterable[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """Openids from lines of text (a file, standard input): one per line; blank lines and lines
    starting with # are ignored. Returns (openids, [(line number, junk line)])."""
    openids: list[str] = []
    junk: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        if is_valid_openid(line):
            openids.append(line)
        else:
            junk.append((number, raw.rstrip("\r\n")))
    return openids, junk
