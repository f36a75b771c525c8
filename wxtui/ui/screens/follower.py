"""One follower, opened with enter on a row: what the cache knows, the tags WeChat says they
carry now, and the jobs that touched them; from here the remark, the tags as a whole and the
blacklist change through the same confirmation and jobs as every bulk action.

On a Tencent Cloud IM account the screen shows the account id and its tags and says plainly
that the rest (remark, blacklist, subscription) does not exist there.
"""

from __future__ import annotations

import asyncio
import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from wxtui.core.member_card import CACHED, FollowerCard
from wxtui.jobs.events import JobEvent
from wxtui.ui import format as fmt
from wxtui.ui import keys
from wxtui.ui.account import AccountModel, Intent
from wxtui.ui.screens.confirm import ConfirmScreen
from wxtui.ui.screens.guard import plain_error, screen_work
from wxtui.ui.screens.prompts import TagChecklistScreen, TextPromptScreen, remark_check, remark_meter

NOT_ON_TIM = "Tencent Cloud IM accounts have no {what}: nothing was sent"
FACTS = ("openid", "unionid", "remark", "language", "followed", "scene", "blacklisted", "tags")
TIM_FACTS = ("account id", "tags")


def _day(unix: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(unix + 8 * 3600)) + " China time" if unix else "-"


def card_facts(card: FollowerCard) -> list[tuple[str, Text]]:
    """(name, value) rows of the card; the platform's text is shown literally."""
    tags = Text(", ".join(fmt.visible(name) for _, name in card.tags) or "none")
    if card.tags_from == CACHED:
        tags.append(f"  (the cache's: {card.note})", style="dim")
    elif card.corrected:
        tags.append("  (asked WeChat just now; the cache held other tags and was corrected)", style="dim")
    else:
        tags.append("  (asked just now)", style="dim")
    if card.is_tim:
        return [("account id", Text(fmt.visible(card.openid))), ("tags", tags)]
    scene = fmt.scene(card.scene) if card.scene else "-"
    if card.qr_scene or card.qr_scene_str:
        scene += f" ({fmt.visible(card.qr_scene_str) or card.qr_scene})"
    return [
        ("openid", Text(card.openid)),
        ("unionid", Text(card.unionid or "-")),
        ("remark", Text(fmt.visible(card.remark)) if card.remark else Text("none", style="dim")),
        ("language", Text(card.language or "-")),
        ("followed", Text(_day(card.subscribe_time))),
        ("scene", Text(scene)),
        ("blacklisted", Text("yes", style="bold") if card.blacklisted else Text("no")),
        ("tags", tags),
    ]


def job_lines(card: FollowerCard) -> Text:
    if not card.jobs:
        return Text("No job has touched this follower.", style="dim")
    text = Text()
    for job in card.jobs:
        # China time, as the "followed" line above and the audit log (L) give it.
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(job.created_at + 8 * 3600))
        text.append(f"#{job.id:<5} ", style="bold")
        text.append(f"{job.state:<9} {when}  ")
        text.append(fmt.visible(job.title))
        text.append("\n")
    text.rstrip()
    return text


