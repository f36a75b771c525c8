"""What `wxtui doctor` checks of a WeChat account: where its token comes from, whether each API
host answers, whether a token can be fetched from here (40164: this machine's IP is not on the
whitelist, and which IP to add), whether the account may use the user-management calls (48001:
not verified), and the quota left on the main calls."""

from __future__ import annotations

import asyncio
import time

from wxtui.core.diagnosis import FAIL, INFO, OK, WARN, Section
from wxtui.core.config import CLASSIC_WARNING, Profile
from wxtui.families.wechat.errors import ApiError, WxtuiError

MAIN_CALLS = (
    "/cgi-bin/user/get",
    "/cgi-bin/user/info/batchget",
    "/cgi-bin/tags/members/batchtagging",
    "/cgi-bin/tags/members/batchuntagging",
    "/cgi-bin/tags/members/batchblacklist",
)
LOW_QUOTA_SHARE = 0.1


def _explain(section: Section, label: str, exc: BaseException) -> None:
    if isinstance(exc, ApiError):
        section.add(FAIL, label, f"{exc.info.message} (errcode {exc.errcode} on {exc.path})", exc.hint())
    else:
        section.add(FAIL, label, str(exc))


async def _reach(host: str, transport, timeout: float) -> tuple[bool, str]:
    import httpx

    from wxtui.core.net import default_transport

    started = time.perf_counter()
    try:
        # Through the transport the API clients use, so that what works here works for them.
        async with httpx.AsyncClient(transport=transport if transport is not None else default_transport(),
                                     timeout=timeout, follow_redirects=False) as http:
            # An API call without a token answers errcode 41001 at no cost, through the same
            # front end as every other call.
            response = await http.get(host + "/cgi-bin/tags/get")
    except httpx.TimeoutException:
        return False, f"no answer within {timeout:g} s"
    except httpx.HTTPError as exc:
        return False, f"unreachable ({type(exc).__name__})"
    ms = (time.perf_counter() - started) * 1000
    if response.status_code >= 500:
        return False, f"answers HTTP {response.status_code} ({ms:.0f} ms)"
    return True, f"reachable ({ms:.0f} ms)"


async def check_account(profile: Profile, *, transport=None, token_transport=None,
                        secret: str | None = None, timeout: float = 10.0,
                        allow_prompt: bool = False) -> Section:
    """Every check of one account; the client's calls go through `transport` when given."""
    from wxtui.core import secrets
    from wxtui.families.wechat.accounts import build_client
    from wxtui.core.transport import RetryPolicy

    section = Section(f"Account {profile.name} ({profile.appid})")
    source_detail = f"{profile.token_source}: " + {
        "stable": "cgi-bin/stable_token", "classic": "cgi-bin/token",
        "command": "from a command", "url": "from a URL", "authorizer": "authorizer_access_token",
    }[profile.token_source]
    if profile.token_source == "classic":
        section.add(WARN, "token", source_detail, CLASSIC_WARNING)
    else:
        section.add(OK, "token", source_detail)

    if profile.needs_secret and secret is None:
        try:
            resolved = await asyncio.to_thread(secrets.resolve_secret, profile, allow_prompt=allow_prompt)
        except secrets.SecretUnavailable as exc:
            first, rest = str(exc).split("\n", 1)
            section.add(FAIL, "secret", first, rest)
            return section
        secret = resolved.value
        section.add(OK, "secret", f"from {resolved.source}")
    elif secret is not None:
        section.add(OK, "secret", "given")

    reachable = 0
    for host in profile.hosts:
        ok, detail = await _reach(host, transport, timeout)
        reachable += ok
        section.add(OK if ok else WARN, "host", f"{host} {detail}")
    if not reachable:
        section.add(FAIL, "network", "no API host answers", "check the network, a proxy (HTTPS_PROXY) or the hosts")
        return section

    retry = RetryPolicy(max_retries=1, base_delay=0.2, max_delay=1.0, transport_retries=1,
                        minute_waits=0, timeout_s=timeout)
    try:
        client = build_client(profile, transport=transport, token_transport=token_transport,
                              secret=secret, retry=retry)
    except WxtuiError as exc:
        section.add(FAIL, "profile", str(exc))
        return section
    async with client:
        try:
            await client.access_token()
        except ApiError as exc:
            _explain(section, "whitelist" if exc.errcode in (40164, 61004) else "credentials", exc)
            return section
        except WxtuiError as exc:
            _explain(section, "credentials", exc)
            return section
        section.add(OK, "whitelist", "a token was fetched from this machine")
        try:
            tags = await client.get_tags()
        except ApiError as exc:
            _explain(section, "verified" if exc.errcode == 48001 else "api", exc)
        except WxtuiError as exc:
            _explain(section, "api", exc)
        else:
            section.add(OK, "verified", f"user-management calls allowed ({len(tags)} tags)")
        token_path = {"stable": "/cgi-bin/stable_token", "classic": "/cgi-bin/token"}.get(profile.token_source)
        for path in MAIN_CALLS + ((token_path,) if token_path else ()):
            await _quota(section, client, path)
    return section


async def _quota(section: Section, client, path: str) -> None:
    try:
        quota = await client.get_quota(path)
    except ApiError as exc:
        if exc.errcode == 76021:
            section.add(INFO, "quota", f"{path}: no quota kept")
        else:
            section.add(WARN, "quota", f"{path}: {exc.info.message} (errcode {exc.errcode})", exc.hint())
        return
    except WxtuiError as exc:
        section.add(WARN, "quota", f"{path}: {exc}")
        return
    detail = f"{path}: {quota.remain:,} of {quota.daily_limit:,} left today"
    if quota.remain <= 0:
        section.add(FAIL, "quota", detail, "used up: calls fail with 45009 until midnight China time")
    elif quota.daily_limit and quota.remain < quota.daily_limit * LOW_QUOTA_SHARE:
        section.add(WARN, "quota", detail)
    else:
        section.add(OK, "quota", detail)
