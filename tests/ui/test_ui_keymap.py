"""The keymap: the app's [keymap] for every account, an account's own remaps for it alone."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

from ui_fixtures import FIXED_NOW, demo_session, ready, settle, wait_for_screen
from wxtui.ui.app import WxtuiApp
from wxtui.ui.screens.prompts import TagPickerScreen

SIZE = (100, 30)


async def test_an_accounts_remaps_apply_to_it_alone_after_switching(tmp_path):
    async with demo_session(tmp_path) as session:

        def opener(keymap: dict[str, str]):
            @contextlib.asynccontextmanager
            async def open_it():
                session.profile = SimpleNamespace(keymap=keymap, concurrency=None)
                yield session

            return open_it

        app = WxtuiApp(opener({"tag": "ctrl+t"}), keymap={"sync": "S"}, clock=lambda: FIXED_NOW,
                       sync_on_start=False)
        async with app.run_test(size=SIZE) as pilot:
            first = await ready(pilot)
            assert app.keymap == {"sync": "S", "tag": "ctrl+t"}
            await pilot.press("t")  # remapped away on this account
            await settle(pilot)
            assert app.screen is first
            await pilot.press("ctrl+t")
            await wait_for_screen(pilot, TagPickerScreen)
            await pilot.press("escape")
            await settle(pilot)

            app.open_account(opener({}))  # another account, without remaps of its own
            for _ in range(500):
                if app.screen is not first:
                    break
                await pilot.pause(0.01)
            await ready(pilot)
            assert app.keymap == {"sync": "S"}
            await pilot.press("t")
            await wait_for_screen(pilot, TagPickerScreen)
