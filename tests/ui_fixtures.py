"""Fixed data for the UI tests, the snapshot tests and screenshots/generate.py.

Everything derives from a seed and a fixed clock, so the screens are the same on every run.
"""

from __future__ import annotations

import calendar
import contextlib
from pathlib import Path

FOLLOWERS = 400
SEED = 7
# "Now" for every screen: after the demo's last follow, so ages read the same on every run.
FIXED_NOW = float(calendar.timegm((2026, 11, 2, 9, 30, 0)))
SYNCED_AT = FIXED_NOW - 2 * 60


async def sync_store(session, synced_at: float = SYNCED_AT) -> None:
    """Fill the session's cache from its emulator."""
    try:
        from wxtui.sync import sync_account
    except ImportError:  # TEMPORARY until wxtui.sync lands
        sync_account = _quick_sync
    await sync_account(session.client, session.store)
    session.store.set_meta("sync.finished_at", str(synced_at))


@contextlib.asynccontextmanager
async def demo_session(tmp_path: Path, followers: int = FOLLOWERS, seed: int = SEED, *, synced: bool = True,
                       emulator=None):
    from wxtui.emulator import Emulator
    from wxtui.session import open_session

    emulator = emulator or Emulator.demo(followers=followers, seed=seed)
    async with open_session(emulator=emulator, store_path=tmp_path / "cache.sqlite") as session:
        if synced:
            await sync_store(session)
        yield session


def app_for(session, **kwargs):
    """The app on an already open session (the caller closes it)."""
    from wxtui.ui.app import WxtuiApp

    @contextlib.asynccontextmanager
    async def opener():
        yield session

    kwargs.setdefault("clock", lambda: FIXED_NOW)
    kwargs.setdefault("sync_on_start", False)
    return WxtuiApp(opener, **kwargs)


async def _quick_sync(client, store) -> None:  # TEMPORARY until wxtui.sync lands
    store.replace_tags(await client.get_tags())
    async for page in client.iter_followers():
        for i in range(0, len(page.openids), 100):
            store.upsert_followers(await client.user_info_batch(page.openids[i:i + 100]))
    black = []
    async for page in client.iter_blacklist():
        black += page.openids
    store.replace_blacklist(black)
    store.refresh_tag_counts()
