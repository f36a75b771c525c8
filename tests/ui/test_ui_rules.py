"""Pilot tests of rules in the app: a sync runs them (asking first unless automatic), and the
rules screen (K) lists, pauses and runs them; asserting on the emulator's and the journal's state."""

from __future__ import annotations

from ui_fixtures import app_for, confirm, demo_session, notifications, ready, settle, wait_for_screen
from wxtui.store import Filter
from wxtui.store.rules import Rules
from wxtui.store.segments import Segments
from wxtui.ui.screens.confirm import ConfirmScreen

SIZE = (110, 32)


def _tag(acct, name: str) -> int:
    return next(t for t, (n, _) in acct.tags().items() if n == name)


def _new_guangdong_followers(acct, n: int) -> list[str]:
    new = acct.add_followers(n)
    for openid in new:
        acct.set_tags(openid, [_tag(acct, "广东")])
    return new


async def test_a_sync_asks_once_per_rule_and_confirming_runs_its_job(tmp_path):
    async with demo_session(tmp_path) as session:
        acct, store = session.emulator.account, session.store
        guangdong, vip, staff = _tag(acct, "广东"), _tag(acct, "VIP"), _tag(acct, "Staff")
        Segments(store).save("Guangdong", Filter(tags={guangdong}))
        Segments(store).save("Beijing", Filter(tags={_tag(acct, "北京")}))
        asking, _ = Rules(store).add("Guangdong", vip)
        Rules(store).add("Beijing", staff)
        Rules(store).set_paused(2, True)
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            assert "↻Guangdong" in str(screen.tag_list.get_option(f"segment:{Segments(store).get('Guangdong').id}").prompt)
            missing = acct.tag_members(guangdong) - acct.tag_members(vip)
            new = _new_guangdong_followers(acct, 4)
            beijing_staff = acct.tag_members(staff)
            jobs_before = len(session.store.conn.execute("SELECT id FROM jobs").fetchall())
            await pilot.press("s")
            dialog = await wait_for_screen(pilot, ConfirmScreen)
            facts = dict(dialog.summary.lines())
            assert facts["Rule"] == f'#{asking.id}: segment "Guangdong" carries tag "VIP"'
            assert facts["Tags"] == f'{len(missing) + 4} followers of the segment, with "VIP"'
            assert dialog.summary.count == len(missing) + 4
            await confirm(pilot)
            await settle(pilot)
            assert acct.tag_members(guangdong) <= acct.tag_members(vip)
            assert set(new) <= acct.tag_members(vip)
            assert acct.tag_members(staff) == beijing_staff  # the paused rule did nothing
            jobs = screen.model.jobs.jobs()
            assert len(jobs) == jobs_before + 1
            assert jobs[0].title == f'rule #{asking.id} "Guangdong" → "VIP": tag {len(missing) + 4}'
            assert Rules(store).get(asking.id).last_job == jobs[0].id
            # Declined: nothing is sent, and the rule says so.
            more = _new_guangdong_followers(acct, 2)
            await pilot.press("s")
            await wait_for_screen(pilot, ConfirmScreen)
            await pilot.press("n")
            await settle(pilot)
            assert not set(more) & acct.tag_members(vip)
            assert Rules(store).get(asking.id).last_result.startswith("not run (declined)")
            assert any("not run; nothing was changed" in n for n in notifications(pilot))


async def test_an_automatic_rule_runs_without_asking_and_the_rules_screen_pauses_and_runs(tmp_path):
    from wxtui.ui.screens.rules import RulesScreen

    async with demo_session(tmp_path) as session:
        acct, store = session.emulator.account, session.store
        guangdong, vip = _tag(acct, "广东"), _tag(acct, "VIP")
        Segments(store).save("Guangdong", Filter(tags={guangdong}))
        Segments(store).save("Gone", Filter(tags={vip}))
        rule, _ = Rules(store).add("Guangdong", vip, automatic=True)
        Rules(store).add("Gone", _tag(acct, "Staff"))
        Segments(store).delete("Gone")
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("s")
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmScreen)
            assert acct.tag_members(guangdong) <= acct.tag_members(vip)
            assert any('its segment "Gone" was deleted' in n for n in notifications(pilot))
            await pilot.press("K")
            rules_screen = await wait_for_screen(pilot, RulesScreen)
            await settle(pilot)
            listing = rules_screen.query_one("#rule-list")
            assert "last run" in str(listing.get_option_at_index(0).prompt)
            assert 'segment "Gone" was deleted' in str(listing.get_option_at_index(1).prompt)
            await pilot.press("p")  # the highlighted rule (#1) pauses
            await settle(pilot)
            assert Rules(store).get(rule.id).paused and "paused" in str(listing.get_option_at_index(0).prompt)
            await pilot.press("p", "a")  # resumed; then it asks before it runs
            await settle(pilot)
            assert not Rules(store).get(rule.id).paused and not Rules(store).get(rule.id).automatic
            await pilot.press("a", "escape")  # automatic again
            await settle(pilot)
            assert Rules(store).get(rule.id).automatic and not isinstance(app.screen, RulesScreen)
            new = _new_guangdong_followers(acct, 3)
            await pilot.press("s")
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmScreen) and set(new) <= acct.tag_members(vip)
            # Run now from the rules screen: planned on the cache, which the sync just made right.
            await pilot.press("K")
            await wait_for_screen(pilot, RulesScreen)
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert any(f"Rule #{rule.id}: nothing to change" in n for n in notifications(pilot))


async def test_the_rules_tag_picker_says_when_nothing_matches_and_enter_keeps_it_open(tmp_path):
    """A rule takes an existing tag: a name that matches none is said so in the picker (Enter
    there does nothing), instead of an empty list."""
    from wxtui.ui.screens.prompts import TagPickerScreen
    from wxtui.ui.screens.rules import RulesScreen

    async with demo_session(tmp_path) as session:
        acct, store = session.emulator.account, session.store
        Segments(store).save("Guangdong", Filter(tags={_tag(acct, "广东")}))
        async with app_for(session).run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("K")
            await wait_for_screen(pilot, RulesScreen)
            await pilot.press("n")
            await wait_for_screen(pilot, TagPickerScreen)
            await pilot.press("enter")  # nothing typed, nothing chosen: the picker stays
            await settle(pilot)
            assert isinstance(pilot.app.screen, TagPickerScreen)
            await pilot.press("down", "enter")  # the segment
            await settle(pilot)
            picker = await wait_for_screen(pilot, TagPickerScreen)
            await pilot.press(*"NoSuchTag")
            await settle(pilot)
            assert "No tag matches 'NoSuchTag'" in str(picker.query_one("#picker-note").render())
            await pilot.press("enter")
            await settle(pilot)
            assert pilot.app.screen is picker and Rules(store).list() == []
            await pilot.press("ctrl+u", *"VIP")
            await settle(pilot)
            assert str(picker.query_one("#picker-note").render()) == ""
