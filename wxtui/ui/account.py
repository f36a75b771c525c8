"""The open account as the screen sees it: views, rows, tag counts and the selection.

Plain Python over the session's store (no Textual), so every method can run in a worker thread
and be tested on its own. The screen decides when; this decides what.
"""

from __future__ import annotations

import asyncio
import csv
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from wxtui.jobs.events import CANCELLED, DONE, FAILED, PAUSED, RUNNING, format_duration
from wxtui.jobs.journal import CALL_DONE
from wxtui.jobs.rules import RuleRunner, health
from wxtui.jobs.service import JobService
from wxtui.jobs.verify import VerifySettings, settings_of as verify_settings_of
from wxtui.store import Filter, Store, TagRow, View
from wxtui.ui import format as fmt
from wxtui.ui.rows import MemberRow, RowSource
from wxtui.ui.summary import ActionSummary, summarize
from wxtui.core.errors import ValidationError, WxtuiError

SELECTION_NAME = "main"


@dataclass(frozen=True)
class TagSummary:
    """What the tag list shows."""

    total: int
    untagged: int
    blacklisted: int
    tags: list[TagRow]


@dataclass(frozen=True)
class Intent:
    """What the user asked for, in the screen's terms (the engine's intents are built from it)."""

    kind: str  # tag | untag | clear_tags | blacklist | unblacklist | delete_tag | set_remark | set_tags
    target: "Target | None" = None
    tagid: int | None = None  # None with a tag_name for "tag": the job creates the tag first
    tag_name: str = ""
    text: str = ""  # set_remark: the new remark
    tagids: tuple[int, ...] = ()  # set_tags: every tag the follower is to carry


@dataclass
class PlannedAction:
    """A dry run, ready to confirm and start."""

    summary: ActionSummary | None
    plan: object = None  # wxtui.families.wechat.planner.Plan
    nothing_to_do: str = ""  # set when there is nothing to confirm (all no-ops, or refused)


LINES_NAMED = 5  # line numbers a message names before it says how many more


def how_many(n: int, one: str, many: str) -> str:
    """'1 line', '2 lines', '1,204 openids'."""
    return f"{n:,} {one if n == 1 else many}"


def line_numbers(numbers: Sequence[int]) -> str:
    """'line 4', 'lines 4, 9 and 12', 'lines 4, 9, 12, 13, 20 and 31 more'."""
    shown = [f"{n:,}" for n in numbers[:LINES_NAMED]]
    rest = len(numbers) - len(shown)
    word = "line" if len(numbers) == 1 else "lines"
    if rest:
        return f"{word} {', '.join(shown)} and {rest:,} more"
    if len(shown) > 1:
        return f"{word} {', '.join(shown[:-1])} and {shown[-1]}"
    return f"{word} {shown[0]}"


@dataclass(frozen=True)
class ImportResult:
    added: int
    unknown: int  # well-formed ids the cache does not know (not members, or a sync is due)
    invalid: int  # lines that are not ids
    members: str = "followers"  # what the account's people are called
    ids: str = "openids"  # and their ids
    unknown_lines: tuple[int, ...] = ()  # the file's line numbers of each
    invalid_lines: tuple[int, ...] = ()

    def message(self) -> str:
        member, id_ = self.members.removesuffix("s"), self.ids.removesuffix("s")
        text = f"Added {how_many(self.added, member, self.members)} to the selection"
        if self.unknown:
            verb = "is" if self.unknown == 1 else "are"
            text += (f"; {how_many(self.unknown, id_, self.ids)} {verb} not in the cache "
                     f"(not {self.members}, or sync first)")
            if self.unknown_lines:
                text += f": {line_numbers(self.unknown_lines)}"
        if self.invalid:
            verb = "is not an" if self.invalid == 1 else "are not"
            noun = id_ if self.invalid == 1 else self.ids
            text += f"; {how_many(self.invalid, 'line', 'lines')} {verb} {noun}"
            if self.invalid_lines:
                text += f": {line_numbers(self.invalid_lines)}"
        return text


def sync_progress_text(event) -> str:
    """'syncing followers 45,000/100,000 · 0:12 left' for the header."""
    if event.phase == "waiting":  # another process syncs this account
        return f"sync {event.message}"
    text = f"syncing {event.phase}"
    if event.total:
        text += f" {event.done:,}/{event.total:,}"
    elif event.done:
        text += f" {event.done:,}"
    if event.eta_s is not None and event.eta_s >= 1:
        text += f" · {format_duration(event.eta_s)} left"
    return text


