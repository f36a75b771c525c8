"""The selection is what the screen shows: whatever keys came before, a confirmation acts on
what the counts line said was selected (or on the follower under the cursor when nothing is);
A empties the selection from any pane; tab and shift+tab walk the panes both ways, in an order
the jobs panel does not change."""

from __future__ import annotations

import asyncio
import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ui_fixtures import app_for, demo_session, ready, settle, wait_for_screen
from wxtui.ui.screens.confirm import ConfirmScreen
from wxtui.ui.screens.main import MainScreen
from wxtui.ui.screens.prompts import TagPickerScreen

SIZE = (100, 30)
FOLLOWERS = 60

# Keys of the app's bindings that move, select or change the view, and those that ask for a
# confirmation (t goes through the tag picker first).
MOVES = ["down", "up", "space", "shift+down", "shift+up", "home", "end", "pagedown", "pageup",
         "a", "A", "tab", "shift+tab", "escape"]
ACTIONS = ["b", "B", "c", "t"]
keys = st.lists(st.sampled_from(MOVES + ACTIONS), min_size=1, max_size=10)
# Each sequence drives the real app (a second or two with its dialogs): the suite runs a few
# dozen; WXTUI_SELECTION_EXAMPLES=300 runs the long form.
EXAMPLES = int(os.environ.get("WXTUI_SELECTION_EXAMPLES", "30"))


def said_selected(screen: MainScreen) -> int:
    """The number the counts line shows as selected (0 when it shows none)."""
    found = re.search(r"([\d,]+) selected", str(screen.query_one("#view-counts").render()))
    return int(found.group(1).replace(",", "")) if found else 0


async def press(pilot, key: str) -> None:
    """A key through the app's bindings, as a keystroke does; typed into a text box when one
    has focus. Keys queue up as typeahead does: nothing waits for the screen to redraw."""
    from textual.widgets import Input

    app = pilot.app
    if isinstance(app.focused, Input) or not isinstance(app.screen, MainScreen):
        await pilot.press(key)
    else:
        app.simulate_key(key)
        await asyncio.sleep(0)


async def back_to_start(pilot, screen: MainScreen) -> None:
    app = pilot.app
    while not isinstance(app.screen, MainScreen):
        await pilot.press("escape")
    await settle(pilot)
    screen.model.selection.clear()
    screen.query_one("#filter").value = ""
    screen.tag_list.choose("all")
    screen.table.focus()
    screen.table.move_cursor(0)
    screen._selection_changed()


async def play(pilot, screen: MainScreen, sequence: list[str]) -> int:
    """Press the keys; at each confirmation check its target and say no. Returns how many
    confirmations opened."""
    session = pilot.app.session
    store = session.store
    opened = 0
    for key in sequence:
        if key not in ACTIONS:
            await press(pilot, key)
            continue
        await settle(pilot)
        if not isinstance(pilot.app.screen, MainScreen):
            continue
        said = said_selected(screen)
        assert said == store.selection("main").count()  # the counts line tells the store's truth
        cursor = screen.table.cursor_row
        await pilot.press(key)
        await settle(pilot)
        if isinstance(pilot.app.screen, TagPickerScreen):
            await pilot.press("down", "enter")  # the first tag (Enter alone chooses nothing)
            await settle(pilot)
        if not isinstance(pilot.app.screen, ConfirmScreen):
            continue  # nothing to change, or nothing to act on: told, not asked
        opened += 1
        summary = pilot.app.screen.summary
        if said:
            assert f"{said:,} selected" in summary.target
            assert summary.count + summary.skipped == said
        else:
            assert cursor is not None and cursor.openid in summary.target
            assert summary.count + summary.skipped == 1
        await pilot.press("n")
        await settle(pilot)
    return opened


async def test_every_confirmation_targets_what_the_screen_said_was_selected(tmp_path):
    async with demo_session(tmp_path, followers=FOLLOWERS) as session:
        acct = session.emulator.account
        blacklist_before = set(acct.blacklist())
        members_before = {t: set(acct.tag_members(t)) for t in acct.tags()}
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            loop = asyncio.get_running_loop()
            confirmations = 0

            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(keys)
            def property_holds(sequence: list[str]) -> None:
                nonlocal confirmations

                async def example() -> None:
                    nonlocal confirmations
                    await back_to_start(pilot, screen)
                    confirmations += await play(pilot, screen, sequence)

                asyncio.run_coroutine_threadsafe(example(), loop).result()

            await asyncio.to_thread(property_holds)
            assert confirmations > EXAMPLES // 3  # the property was put to the test, not skipped past
        # Every confirmation was declined: nothing reached WeChat, nothing was journaled.
        assert set(acct.blacklist()) == blacklist_before
        assert {t: set(acct.tag_members(t)) for t in acct.tags()} == members_before
        assert app.model.jobs.jobs(5) == []


