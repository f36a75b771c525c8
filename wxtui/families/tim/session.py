"""A session on a Tencent Cloud IM account: its client (signed with the secret key from the
keyring, or the emulator's) and its cache (wxtui.family.Family.open_session of this family)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, AsyncIterator

from wxtui.core import paths
from wxtui.core.session import Session, demo_store_path, open_store

DEMO_ACCOUNTS = 10_000
DEMO_SEED = 1


def build_tim_client(profile, *, secret: str | None = None, transport: Any = None, **client_kwargs):
    """A TimClient for a profile of kind "tim"; the secret key comes from wxtui.core.secrets unless given."""
    from wxtui.core.config import ConfigError
    from wxtui.families.tim.client import TimClient

    if profile.kind != "tim":  # a profile of another family reached this one: a bug upstream
        raise ConfigError(f"account {profile.name!r} is of kind {profile.kind!r}, not a Tencent Cloud IM account")
    if secret is None:
        from wxtui.core import secrets

        secret = secrets.resolve_secret(profile).value.reveal()
    client_kwargs.setdefault("max_in_flight", profile.concurrency)
    if profile.hosts:  # an emulator's; otherwise the region's
        client_kwargs.setdefault("hosts", list(profile.hosts))
    return TimClient(profile.sdkappid, profile.identifier, secret, region=profile.region,
                     transport=transport, **client_kwargs)


@contextlib.asynccontextmanager
async def open_tim_session(profile=None, *, emulator=None, store_path: Path | None = None,
                           family=None, **client_kwargs) -> AsyncIterator[Session]:
    """A session on a configured TIM account, or (emulator given) on that in-process emulator
    with a fresh cache (the TIM demo: `TimEmulator.demo(accounts=, seed=)`)."""
    if emulator is not None:
        client = emulator.client(**client_kwargs)
        key = f"tim{emulator.sdkappid}"
        store = open_store(store_path or demo_store_path(key), fresh=store_path is None)
        label = emulator.state.name
    else:
        client = build_tim_client(profile, **client_kwargs)
        key = profile.appid
        store = open_store(store_path or paths.cache_db(key), fresh=False)
        label = profile.name
    try:
        if family is None:  # the registry's (this module is imported by the family itself)
            from wxtui.family import family as family_named

            family = family_named("tim")
        yield Session(label, key, client, store, emulator=emulator, profile=profile, family=family)
    finally:
        await client.aclose()
        store.close()


async def check_tim_account(client) -> tuple[bool, str]:
    """One account_check of the admin identifier: whether the SDKAppID, region, secret key and
    identifier work together, and what to fix when they do not (never the key itself)."""
    from wxtui.core.errors import WxtuiError

    try:
        check = await client.account_check([client.identifier])
    except WxtuiError as exc:
        text = exc.user_message() if hasattr(exc, "user_message") else str(exc)
        return False, text
    if check.get(client.identifier):
        return True, f"SDKAppID {client.sdkappid} answers; admin {client.identifier} is imported"
    return False, f"SDKAppID {client.sdkappid} answers, but the admin {client.identifier} is not an imported account"
