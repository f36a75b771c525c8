"""Pilot tests of the app's flows, asserting on the emulator's and the store's state."""

from __future__ import annotations

from ui_fixtures import (app_for, confirm, demo_session, last_notification, notifications, openid_at, ready,
                         select_rows, settle, tag_named, until, wait_for_screen)
from wxtui.store import Filter
from wxtui.ui.screens.confirm import ConfirmScreen
from wxtui.ui.screens.main import MainScreen
from wxtui.ui.screens.prompts import TagPickerScreen, TextPromptScreen

SIZE = (100, 30)


# -- selection ---------------------------------------------------------------------------------


async def test_space_selects_one_and_shift_down_extends_a_range(tmp_path):
    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            table = screen.table
            await pilot.press("space")
            await settle(pilot)
            first = table.source.id_at(0)
            assert session.store.selection("main").contained([first]) == {first}
            assert screen.selected == 1
            await pilot.press("down", "down", "shift+down", "shift+down")
            await settle(pilot)
            ids = [table.source.id_at(i) for i in range(5)]
            assert session.store.selection("main").contained(ids) == {ids[0], ids[2], ids[3], ids[4]}
            assert screen.selected == 4
            await pilot.press("space")  # toggles the cursor row (index 4) off again
            await settle(pilot)
            assert session.store.selection("main").count() == 3
            assert "3 selected" in str(screen.query_one("#view-counts").render())


async def test_a_selects_all_matching_the_filter_and_A_clears(tmp_path):
    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            vip = next(e for e in screen.tag_list.tag_entries if e.name == "VIP")
            screen.tag_list.choose(vip.option_id)
            await settle(pilot)
            await pilot.press("a")
            await settle(pilot)
            expected = session.store.view(Filter(tags={vip.tagid})).count()
            assert expected > 0
            assert screen.selected == expected == session.store.selection("main").count()
            # Every row of the view shows as selected; a row outside the filter is not.
            assert screen.table._is_selected(0, screen.table.source.id_at(0))
            outside = session.store.view(Filter(not_tags={vip.tagid})).first_ids(1)[0]
            assert session.store.selection("main").contained([outside]) == set()
            await pilot.press("A")
            await settle(pilot)
            assert session.store.selection("main").count() == 0
            assert screen.selected == 0


async def test_filter_narrows_the_view_as_the_user_types(tmp_path):
    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            total = len(screen.table.source)
            await pilot.press("slash", *"VIP")
            await settle(pilot)
            remarks = [screen.table.source.row(i).remark for i in range(len(screen.table.source))]
            assert 0 < len(remarks) < total
            assert all("vip" in r.lower() for r in remarks)
            assert len(remarks) == session.store.view(Filter(text="VIP")).count()
            await pilot.press("escape")
            await settle(pilot)
            assert len(screen.table.source) == total


# -- bulk actions ------------------------------------------------------------------------------


async def test_tag_the_selection_through_the_picker(tmp_path):
    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            openids = await select_rows(pilot, screen, 3)
            staff = tag_named(acct, "Staff")
            await pilot.press("t")
            await wait_for_screen(pilot, TagPickerScreen)
            await pilot.press(*"Staff", "enter")
            dialog = await confirm(pilot)
            summary = dialog.summary
            assert summary.calls == 1 and summary.count + summary.skipped == 3
            assert 'tag "Staff"' in summary.target
            for openid in openids:
                assert staff in acct.tags_of(openid)
                assert staff in session.store.tag_ids_of([openid])[openid]
            assert "Staff" in screen.table.source.row(0).tags


async def test_picker_creates_a_missing_tag_then_tags(tmp_path):
    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            openid = openid_at(screen, 0)  # nothing selected: the cursor row is the target
            await pilot.press("t")
            picker = await wait_for_screen(pilot, TagPickerScreen)
            await pilot.press(*"咖啡爱好者")
            await pilot.pause()
            assert picker.query_one("#picker-options").get_option_at_index(0).id == "create"
            await pilot.press("enter")
            await confirm(pilot)
            tagid = tag_named(acct, "咖啡爱好者")
            assert acct.tags_of(openid) == [tagid] + [t for t in acct.tags_of(openid) if t != tagid]
            assert session.store.tag_names()[tagid] == "咖啡爱好者"


