"""The WeChat emulator's admin API under /_emulator/: read the state, turn the knobs (tests,
benchmarks, the CLI). The routes every emulator has are wxtui.emulation.admin's.

It never shows an AppSecret or a token. Bad input answers HTTP 400 with {"error": "..."}.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from wxtui.emulation.admin import BadRequest, common_routes, endpoint, json_body

from .state import Account


def admin_routes(emu) -> list[Route]:
    """The routes of `emu`, a wxtui.families.wechat.emulator.Emulator."""

    def account(appid: object) -> Account:
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
