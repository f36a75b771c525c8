"""Shared by the bulk-action tests: a cache filled from the emulator, a job service on both."""

from __future__ import annotations

import contextlib
from pathlib import Path

from wxtui.families.wechat.family import FAMILY as WECHAT
from wxtui.jobs.service import JobService
from wxtui.store import Store
from wxtui.families.wechat.client import WeChatClient
from wxtui.families.wechat.models import Follower, Tag
from wxtui.core.transport import RetryPolicy

FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01, minute_wait_s=0.001, timeout_s=5.0)


def fill_cache(store, acct) -> None:
    """The cache as a full sync would leave it: the emulator's followers, tags and blacklist."""
    store.replace_tags([Tag(t, name, count) for t, (name, count) in acct.tags().items()])
    store.upsert_followers([Follower.from_api(acct.follower(o)) for o in acct.follower_openids()])
    store.replace_blacklist(acct.blacklist())


def state_of(acct) -> dict:
    """What a job may change, in a form that compares exactly."""
    return {
        "tags": {t: name for t, (name, _count) in acct.tags().items()},
        "members": {t: frozenset(acct.tag_members(t)) for t in acct.tags()},
        "blacklist": frozenset(acct.blacklist()),
        "remarks": {o: acct.follower(o).get("remark", "") for o in acct.follower_openids()},
    }


@contextlib.asynccontextmanager
async def job_service(emu, path: Path, *, concurrency: int = 8, retry: RetryPolicy = FAST_RETRY,
                      fill: bool = True, event_interval: float = 0.0):
    acct = emu.account
    store = Store.open(path)
    if fill:
        fill_cache(store, acct)
    client = WeChatClient.with_secret(acct.appid, acct.secret, transport=emu.transport(),
                                      max_in_flight=concurrency, retry=retry, seed=1)
    service = JobService(client, store, family=WECHAT, concurrency=concurrency, event_interval=event_interval)
    try:
        yield service
    finally:
        await service.aclose()
        await client.aclose()
        store.close()


@contextlib.contextmanager
def served(emu):
    """The emulator on loopback under uvicorn, in a thread of its own; yields its base URL."""
    import asyncio
    import threading

    from wxtui.emulation.server import serving

    ready = threading.Event()
    box: dict = {}

    async def serve() -> None:
        async with serving(emu) as url:
            box.update(url=url, loop=asyncio.get_running_loop(), stop=asyncio.Event())
            ready.set()
            await box["stop"].wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the emulator did not start")
    try:
        yield box["url"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(10)


def add_account(main, appid: str, url: str, name: str = "emu") -> None:
    """A configured account on the served emulator (its secret comes from the environment)."""
    assert main(["account", "add", name, "--appid", appid, "--host", url, "--no-secret", "--default"]) == 0


@contextlib.contextmanager
def synced_cli_account(emu, monkeypatch):
    """The emulator served on loopback as the CLI's configured account (its AppSecret in the
    environment, never the config) and synced once by `wxtui sync`; yields the emulated account
    while it is served."""
    from wxtui.cli.main import main

    acct = emu.account
    monkeypatch.setenv("WXTUI_SECRET_" + acct.appid.upper(), acct.secret)
    with served(emu) as url:
        add_account(main, acct.appid, url)
        assert main(["sync", "--quiet"]) == 0
        yield acct