async def test_untag_clear_tags_and_confirmation_cancel(tmp_path):
    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        store = session.store
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            member = next(e for e in screen.tag_list.tag_entries if e.name == "会员")
            screen.tag_list.choose(member.option_id)
            await settle(pilot)
            openids = await select_rows(pilot, screen, 2)
            # Untag, but say no at the confirmation: nothing changes anywhere.
            await pilot.press("u")
            await wait_for_screen(pilot, TagPickerScreen)
            await pilot.press(*"会员", "enter")
            await wait_for_screen(pilot, ConfirmScreen)
            await pilot.press("n")
            await settle(pilot)
            assert all(member.tagid in acct.tags_of(o) for o in openids)
            # Now untag for real.
            await pilot.press("u")
            await wait_for_screen(pilot, TagPickerScreen)
            await pilot.press(*"会员", "enter")
            await confirm(pilot)
            assert all(member.tagid not in acct.tags_of(o) for o in openids)
            assert all(member.tagid not in store.tag_ids_of([o])[o] for o in openids)
            # Clear every tag of a follower carrying several.
            screen.tag_list.choose("all")
            await settle(pilot)
            await pilot.press("A")
            many = next(o for o in acct.follower_openids() if len(acct.tags_of(o)) >= 2)
            row_id = store.follower_ids([many])[many]
            store.selection("main").add([row_id])
            screen._selection_changed()
            await settle(pilot)
            await pilot.press("c")
            dialog = await confirm(pilot)
            assert dialog.summary.destructive and dialog.summary.count == 1
            assert acct.tags_of(many) == []
            assert store.tag_ids_of([many])[many] == ()


async def test_blacklist_then_unblacklist_from_the_blacklist_pane(tmp_path):
    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            openids = await select_rows(pilot, screen, 2)
            await pilot.press("b")
            dialog = await confirm(pilot)
            assert dialog.summary.count == 2 and "blacklist" in dialog.summary.target
            assert all(acct.is_blacklisted(o) for o in openids)
            await pilot.press("A")
            screen.tag_list.choose("blacklisted")
            await settle(pilot)
            shown = {screen.table.source.row(i).openid for i in range(len(screen.table.source))}
            assert set(openids) <= shown
            assert len(shown) == len(acct.blacklist())
            assert screen.has_class("-blacklist")
            # Unblacklist the one under the cursor.
            first = openid_at(screen, 0)
            await pilot.press("B")
            await confirm(pilot)
            assert not acct.is_blacklisted(first)
            assert first not in session.store.blacklist()
            assert first not in {screen.table.source.row(i).openid for i in range(len(screen.table.source))}


# -- tags --------------------------------------------------------------------------------------


async def test_create_rename_and_delete_a_tag(tmp_path):
    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            screen.tag_list.focus()
            await pilot.press("n")
            prompt = await wait_for_screen(pilot, TextPromptScreen)
            # Live validation: 11 Chinese characters are 33 bytes, over WeChat's 30.
            await pilot.press(*"一二三四五六七八九十一")
            await pilot.pause()
            assert prompt.query_one("#ok").disabled
            assert "Over 30 bytes" in str(prompt.query_one("#prompt-error").render())
            assert "33/30 bytes" in str(prompt.query_one("#prompt-meter").render())
            await pilot.press("backspace", "enter")
            await settle(pilot)
            created = [t for t, (name, _) in acct.tags().items() if name == "一二三四五六七八九十"]
            assert len(created) == 1
            tagid = created[0]
            assert session.store.tag_names()[tagid] == "一二三四五六七八九十"
            # Rename it (the highlight is on the new tag).
            screen.tag_list.choose(f"tag:{tagid}")
            await settle(pilot)
            await pilot.press("r")
            prompt = await wait_for_screen(pilot, TextPromptScreen)
            await pilot.press("ctrl+u", *"Regulars")
            await pilot.pause()
            await pilot.press("enter")
            await settle(pilot)
            assert acct.tags()[tagid][0] == "Regulars"
            assert session.store.tag_names()[tagid] == "Regulars"
            # A duplicate name is refused before anything is sent.
            await pilot.press("r")
            prompt = await wait_for_screen(pilot, TextPromptScreen)
            await pilot.press("ctrl+u", *"VIP")
            await pilot.pause()
            assert prompt.query_one("#ok").disabled
            await pilot.press("escape")
            await settle(pilot)
            # Delete it: a destructive confirmation.
            screen.tag_list.choose(f"tag:{tagid}")
            await pilot.press("d")
            dialog = await confirm(pilot)
            assert dialog.summary.destructive
            assert tagid not in acct.tags()
            assert tagid not in session.store.tag_names()
            assert f"tag:{tagid}" not in screen.tag_list.entries


