"""The admin API under /_emulator/: read the state, turn the knobs (tests, benchmarks, the CLI).

It never shows an AppSecret or a token. Bad input answers HTTP 400 with {"error": "..."}.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

if TYPE_CHECKING:
    from .app import Emulator
    from .state import Account


class BadRequest(Exception):
    pass


async def json_body(request: Request) -> dict:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def endpoint(handler):
    """An admin route handler: its dict as JSON, or HTTP 400 {"error": ...} for bad input."""
    async def run(request: Request) -> JSONResponse:
        try:
            return JSONResponse(await handler(request))
        except (BadRequest, ValueError, TypeError, LookupError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    return run


def common_routes(emu) -> list[Route]:
    """The admin routes of any emulator with `stats`, `faults` and `clock` (WeChat's and IM's)."""

    async def stats(request: Request) -> dict:
        return emu.stats.to_dict()

    async def stats_reset(request: Request) -> dict:
        emu.stats.reset()
        return emu.stats.to_dict()

    async def faults(request: Request) -> dict:
        emu.faults.update(**await json_body(request))
        return emu.faults.to_dict()

    async def clock_advance(request: Request) -> dict:
        body = await json_body(request)
        emu.clock.advance(float(body.get("seconds", 0)))
        if "speed" in body:
            emu.clock.speed = float(body["speed"])
        return {"now": emu.clock.now(), "speed": emu.clock.speed}

    return [
        Route("/_emulator/stats", endpoint(stats), methods=["GET"]),
        Route("/_emulator/stats/reset", endpoint(stats_reset), methods=["POST"]),
        Route("/_emulator/faults", endpoint(faults), methods=["POST"]),
        Route("/_emulator/clock/advance", endpoint(clock_advance), methods=["POST"]),
    ]


def admin_routes(emu: "Emulator") -> list[Route]:
    def account(appid: object) -> "Account":
        if appid is None:
            return emu.account
        acct = emu.account_by_appid(appid)
        if acct is None:
            raise BadRequest(f"no account with AppID {appid!r}")
        return acct

    async def state(request: Request) -> dict:
        return {
            "clock": {"now": emu.clock.now(), "speed": emu.clock.speed},
            "faults": emu.faults.to_dict(),
            "accounts": [a.summary() for a in emu.accounts],
        }

    async def tokens_invalidate(request: Request) -> dict:
        emu.invalidate_tokens()
        return {"invalidated": True}

    async def followers_remove(request: Request) -> dict:
        body = await json_body(request)
        openids = body.get("openids")
        if not isinstance(openids, list):
            raise BadRequest('expected {"openids": [...]}')
        acct = account(body.get("appid"))
        unknown = [o for o in openids if not isinstance(o, str) or not acct.has_openid(o)]
        if unknown:
            raise BadRequest(f"not followers of {acct.name}: {unknown[:5]}")
        acct.remove_followers(openids)
        return {"removed": len(openids), "followers": acct.subscribed_count()}

    async def followers_add(request: Request) -> dict:
        body = await json_body(request)
        count = body.get("count")
        if not isinstance(count, int) or count < 0:
            raise BadRequest('expected {"count": N}')
        return {"openids": account(body.get("appid")).add_followers(count)}

    async def follower(request: Request) -> dict:
        openid = request.query_params.get("openid", "")
        acct = emu.account_by_openid(openid)
        if acct is None or not acct.has_openid(openid):
            raise BadRequest(f"unknown openid {openid!r}")
        return {"follower": acct.follower(openid), "blacklisted": acct.is_blacklisted(openid)}

    return [
        Route("/_emulator/state", endpoint(state), methods=["GET"]),
        *common_routes(emu),
        Route("/_emulator/tokens/invalidate", endpoint(tokens_invalidate), methods=["POST"]),
        Route("/_emulator/followers/remove", endpoint(followers_remove), methods=["POST"]),
        Route("/_emulator/followers/add", endpoint(followers_add), methods=["POST"]),
        Route("/_emulator/follower", endpoint(follower), methods=["GET"]),
    ]
