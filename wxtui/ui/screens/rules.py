"""Rules on the main screen: the rules screen (K), and a rule's run after a sync.

After a sync that finished, every active rule plans its job in the run's order (wxtui.jobs.rules):
an automatic rule's job starts at once; any other asks first, with the confirmation dialog
naming the rule and how many it tags and untags. Each job runs to its end before the next rule
plans, so the next one sees what it changed. The rules screen lists the rules with their mode,
last run and any problem (a deleted segment or tag), and adds, runs, pauses and deletes them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, OptionList, Static
from textual.widgets.option_list import Option

from wxtui.jobs.rules import ORDER_NOTE
from wxtui.store.rules import RuleError
from wxtui.ui import format as fmt, keys
from wxtui.ui.screens.confirm import ConfirmScreen
from wxtui.ui.screens.guard import screen_work
from wxtui.ui.summary import summarize_rule


def rule_prompt(rule, problem: str) -> Text:
    """Two lines: the rule with its mode, then its problem or its last run."""
    text = Text(no_wrap=False)
    text.append(f"#{rule.id} ", style="bold")
    text.append(f"{rule.mode:<9} ", style="dim" if rule.paused else ("bold" if rule.automatic else ""))
    text.append_text(fmt.literal(rule.describe()))
    if problem:
        text.append("\n   ✗ ", style="bold red")
        text.append_text(fmt.literal(problem, style="red"))
    elif rule.last_run_at:
        when = time.strftime("%m-%d %H:%M", time.gmtime(rule.last_run_at + 8 * 3600))
        text.append(f"\n   last run {when}: ", style="dim")
        text.append_text(fmt.literal(rule.last_result, style="dim"))
    else:
        text.append("\n   not run yet", style="dim")
    return text


class RuleOptionsScreen(ModalScreen["tuple[bool, bool] | None"]):
    """Whether leavers lose the tag, and whether the rule runs without asking."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="rule_options.cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(fmt.literal(self.title_text), classes="dialog-title")
            yield Checkbox("Followers who leave the segment lose the tag", id="remove-leavers")
            yield Checkbox("Run after every sync without asking", id="automatic")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.dismiss((self.query_one("#remove-leavers", Checkbox).value,
                          self.query_one("#automatic", Checkbox).value))
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class RulesScreen(ModalScreen[None]):
    """Every rule of the account; run_rule(id) runs one through the main screen's flow."""

    BINDINGS = keys.RULES

    def __init__(self, model, run_rule: Callable[[int], None], segments: list, tags: list) -> None:
        super().__init__()
        self.model = model
        self.run_rule = run_rule
        self.segments = segments  # (id, name, count) of the saved segments
        self.tags = tags  # (tagid, name, count) that can be put on followers
        self.rules: list = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog rules"):
            yield Label("Rules: segments that keep a tag on their followers", classes="dialog-title")
            yield OptionList(id="rule-list")
            yield Static("", id="rules-empty", classes="note")
            yield Static(ORDER_NOTE, classes="note")
            yield Label("n new · enter run now · p pause · a ask/automatic · d delete · esc back",
                        classes="meter")

    def on_mount(self) -> None:
        self.reload()

    @screen_work(group="rules-list", exclusive=True, what="Could not read the rules")
    async def reload(self) -> None:
        rows = await asyncio.to_thread(self.model.rule_list)
        self.rules = [rule for rule, _ in rows]
        listing = self.query_one("#rule-list", OptionList)
        highlighted = listing.highlighted
        listing.set_options([Option(rule_prompt(rule, problem), id=f"rule:{rule.id}") for rule, problem in rows])
        if rows:
            listing.highlighted = min(highlighted or 0, len(rows) - 1)
        listing.display = bool(rows)
        empty = self.query_one("#rules-empty", Static)
        empty.display = not rows
        empty.update(
            "" if rows else "No rules yet. Press n to give a saved segment a rule "
                            "(save a segment first: / to filter, then S).")

    def _highlighted(self):
        listing = self.query_one("#rule-list", OptionList)
        if listing.highlighted is None or not self.rules:
            self.notify("No rule is highlighted", severity="warning")
            return None
        return self.rules[listing.highlighted]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_run_rule()

    def action_run_rule(self) -> None:
        rule = self._highlighted()
        if rule is None:
            return
        if rule.paused:
            self.notify(f"Rule #{rule.id} is paused: press p to resume it first", severity="warning")
            return
        self.dismiss(None)
        self.run_rule(rule.id)

    @screen_work(group="rules-edit", exclusive=True, what="Could not change the rule")
    async def action_pause_rule(self) -> None:
        rule = self._highlighted()
        if rule is not None:
            changed = await asyncio.to_thread(self.model.rules.rules.set_paused, rule.id, not rule.paused)
            self.notify(f"Rule #{changed.id} is {'paused' if changed.paused else 'active again'}")
            self.reload()

    @screen_work(group="rules-edit", exclusive=True, what="Could not change the rule")
    async def action_automatic_rule(self) -> None:
        rule = self._highlighted()
        if rule is not None:
            changed = await asyncio.to_thread(self.model.rules.rules.set_automatic, rule.id, not rule.automatic)
            self.notify(f"Rule #{changed.id} " + ("runs after every sync without asking" if changed.automatic
                                                  else "asks before it runs"))
            self.reload()

    @screen_work(group="rules-edit", exclusive=True, what="Could not delete the rule")
    async def action_delete_rule(self) -> None:
        rule = self._highlighted()
        if rule is not None:
            # No confirmation: a rule changes no follower by being deleted, and the note says what it was.
            await asyncio.to_thread(self.model.rules.rules.delete, rule.id)
            self.notify(fmt.literal(f"Deleted rule #{rule.id}: {rule.describe()}").plain, timeout=10)
            self.reload()

    @screen_work(group="rules-edit", exclusive=True, what="Could not add the rule")
    async def action_new_rule(self) -> None:
        from wxtui.ui.screens.prompts import TagPickerScreen

        if not self.segments:
            self.notify("Save a segment first: / to filter the followers, then S", severity="warning")
            return
        segment = await self.app.push_screen_wait(TagPickerScreen(
            "A rule for which segment?", self.segments, allow_create=False, what="segment"))
        if segment is None:
            return
        tag = await self.app.push_screen_wait(TagPickerScreen(
            f"Its {self.model.members[1]} carry which tag?", self.tags, allow_create=False))
        if tag is None:
            return
        options = await self.app.push_screen_wait(RuleOptionsScreen(
            f'Segment "{segment.name}" carries tag "{tag.name}"'))
        if options is None:
            return
        remove_leavers, automatic = options
        try:
            rule, created = await asyncio.to_thread(self.model.add_rule, segment.name, tag.tagid,
                                                    remove_leavers=remove_leavers, automatic=automatic)
        except RuleError as exc:
            self.notify(str(exc), title="Not saved", severity="warning", timeout=12)
            return
        self.notify(f"{'Added' if created else 'Updated'} rule #{rule.id}: {rule.describe()}")
        self.reload()

    def action_close(self) -> None:
        self.dismiss(None)