async def test_reserved_tags_cannot_be_renamed_or_deleted(tmp_path):
    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            screen.tag_list.choose("tag:2")
            screen.tag_list.focus()
            await settle(pilot)
            await pilot.press("d")
            await settle(pilot)
            assert isinstance(pilot.app.screen, MainScreen)  # no dialog opened
            assert 2 in session.emulator.account.tags()
            assert any("reserved" in n for n in notifications(pilot))


# -- jobs: cancel, resume, undo ----------------------------------------------------------------


async def test_cancel_resume_and_undo_a_blacklist_job(tmp_path):
    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        before = set(acct.blacklist())
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            await pilot.press("a")
            await settle(pilot)
            await pilot.press("b")
            await wait_for_screen(pilot, ConfirmScreen)
            faults = session.emulator.faults
            faults.p_slow, faults.slow_s = 1.0, 3600.0  # every call of the job hangs on the wire
            await pilot.press("y")
            panel = screen.jobs_panel
            for _ in range(500):
                event = next(iter(panel.events.values()), None)
                if event is not None and event.state == "running":
                    break
                await pilot.pause(0.01)
            await pilot.press("j", "x")
            await settle(pilot)  # the cancel gives the hung calls up after its grace
            event = next(iter(panel.events.values()))
            assert event.state == "cancelled"
            calls = app.model.jobs.journal.counts(event.job_id).calls
            assert calls.get("done") is None and calls["pending"] == event.calls_total
            assert set(session.store.blacklist()) == before  # no answer came, the cache is as it was
            faults.p_slow = 0.0
            await pilot.press("R")
            await settle(pilot)
            assert next(iter(panel.events.values())).state == "done"
            assert set(acct.blacklist()) == set(acct.follower_openids())
            # z undoes the last job: only what it changed (the already blacklisted stay).
            await pilot.press("z")
            dialog = await confirm(pilot)
            assert dialog.summary.count == len(acct.follower_openids()) - len(before)
            assert set(acct.blacklist()) == before
            assert set(session.store.blacklist()) == before


async def test_an_interrupted_job_is_offered_and_resumes(tmp_path):
    from wxtui.jobs.events import RUNNING
    from wxtui.jobs.intents import BlacklistFollowers, Followers
    from wxtui.jobs.service import JobService

    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        targets = [o for o in acct.follower_openids() if not acct.is_blacklisted(o)][:30]
        # A job journaled and marked running by a process that then died.
        service = JobService(session.client, session.store, family=session.family)
        job_id = service.submit(await service.plan(BlacklistFollowers(Followers.of(targets))))
        service.journal.set_state(job_id, RUNNING)
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            assert screen.jobs_panel.events[job_id].message == "interrupted"
            assert any("interrupted" in n for n in notifications(pilot))
            await pilot.press("j", "R")
            await settle(pilot)
            assert screen.jobs_panel.events[job_id].state == "done"
            assert all(acct.is_blacklisted(o) for o in targets)


# -- import / export ---------------------------------------------------------------------------


