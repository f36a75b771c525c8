"""From an account profile to a working client.

`build_client(profile)` is the entry point for everything that talks to an account (the session,
the headless commands, `wxtui doctor`). It resolves nothing up front: the AppSecret (or the
external token) is looked up the first time a token is needed, off the event loop and without
prompting. To give the user the chance to type a missing secret, call
`wxtui.core.secrets.resolve_secret(profile, allow_prompt=True)` before the UI starts.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from wxtui.core.accounts import AccountTest
from wxtui.core.config import CLASSIC_WARNING, ConfigError, Profile, command_argv

if TYPE_CHECKING:  # the command line starts without the network stack
    import httpx

log = logging.getLogger("wxtui.families.wechat.accounts")


def token_env_for(appid: str) -> str:
    """The variable that may hand over an authorizer_access_token for the first fetch."""
    return "WXTUI_TOKEN_" + appid.upper()


def build_token_source(profile: Profile, *, secret: str | None = None,
                       token_transport: "httpx.AsyncBaseTransport | None" = None):
    """The profile's token source. `secret` bypasses the resolver (tests, the demo)."""
    from wxtui.families.wechat.tokens import ClassicTokenSource, StableTokenSource
    from wxtui.families.wechat.token_sources import AuthorizerTokenSource, CommandTokenSource, UrlTokenSource

    profile.validate()
    kind = profile.token_source
    if kind in ("stable", "classic"):
        provider = secret if secret is not None else _lazy_secret(profile)
        if kind == "classic":
            log.warning("%s: %s", profile.name, CLASSIC_WARNING)
            return ClassicTokenSource(profile.appid, provider)
        return StableTokenSource(profile.appid, provider)
    if kind == "command":
        return CommandTokenSource(command_argv(profile.token_command, "token_command"), appid=profile.appid)
    if kind == "url":
        return UrlTokenSource(profile.token_url, appid=profile.appid, transport=token_transport)
    if kind == "authorizer":
        refresh = command_argv(profile.refresh_command, "refresh_command") if profile.refresh_command else None
        if refresh is None and not os.environ.get(token_env_for(profile.appid)):
            raise ConfigError(f"account {profile.name!r}: the authorizer token source needs a "
                              f"refresh_command, or the token in {token_env_for(profile.appid)}")
        return AuthorizerTokenSource(refresh, appid=profile.appid,
                                     initial=lambda: os.environ.get(token_env_for(profile.appid)))
    raise ConfigError(f"account {profile.name!r}: unknown token_source {kind!r}")


def _lazy_secret(profile: Profile):
    async def provide() -> str:
        from wxtui.core.secrets import aresolve_secret

        return (await aresolve_secret(profile)).value

    return provide


def build_client(profile: Profile, *, transport: "httpx.AsyncBaseTransport | None" = None,
                 secret: str | None = None, token_transport: "httpx.AsyncBaseTransport | None" = None,
                 **client_kwargs: Any):
    """A WeChatClient for the account: its hosts, its token source, its concurrency.

    `transport` reaches the API hosts (an emulator's, in tests and the demo); `token_transport`
    reaches a token URL. Other keywords go to WeChatClient (retry, seed, clock, sleep,
    max_in_flight to override the profile's concurrency).
    """
    from wxtui.families.wechat.client import WeChatClient

    if profile.kind != "wechat":
        raise ConfigError(f"account {profile.name!r} is of kind {profile.kind!r}, not a WeChat account")
    source = build_token_source(profile, secret=secret, token_transport=token_transport)
    client_kwargs.setdefault("max_in_flight", profile.concurrency)
    return WeChatClient(source, appid=profile.appid, hosts=list(profile.hosts), transport=transport,
                        **client_kwargs)




async def account_test(profile: Profile, *, transport=None, token_transport=None,
                           secret: str | None = None, secret_source: str = "given",
                           **client_kwargs: Any) -> AccountTest:
    """One real call (tags/get) with the account's credentials, explained when it fails
    (`wxtui account test`, wxtui.core.accounts.run_account_test).

    Without `secret`, the AppSecret is resolved as a client would (never prompting)."""
    from wxtui.core import secrets
    from wxtui.families.wechat.errors import ApiError, WxtuiError

    if secret is None:
        secret_source = ""
    try:
        if profile.needs_secret and secret is None:
            resolved = await secrets.aresolve_secret(profile)
            secret, secret_source = resolved.value, resolved.source
        client = build_client(profile, transport=transport, token_transport=token_transport,
                              secret=secret, **client_kwargs)
    except secrets.SecretUnavailable as exc:
        return AccountTest(False, str(exc).split("\n", 1)[0], str(exc).split("\n", 1)[1])
    except (ConfigError, WxtuiError) as exc:
        return AccountTest(False, str(exc))
    source = client.tokens.source.describe()
    try:
        async with client:
            tags = await client.get_tags()
    except ApiError as exc:
        return AccountTest(False, f"{exc.info.message} (errcode {exc.errcode} on {exc.path})",
                           exc.hint(), exc.errcode, token_source=source, secret_source=secret_source)
    except WxtuiError as exc:
        return AccountTest(False, str(exc), token_source=source, secret_source=secret_source)
    return AccountTest(True, f"{profile.name} ({profile.appid}) answers: {len(tags)} tags",
                       tags=len(tags), token_source=source, secret_source=secret_source)


__all__ = ["account_test", "build_client", "build_token_source", "token_env_for"]
