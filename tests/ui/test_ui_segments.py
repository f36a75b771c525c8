"""Pilot tests of the filter bar's query, saved segments and the audit log screen, asserting on
the store's state (views, the segments table, the journal)."""

from __future__ import annotations

from ui_fixtures import app_for, demo_session, ready, settle, wait_for_screen
from wxtui.store.query import parse
from wxtui.store.segments import Segments
from wxtui.ui.screens.prompts import TextPromptScreen

SIZE = (110, 32)


def shown_ids(screen) -> list[int]:
    source = screen.table.source
    return [source.id_at(i) for i in range(min(len(source), 60))]


async def test_a_query_filters_live_and_a_bad_one_is_pointed_at(tmp_path):
    async with demo_session(tmp_path) as session:
        async with app_for(session).run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            query = "tag:VIP -tag:北京 -blacklisted"
            await pilot.press("slash", *query)
            await settle(pilot)
            flt = parse(query, session.store.tag_names()).filter
            view = session.store.view(flt)
            assert screen.view_filter == flt
            assert screen.matching == view.count() > 0
            assert shown_ids(screen) == list(view.first_ids(60))
            error = screen.query_one("#filter-error")
            assert not error.display
            # A typo: the rows stay those of the last good query, the bar says what and where.
            await pilot.press(*" tag:Nope")
            await settle(pilot)
            assert error.display
            rendered = error.render()
            assert "no tag named 'Nope'" in str(rendered)
            marked = [rendered.plain[s.start:s.end] for s in rendered.spans if getattr(s.style, "reverse", False)]
            assert marked == ["Nope"]
            # The bad term is the one being typed: the terms before it stay in force.
            assert screen.view_filter == flt and screen.matching == view.count()
            # A bad term earlier in the query keeps the rows of the last good query.
            bar = screen.query_one("#filter")
            bar.value = query + " lang:en"
            await settle(pilot)
            with_lang = parse(query + " lang:en", session.store.tag_names()).filter
            assert screen.view_filter == with_lang and not error.display
            bar.value = "tag:Nope " + query + " lang:en"
            await settle(pilot)
            assert error.display and screen.view_filter == with_lang
            bar.value = ""
            await pilot.press(*query)  # cleared and typed again: the error goes
            await settle(pilot)
            assert not error.display and screen.view_filter == flt


async def test_question_mark_explains_and_tag_names_complete(tmp_path):
    from wxtui.ui.screens.segments import QueryHelpScreen

    async with demo_session(tmp_path) as session:
        async with app_for(session).run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            await pilot.press("slash", "question_mark")
            help_screen = await wait_for_screen(pilot, QueryHelpScreen)
            assert "tag:VIP|Gold" in str(help_screen.query_one("#query-syntax").render())
            await pilot.press("escape")
            await settle(pilot)
            bar = screen.query_one("#filter")
            assert bar.value == ""  # the ? was a question, not a filter
            await pilot.press(*"tag:vi")
            await settle(pilot)
            await pilot.press("right")  # accepts the suggestion
            await settle(pilot)
            assert bar.value == "tag:VIP"
            vip = next(t for t, name in session.store.tag_names().items() if name == "VIP")
            assert screen.view_filter.tags == {vip}


async def test_the_query_help_fits_an_80_column_terminal_without_wrapping(tmp_path):
    """Over SSH the terminal is often 80 columns: every line of the help and of its example is
    shown whole, so a description never wraps under the next term."""
    from rich.cells import cell_len

    from wxtui.ui.screens.segments import QueryHelpScreen

    async with demo_session(tmp_path) as session:
        async with app_for(session).run_test(size=(80, 24)) as pilot:
            await ready(pilot)
            await pilot.press("slash", "question_mark")
            help_screen = await wait_for_screen(pilot, QueryHelpScreen)
            await settle(pilot)
            for widget in help_screen.query("Static"):
                lines = str(widget.render()).splitlines()
                assert lines
                widest = max(cell_len(line) for line in lines)
                assert widest <= widget.content_region.width, (widest, widget.content_region.width, lines)


async def test_S_saves_a_segment_listed_with_its_count_and_choosing_it_filters(tmp_path):
    async with demo_session(tmp_path) as session:
        async with app_for(session).run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            query = "tag:VIP|北京 scene:qr_code"
            await pilot.press("slash", *query, "enter")
            await settle(pilot)
            await pilot.press("S")
            prompt = await wait_for_screen(pilot, TextPromptScreen)
            await pilot.press(*"Beijing QR", "enter")
            await settle(pilot)
            assert prompt not in pilot.app.screen_stack
            flt = parse(query, session.store.tag_names()).filter
            saved = Segments(session.store).list()
            assert [(s.name, s.filter) for s in saved] == [("Beijing QR", flt)]
            entry = next(e for e in screen.tag_list.segment_entries if e.name == "Beijing QR")
            assert entry.count == session.store.view(flt).count() > 0
            # Choosing it filters the browser, with the bar cleared.
            await pilot.press("escape")
            await settle(pilot)
            screen.tag_list.choose(entry.option_id)
            await settle(pilot)
            assert screen.view_filter == flt
            assert shown_ids(screen) == list(session.store.view(flt).first_ids(60))
            # The count is live: a sync or job that changes members changes it.
            first = session.store.view(flt).first_rows(1)[0]
            session.store.apply_blacklisted([first.openid])
            await pilot.press("slash", *"-blacklisted", "enter")
            await settle(pilot)
            screen.reload()
            await settle(pilot)
            narrowed = session.store.view(parse(query + " -blacklisted", session.store.tag_names()).filter)
            assert screen.matching == narrowed.count() == entry.count - 1
            # d on the highlighted segment deletes it (the followers stay as they are).
            screen.tag_list.focus()
            await pilot.press("d")
            await settle(pilot)
            assert Segments(session.store).list() == []
            assert not screen.tag_list.segment_entries