async def test_import_openids_into_the_selection_and_export_it(tmp_path):
    import csv

    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        chosen = acct.follower_openids()[5:15]
        source = tmp_path / "openids.txt"
        source.write_text("# from the CRM\n" + "\n".join(chosen) + "\nnot-an-openid\n"
                          + "oAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", encoding="utf-8")
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            await pilot.press("i")
            prompt = await wait_for_screen(pilot, TextPromptScreen)
            prompt.query_one("#prompt-input").value = str(source)  # typing a long path is slow in pilot
            await pilot.press("enter")
            await settle(pilot)
            ids = session.store.follower_ids(chosen)
            assert set(session.store.selection("main").ids()) == set(ids.values())
            assert screen.selected == 10
            message = last_notification(pilot)
            # Lines as the file numbers them: the comment is line 1, the ten openids 2 to 11.
            assert message == ("Added 10 followers to the selection; 1 openid is not in the cache (not "
                               "followers, or sync first): line 13; 1 line is not an openid: line 12")
            target = tmp_path / "out.csv"
            await pilot.press("e")
            prompt = await wait_for_screen(pilot, TextPromptScreen)
            prompt.query_one("#prompt-input").value = str(target)
            await pilot.press("enter")
            await settle(pilot)
            with open(target, encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.DictReader(handle))
            assert {r["openid"] for r in rows} == set(chosen)
            names = session.store.tag_names()
            tagged = session.store.tag_ids_of(chosen)
            assert any(row["tags"] for row in rows)
            for row in rows:
                assert row["tags"] == ";".join(names[t] for t in tagged[row["openid"]])
                assert row["blacklisted"] == str(int(acct.is_blacklisted(row["openid"])))


# -- sync --------------------------------------------------------------------------------------


async def test_s_syncs_what_changed_on_wechat(tmp_path):
    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        store = session.store
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            # Meanwhile, on WeChat: new followers, one unfollows, a new tag on a few.
            new = acct.add_followers(3)
            gone = acct.follower_openids()[0]
            acct.remove_followers([gone])
            tagid = acct.create_tag("Autumn promo")
            acct.tag_rows([acct.row(o) for o in new], tagid)
            await pilot.press("s")
            await settle(pilot)
            assert store.tag_names()[tagid] == "Autumn promo"
            assert set(store.follower_ids(new)) == set(new)
            assert store.follower_ids([gone]) == {}
            assert len(screen.table.source) == acct.subscribed_count() == store.follower_count()
            assert any(e.name == "Autumn promo" and e.count == 3 for e in screen.tag_list.tag_entries)
            assert screen.header.sync_progress == ""
            assert any("followers" in n for n in notifications(pilot))


async def test_a_new_cache_syncs_on_start(tmp_path):
    async with demo_session(tmp_path, synced=False) as session:
        app = app_for(session, sync_on_start=None)  # None: sync when never synced
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(500):
                if session.store.last_synced_at():
                    break
                await pilot.pause(0.02)
            screen = await ready(pilot)
            await settle(pilot)
            assert session.store.follower_count() == session.emulator.account.subscribed_count()
            assert len(screen.table.source) == session.store.follower_count()


async def test_an_action_right_after_select_all_targets_the_whole_selection(tmp_path):
    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("a", "b")  # no pause: the counts line may not have caught up
            dialog = await wait_for_screen(pilot, ConfirmScreen)
            blacklisted = len(session.emulator.account.blacklist())
            assert dialog.summary.count + dialog.summary.skipped == session.store.follower_count()
            assert dialog.summary.skipped == blacklisted
            await pilot.press("n")
            await settle(pilot)
            await pilot.press("A", "b")  # and after clearing: only the follower under the cursor
            dialog = await wait_for_screen(pilot, ConfirmScreen)
            assert dialog.summary.count + dialog.summary.skipped == 1
            await pilot.press("n")
            await settle(pilot)
            assert len(session.emulator.account.blacklist()) == blacklisted


# -- keys, palette, first run ------------------------------------------------------------------


async def test_a_keymap_remaps_bindings_and_help_shows_it(tmp_path):
    import io

    from rich.console import Console

    from wxtui.ui.screens.help import HelpScreen, key_table

    async with demo_session(tmp_path) as session:
        app = app_for(session, keymap={"tag": "ctrl+t", "blacklist": "x"})
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("t")  # no longer bound
            await settle(pilot)
            assert isinstance(pilot.app.screen, MainScreen)
            await pilot.press("ctrl+t")
            await wait_for_screen(pilot, TagPickerScreen)
            await pilot.press("escape", "x")
            dialog = await wait_for_screen(pilot, ConfirmScreen)
            assert dialog.summary.title == "Blacklist followers"
            await pilot.press("n", "question_mark")
            help_screen = await wait_for_screen(pilot, HelpScreen)
            console = Console(width=100, record=True, file=io.StringIO())
            console.print(key_table(help_screen.keymap))
            text = console.export_text()
            assert "ctrl+t" in text and "Tag the selected followers" in text