async def test_A_empties_the_selection_whatever_pane_has_focus(tmp_path):
    async with demo_session(tmp_path) as session:
        store = session.store
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            for focus in (screen.table, screen.tag_list, screen.jobs_panel):
                await pilot.press("a")
                await settle(pilot)
                assert store.selection("main").count() == store.follower_count() == screen.selected
                if focus is screen.jobs_panel:
                    screen.jobs_panel.display = True  # as once a job has run
                focus.focus()
                await pilot.pause()
                assert app.focused is focus
                await pilot.press("A")
                await settle(pilot)
                assert store.selection("main").count() == 0 and screen.selected == 0
                assert "selected" not in str(screen.query_one("#view-counts").render())
                screen.table.focus()


async def focus_order(pilot, key: str, steps: int) -> list[str]:
    order = []
    for _ in range(steps):
        await pilot.press(key)
        await pilot.pause()
        order.append(pilot.app.focused.id)
    return order


async def test_shift_tab_walks_back_and_the_jobs_panel_keeps_the_order(tmp_path):
    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            assert app.focused is screen.table
            forward = await focus_order(pilot, "tab", 3)
            assert forward == ["tags", "filter", "members"]
            backward = await focus_order(pilot, "shift+tab", 3)
            assert backward == ["filter", "tags", "members"]
            # A job makes the jobs panel appear: it joins the end of the order.
            await pilot.press("b")
            await wait_for_screen(pilot, ConfirmScreen)
            # In a dialog, tab and shift+tab move between its buttons, both ways.
            dialog = app.screen
            first = app.focused.id
            await pilot.press("tab")
            second = app.focused.id
            assert {first, second} == {"confirm", "cancel"}
            await pilot.press("shift+tab")
            assert app.focused.id == first
            assert isinstance(app.screen, ConfirmScreen) and app.screen is dialog
            blacklisted = screen.table.cursor_row.openid
            await pilot.press("y")
            await settle(pilot)
            assert acct.is_blacklisted(blacklisted) and blacklisted in session.store.blacklist()
            assert screen.jobs_panel.display
            screen.table.focus()
            forward = await focus_order(pilot, "tab", 4)
            assert forward == ["jobs", "tags", "filter", "members"]
            backward = await focus_order(pilot, "shift+tab", 4)
            assert backward == ["filter", "tags", "jobs", "members"]


async def test_shift_down_past_the_first_rows_read_loses_no_key(tmp_path, monkeypatch):
    """The view shows its first rows before the rest of its ids are read: shift+down held past
    them selects every row the cursor went over, once the ids are in, and goes on from the same
    anchor (the keys pressed meanwhile used to be dropped, and the anchor reset)."""
    import time

    from wxtui.store.views import View
    from wxtui.ui.screens.main import FIRST_ROWS

    read_all = View.row_ids

    def slowly(self):  # a large view: its ids take a moment (here, longer than the keys)
        time.sleep(0.5)
        return read_all(self)

    monkeypatch.setattr(View, "row_ids", slowly)
    presses = FIRST_ROWS + 40
    async with demo_session(tmp_path, followers=2_000) as session:
        async with app_for(session).run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            assert not screen.table.source.all_ids_known  # only the first rows are read
            await pilot.press("home", *["shift+down"] * presses)
            await settle(pilot)
            assert screen.table.cursor == presses
            assert screen.model.selection_count() == presses + 1
            await pilot.press(*["shift+down"] * 5)  # the same range goes on
            await settle(pilot)
            view = session.store.view(screen.view_filter)
            assert set(screen.model.selection.ids()) == set(view.row_ids()[: presses + 6])


async def test_the_counts_never_touch_the_title_on_a_narrow_terminal(tmp_path):
    """At 60 columns a 100,000-follower account read "Followers100,000 · 12,300 selected"."""
    async with demo_session(tmp_path, followers=2_000) as session:
        async with app_for(session).run_test(size=(50, 20)) as pilot:
            screen = await ready(pilot)
            await pilot.press("a")
            await settle(pilot)
            title, counts = screen.query_one("#view-title"), screen.query_one("#view-counts")
            assert "selected" in str(counts.render())
            assert counts.region.x >= title.region.x + len(str(title.render())) + 1
