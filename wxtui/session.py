"""One open account: its client and its cache, ready for the app and the headless commands.

`open_session()` is the single way in: a configured account by name, the default account, or the
built-in demo when asked for (an in-process emulator), never as a fallback. The headless
commands' demo (`--demo`) is rebuilt at every launch, its cache with it; the app's demo is kept
between launches by wxtui.kept_demo, which hands its emulator and cache path in here.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

from wxtui import paths

DEMO_FOLLOWERS = 100_000
DEMO_SEED = 1


@dataclass
class Session:
    label: str  # what the header shows: "Acme Coffee"
    account_key: str  # the AppID (the cache file's name)
    client: Any  # wxtui.wechat.client.WeChatClient
    store: Any  # wxtui.store.Store
    emulator: Any = None  # the in-process emulator, in demo mode
    profile: Any = None  # the account profile, for a configured account
    extras: dict = field(default_factory=dict)

    @property
    def is_demo(self) -> bool:
        return self.emulator is not None

    @property
    def short_appid(self) -> str:
        key = self.account_key
        return key if len(key) <= 10 else key[:8] + "…"


class NoAccountError(Exception):
    """No usable account: none is configured, or the one asked for (or the default) is not
    there; str() says which and how to add or choose one. The demo is never a fallback."""


ADD_ACCOUNT_HINT = ("No account is configured yet. Add one: wxtui account add NAME --appid wx... "
                    "(the AppSecret goes to the keyring), or act on the built-in demo with --demo")


def slow_faults(emulator) -> None:
    """The knobs of `wxtui demo --slow`: visible latency and a few of every retryable fault."""
    faults = emulator.faults
    faults.latency_ms = 120
    faults.jitter_ms = 60
    faults.p_busy = 0.05
    faults.p_minute = 0.005
    faults.p_5xx = 0.01


def build_demo(followers: int = DEMO_FOLLOWERS, *, seed: int = DEMO_SEED, slow: bool = False,
               latency_ms: int = 0):
    from wxtui.emulator import Emulator

    emulator = Emulator.demo(followers=followers, seed=seed, latency_ms=latency_ms)
    if slow:
        slow_faults(emulator)
    return emulator


def demo_store_path(appid: str) -> Path:
    return paths.data_dir() / "demo" / f"{appid}.sqlite"


def _open_store(path: Path, fresh: bool):
    from wxtui.store import Store

    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    return Store.open(path)


@contextlib.asynccontextmanager
async def open_session(
    account: str | None = None,
    *,
    demo: bool = False,
    followers: int = DEMO_FOLLOWERS,
    seed: int = DEMO_SEED,
    slow: bool = False,
    emulator=None,
    store_path: Path | None = None,
    max_in_flight: int | None = None,
) -> AsyncIterator[Session]:
    """A ready session. `emulator` runs the demo on an emulator the caller already built."""
    from wxtui.wechat.client import WeChatClient

    if emulator is None and not demo:
        from wxtui.accounts import build_client

        profile = configured_profile(account)
        client = build_client(profile, **({"max_in_flight": max_in_flight} if max_in_flight else {}))
        store = _open_store(store_path or paths.cache_db(profile.appid), fresh=False)
        try:
            yield Session(profile.name, profile.appid, client, store, profile=profile)
        finally:
            await client.aclose()
            store.close()
        return
    if emulator is None:
        emulator = build_demo(followers, seed=seed, slow=slow)
    acct = emulator.account
    kwargs = {"max_in_flight": max_in_flight} if max_in_flight else {}
    client = WeChatClient.with_secret(acct.appid, acct.secret, transport=emulator.transport(), **kwargs)
    store = _open_store(store_path or demo_store_path(acct.appid), fresh=store_path is None)
    try:
        yield Session(acct.name, acct.appid, client, store, emulator=emulator)
    finally:
        await client.aclose()
        store.close()


def configured_profile(name: str | None, config=None):
    """The named profile, or the default one; NoAccountError when there is none."""
    from wxtui.config import ConfigError, load_config

    try:
        config = config if config is not None else load_config()
        if not config.accounts and config.default_name is None:
            raise NoAccountError(ADD_ACCOUNT_HINT if name is None else
                                 f"No account named {name!r}: {ADD_ACCOUNT_HINT[0].lower()}{ADD_ACCOUNT_HINT[1:]}")
        return config.require(name)
    except ConfigError as exc:
        raise NoAccountError(str(exc)) from None
