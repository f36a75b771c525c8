"""Pilot tests of the follower screen (enter on a row) and of the tag picker's "+ create", each
asserting the emulator's and the store's state, not only the screen."""

from __future__ import annotations

from ui_fixtures import (app_for, confirm, demo_session, last_notification, openid_at, ready, settle,
                         tag_named, tim_session, wait_for_screen)
from wxtui.ui.screens.confirm import ConfirmScreen
from wxtui.ui.screens.follower import FollowerScreen
from wxtui.ui.screens.main import MainScreen
from wxtui.ui.screens.prompts import TagChecklistScreen, TagPickerScreen, TextPromptScreen

SIZE = (100, 30)


def fact(screen: FollowerScreen, name: str) -> str:
    return str(screen.query_one(f"#fact-{name}").render())


async def open_follower(pilot, index: int = 0) -> FollowerScreen:
    screen = await ready(pilot)
    for _ in range(index):
        await pilot.press("down")
    await pilot.press("enter")
    follower = await wait_for_screen(pilot, FollowerScreen)
    await settle(pilot)
    assert follower.card is not None
    return follower


async def test_enter_opens_the_follower_with_live_tags_the_cache_corrected_and_its_jobs(tmp_path):
    async with demo_session(tmp_path) as session:
        acct, store = session.emulator.account, session.store
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            main = await ready(pilot)
            openid = openid_at(main, 1)
            await pilot.press("down", "b")  # a job that touches this follower
            await confirm(pilot)
            assert acct.is_blacklisted(openid)
            extra = next(t for t in acct.tags() if t > 2 and t not in acct.tags_of(openid))
            acct.tag_rows([acct.row(openid)], extra)  # behind the cache's back
            assert extra not in store.tag_ids_of([openid])[openid]

            await pilot.press("enter")
            screen = await wait_for_screen(pilot, FollowerScreen)
            await settle(pilot)

            assert screen.openid == openid
            assert sorted(screen.card.tagids) == sorted(acct.tags_of(openid))
            assert sorted(store.tag_ids_of([openid])[openid]) == sorted(acct.tags_of(openid))
            assert acct.tags()[extra][0] in fact(screen, "tags")
            assert "corrected" in fact(screen, "tags")
            assert fact(screen, "openid") == openid and fact(screen, "blacklisted") == "yes"
            assert "blacklist 1 follower" in str(screen.query_one("#follower-jobs").render())
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, MainScreen)


async def test_edit_the_remark_through_the_confirmation_shown_literally_and_undone(tmp_path):
    async with demo_session(tmp_path) as session:
        acct, store = session.emulator.account, session.store
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_follower(pilot, 2)
            openid = screen.openid
            before = acct.follower(openid)["remark"]
            await pilot.press("r")
            prompt = await wait_for_screen(pilot, TextPromptScreen)
            prompt.query_one("#prompt-input").value = ""
            await pilot.press(*"一二三四五六七八九十")  # 30 bytes: one too many
            await pilot.pause()
            assert prompt.query_one("#ok").disabled
            prompt.query_one("#prompt-input").value = ""
            await pilot.press(*"[b]VIP[/b] 李", "enter")
            dialog = await confirm(pilot)
            assert dialog.summary.title == "Set a remark" and dialog.summary.calls == 1
            remark = "[b]VIP[/b] 李"
            assert acct.follower(openid)["remark"] == remark
            assert store.row_by_openid(openid).remark == remark
            await settle(pilot)
            assert fact(screen, "remark") == remark  # literally, brackets and all
            assert "set the remark" in str(screen.query_one("#follower-jobs").render())

            await pilot.press("escape", "z")  # undo the last job from the main screen
            await confirm(pilot)
            assert acct.follower(openid)["remark"] == before
            assert store.row_by_openid(openid).remark == before


async def test_set_tags_with_the_checklist_adds_first_and_undo_restores(tmp_path):
    async with demo_session(tmp_path) as session:
        acct, store = session.emulator.account, session.store
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            main = await ready(pilot)
            index = next(i for i in range(20) if len(acct.tags_of(openid_at(main, i))) >= 1)
            screen = await open_follower(pilot, index)
            openid = screen.openid
            before = sorted(acct.tags_of(openid))
            counts: list[int] = []
            row = acct.row(openid)
            for name in ("tag_rows", "untag_rows"):
                original = getattr(acct, name)

                def watched(rows, tagid, _original=original):
                    _original(rows, tagid)
                    if row in rows:
                        counts.append(len(acct.tags_of(openid)))

                setattr(acct, name, watched)

            await pilot.press("t")
            checklist = await wait_for_screen(pilot, TagChecklistScreen)
            await pilot.pause()
            options = checklist.query_one("#checklist")
            values = [options.get_option_at_index(i).value for i in range(options.option_count)]
            # Check the first two tags it lacks, uncheck the first it has.
            adds = [t for t in values if t not in before][:2]
            drop = before[0]
            for tagid in adds + [drop]:
                options.highlighted = values.index(tagid)
                await pilot.press("space")
            wanted = sorted(set(before) - {drop} | set(adds))
            await pilot.press("tab", "enter")
            dialog = await confirm(pilot)
            assert dialog.summary.title == "Set the tags of a follower"
            assert dialog.summary.calls == 3
            assert sorted(acct.tags_of(openid)) == wanted
            assert sorted(store.tag_ids_of([openid])[openid]) == wanted
            assert counts == [len(before) + 1, len(before) + 2, len(before) + 1]  # added, then dropped
            await settle(pilot)
            assert sorted(screen.card.tagids) == wanted

            counts.clear()
            await pilot.press("escape", "z")
            await confirm(pilot)
            assert sorted(acct.tags_of(openid)) == before
            assert sorted(store.tag_ids_of([openid])[openid]) == before
            assert min(counts) >= len(before)