class FollowerScreen(Screen[None]):
    BINDINGS = keys.FOLLOWER

    def __init__(self, model: AccountModel, openid: str) -> None:
        super().__init__()
        self.model = model
        self.openid = openid
        self.card: FollowerCard | None = None

    def compose(self) -> ComposeResult:
        noun = self.model.members[0].capitalize()
        with VerticalScroll(id="follower"):
            yield Label(Text(f"{noun} · {fmt.visible(self.openid)}"), id="follower-title", classes="dialog-title")
            yield Label("Reading…", id="follower-status", classes="note")
            with Vertical(id="follower-facts"):
                for name in (TIM_FACTS if (not self.model.capabilities.remarks) else FACTS):
                    with Horizontal(classes="fact"):
                        yield Label(name, classes="fact-name")
                        yield Label("", id=f"fact-{name.replace(' ', '-')}", classes="fact-value")
            if (not self.model.capabilities.remarks):
                yield Static("Tencent Cloud IM has no remark, blacklist, language or subscription details "
                             "for an account; change its tags with t and u on the main screen.",
                             classes="note", id="follower-missing")
            yield Label("Jobs that touched this follower (China time)", classes="dialog-title", id="follower-jobs-title")
            yield Static("", id="follower-jobs")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._unsubscribe = self.model.jobs.subscribe(self._job_event)
        self.load()

    def on_unmount(self) -> None:
        self._unsubscribe()

    def _job_event(self, event: JobEvent) -> None:
        if event.is_final:
            self.load()

    @screen_work(group="follower-load", exclusive=True, what="Could not read the follower")
    async def load(self) -> None:
        status = self.query_one("#follower-status", Label)
        try:
            card = await self.model.follower_card(self.openid)
        except Exception as exc:
            status.update(Text(f"Could not read this {self.model.members[0]}: {plain_error(exc)}"))
            return
        self.card = card
        status.update("")
        status.display = False
        for name, value in card_facts(card):
            self.query_one(f"#fact-{name.replace(' ', '-')}", Label).update(value)
        self.query_one("#follower-jobs", Static).update(job_lines(card))

    # -- actions ------------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss(None)

    async def _run(self, intent: Intent) -> None:
        """Plan, confirm, start: the job shows in the jobs panel, and this card re-reads when it ends."""
        try:
            planned = await self.model.plan(intent)
        except Exception as exc:
            self.notify(plain_error(exc), title="Could not plan the action", severity="error", timeout=12, markup=False)
            return
        if planned.nothing_to_do:
            self.notify(planned.nothing_to_do, markup=False)
            return
        if not await self.app.push_screen_wait(ConfirmScreen(planned.summary)):
            self.notify("Cancelled; nothing was changed")
            return
        try:
            await self.model.start(planned)
        except Exception as exc:
            self.notify(plain_error(exc), title="Could not start the job", severity="error", timeout=12, markup=False)

    async def _target(self):
        target = await asyncio.to_thread(self.model.follower_target, self.openid)
        if target is None:
            self.notify(f"This {self.model.members[0]} is no longer in the cache: sync first", severity="warning")
        return target

    def _refuse_on_tim(self, what: str) -> bool:
        if (not self.model.capabilities.remarks):
            self.notify(NOT_ON_TIM.format(what=what), severity="warning")
        return (not self.model.capabilities.remarks)

    def _unread(self) -> bool:
        if self.card is None:
            self.notify(f"This {self.model.members[0]} could not be read yet: nothing to change",
                        severity="warning")
        return self.card is None

    @screen_work(group="follower-action", exclusive=True)
    async def action_edit_remark(self) -> None:
        if self._refuse_on_tim("remark") or self._unread():
            return
        text = await self.app.push_screen_wait(TextPromptScreen(
            f"Remark of {self.openid}", value=self.card.remark, placeholder="empty clears the remark",
            check=remark_check, meter=remark_meter, ok="Set"))
        if text is None:
            return
        if text == self.card.remark:
            self.notify("Nothing to change: the remark is the same")
            return
        target = await self._target()
        if target is not None:
            await self._run(Intent("set_remark", target, text=text))

    @screen_work(group="follower-action", exclusive=True)
    async def action_set_tags(self) -> None:
        if self._unread():
            return
        if (not self.model.capabilities.remarks):
            self.notify("Change a Tencent Cloud IM account's tags with t and u on the main screen",
                        severity="warning")
            return
        summary = await asyncio.to_thread(self.model.tag_summary)
        rows = [(t.id, t.name, t.count) for t in summary.tags if t.id not in (0, 1)]
        known = {t for t, _, _ in rows}
        rows += [(t, name, 0) for t, name in self.card.tags if t not in known]  # not synced yet
        chosen = await self.app.push_screen_wait(TagChecklistScreen(
            f"Tags of {self.openid}", rows, self.card.tagids))
        if chosen is None:
            return
        if sorted(chosen) == sorted(self.card.tagids):
            self.notify("Nothing to change: the same tags are checked")
            return
        target = await self._target()
        if target is not None:
            await self._run(Intent("set_tags", target, tagids=tuple(chosen)))

    @screen_work(group="follower-action", exclusive=True)
    async def action_blacklist(self) -> None:
        if not self._refuse_on_tim("blacklist"):
            target = await self._target()
            if target is not None:
                await self._run(Intent("blacklist", target))

    @screen_work(group="follower-action", exclusive=True)
    async def action_unblacklist(self) -> None:
        if not self._refuse_on_tim("blacklist"):
            target = await self._target()
            if target is not None:
                await self._run(Intent("unblacklist", target))