async def test_the_command_palette_runs_an_action(tmp_path):
    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("ctrl+p")
            await pilot.pause(0.2)
            await pilot.press(*"blacklist the sel")
            await pilot.pause(0.5)
            await pilot.press("enter")
            dialog = await wait_for_screen(pilot, ConfirmScreen)
            assert dialog.summary.title == "Blacklist followers"


async def test_a_click_on_the_mark_column_selects(tmp_path):
    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            table = screen.table
            await pilot.click(table, offset=(0, 3))  # line 0 holds the column titles
            await settle(pilot)
            assert table.cursor == 2
            assert session.store.selection("main").contained([table.source.id_at(2)]) == {table.source.id_at(2)}


async def test_first_run_adds_an_account_with_its_secret_in_the_keyring(tmp_path, memory_keyring, emu):
    from textual.widgets import Input

    from wxtui.core.config import load_config
    from wxtui.ui.app import WxtuiApp
    from wxtui.ui.screens.first_run import FirstRunScreen

    app = WxtuiApp(None, sync_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for_screen(pilot, FirstRunScreen)
        screen.query_one("#name", Input).value = "acme"
        screen.query_one("#appid", Input).value = "wx12"  # refused, nothing saved
        screen.query_one("#secret", Input).value = emu.account.secret
        screen.query_one("#secret", Input).focus()
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert "not an AppID" in str(screen.query_one("#add-error").render())
        assert load_config().accounts == {}
        screen.query_one("#appid", Input).value = emu.account.appid
        screen.query_one("#secret", Input).focus()
        await pilot.press("enter")
        for _ in range(200):
            if isinstance(pilot.app.screen, MainScreen):
                break
            await pilot.pause(0.02)
        assert isinstance(pilot.app.screen, MainScreen)
        assert load_config().default_account().appid == emu.account.appid
        assert memory_keyring.entries[("wxtui", emu.account.appid)] == emu.account.secret
        assert pilot.app.screen.header.account == "acme"


async def test_first_run_opens_the_demo(tmp_path):
    import contextlib

    from wxtui.ui.app import WxtuiApp
    from wxtui.ui.screens.first_run import FirstRunScreen

    @contextlib.asynccontextmanager
    async def small_demo():
        async with demo_session(tmp_path, followers=50, synced=False) as session:
            yield session

    app = WxtuiApp(None, demo_opener=small_demo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, FirstRunScreen)
        await pilot.press("d")
        for _ in range(300):
            if isinstance(pilot.app.screen, MainScreen) and pilot.app.session.store.last_synced_at():
                break
            await pilot.pause(0.02)
        screen = await ready(pilot)
        assert len(screen.table.source) == pilot.app.session.emulator.account.subscribed_count()


async def test_a_spent_quota_pauses_the_job_and_the_header_says_so(tmp_path):
    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        acct.set_quota("/cgi-bin/tags/members/batchtagging", 2)
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            assert screen.header.quota == "quota low: 2 calls left today" and screen.header.quota_warning
            await pilot.press("a", "t")
            await wait_for_screen(pilot, TagPickerScreen)
            await pilot.press(*"Newsletter", "enter")
            dialog = await wait_for_screen(pilot, ConfirmScreen)
            assert dialog.summary.quota.startswith("SHORT") and "pause" in dialog.summary.warning
            await pilot.press("y")
            await settle(pilot)
            event = next(iter(screen.jobs_panel.events.values()))
            assert event.state == "paused" and event.calls_done == 2
            assert screen.header.quota.startswith("quota used up until") and "00:00" in screen.header.quota
            assert any("45009" in n for n in notifications(pilot))


async def test_letters_typed_in_the_picker_after_tab_still_search(tmp_path):
    # shift+tab (BTab in tmux) or tab moves the focus to the list; the letters typed then used
    # to go nowhere, and Enter took the first tag in the list.
    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            openids = await select_rows(pilot, screen, 2)
            staff = tag_named(acct, "Staff")
            await pilot.press("t")
            picker = await wait_for_screen(pilot, TagPickerScreen)
            first = picker.query_one("#picker-options").get_option_at_index(0).id
            assert first != f"tag:{staff}"
            await pilot.press("shift+tab")
            await settle(pilot)
            assert app.focused is picker.query_one("#picker-options")
            await pilot.press(*"Stafx", "backspace", "f")
            await settle(pilot)
            assert picker.query_one("#picker-input").value == "Staff"
            assert picker.query_one("#picker-options").get_option_at_index(0).id == f"tag:{staff}"
            await pilot.press("shift+tab", "backspace")  # a backspace on the list edits the search too
            await settle(pilot)
            assert picker.query_one("#picker-input").value == "Staf"
            await pilot.press("f", "enter")
            dialog = await confirm(pilot)
            assert 'tag "Staff"' in dialog.summary.target
            for openid in openids:
                assert staff in acct.tags_of(openid)


async def test_z_offers_the_latest_job_even_cancelled_not_an_older_one(tmp_path):
    from wxtui.jobs.events import CANCELLED, DONE
    from wxtui.jobs.intents import Followers, TagFollowers, UntagFollowers
    from wxtui.jobs.service import JobService

    async with demo_session(tmp_path, followers=2000) as session:
        acct = session.emulator.account
        staff = tag_named(acct, "Staff")
        targets = [o for o in acct.follower_openids() if staff not in acct.tags_of(o)][:1000]
        session.emulator.faults.latency_ms = 10
        service = JobService(session.client, session.store, family=session.family, concurrency=1,
                             event_interval=0)
        tagged = await service.run(service.submit(await service.plan(TagFollowers(staff, Followers.of(targets)))))
        assert tagged.state == DONE
        untag = service.submit(await service.plan(UntagFollowers(staff, Followers.of(targets))))

        def cancel_after_five(event):
            if event.calls_done >= 5:
                service.cancel(untag)

        unsubscribe = service.subscribe(cancel_after_five, untag)
        cancelled = await service.run(untag)
        unsubscribe()
        await service.aclose()
        session.emulator.faults.latency_ms = 0
        assert cancelled.state == CANCELLED and 5 <= cancelled.calls_done < 20
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("z")
            dialog = await wait_for_screen(pilot, ConfirmScreen)
            assert dialog.summary.target.startswith(f"job #{untag}:"), dialog.summary.target
            assert dialog.summary.count == cancelled.targets_done  # only what it changed
            await pilot.press("y")
            await until(pilot, lambda: set(targets) <= acct.tag_members(staff))


async def test_z_never_offers_an_older_job_over_a_paused_one(tmp_path):
    from wxtui.jobs.events import DONE, PAUSED
    from wxtui.jobs.intents import Followers, TagFollowers, UntagFollowers
    from wxtui.jobs.service import JobService

    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        staff = tag_named(acct, "Staff")
        targets = [o for o in acct.follower_openids() if staff not in acct.tags_of(o)][:100]
        service = JobService(session.client, session.store, family=session.family)
        tagged = await service.run(service.submit(await service.plan(TagFollowers(staff, Followers.of(targets)))))
        assert tagged.state == DONE
        paused = service.submit(await service.plan(UntagFollowers(staff, Followers.of(targets))))
        service.journal.set_state(paused, PAUSED, reason="interrupted: wxtui was closed while it ran")
        await service.aclose()
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("z")
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmScreen)
            assert any(f"Job #{paused} has not finished: resume it" in n for n in notifications(pilot))


