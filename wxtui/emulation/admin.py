"""The admin routes every emulator has under /_emulator/: stats, stats/reset, faults, clock/advance;
and what each family's own routes are built with. Bad input answers HTTP 400 with {"error": "..."}.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


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
