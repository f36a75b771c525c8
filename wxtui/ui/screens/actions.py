"""The main screen's actions: bulk actions through the planner's confirmation, tag management,
sync, import and export, and the jobs panel's cancel, resume, details and undo.

Each flow runs in a worker: dialogs are awaited, slow work goes to a thread or to the account's
scheduler, and the result comes back as a notification in plain language.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from pathlib import Path
from typing import Callable

from wxtui.jobs.events import DONE, PAUSED, RUNNING, JobEvent
from wxtui.jobs.verify import MISMATCHED, VERIFIED
from wxtui.ui.account import Intent
from wxtui.ui.format import china_time
from wxtui.ui.screens.confirm import ConfirmScreen
from wxtui.ui.screens.guard import plain_error, refuse_while_busy, screen_is_live, screen_work
from wxtui.ui.screens.prompts import (TagChoice, TagPickerScreen, TextPromptScreen, tag_name_check,
                                      tag_name_meter)
from wxtui.ui.summary import failure_text, quota_state
from wxtui.core.errors import redact

DATA_REFRESH_S = 1.0  # while jobs change the cache, redraw the data at most this often
SLOW_NOTICE_S = 0.4  # a wait on the API longer than this is said on screen
PLANNING = "Planning… (the confirmation comes next)"


class ActionsMixin:
    """Mixed into MainScreen (which provides model, table, tag_list, jobs_panel, reload())."""

    _data_dirty = False

    # -- helpers ------------------------------------------------------------------------------

    async def _target(self):
        # Counted now, not taken from the counts line: a key pressed right after `a` or `A`
        # must act on the selection as it is, not as it was a moment ago.
        self.selected = await asyncio.to_thread(self.model.selection_count)
        self._show_counts()
        target = self.model.target(self.table.cursor_row, self.selected)
        if target is None:
            self.notify("Nothing to act on: no follower is selected or under the cursor",
                        severity="warning")
        return target

    def _fail(self, what: str, exc: BaseException) -> None:
        self.notify(plain_error(exc), title=what, severity="error", timeout=12, markup=False)

    async def _noticed(self, awaitable, message: str):
        """awaitable's result; if it takes longer than a moment (a slow network: the plan asks
        the API for its quota), the user is told what is going on meanwhile."""
        notice = asyncio.get_running_loop().call_later(
            SLOW_NOTICE_S, lambda: self.notify(message, timeout=3) if screen_is_live(self) else None)
        try:
            return await awaitable
        finally:
            notice.cancel()

    async def _confirm_and_start(self, intent: Intent) -> None:
        try:
            planned = await self._noticed(self.model.plan(intent), PLANNING)
        except Exception as exc:
            self._fail("Could not plan the action", exc)
            return
        if planned.plan is not None:
            self._show_quota(planned.plan.quota)
        if planned.nothing_to_do:
            self.notify(planned.nothing_to_do)
            return
        if not await self.app.push_screen_wait(ConfirmScreen(planned.summary)):
            self.notify("Cancelled; nothing was changed")
            return
        try:
            job_id = await self.model.start(planned)
        except Exception as exc:
            self._fail("Could not start the job", exc)
            return
        self.log(f"job {job_id} started")

    def _show_quota(self, quota: dict) -> None:
        text, warning = quota_state(quota)
        if text:
            self.header.quota, self.header.quota_warning = text, warning

    def _tag_rows(self, *, with_reserved: bool) -> list[tuple[int, str, int]]:
        out, kept = [], []
        for entry in self.tag_list.tag_entries:
            # reserved tags are never put on anyone, except the star where reserved ones are offered
            if entry.reserved and (not with_reserved or entry.tagid != self.model.family.star_tag):
                continue
            (kept if entry.reserved else out).append((entry.tagid, entry.name, entry.count))
        # The service's own star tag last: the first ↓ in the picker must not land on it.
        return out + kept

    # -- bulk actions -------------------------------------------------------------------------

    def action_tag(self) -> None:
        self._open_tag_flow(untag=False)

    def action_untag(self) -> None:
        self._open_tag_flow(untag=True)

    def _open_tag_flow(self, untag: bool) -> None:
        """The picker opens at once, from the key's own handler: letters typed right after t
        (a tag's name) land in its search, not on the table (where a selected everyone). Who
        it acts on is counted meanwhile and named in its title."""
        if refuse_while_busy(self, "action"):
            return
        picker = TagPickerScreen("Untag — which tag?" if untag else "Tag with…", self._tag_rows(with_reserved=True),
                                 allow_create=not untag, most_bytes=self.model.family.max_tag_bytes)
        chosen: asyncio.Future = asyncio.get_running_loop().create_future()
        self.app.push_screen(picker, lambda choice: None if chosen.done() else chosen.set_result(choice))
        self._tag_flow(untag, picker, chosen)

    @screen_work(group="action", one=True)
    async def _tag_flow(self, untag: bool, picker: TagPickerScreen, chosen: asyncio.Future) -> None:
        try:
            target = await self._target()
        except BaseException:
            _close(picker, chosen)
            raise
        if target is None:
            _close(picker, chosen)
            return
        picker.set_title(f"Untag {target.description} — which tag?" if untag else f"Tag {target.description} with…")
        choice: TagChoice | None = await chosen
        if choice is None:
            return
        # A new tag (tagid None) is the job's first call: confirmed with it, or never created.
        await self._confirm_and_start(Intent("untag" if untag else "tag", target, choice.tagid, choice.name))

    @screen_work(group="action", one=True)
    async def action_clear_tags(self) -> None:
        target = await self._target()
        if target is not None:
            await self._confirm_and_start(Intent("clear_tags", target))

    @screen_work(group="action", one=True)
    async def action_blacklist(self) -> None:
        target = await self._target()
        if target is not None:
            await self._confirm_and_start(Intent("blacklist", target))

    @screen_work(group="action", one=True)
    async def action_unblacklist(self) -> None:
        target = await self._target()
        if target is not None:
            await self._confirm_and_start(Intent("unblacklist", target))

    # -- tags ---------------------------------------------------------------------------------

    def _names(self) -> list[str]:
        return [e.name for e in self.tag_list.tag_entries]

    @screen_work(group="action", one=True)
    async def action_new_tag(self) -> None:
        most, size = self.model.family.max_tags, self.model.family.max_tag_bytes
        if most is not None and len(self.tag_list.tag_entries) >= most:
            self.notify(f"The account already has {most} tags: delete one you no longer need first",
                        severity="warning")
            return
        name = await self.app.push_screen_wait(TextPromptScreen(
            "New tag", placeholder=f"name (at most {size} bytes)", check=tag_name_check(self._names(), most=size),
            meter=partial(tag_name_meter, most=size), ok="Create"))
        if not name:
            return
        try:
            tag = await self.model.create_tag(name)
        except Exception as exc:
            self._fail("Could not create the tag", exc)
            return
        self.notify(f"Created the tag {tag.name!r}")
        self.load_tags()

    def _editable_tag(self, verb: str):
        entry = self.tag_list.highlighted_entry
        if entry is None or entry.kind != "tag":
            self.notify(f"Highlight a tag in the tag list to {verb} it", severity="warning")
            return None
        if entry.reserved:
            self.notify(f"{entry.name!r} is reserved by {self.model.family.nouns.service} and cannot be {verb}d",
                        severity="warning")
            return None
        return entry

    @screen_work(group="action", one=True)
    async def action_rename_tag(self) -> None:
        entry = self._editable_tag("rename")
        if entry is None:
            return
        name = await self.app.push_screen_wait(TextPromptScreen(
            f"Rename {entry.name!r}", value=entry.name,
            check=tag_name_check(self._names(), allow=entry.name, most=self.model.family.max_tag_bytes),
            meter=partial(tag_name_meter, most=self.model.family.max_tag_bytes), ok="Rename"))
        if not name or name == entry.name:
            return
        try:
            await self.model.rename_tag(entry.tagid, name)
        except Exception as exc:
            self._fail("Could not rename the tag", exc)
            return
        self.notify(f"Renamed {entry.name!r} to {name!r}")
        self.reload()

    @screen_work(group="action", one=True)
    async def action_delete_tag(self) -> None:
        entry = self._editable_tag("delete")
        if entry is not None:
            await self._confirm_and_start(Intent("delete_tag", None, entry.tagid, entry.name))

    # -- sync ---------------------------------------------------------------------------------

    def action_sync(self) -> None:
        if any(w.group == "sync" and not w.is_finished for w in self.workers):
            self.notify("A sync is already running")
            return
        self._sync()

    @screen_work(group="sync", what="Sync failed")
    async def _sync(self) -> None:
        header = self.header
        header.sync_progress = "syncing…"
        first_sync = await asyncio.to_thread(self.model.store.follower_count) == 0
        if first_sync:
            # The pass is swapped in at its end: until then there is nothing to show.
            self.table.empty_text = "Syncing: the followers appear when the first sync ends"
            self.table.refresh()

        def progress(text: str) -> None:
            header.sync_progress = text

        try:
            result = await self.model.sync(progress)
        except Exception as exc:
            self._fail("Sync failed", exc)
        else:
            if result.ok:
                self.notify(result.message, title="Synced")
                # The rules act on what this sync found; one that paused or failed left a cache
                # that is not the account's, so they wait for the next sync that finishes.
                self.run_rules()
            else:
                # Paused on a quota or stopped: the sync resumes where it stopped next time.
                self.notify(redact(result.message), title=f"Sync {result.status}", severity="warning",
                            timeout=15)
        finally:
            if first_sync:
                # Reading a large pass back takes a moment: say so until the view has it.
                self.table.empty_text = f"Sync finished: reading the {self.model.members[1]}…"
                self.table.refresh()
            header.sync_progress = ""
            header.synced_at = self.model.store.last_synced_at()
            self.reload()

    def _refresh_while_busy(self) -> None:
        if self._data_dirty and screen_is_live(self):
            self._data_dirty = False
            self.reload()

    # -- import / export ----------------------------------------------------------------------

    @screen_work(group="action", one=True)
    async def action_export(self) -> None:
        what = f"the {self.selected:,} selected followers" if self.selected else "the followers in view"
        default = self.model.default_export_path()
        path = await self.app.push_screen_wait(TextPromptScreen(
            f"Export {what} to CSV", value=str(default), check=_path_check(for_writing=True), ok="Export"))
        if not path:
            return
        try:
            count = await asyncio.to_thread(self.model.export_csv, Path(path).expanduser(),
                                            self.view_filter, bool(self.selected))
        except Exception as exc:
            self._fail("Export failed", exc)
            return
        self.notify(f"Exported {count:,} followers to {path}")

    @screen_work(group="action", one=True)
    async def action_import_openids(self) -> None:
        path = await self.app.push_screen_wait(TextPromptScreen(
            "Import openids into the selection (one per line, or a CSV with an openid column)",
            placeholder="path/to/openids.txt", check=_path_check(for_writing=False), ok="Import"))
        if not path:
            return
        try:
            result = await asyncio.to_thread(self.model.import_openids, Path(path).expanduser())
        except Exception as exc:
            self._fail("Import failed", exc)
            return
        self._selection_changed()
        self.notify(result.message(), severity="warning" if result.unknown or result.invalid else "information")

    # -- jobs ---------------------------------------------------------------------------------

    def job_event(self, event: JobEvent) -> None:
        """Every job event of the account (rate-limited by the engine)."""
        if not screen_is_live(self):  # quitting: the scheduler's last events have no screen
            return
        self.jobs_panel.show_event(event)
        self._data_dirty = True
        if event.is_final:
            self._job_finished(event)
        elif not getattr(self, "_job_refresher", None):
            self._job_refresher = self.set_interval(DATA_REFRESH_S, self._refresh_while_busy)

    def _job_finished(self, event: JobEvent) -> None:
        refresher = getattr(self, "_job_refresher", None)
        if refresher is not None and not self.model.running_jobs():
            refresher.stop()
            self._job_refresher = None
        self.reload()
        if event.job_id in self.model.quiet_jobs:
            return
        if event.state == DONE:
            self._verify_job(event.job_id)
        if event.state == DONE and not event.failures_count:
            changed = f", {event.targets_done:,} changed" if event.targets_total else ""
            # Titles name tags and remarks: their brackets are text, not markup.
            self.notify(f"{event.title}: done{changed}", title="Job finished", markup=False)
        elif event.state == DONE:
            first = event.failures[0] if event.failures else None
            detail = f" — {failure_text(first.message, first.errcode, self.model.family.describe_code)}" if first else ""
            self.notify(f"{event.title}: {event.failures_count:,} failed{detail}. "
                        "Press j, then enter for the list.", title="Job finished with failures",
                        severity="warning", timeout=12, markup=False)
        else:
            if event.paused_for_quota:
                self.header.quota = f"quota used up until {china_time(event.resume_after)}"
                self.header.quota_warning = True
            reason = f". {event.message}" if event.message and event.message != event.state else ""
            self.notify(f"{event.title}: {event.state}{reason}{self._resume_later(event)}",
                        title=f"Job {event.state}", severity="warning", timeout=12, markup=False)

    def _resume_later(self, event: JobEvent) -> str:
        """A job paused for an outage names a time worth resuming at: it resumes by itself then
        (a pause for the daily quota waits for the user). What the notice says of it."""
        if event.state != PAUSED or event.resume_after is None or event.paused_for_quota:
            return ""
        delay = max(0.0, event.resume_after - time.time())
        self.set_timer(delay, partial(self._resume_if_still_paused, event.job_id, event.resume_after))
        return f". It resumes by itself at {time.strftime('%H:%M', time.localtime(event.resume_after))}"

    @screen_work(group="auto-resume", what="Could not resume the job")
    async def _resume_if_still_paused(self, job_id: int, resume_after: float) -> None:
        """Unless it was resumed meanwhile (by the user, another process) or paused anew."""
        paused = await asyncio.to_thread(self.model.paused_job, job_id)
        if paused is None or paused.resume_after != resume_after:
            return
        await self.model.resume(job_id)
        self.notify(f"{paused.title}: resumed after the pause", title="Job resumed", markup=False)

    @screen_work(group="verify", what="Could not verify the job")
    async def _verify_job(self, job_id: int, asked: bool = False) -> None:
        """Read a sample of the job's followers back; the jobs panel and a notice say what it found."""
        found = await self.model.verify(job_id, asked=asked)
        if found is None:
            return
        self.jobs_panel.show_verification(found)
        if found.state == MISMATCHED:
            self.reload()  # the cache was corrected to what the platform says
            self.notify(f"Job #{job_id}: {found.summary()}. Press j, then enter to see and repair them.",
                        title="Verification found mismatches", severity="warning", timeout=12)
        elif asked or found.state != VERIFIED:
            self.notify(f"Job #{job_id}: {found.summary()}", title="Verification")

    def _highlighted_job(self) -> JobEvent | None:
        event = self.jobs_panel.highlighted_event
        if event is None:
            self.notify("No job is highlighted in the jobs panel", severity="warning")
        return event

    def action_cancel_job(self) -> None:
        event = self._highlighted_job()
        if event is None:
            return
        if event.state != RUNNING:
            self.notify(f"{event.title} is not running ({event.state})")
            return
        if event.stopping:
            self.notify(f"{event.title} is already stopping")
            return
        if not self.model.cancel(event.job_id):
            self.notify(f"{event.title} had already finished")
            return
        self.notify(f"Cancelling {event.title}: nothing more is sent, and calls still out are given up "
                    "within a second; press R to resume it later")

    @screen_work(group="action", one=True)
    async def action_resume_job(self) -> None:
        event = self._highlighted_job()
        if event is None:
            return
        if event.state in (RUNNING, DONE):
            self.notify(f"{event.title} is {event.state}: nothing to resume")
            return
        try:
            await self.model.resume(event.job_id)
        except Exception as exc:
            self._fail("Could not resume the job", exc)

    @screen_work(group="action", one=True)
    async def action_job_details(self) -> None:
        from wxtui.ui.screens.job_detail import JobDetailScreen

        event = self._highlighted_job()
        if event is None:
            return
        failures = await asyncio.to_thread(self.model.job_failures, event.job_id)
        verification = self.model.verification(event.job_id)
        lines = self.model.mismatch_lines(verification) if verification is not None else []
        choice = await self.app.push_screen_wait(JobDetailScreen(event, failures, self.model.family.describe_code,
                                                                 verification, lines))
        if choice == "verify":
            self._verify_job(event.job_id, asked=True)
        elif choice == "repair":
            await self._repair(event.job_id)
        elif choice == "resume":
            await self.model.resume(event.job_id)
        elif choice == "undo":
            await self._undo(event.job_id)
        elif choice == "cancel":
            self.model.cancel(event.job_id)

    async def _repair(self, job_id: int) -> None:
        await self._plan_confirm_start(lambda: self.model.plan_repair(job_id), "repair")

    async def _plan_confirm_start(self, plan: Callable[[], object], what: str) -> None:
        """A job planned from the journal (an undo, a repair): planned off the event loop,
        confirmed, then started."""
        try:
            planned = await asyncio.to_thread(plan)
        except Exception as exc:
            self._fail(f"Cannot {what}", exc)
            return
        if planned.nothing_to_do:
            self.notify(planned.nothing_to_do)
            return
        if not await self.app.push_screen_wait(ConfirmScreen(planned.summary)):
            self.notify("Cancelled; nothing was changed")
            return
        try:
            await self.model.start(planned)
        except Exception as exc:
            self._fail(f"Could not start the {what}", exc)

    @screen_work(group="action", one=True)
    async def action_undo(self) -> None:
        await self._undo(None)

    async def _undo(self, job_id: int | None) -> None:
        await self._plan_confirm_start(lambda: self.model.plan_undo(job_id), "undo")


def _path_check(*, for_writing: bool):
    def check(text: str) -> str:
        text = text.strip()
        if not text:
            return "Type a file path"
        path = Path(text).expanduser()
        if for_writing:
            if path.is_dir():
                return "That is a folder; name a file"
            if not path.parent.exists():
                return f"No folder {path.parent}"
            return ""
        if not path.is_file():
            return "No such file"
        return ""

    return check


def _close(picker, chosen: asyncio.Future) -> None:
    """Take down a picker opened for a flow that ends before it was answered."""
    if not chosen.done() and picker.is_current:
        picker.dismiss(None)