async def test_a_key_pressed_while_an_action_is_planned_on_a_slow_network_does_not_drop_it(tmp_path):
    """On a slow network the plan (it asks the API for the quota) takes a moment after the tag
    is picked, with nothing else on screen: the user is told it is being planned, and a second
    action key is refused with a word instead of silently cancelling the first."""
    from ui_fixtures import app_for, demo_session, notifications, ready, until, wait_for_screen
    from wxtui.families.wechat.emulator import Emulator
    from wxtui.ui.screens.actions import PLANNING
    from wxtui.ui.screens.confirm import ConfirmScreen
    from wxtui.ui.screens.guard import STILL_BUSY
    from wxtui.ui.screens.prompts import TagPickerScreen

    emulator = Emulator.demo(followers=200, seed=7)
    async with demo_session(tmp_path, emulator=emulator) as session:
        async with app_for(session).run_test(size=(100, 30)) as pilot:
            screen = await ready(pilot)
            emulator.faults.latency_ms = 1500
            await pilot.press("space", "t")
            await wait_for_screen(pilot, TagPickerScreen)
            await pilot.press(*"Yak")
            await pilot.pause(0.1)
            await pilot.press("enter")  # "+ create Yak": planned next
            await until(pilot, lambda: pilot.app.screen is screen)
            await pilot.press("t", "b")  # while it is planned: both refused, neither lost
            await until(pilot, lambda: STILL_BUSY in notifications(pilot))
            assert not isinstance(pilot.app.screen, (TagPickerScreen, ConfirmScreen))
            await until(pilot, lambda: PLANNING in notifications(pilot), tries=100)
            dialog = await wait_for_screen(pilot, ConfirmScreen)
            assert 'tag "Yak"' in dialog.summary.target and "a new tag" in dialog.summary.target
            emulator.faults.latency_ms = 0
            await pilot.press("y")
            await until(pilot, lambda: any(name == "Yak" for name, _ in emulator.account.tags().values()), tries=500)