async def test_L_shows_every_job_and_call_from_the_journal_and_searches(tmp_path):
    from wxtui.ui.screens.audit_log import AuditLogScreen
    from wxtui.ui.screens.confirm import ConfirmScreen

    async with demo_session(tmp_path) as session:
        async with app_for(session).run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            await pilot.press("space", "shift+down", "t")
            await pilot.pause(0.2)
            await pilot.press(*"Staff", "enter")
            await wait_for_screen(pilot, ConfirmScreen)
            await pilot.press("y")
            await settle(pilot)
            await pilot.press("L")
            log_screen = await wait_for_screen(pilot, AuditLogScreen)
            await settle(pilot)
            table = log_screen.query_one("#audit-table")
            jobs = session.store.reader().execute("SELECT id FROM jobs").fetchall()
            calls = session.store.reader().execute("SELECT id, op FROM job_calls").fetchall()
            assert jobs and calls
            keys = [row.value for row in table.rows]
            assert keys == [f"job:{jobs[0][0]}"] + [f"call:{c}" for c, _ in calls]
            assert str(log_screen.query_one("#audit-counts").render()).startswith(f"1 job, {len(calls):,} call")
            await pilot.press("slash", *"no such thing")
            await settle(pilot)
            assert table.row_count == 0
            await pilot.press("escape", "escape")
            await settle(pilot)
            assert pilot.app.screen is screen


async def test_slash_reaches_the_filter_bar_from_every_pane(tmp_path):
    """/ from the tag pane or the jobs panel opens the filter bar too: otherwise the query typed
    after it lands on that pane's keys (in the jobs panel, enter opens a job and s syncs)."""
    async with demo_session(tmp_path) as session:
        async with app_for(session).run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            bar = screen.query_one("#filter")
            flt = parse("tag:VIP", session.store.tag_names()).filter
            for pane in (screen.tag_list, screen.jobs_panel):
                pane.focus()
                await pilot.pause()
                await pilot.press("slash", *"tag:VIP")
                await settle(pilot)
                assert bar.has_focus and bar.value == "tag:VIP"
                assert screen.view_filter == flt and screen is pilot.app.screen
                bar.value = ""
                await settle(pilot)


async def test_the_audit_log_shows_when_and_state_beside_a_long_title_at_80_columns(tmp_path):
    """A job's title can be long (a rule's, a long tag name's): the log's first column gives way
    (cut with …) so that when and state stay on an 80-column screen."""
    from wxtui.families.wechat.emulator import Emulator
    from wxtui.ui.screens.audit_log import AuditLogScreen
    from wxtui.ui.screens.confirm import ConfirmScreen

    emulator = Emulator.demo(followers=200, seed=7)
    long_name = "Autumn promo early birds SZ 26"
    emulator.account.create_tag(long_name)
    async with demo_session(tmp_path, emulator=emulator) as session:
        async with app_for(session).run_test(size=(80, 24)) as pilot:
            await ready(pilot)
            await pilot.press("space", "t")
            await pilot.pause(0.2)
            await pilot.press(*long_name, "enter")
            await wait_for_screen(pilot, ConfirmScreen)
            await pilot.press("y")
            await settle(pilot)
            await pilot.press("L")
            await wait_for_screen(pilot, AuditLogScreen)
            await settle(pilot)
            table = pilot.app.screen.query_one("#audit-table")
            title, when, state = table.ordered_columns[:3]
            assert sum(c.get_render_width(table) for c in (title, when, state)) <= table.size.width
            shown = str(table.get_row_at(0)[0])
            assert shown.endswith("…") and shown.startswith('#1 tag "Autumn promo')


async def test_a_scene_typo_that_matches_nobody_says_which_scenes_the_account_has(tmp_path):
    async with demo_session(tmp_path) as session:
        held = session.store.values_present("scene")
        assert held and all(s.startswith("ADD_SCENE_") for s in held)
        assert held == {r[0] for r in session.store.reader().execute("SELECT DISTINCT scene FROM followers")}
        async with app_for(session).run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            await pilot.press("slash", *"scene:qrcode")
            await settle(pilot)
            assert screen.matching == 0
            assert "no follower has scene:qrcode (did you mean qr_code? scenes here: " in screen.table.empty_text
            assert "qr_code" in screen.table.empty_text
            bar = screen.query_one("#filter")
            bar.value = "scene:qr_code"  # a scene some follower has: nothing is explained
            await settle(pilot)
            assert screen.matching > 0 and "no follower has" not in screen.table.empty_text


async def test_a_and_S_are_refused_while_the_filter_bar_marks_an_error(tmp_path):
    """tag:Nope shows the rows of the last query that read (everyone): a must not select them
    all, nor S save that older query under the new name."""
    from ui_fixtures import notifications

    async with demo_session(tmp_path) as session:
        async with app_for(session).run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            await pilot.press("slash", *"tag:VIP tag:Nope", "enter")
            await settle(pilot)
            assert screen.query_one("#filter-error").display
            await pilot.press("a")
            await settle(pilot)
            assert session.store.selection("main").count() == 0
            await pilot.press("S")
            await settle(pilot)
            assert not isinstance(pilot.app.screen, TextPromptScreen)
            assert Segments(session.store).list() == []
            assert sum("The filter has an error" in n for n in notifications(pilot)) == 2
            bar = screen.query_one("#filter")
            bar.value = "tag:VIP"  # fixed: a selects what it matches
            await settle(pilot)
            await pilot.press("a")
            await settle(pilot)
            assert session.store.selection("main").count() == screen.matching > 0