async def test_blacklist_and_unblacklist_from_the_follower_screen(tmp_path):
    async with demo_session(tmp_path) as session:
        acct, store = session.emulator.account, session.store
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_follower(pilot, 3)
            openid = screen.openid
            assert not acct.is_blacklisted(openid)
            # The command palette offers the screen's actions there.
            titles = {c.title for c in app.get_system_commands(screen)}
            assert {"Edit the follower's remark", "Blacklist the follower"} <= titles
            assert "Tag the selected followers (pick or create a tag)" not in titles
            await pilot.press("b")
            await confirm(pilot)
            assert acct.is_blacklisted(openid) and openid in store.blacklist()
            await settle(pilot)
            assert fact(screen, "blacklisted") == "yes"
            await pilot.press("B")
            await confirm(pilot)
            assert not acct.is_blacklisted(openid) and openid not in store.blacklist()


async def test_picker_create_cancelled_leaves_no_tag_confirmed_creates_it_in_the_job(tmp_path):
    async with demo_session(tmp_path) as session:
        acct, store = session.emulator.account, session.store
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            main = await ready(pilot)
            openid = openid_at(main, 0)
            tags_before = dict(acct.tags())
            await pilot.press("t")
            await wait_for_screen(pilot, TagPickerScreen)
            await pilot.press(*"[autumn]", "enter")
            dialog = await wait_for_screen(pilot, ConfirmScreen)
            assert "created by this job" in dialog.summary.target and dialog.summary.calls == 2
            assert acct.tags() == tags_before  # nothing exists before the confirmation
            await pilot.press("n")
            await settle(pilot)
            assert acct.tags() == tags_before
            assert "[autumn]" not in store.tag_names().values()
            assert "Cancelled" in last_notification(pilot)
            assert "[autumn]" not in {e.name for e in main.tag_list.tag_entries}

            await pilot.press("t")
            await wait_for_screen(pilot, TagPickerScreen)
            await pilot.press(*"[autumn]", "enter")
            await confirm(pilot)
            tagid = tag_named(acct, "[autumn]")
            assert acct.tag_members(tagid) == {openid}
            assert store.tag_names()[tagid] == "[autumn]" and store.tag_counts()[tagid] == 1
            assert "[autumn]" in {e.name for e in main.tag_list.tag_entries}


async def test_on_a_tencent_cloud_im_account_the_screen_says_what_is_missing(tmp_path):
    async with tim_session(tmp_path) as session:
        state, store = session.emulator.state, session.store
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_follower(pilot, 0)
            account = screen.openid
            assert fact(screen, "account-id") == account
            assert sorted(n for _, n in screen.card.tags) == sorted(state.tags_of(account))
            assert "no remark, blacklist" in str(screen.query_one("#follower-missing").render())
            for key in ("r", "b", "t"):
                await pilot.press(key)
                await settle(pilot)
                assert "Tencent Cloud IM" in last_notification(pilot)
                assert isinstance(app.screen, FollowerScreen)


async def test_a_follower_who_unfollowed_since_the_sync_is_said_so_and_nothing_is_sent(tmp_path):
    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            main = await ready(pilot)
            openid = openid_at(main, 0)
            acct.remove_followers([openid])
            remark_calls = session.emulator.stats.calls["/cgi-bin/user/info/updateremark"]
            await pilot.press("enter")
            screen = await wait_for_screen(pilot, FollowerScreen)
            await settle(pilot)
            assert screen.card is None
            assert "not a follower of this account" in str(screen.query_one("#follower-status").render())
            await pilot.press("r")
            await settle(pilot)
            assert isinstance(app.screen, FollowerScreen)
            assert "could not be read yet" in last_notification(pilot)
            assert session.emulator.stats.calls["/cgi-bin/user/info/updateremark"] == remark_calls


async def test_the_jobs_on_the_follower_screen_are_in_china_time_like_the_audit_log(tmp_path, monkeypatch):
    """The follower's jobs and the audit log (L) give a job the same time, whatever the machine's
    time zone: China time, as the follower's "followed" line beside them says."""
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        async with demo_session(tmp_path) as session:
            app = app_for(session)
            async with app.run_test(size=SIZE) as pilot:
                await ready(pilot)
                await pilot.press("b")
                await confirm(pilot)
                screen = await open_follower(pilot)
                (job,) = screen.card.jobs
                china = time.strftime("%Y-%m-%d %H:%M", time.gmtime(job.created_at + 8 * 3600))
                assert china in str(screen.query_one("#follower-jobs").render())
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
