"""What the member browser says stays true: a deleted tag being viewed falls back to All, and
"No followers here" is never shown while the cache has followers for the view."""

from __future__ import annotations

from ui_fixtures import app_for, demo_session, ready, settle, wait_for_screen
from wxtui.ui.screens.confirm import ConfirmScreen

SIZE = (100, 30)


async def test_deleting_the_tag_being_viewed_falls_back_to_all(tmp_path):
    async with demo_session(tmp_path) as session:
        acct = session.emulator.account
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            staff = next(e for e in screen.tag_list.tag_entries if e.name == "Staff")
            screen.tag_list.choose(staff.option_id)
            screen.tag_list.focus()
            await settle(pilot)
            assert str(screen.query_one("#view-title").render()) == "Followers · Staff"
            await pilot.press("d")
            await wait_for_screen(pilot, ConfirmScreen)
            await pilot.press("y")
            await settle(pilot)
            assert staff.tagid not in acct.tags()
            assert staff.tagid not in session.store.tag_names()
            assert screen.entry.kind == "all"
            assert screen.tag_list.highlighted_entry.kind == "all"
            assert str(screen.query_one("#view-title").render()) == "Followers"
            assert len(screen.table.source) == session.store.follower_count() == acct.subscribed_count()
            counts = str(screen.query_one("#view-counts").render())
            assert counts == f"{acct.subscribed_count():,}"


async def test_no_followers_here_is_never_said_of_a_view_with_followers(tmp_path):
    async with demo_session(tmp_path, synced=False) as session:
        store = session.store
        app = app_for(session, sync_on_start=None)
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(2000):
                screen = app.screen
                if screen.query("MemberTable"):
                    table = screen.table
                    if not len(table.source):
                        if table.empty_text == "No followers here":
                            assert store.view(screen.view_filter).count() == 0, "said empty while followers are cached"
                    elif store.last_synced_at() and table.source.complete and not screen.header.sync_progress:
                        break
                await pilot.pause()
            assert store.follower_count() == session.emulator.account.subscribed_count()
            assert len(app.screen.table.source) == store.follower_count()