EXPORT_COLUMNS = ("openid", "remark", "tags", "followed", "scene", "language", "unionid", "blacklisted")


@dataclass(frozen=True)
class Target:
    """What an action applies to: the selection, or the follower under the cursor."""

    description: str  # "12 selected followers", "oAbc…Xyz"
    count: int
    row_id: int | None = None  # set when the target is the one follower under the cursor

    @property
    def is_selection(self) -> bool:
        return self.row_id is None


class AccountModel:
    def __init__(self, session, clock: Callable[[], float] = time.time):
        self.session = session
        self.store: Store = session.store
        self.clock = clock
        self.selection = self.store.selection(SELECTION_NAME)
        profile = getattr(session, "profile", None)
        # The account's API family: what its people are called, what it can do, how it plans.
        self.family = session.family
        self.capabilities = self.family.capabilities
        nouns = self.family.nouns
        self.members = (nouns.member, nouns.members)
        self.member_ids = nouns.member_ids
        self.jobs = JobService(session.client, self.store, family=self.family,
                               concurrency=getattr(profile, "concurrency", None),
                               verify=verify_settings_of(profile))
        self.quiet_jobs: set[int] = set()  # jobs whose flow reports the outcome itself
        self.rules = RuleRunner(self.jobs)
        self._tag_names: dict[int, str] = {}
        self.refresh_tag_names()

    # -- identity -----------------------------------------------------------------------------

    @property
    def label(self) -> str:
        return self.session.label

    @property
    def appid(self) -> str:
        return self.session.account_key

    # -- tags ---------------------------------------------------------------------------------

    def refresh_tag_names(self) -> dict[int, str]:
        self._tag_names = self.store.tag_names()
        return self._tag_names

    @property
    def tag_names(self) -> dict[int, str]:
        return self._tag_names

    def tag_summary(self) -> TagSummary:
        """Counts for the tag list (a few indexed counts: run it off the UI on big caches)."""
        tags, total = self._tags_and_total()
        return TagSummary(total, self._untagged_count(), self._blacklisted_count(), tags)

    async def read_tag_summary(self) -> TagSummary:
        """tag_summary, its counts read side by side in threads: each scans an index of its own
        (the untagged alone: 0.3 s at 10M), and SQLite lets go of the GIL while it reads."""
        (tags, total), untagged, blacklisted = await asyncio.gather(
            asyncio.to_thread(self._tags_and_total), asyncio.to_thread(self._untagged_count),
            asyncio.to_thread(self._blacklisted_count))
        return TagSummary(total, untagged, blacklisted, tags)

    def _tags_and_total(self) -> tuple[list[TagRow], int]:
        tags = self.store.tags()
        self._tag_names = {t.id: t.name for t in tags}
        return tags, self.store.follower_count()

    # From the follower sets and the tags' bitmaps when they are current (everyone less every
    # tag's members: 30 ms at 10M), else by an index (0.3 s): stale sets are never rebuilt on
    # the way to the first frame (30 s at 10M); the next count that needs them rebuilds them.
    def _untagged_count(self) -> int:
        return self.store.view(Filter(untagged=True)).count(build_sets=False)

    def _blacklisted_count(self) -> int:
        return self.store.view(Filter(blacklisted=True)).count(build_sets=False)

    def tag_named(self, name: str) -> TagRow | None:
        folded = name.strip().casefold()
        return next((t for t in self.store.tags() if t.name.casefold() == folded), None)

    # -- rows ---------------------------------------------------------------------------------

    def view(self, flt: Filter) -> View:
        return self.store.view(flt)

    def rows(self, ids: Sequence[int]) -> list[MemberRow]:
        names = self._tag_names
        out = []
        for row in self.store.rows_by_ids(ids):
            if row is None:
                continue
            star = self.family.star_tag
            tags = ", ".join(names.get(t, f"#{t}") for t in row.tagids if t != star)
            if star is not None and star in row.tagids:
                tags = "★ " + tags if tags else "★"
            out.append(MemberRow(row.id, row.openid, row.remark, tags, row.subscribe_time, row.scene))
        return out

    def row_source(self, ids: Sequence[int], *, complete: bool = True, length: int | None = None,
                   wanted: Callable[[], None] | None = None) -> RowSource:
        """The view's first ids (or all of them), its length when counted, and what to call when
        a row past the known ids is wanted."""
        return RowSource(ids, self.rows, complete=complete, length=length, wanted=wanted)

    # -- selection ----------------------------------------------------------------------------

    def selected_among(self, ids: Sequence[int]) -> set[int]:
        return self.selection.contained(ids)

    def selection_count(self) -> int:
        # Read as the screen opens (and at every change of the selection): like the tag list's
        # counts, it never waits for stale sets to be rebuilt (Selection.count never does).
        return self.selection.count()

    def target(self, cursor_row: MemberRow | None, selected: int) -> Target | None:
        """The selection when there is one, else the follower under the cursor, else None."""
        if selected:
            noun = self.members[0] if selected == 1 else self.members[1]
            return Target(f"{selected:,} selected {noun}", selected)
        if cursor_row is not None:
            return Target(cursor_row.openid, 1, cursor_row.id)
        return None

    # -- quota --------------------------------------------------------------------------------

    async def tagging_quota(self) -> dict[str, dict]:
        """Today's quota of the call bulk actions spend most (tagging), as plans report quotas;
        empty for a family without a daily quota."""
        return await self.family.quota(self.session.client)

    # -- sync ---------------------------------------------------------------------------------

    async def sync(self, progress: Callable[[str], None]):
        """Pull the account into the cache; progress(text) as it goes. Returns the SyncResult."""

        def on_event(event) -> None:
            progress(sync_progress_text(event))

        result = await self.family.sync(self.session.client, self.store, on_event=on_event)
        self.refresh_tag_names()
        if result.ok:
            after_first_sync = self.session.extras.pop("after_first_sync", None)
            if after_first_sync is not None:
                after_first_sync()
        return result

    # -- import / export ----------------------------------------------------------------------

    def default_export_path(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M", time.localtime(self.clock()))
        return Path.cwd() / f"wxtui-{self.appid}-{stamp}.csv"

    def export_csv(self, path: Path, flt: Filter, selection_only: bool) -> int:
        """The selection (or the view of `flt`) as CSV; returns how many rows were written.
        UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese right."""
        ids = self.selection.ids() if selection_only else self.store.view(flt).row_ids()
        names = self.store.tag_names()
        written = 0
        with open(path, "w", newline="", encoding="utf-8-sig") as handle:
            out = csv.writer(handle)
            out.writerow(EXPORT_COLUMNS)
            for start in range(0, len(ids), 1000):
                for row in self.store.rows_by_ids(ids[start:start + 1000]):
                    if row is None:
                        continue
                    out.writerow((row.openid, row.remark, ";".join(names.get(t, str(t)) for t in row.tagids),
                                  fmt.date(row.subscribe_time), row.scene, row.language, row.unionid,
                                  int(row.blacklisted)))
                    written += 1
        return written

    def import_openids(self, path: Path) -> ImportResult:
        """Member ids from a file (one a line, or a CSV with an openid column) into the selection."""

        from wxtui.core.listfile import ListFileError, read_lines

        try:
            lines = read_lines(path)
        except ListFileError as exc:
            raise OSError(str(exc)) from None  # the import screen tells OSErrors
        numbers = list(range(1, len(lines) + 1))  # the file's line number of each value
        if lines and "," in lines[0] and "openid" in [c.strip().lower() for c in lines[0].split(",")]:
            column = [c.strip().lower() for c in lines[0].split(",")].index("openid")
            lines = [fields[column] if len(fields) > column else "" for fields in csv.reader(lines[1:])]
            numbers = numbers[1:]
        openids, junk_numbered = self.family.parse_ids(lines)
        invalid_lines = tuple(numbers[k - 1] for k, _ in junk_numbered)
        known = self.store.follower_ids(openids)
        self.selection.add(known.values())
        first_line: dict[str, int] = {}
        for number, line in zip(numbers, lines):
            first_line.setdefault(line.strip().lstrip("\ufeff"), number)
        unknown = [o for o in dict.fromkeys(openids) if o not in known]
        return ImportResult(len(known), len(unknown), len(invalid_lines), self.members[1], self.member_ids,
                            unknown_lines=tuple(sorted(first_line[o] for o in unknown if o in first_line)),
                            invalid_lines=invalid_lines)

    async def aclose(self) -> None:
        """Stop what runs for this account (the scheduler's jobs stay resumable)."""
        await self.jobs.aclose()

    # -- jobs ---------------------------------------------------------------------------------

    def _engine_intent(self, intent: Intent):
        from wxtui.jobs import intents as ji

        followers = None
        if intent.target is not None:
            if intent.target.is_selection:
                followers = ji.Followers(selection=self.selection.name)
            else:
                followers = ji.Followers.of(self.store.openids_of([intent.target.row_id]).values())
        kind = intent.kind
        if kind == "tag" and intent.tagid is None:
            return ji.CreateTagAndTag(intent.tag_name, followers)
        if kind == "tag":
            return ji.TagFollowers(intent.tagid, followers)
        if kind in ("set_remark", "set_tags"):
            (openid,) = followers.openids
            if kind == "set_remark":
                return ji.SetRemark(openid, intent.text)
            return ji.SetFollowerTags(openid, intent.tagids)
        if kind == "untag":
            return ji.UntagFollowers(intent.tagid, followers)
        if kind == "clear_tags":
            return ji.ClearTags(followers)
        if kind == "blacklist":
            return ji.BlacklistFollowers(followers)
        if kind == "unblacklist":
            return ji.UnblacklistFollowers(followers)
        if kind == "delete_tag":
            return ji.DeleteTag(intent.tagid)
        raise ValueError(f"unknown action {kind!r}")

    def _target_words(self, intent: Intent) -> str:
        who = intent.target.description if intent.target is not None else ""
        name = f'"{intent.tag_name or self._tag_names.get(intent.tagid, intent.tagid)}"'
        if intent.kind == "set_tags":
            names = [self._tag_names.get(t, f"#{t}") for t in intent.tagids]
            return f"the tags of {who}: " + (", ".join(names) if names else "none")
        return {
            "tag": f"tag {name} onto {who}" + (" (a new tag, created by this job)" if intent.tagid is None else ""),
            "set_remark": f'the remark of {who}: "{intent.text}"' if intent.text else f"the remark of {who}: none",
            "untag": f"tag {name} off {who}",
            "clear_tags": f"every tag of {who}",
            "blacklist": f"{who} onto the blacklist",
            "unblacklist": f"{who} off the blacklist",
            "delete_tag": f"tag {name} (it leaves every {self.members[0]} carrying it)",
        }[intent.kind]

    async def plan(self, intent: Intent) -> PlannedAction:
        """The planner's dry run, as the confirmation dialog states it (what the family cannot
        do comes back as the plan's error, with nothing to confirm)."""
        plan = await self.jobs.plan(self._engine_intent(intent))
        return self._planned(intent.kind, plan, self._target_words(intent))

    def _planned(self, kind: str, plan, target: str) -> PlannedAction:
        if not plan.ok:
            return PlannedAction(None, plan, "; ".join(e.message for e in plan.errors))
        if not plan.calls:
            reason = f"Nothing to change: {plan.noops:,} already as asked" if plan.noops else "Nothing to change"
            return PlannedAction(None, plan, reason)
        return PlannedAction(summarize(kind, plan, target, self.members), plan)

    async def start(self, planned: PlannedAction) -> int:
        """Journal the job (all its calls, before any is sent) and start it."""
        job_id = await asyncio.to_thread(self.jobs.submit, planned.plan)
        self.jobs.start(job_id)
        return job_id

    def cancel(self, job_id: int) -> bool:
        return self.jobs.cancel(job_id)

    async def resume(self, job_id: int) -> None:
        self.jobs.start(job_id)

    def paused_job(self, job_id: int):
        """The job's journal record if it is paused now (not resumed since, by anyone), else None."""
        record = self.jobs.journal.job(job_id)
        return record if record is not None and record.state == PAUSED else None

    def running_jobs(self) -> list[int]:
        return self.jobs.scheduler.running()

    def job_failures(self, job_id: int, limit: int = 1000):
        return self.jobs.journal.failures(job_id, limit)

    def recent_jobs(self, limit: int = 5):
        """Snapshots of the latest jobs, for the jobs panel at start-up."""
        return [self.jobs.status(record.id) for record in reversed(self.jobs.jobs(limit))]

    async def follower_card(self, openid: str):
        """One member's card (wxtui.core.member_card), read by the account's family: their tags
        asked of the service just now."""
        card = await self.family.read_member_card(self.session.client, self.store, self.jobs.journal, openid)
        self.refresh_tag_names()
        return card

    def follower_target(self, openid: str) -> Target | None:
        """The follower as an action's target (None when the cache no longer holds them)."""
        ids = self.store.follower_ids([openid])
        return Target(openid, 1, ids[openid]) if openid in ids else None

    def interrupted_jobs(self):
        return self.jobs.interrupted()

    def last_undoable_job(self) -> tuple[int | None, str]:
        """The latest job that is not an undo and has not been undone: finished, or cancelled
        or failed after changing something (a cancel at 95% is what a person most wants to take
        back). An older job is never offered over a later one still running or paused: then
        (None, why) says what to do first."""
        records = self.jobs.jobs(limit=200)
        undone = {r.undo_of for r in records if r.undo_of is not None}
        for record in records:
            if record.kind == "undo" or record.id in undone:
                continue
            if record.state == DONE:
                return record.id, ""
            if record.state in (CANCELLED, FAILED) \
                    and self.jobs.journal.counts(record.id).calls.get(CALL_DONE, 0):
                return record.id, ""
            if record.state in (PAUSED, RUNNING):
                # RUNNING here may be a job whose process died (the panel says "interrupted").
                return None, (f"Job #{record.id} has not finished: resume it (j, then R) or cancel it "
                              "(j, then x) before undoing")
        return None, "No finished job to undo"

    # -- rules ------------------------------------------------------------------------------

    def rule_list(self):
        """Every rule with why it cannot run now ('' when it can), for the rules screen."""
        free = self.capabilities.free_tags
        return [(rule, health(self.store, rule, free_tags=free)) for rule in self.rules.rules.list()]

    def add_rule(self, segment: str, tagid: int, *, remove_leavers: bool, automatic: bool):
        return self.rules.rules.add(segment, tagid, remove_leavers=remove_leavers, automatic=automatic)

    # -- history ------------------------------------------------------------------------------

    def history(self, tagids):
        """The snapshots (followers, blacklist) and each tag's counts over them."""
        from wxtui.store.history import snapshots, tag_series

        return snapshots(self.store), tag_series(self.store, tagids)

    async def daily_stats(self, days: int):
        """WeChat's daily statistics for the last `days` days, the missing ones fetched first;
        and a note when they could not be (the cached days are still given)."""
        from wxtui.store.history import recent_days

        try:
            found = await self.family.daily_statistics(self.session.client, self.store, days, now=self.clock())
        except Exception as exc:  # offline, no AppSecret, a refusal: what the cache has
            cached = await asyncio.to_thread(recent_days, self.store, days, self.clock())
            return cached, f"Could not fetch the daily statistics: {exc}"
        if found is None:
            return [], f"A {self.family.title} keeps no daily statistics."
        return found.days, ""

    # -- verification -------------------------------------------------------------------------

    async def verify(self, job_id: int, *, asked: bool = False):
        """Read a sample of the job's targets back (None when the account turned it off, unless
        the user asked for it in so many words)."""
        settings = self.jobs.verify_settings
        if asked and settings.off:
            settings = VerifySettings(max_calls=settings.max_calls)
        return await self.jobs.verify(job_id, settings)

    def verification(self, job_id: int):
        return self.jobs.verification(job_id)

    def mismatch_lines(self, verification, limit: int = 200) -> list[str]:
        return self.jobs.mismatch_lines(verification, limit)

    def plan_repair(self, job_id: int) -> PlannedAction:
        plan = self.jobs.plan_repair(job_id)
        return self._planned("repair", plan, f"the mismatches of job #{job_id}")

    def plan_undo(self, job_id: int | None) -> PlannedAction:
        if job_id is None:
            job_id, why = self.last_undoable_job()
            if job_id is None:
                return PlannedAction(None, None, why)
        plan = self.jobs.plan_undo(job_id)
        record = self.jobs.job(job_id)
        return self._planned("undo", plan, f"job #{job_id}: {record.title}")

    async def _run_single(self, intent) -> None:
        """A one-call job (create or rename a tag): journaled, so it can be undone, and awaited."""
        plan = await self.jobs.plan(intent)
        if not plan.ok:
            raise ValidationError("; ".join(e.message for e in plan.errors))
        if not plan.calls:
            return
        job_id = self.jobs.submit(plan)
        self.quiet_jobs.add(job_id)
        final = await self.jobs.run(job_id)
        if final.state != DONE or final.failures_count:
            detail = final.failures[0].message if final.failures else final.message
            raise WxtuiError(detail or f"the job ended {final.state}")

    async def create_tag(self, name: str) -> TagRow:
        from wxtui.jobs.intents import CreateTag

        await self._run_single(CreateTag(name))
        tag = self.tag_named(name)
        if tag is None:
            raise WxtuiError(f"{self.family.nouns.service} created the tag {name!r} but the cache does not "
                             "show it; sync the account")
        self.refresh_tag_names()
        return tag

    async def rename_tag(self, tagid: int, name: str) -> None:
        from wxtui.jobs.intents import RenameTag

        await self._run_single(RenameTag(tagid, name))
        self.refresh_tag_names()