async def test_enters_typed_ahead_never_tag_anyone(tmp_path):
    """t, then Enter, Enter typed ahead: the picker takes no tag without a search or a ↓, and
    the confirmation of more than one follower has Cancel focused (y confirms)."""
    from ui_fixtures import app_for, demo_session, ready, settle, wait_for_screen
    from wxtui.families.wechat.limits import STAR_TAG_ID
    from wxtui.ui.screens.confirm import ConfirmScreen
    from wxtui.ui.screens.prompts import TagPickerScreen

    async with demo_session(tmp_path) as session:
        async with app_for(session).run_test(size=(100, 30)) as pilot:
            screen = await ready(pilot)
            await pilot.press("space", "down", "space", "t", "enter", "enter")
            await settle(pilot)
            picker = pilot.app.screen
            assert isinstance(picker, TagPickerScreen)
            options = picker.query_one("#picker-options")
            star = STAR_TAG_ID  # WeChat's reserved star tag (星标组)
            ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
            assert f"tag:{star}" in ids and ids[0] != f"tag:{star}"  # offered, but last
            assert ids[-1] == f"tag:{star}"
            await pilot.press("down", "enter")
            dialog = await wait_for_screen(pilot, ConfirmScreen)
            assert dialog.summary.count + dialog.summary.skipped == 2
            assert "星标组" not in dialog.summary.target
            assert pilot.app.focused.id == "cancel"
            await pilot.press("enter")
            await settle(pilot)
            assert pilot.app.screen is screen and session.store.conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == 0
            # One follower: Enter confirms, as the single-row edits expect.
            await pilot.press("A", "t", *"VIP")
            await settle(pilot)
            await pilot.press("enter")
            await wait_for_screen(pilot, ConfirmScreen)
            assert pilot.app.focused.id == "confirm"


async def test_letters_typed_right_after_t_go_to_the_picker_not_to_the_table(tmp_path):
    """t, then a tag's first letters, typed ahead in one read: they search the picker (which
    names who it acts on once that is counted). Each key is sent to the screen showing when it
    is read, so the letters came back unhandled once t had opened the picker, and were
    dropped (before that, a reached the table and selected everyone)."""
    from textual import events

    from ui_fixtures import app_for, demo_session, ready, settle, wait_for_screen
    from wxtui.ui.screens.prompts import TagPickerScreen

    async with demo_session(tmp_path) as session:
        async with app_for(session).run_test(size=(100, 30)) as pilot:
            await ready(pilot)
            await pilot.press("space")
            await settle(pilot)
            # As a terminal delivers keys typed ahead in one read: all queued before t is handled.
            for key in "tab":
                pilot.app.post_message(events.Key(key, key))
            picker = await wait_for_screen(pilot, TagPickerScreen)
            await settle(pilot)
            assert picker.query_one("#picker-input").value == "ab"
            assert session.store.selection("main").count() == 1
            assert "Tag 1 selected follower with" in str(picker.query_one(".dialog-title").render())
