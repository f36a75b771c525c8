"""The first frame: a screenful of rows before anything else, the counts after; a view never
reads every matching id until a row past the first ones is wanted; and the first frame imports
nothing it does not draw."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from ui_fixtures import app_for, demo_session, ready, settle
from wxtui.store import Filter
from wxtui.store.views import View
from wxtui.ui.screens.main import FIRST_ROWS, MainScreen

SIZE = (100, 30)


async def until(pilot, condition, what: str, turns: int = 1000):
    for _ in range(turns):
        value = condition()
        if value:
            return value
        await pilot.pause(0.01)
    raise AssertionError(f"never: {what}")


async def test_the_rows_show_before_any_count(tmp_path, monkeypatch):
    counting = threading.Event()
    counted = View.count

    def held_count(self, **how):
        counting.wait(30)
        return counted(self, **how)

    monkeypatch.setattr(View, "count", held_count)  # every count waits: the view's, the tags'
    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await until(pilot, lambda: isinstance(app.screen, MainScreen) and len(app.screen.table.source)
                                 and app.screen, "rows on screen")
            await pilot.pause(0.2)
            table = screen.table
            assert table.source.row(0) is not None and len(table.source) == FIRST_ROWS
            assert not table.source.complete and screen.matching is None
            assert "counting…" in str(screen.query_one("#view-counts").render())
            assert not screen.tag_list.entries  # the tag counts come after the rows too
            counting.set()
            await ready(pilot)
            assert table.source.complete
            assert screen.matching == len(table.source) == session.store.follower_count() > FIRST_ROWS
            assert screen.tag_list.entries["untagged"].count == session.store.view(Filter(untagged=True)).count()


async def test_a_view_reads_every_id_only_when_a_row_past_the_first_is_wanted(tmp_path, monkeypatch):
    read_all: list[Filter] = []
    row_ids = View.row_ids

    def spied(self):
        read_all.append(self.filter)
        return row_ids(self)

    monkeypatch.setattr(View, "row_ids", spied)
    async with demo_session(tmp_path) as session:
        app = app_for(session)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            table = screen.table
            await pilot.press("tab", "tab")  # about the table: the tag list's highlight moves the view
            screen.tag_list.choose("untagged")
            await until(pilot, lambda: screen.view_filter == Filter(untagged=True) and table.source.complete,
                        "the untagged view counted")
            await settle(pilot)
            untagged = row_ids(session.store.view(Filter(untagged=True)))  # unspied
            assert len(table.source) == len(untagged) > FIRST_ROWS
            assert read_all == []  # counted, never listed
            table.focus()
            await pilot.press("end")
            await until(pilot, lambda: table.source.all_ids_known, "every id read")
            await settle(pilot)
            assert read_all == [Filter(untagged=True)]
            assert table.cursor == len(untagged) - 1 and table.cursor_row.id == untagged[-1]
            await pilot.press("home", "shift+down", "shift+down")
            await settle(pilot)
            assert screen.selected == 3


FIRST_FRAME = """
import asyncio, contextlib, json, sys
import wxtui
import httpx
from wxtui.core.session import Session
from wxtui.families.wechat.client import WeChatClient
from wxtui.families.wechat.family import FAMILY
from wxtui.store import Store
from wxtui.ui.app import WxtuiApp
from wxtui.ui.screens.main import MainScreen

async def main():
    store = Store.open(sys.argv[1])
    refuse = httpx.MockTransport(lambda request: httpx.Response(200, json={"errcode": 48001}))
    client = WeChatClient.with_secret("wx00000000000000aa", "0" * 32, transport=refuse)

    @contextlib.asynccontextmanager
    async def opener():
        yield Session("Shop", "wx00000000000000aa", client, store, family=FAMILY)

    app = WxtuiApp(opener, sync_on_start=False)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(1000):
            screen = app.screen
            if isinstance(screen, MainScreen) and screen.table.source.complete and screen.tag_list.entries:
                break
            await pilot.pause(0.01)
        print(json.dumps(sorted(name for name, module in sys.modules.items() if module is not None)))
    await client.aclose()
    store.close()

asyncio.run(main())
"""

# What the first frame of an account does not draw: the history's plots, the browser mode,
# the emulator's server, httpx's own command line.
NOT_FOR_THE_FIRST_FRAME = ("plotext", "textual_plotext", "textual_serve", "uvicorn", "starlette", "pygments",
                           "httpx._main", "wxtui.ui.serve", "wxtui.ui.screens.history",
                           "wxtui.families.wechat.emulator", "wxtui.families.tim")


async def test_the_first_frame_imports_only_what_it_draws(tmp_path):
    async with demo_session(tmp_path):
        pass  # a synced cache, closed
    env = {"WXTUI_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(FIRST_FRAME), str(tmp_path / "cache.sqlite")],
                          capture_output=True, text=True, env=env, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    modules = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "wxtui.ui.screens.main" in modules  # the first frame was reached
    loaded = sorted(m for m in modules for name in NOT_FOR_THE_FIRST_FRAME if m == name or m.startswith(name + "."))
    assert loaded == []
