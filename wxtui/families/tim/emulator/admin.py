"""The IM emulator's admin API under /_emulator/ (tests, benchmarks, the CLI).

Shared with the WeChat emulator: stats, stats/reset, faults, clock/advance. Of its own: state,
accounts/import, accounts/delete, account (one account's tags), rate (calls per second). It never
shows the secret key. Bad input answers HTTP 400 with {"error": "..."}.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from wxtui.emulation.admin import BadRequest, common_routes, endpoint, json_body


def _account_list(body: dict) -> list[str]:
    accounts = body.get("accounts")
    if not isinstance(accounts, list) or not all(isinstance(a, str) and a for a in accounts):
        raise BadRequest('expected {"accounts": ["user000001", ...]}')
    return accounts


def admin_routes(emu) -> list[Route]:
    """The routes of `emu`, a wxtui.families.tim.emulator.TimEmulator."""

    async def state(request: Request) -> dict:
        return {
            "clock": {"now": emu.clock.now(), "speed": emu.clock.speed},
            "faults": emu.faults.to_dict(),
            "calls_per_second": emu.calls_per_second,
            "app": emu.state.summary(),
        }

    async def accounts_import(request: Request) -> dict:
        emu.state.import_accounts(_account_list(await json_body(request)))
        return {"accounts": emu.state.account_count()}

    async def accounts_delete(request: Request) -> dict:
        emu.state.delete_accounts(_account_list(await json_body(request)))
        return {"accounts": emu.state.account_count()}

    async def account(request: Request) -> dict:
        name = request.query_params.get("id", "")
        if not emu.state.is_imported(name):
            raise BadRequest(f"no imported account {name!r}")
        return {"account": name, "tags": emu.state.tags_of(name)}

    async def rate(request: Request) -> dict:
        value = (await json_body(request)).get("calls_per_second")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise BadRequest('expected {"calls_per_second": N} with N > 0')
        emu.calls_per_second = value
        return {"calls_per_second": value}

    return [
        Route("/_emulator/state", endpoint(state), methods=["GET"]),
        *common_routes(emu),
        Route("/_emulator/accounts/import", endpoint(accounts_import), methods=["POST"]),
        Route("/_emulator/accounts/delete", endpoint(accounts_delete), methods=["POST"]),
        Route("/_emulator/account", endpoint(account), methods=["GET"]),
        Route("/_emulator/rate", endpoint(rate), methods=["POST"]),
    ]