class RulesMixin:
    """The main screen's rule flows (it provides model, tag_list, notify, app...)."""

    def action_rules(self) -> None:
        segments = [(e.tagid, e.name, e.count) for e in self.tag_list.segment_entries]
        tags = self._tag_rows(with_reserved=True)
        self.app.push_screen(RulesScreen(self.model, lambda rule_id: self.run_rules([rule_id]), segments, tags),
                             lambda _: self.load_segments())

    @screen_work(group="rules", exclusive=True, what="Could not run the rules")
    async def run_rules(self, chosen: list[int] | None = None) -> None:
        """Every active rule after a sync (chosen None), or the chosen ones now. An automatic
        rule runs without asking after a sync; any rule asks when run from the rules screen."""
        runner = self.model.rules
        async for planned in runner.each(chosen=chosen):
            rule = planned.rule
            if planned.note:
                self.notify(f"Rule #{rule.id}: {planned.note}", title="Rule")
            if planned.problem or planned.plan is None or not planned.plan.ok:
                await asyncio.to_thread(runner.record, planned)
                if planned.problem or planned.plan is not None:
                    self.notify(f"Rule #{rule.id} ({rule.describe(planned.tag_name)}): {planned.outcome()}",
                                title="Rule skipped", severity="warning", timeout=15)
                elif chosen:
                    self.notify(f"Rule #{rule.id}: nothing to change", title="Rule")
                continue
            if chosen or not rule.automatic:
                if not await self.app.push_screen_wait(ConfirmScreen(summarize_rule(planned, self.model.members))):
                    await asyncio.to_thread(runner.record, planned, f"not run (declined): {planned.outcome()}")
                    self.notify(f"Rule #{rule.id} not run; nothing was changed")
                    continue
            job_id = await asyncio.to_thread(runner.submit, planned)
            # To its end before the next rule plans: that one sees what this one changed.
            await self.model.jobs.start(job_id)
