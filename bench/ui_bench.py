"""How the app feels on a 1,000,000-follower cache, measured headless.

    python bench/ui_bench.py [--followers 1000000] [--cache PATH] [--seed 1] [--open-only]

The cache is built once with the store's own sync writes (bench/view_bench.py's build_cache,
the emulator's demo distribution) and reused while its follower count matches. The app then runs
in a fresh process, so start-up imports and memory are the app's own. Prints one JSON object:

  first_frame_s     process start to the first full frame (rows and tag counts on screen)
  all_ids_ms        every id of the view read, once a row past the first ones is wanted
  filter_ms_median  a filter keystroke to the first matching rows on screen (median of several)
  filter_ms_p90     ... its 90th percentile (one-letter searches are the slow ones)
  filter_full_ms_median   ... to the counted view
  page_down_ms      the page-down handler plus drawing every visible line (median)
  select_all_ms     `a` on the untagged view (~600,000 followers) to the count and marks shown
  select_all_matching     how many followers that selected
  peak_rss_mb       the app process's peak resident memory

Per-key figures time the handler and the redraw directly: Pilot's press() costs ~44 ms of its
own per key here, which would drown them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILTER_QUERIES = ("李", "李娜", "VIP", "Kevin", "王芳 VIP", "Coffee lover", "zz-no-match")
SIZE = (120, 40)


def ensure_cache(path: Path, followers: int, seed: int) -> float:
    """Seconds spent building the cache (0 when an existing one of this size is reused)."""
    from wxtui.store import Store

    if path.exists():
        store = Store.open(path)
        try:
            if store.follower_count() == followers:
                return 0.0
        finally:
            store.close()
    sys.path.insert(0, str(HERE))
    from view_bench import build_cache

    return build_cache(path, followers, seed)


# -- the app process ---------------------------------------------------------------------------


async def measure_app(cache: Path, started_at: float, open_only: bool = False) -> dict:
    import contextlib

    import wxtui  # first, as the `wxtui` command does: it settles how httpx loads  # noqa: F401
    import httpx

    from wxtui.core.session import Session
    from wxtui.families.wechat.family import FAMILY as WECHAT
    from wxtui.store import Store
    from wxtui.ui.app import WxtuiApp
    from wxtui.families.wechat.client import WeChatClient

    store = Store.open(cache)
    # The bench measures the screen, not the network: every call is refused at once.
    refuse = httpx.MockTransport(lambda request: httpx.Response(200, json={"errcode": 48001}))
    client = WeChatClient.with_secret("wx00000000000000aa", "0" * 32, transport=refuse)

    @contextlib.asynccontextmanager
    async def opener():
        yield Session("Bench", "wx00000000000000aa", client, store, family=WECHAT)

    app = WxtuiApp(opener, sync_on_start=False)
    out: dict = {}
    async with app.run_test(size=SIZE) as pilot:
        screen = await _until(pilot, lambda: _first_frame_ready(app))
        await pilot.pause()
        out["first_frame_s"] = round(time.time() - started_at, 3)
        table = screen.table
        await _until(pilot, lambda: table.source.complete)
        await app.workers.wait_for_complete()
        # The view holds its first rows and its count; paging past them reads every id once
        # (RowSource): page down through rows that are read, as before.
        t0 = time.perf_counter()
        table.source.id_at(len(table.source) - 1)
        await _until(pilot, lambda: table.source.all_ids_known)
        out["all_ids_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        await app.workers.wait_for_complete()

        out["page_down_ms"] = _median_ms([lambda: _page_down(table) for _ in range(15)])
        if open_only:
            store.close()
            await client.aclose()
            return out

        first, full = [], []
        box = screen.query_one("#filter")
        for query in FILTER_QUERIES:
            typed = ""
            for char in query:
                typed += char
                t0 = time.perf_counter()
                box.value = typed  # what a keystroke does to the Input
                await _until(pilot, lambda: _shows(screen, typed), step=0.001)
                _draw(table)
                first.append((time.perf_counter() - t0) * 1000)
                await _until(pilot, lambda: _shows(screen, typed) and table.source.complete, step=0.001)
                full.append((time.perf_counter() - t0) * 1000)
        out["filter_ms_median"] = round(statistics.median(first), 1)
        out["filter_ms_p90"] = round(statistics.quantiles(first, n=10)[-1], 1)
        out["filter_full_ms_median"] = round(statistics.median(full), 1)
        box.value = ""
        await _until(pilot, lambda: _shows(screen, "") and table.source.complete)

        screen.tag_list.choose("untagged")
        await _until(pilot, lambda: screen.view_filter.untagged and table.source.complete)
        await app.workers.wait_for_complete()
        screen.action_clear_selection()  # the selection lives in the cache file: start from none
        await _until(pilot, lambda: screen.selected == 0)
        await app.workers.wait_for_complete()
        t0 = time.perf_counter()
        screen.action_select_all()
        await _until(pilot, lambda: screen.selected == len(table.source), step=0.001)
        _draw(table)
        out["select_all_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        out["select_all_matching"] = screen.selected
        await app.workers.wait_for_complete()
    store.close()
    await client.aclose()
    return out


def _first_frame_ready(app):
    from wxtui.ui.screens.main import MainScreen

    screen = app.screen
    if isinstance(screen, MainScreen) and len(screen.table.source) and screen.tag_list.entries:
        return screen
    return None


def _shows(screen, text: str) -> bool:
    """The rows on screen are those of the filter with this text."""
    shown = screen.shown_filter
    return shown is not None and shown.text == text.strip() and shown == screen.current_filter()


def _draw(table) -> None:
    """What a refresh of the table costs: every visible line rendered."""
    for y in range(table.scrollable_content_region.height):
        table.render_line(y)


def _page_down(table) -> None:
    table.action_page_down()
    _draw(table)


def _median_ms(calls) -> float:
    timings = []
    for call in calls:
        t0 = time.perf_counter()
        call()
        timings.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(timings), 2)


async def _until(pilot, condition, timeout: float = 60.0, step: float = 0.005):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        value = condition()
        if value:
            return value
        await pilot.pause(step)
    raise TimeoutError("the app did not get there in time")


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: on Linux ru_maxrss survives
    exec, so a child started by a parent that just built a 1M cache would report the parent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def child_main(cache: Path, started_at: float, open_only: bool) -> None:
    import asyncio

    out = asyncio.run(measure_app(cache, started_at, open_only))
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


# -- the bench ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, help="reuse this cache file (built if missing)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--open-only", action="store_true",
                        help="the opening only: first frame, every id, page down, memory (no filters)")
    parser.add_argument("--child", nargs=2, metavar=("CACHE", "STARTED_AT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(Path(args.child[0]), float(args.child[1]), args.open_only)
        return
    cache = args.cache or Path(tempfile.gettempdir()) / f"wxtui-ui-bench-{args.followers}-{args.seed}.sqlite"
    build_s = ensure_cache(cache, args.followers, args.seed)
    env = {**os.environ, "WXTUI_HOME": tempfile.mkdtemp(prefix="wxtui-ui-bench-")}
    started_at = time.time()
    command = [sys.executable, __file__, "--child", str(cache), repr(started_at)]
    if args.open_only:
        command.append("--open-only")
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(result.returncode)
    out = {"followers": args.followers, **json.loads(result.stdout.strip().splitlines()[-1])}
    out["cache_build_s"] = round(build_s, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
