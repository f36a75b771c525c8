"""The app shows names from the platform as they are written: brackets are not markup, control
characters are shown as escapes and never reach the terminal."""

from __future__ import annotations

from ui_fixtures import app_for, demo_session, ready, settle, wait_for_screen
from wxtui.families.wechat.emulator import Emulator
from wxtui.ui.screens.confirm import ConfirmScreen
from wxtui.ui.screens.job_detail import JobDetailScreen
from wxtui.ui.screens.prompts import TagPickerScreen

ESCAPES = "x\x1b[2J\x1b]0;PWNED\x07"
BIDI = "a\u202eb"
CLOSING_MARKUP = "[/]x"
BOLD_MARKUP = "[bold]b"


def shown(app) -> str:
    """The screen's text as the terminal would get it (from its SVG export)."""
    import html

    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


async def test_tag_names_from_the_platform_are_shown_literally_and_escaped(tmp_path):
    emulator = Emulator.demo(followers=200, seed=7)
    ids = {name: emulator.account.create_tag(name) for name in (ESCAPES, BIDI, CLOSING_MARKUP, BOLD_MARKUP)}
    async with demo_session(tmp_path, emulator=emulator) as session:
        app = app_for(session)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await ready(pilot)
            page = shown(app)
            for raw in ("\x1b", "\x07", "\u202e"):
                assert raw not in page
            assert "x\\x1b[2J" in page and "a\\u202eb" in page  # the tag list
            assert "[/]x" in page and "[bold]b" in page

            await pilot.press("space", "t")
            await wait_for_screen(pilot, TagPickerScreen)
            await pilot.press(*BOLD_MARKUP, "enter")
            dialog = await wait_for_screen(pilot, ConfirmScreen)
            assert 'tag "[bold]b"' in dialog.summary.target and "[bold]b" in shown(app)
            await pilot.press("y")
            await settle(pilot)
            assert session.emulator.account.tag_members(ids[BOLD_MARKUP])  # the job ran
            assert any('tag "[bold]b"' in n.message for n in app._notifications)

            await pilot.press("j", "enter")
            await wait_for_screen(pilot, JobDetailScreen)
            assert 'tag "[bold]b"' in shown(app)
            await pilot.press("escape")
            await settle(pilot)

            screen.tag_list.choose(f"tag:{ids[CLOSING_MARKUP]}")  # the view's title holds the name
            await settle(pilot)
            assert "[/]x" in str(screen.query_one("#view-title").render())
            screen.tag_list.choose(f"tag:{ids[ESCAPES]}")
            await settle(pilot)
            assert "x\\x1b[2J" in str(screen.query_one("#view-title").render())
