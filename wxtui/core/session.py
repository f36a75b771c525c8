"""One open account: its family, its client and its cache, ready for the app and the headless commands.

`open_session()` is the single way in: a configured account by name, the default account, or a
demo (an in-process emulator of a family's API) when asked for, never as a fallback. The account's family (wxtui.family) opens the
client; this module only resolves which account and which family. The headless commands' demo
(`--demo`) is rebuilt at every launch, its cache with it; the app's demo is kept between launches
where the family can keep it (Family.open_kept_demo).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

from wxtui.core import paths

DEMO_FOLLOWERS = 100_000
DEMO_SEED = 1


@dataclass
class Session:
    label: str  # what the header shows: "Acme Coffee"
    account_key: str  # the AppID, tim<SDKAppID> (the cache file's name)
    client: Any  # the family's API client
    store: Any  # wxtui.store.Store
    emulator: Any = None  # the in-process emulator, in demo mode
    profile: Any = None  # the account profile, for a configured account
    family: Any = field(kw_only=True)  # wxtui.family.Family: what the account's API is and can do
    # What the app is told beside the session: "notice" (a line to show once, e.g. a demo set
    # aside), "after_first_sync" (called once the first sync has filled the cache).
    extras: dict = field(default_factory=dict, kw_only=True)

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
               family: str | None = None):
    """A family's demo emulator (the default family's unless named)."""
    from wxtui.family import DEFAULT_FAMILY, family as family_named

    return family_named(family or DEFAULT_FAMILY).demo_emulator(members=followers, seed=seed, slow=slow)


def demo_store_path(key: str) -> Path:
    return paths.data_dir() / "demo" / f"{key}.sqlite"


def open_store(path: Path, fresh: bool):
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
    family: str | None = None,
    store_path: Path | None = None,
    max_in_flight: int | None = None,
) -> AsyncIterator[Session]:
    """A ready session on the named (or default) account, or on a demo when `demo` is set (never
    as a fallback). `emulator` runs the demo on an emulator the caller already built (its family
    is the emulator's); `family` picks the demo's family."""
    from wxtui.family import family as family_named
    from wxtui.family import family_for

    if emulator is None and not demo:
        profile = configured_profile(account)
        async with family_for(profile).open_session(profile, store_path=store_path,
                                                    max_in_flight=max_in_flight) as session:
            yield session
        return
    if emulator is None:
        emulator = build_demo(followers, seed=seed, slow=slow, family=family)
    async with family_named(emulator.family_key).open_session(None, demo=emulator, store_path=store_path,
                                                              max_in_flight=max_in_flight) as session:
        yield session


def configured_profile(name: str | None, config=None):
    """The named profile, or the default one; NoAccountError when there is none."""
    from wxtui.core.config import ConfigError, load_config

    try:
        config = config if config is not None else load_config()
        if not config.accounts and config.default_name is None:
            raise NoAccountError(ADD_ACCOUNT_HINT if name is None else
                                 f"No account named {name!r}: {ADD_ACCOUNT_HINT[0].lower()}{ADD_ACCOUNT_HINT[1:]}")
        return config.require(name)
    except ConfigError as exc:
        raise NoAccountError(str(exc)) from None


def account_opener(name: str | None):
    """An opener (a zero-argument callable giving an async context manager) of a configured
    account's session, whatever its family: what the app holds open while it runs."""

    def opener():
        return open_session(name) if name else open_session()

    return opener


async def in_daemon_thread(func, *args, **kwargs):
    """func(*args, **kwargs) in a thread the process does not wait for when it exits.

    Building or loading a demo takes seconds at a million followers; quitting meanwhile must
    not wait for it (asyncio.to_thread's threads are joined at exit). What the thread was making
    is then dropped: a kept demo is written atomically, so at worst it is built again next time.
    When nobody awaits the result any more (the opening was cancelled), it is closed."""
    import asyncio
    import threading

    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(result, error) -> None:
        if future.cancelled():
            close = getattr(result, "close", None)
            if close is not None:  # a kept demo holds its folder's lock until closed
                threading.Thread(target=close, daemon=True).start()
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run() -> None:
        result, error = None, None
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:  # handed to the awaiting coroutine
            error = exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop is closed: the app has quit
            pass

    threading.Thread(target=run, name=getattr(func, "__name__", "demo"), daemon=True).start()
    return await future


def demo_opener(followers: int, *, slow: bool = False, seed: int = DEMO_SEED, family: str | None = None,
                fresh: bool = False):
    """An opener for a demo, loaded or built in a thread so the app's first frame is not held.

    A family that keeps its demo between launches (Family.open_kept_demo) hands back the demo
    as it was left, saved again when it closes; `fresh` starts it over, on the first opening
    only (switching back to the demo later finds it as it was). With `slow`, the first sync of
    a new demo fills the cache at full speed, then the calls slow down."""
    starts = {"fresh": fresh}

    @contextlib.asynccontextmanager
    async def opener():
        import asyncio

        from wxtui.family import DEFAULT_FAMILY
        from wxtui.family import family as family_named

        kept = await in_daemon_thread(family_named(family or DEFAULT_FAMILY).open_kept_demo,
                                      followers, seed, fresh=starts["fresh"])
        starts["fresh"] = False
        if kept is None:
            emulator = await in_daemon_thread(build_demo, followers, seed=seed, slow=slow, family=family)
            async with open_session(emulator=emulator) as session:
                yield session
            return
        try:
            async with open_session(emulator=kept.emulator, store_path=kept.cache_path) as session:
                session.extras["notice"] = kept.notice
                session.extras["kept_demo"] = kept  # its timings (build, load, save), for the bench
                if slow:
                    if session.store.last_synced_at() is None:
                        session.extras["after_first_sync"] = lambda: slow_faults(kept.emulator)
                    else:
                        slow_faults(kept.emulator)
                yield session
        finally:
            await asyncio.to_thread(kept.close)

    return opener
