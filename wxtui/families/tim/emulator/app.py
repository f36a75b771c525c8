"""The IM emulator: one app's state, signature checks, a rate limit, faults and stats behind
one Starlette app, served in-process (`transport()`) or on loopback (wxtui.emulation.server).

It reuses the WeChat emulator's `Clock`, `Faults` and `Stats`. The knobs mean here:
latency_ms/jitter_ms, p_5xx (HTTP 503), p_slow/slow_s, p_garbage (HTTP 200, a body cut short)
and down_hosts as there; p_busy answers 91000 (internal error) and p_minute answers 60018 (rate
limit). invalidate_token_every and tag_propagation_s have no IM meaning and are ignored.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wxtui.core import wire
from wxtui.emulation.faults import Clock, Faults, Stats, injected_fault, left_of, sleep
from wxtui.emulation.failure import ApiFailure
from wxtui.families.tim import limits
from wxtui.families.tim.errors import ERRORS, RATE_LIMIT_CODES
from wxtui.families.tim.usersig import UserSigError, verify_usersig

from . import demo
from .admin import admin_routes
from .api import ENDPOINTS, INVALID_PARAMETER, Endpoint
from .state import TimState

JSON_TYPE = "application/json; charset=utf-8"
GARBAGE_BODY = b'{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"UserTa'
UNAVAILABLE_BODY = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
BUSY = 91000
RATE_LIMITED = 60018
KEY_NOT_FOUND = 70016
SDKAPPID_NOT_FOUND = 70020


class TimStats(Stats):
    """The WeChat emulator's per-path counters, plus the per-account codes of ErrorLists."""

    def reset(self) -> None:
        super().reset()
        self.account_errors: defaultdict[str, Counter[int]] = defaultdict(Counter)

    @property
    def rate_limited(self) -> int:
        return sum(c[code] for c in self.errcodes.values() for code in RATE_LIMIT_CODES)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d.pop("openid_much_req", None)
        d["account_errors"] = {p: {str(k): v for k, v in c.items()} for p, c in self.account_errors.items()}
        d["rate_limited"] = self.rate_limited
        return d


def _json(payload: dict, status: int = 200) -> Response:
    body = wire.dumps(payload)
    return Response(body, status_code=status, media_type=JSON_TYPE)


class TimEmulator:
    """In-memory Tencent Cloud IM REST API (the tag calls and account_check) for one app."""

    family_key = "tim"  # the family whose API it emulates (wxtui.family)

    def __init__(self, state: TimState, *, seed: int = 1, clock: Clock | None = None,
                 calls_per_second: int = limits.CALLS_PER_SECOND):
        self.state = state
        self.seed = seed
        self.clock = clock or Clock()
        self.faults = Faults(seed=seed)
        self.stats = TimStats()
        self.calls_per_second = calls_per_second  # per command, on the emulated clock
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self.app = Starlette(routes=[
            Route("/v4/{service}/{command}", self._v4, methods=["POST"]),
            *admin_routes(self),
        ])

    @classmethod
    def demo(cls, accounts: int = 10_000, seed: int = 1, latency_ms: float = 0,
             region: str = limits.DEFAULT_REGION) -> "TimEmulator":
        """A demo app with `accounts` imported accounts (user000000...) carrying the demo tags."""
        emu = cls(demo.build(accounts, seed, region=region), seed=seed)
        emu.faults.latency_ms = latency_ms
        return emu

    # Credentials the emulator accepts, for clients, tests and the CLI.
    @property
    def sdkappid(self) -> int:
        return self.state.sdkappid

    @property
    def identifier(self) -> str:
        return self.state.admin

    @property
    def secret_key(self) -> str:
        return self.state.key

    def transport(self, client: tuple[str, int] = ("127.0.0.1", 50000)):
        import httpx

        return httpx.ASGITransport(app=self.app, client=client)

    def client(self, **kwargs):
        """A TimClient on this emulator, in-process unless `hosts`/`transport` say otherwise."""
        from wxtui.families.tim.client import TimClient

        kwargs.setdefault("region", self.state.region)
        if "hosts" not in kwargs:
            kwargs.setdefault("transport", self.transport())
        return TimClient(self.sdkappid, self.identifier, self.secret_key, **kwargs)

    def __repr__(self) -> str:
        return f"TimEmulator(seed={self.seed}, app={self.state!r})"

    # ---- the API ---------------------------------------------------------------------------

    async def _v4(self, request: Request) -> Response:
        path = request.url.path
        endpoint = ENDPOINTS.get(path)
        if endpoint is None:
            return Response(b"not found", status_code=404, media_type="text/plain")
        stats, faults = self.stats, self.faults
        early, arrived, delay = await injected_fault(
            faults, stats, path, request.headers.get("host", ""),
            unavailable=lambda: Response(UNAVAILABLE_BODY, status_code=502, media_type="text/html"),
            garbage=lambda: Response(GARBAGE_BODY, media_type=JSON_TYPE))
        if early is not None:
            return early
        try:
            if faults.hit(faults.p_busy):
                raise ApiFailure(BUSY)
            if faults.hit(faults.p_minute):
                raise ApiFailure(RATE_LIMITED)
            self._authenticate(request, endpoint)
            self._admit(path)
            payload = endpoint.handler(self.state, await self._body(request, endpoint))
            for item in payload.get("ErrorList", ()):
                stats.account_errors[path][item["ErrorCode"]] += 1
        except ApiFailure as failure:
            payload = self._error(path, failure)
        response = _json(payload)
        await sleep(left_of(delay, arrived))
        return response

    def _error(self, path: str, failure: ApiFailure) -> dict:
        code = failure.errcode
        self.stats.errcodes[path][code] += 1
        info = failure.errmsg or (ERRORS[code].errmsg if code in ERRORS else "error")
        return {"ActionStatus": "FAIL", "ErrorInfo": info, "ErrorCode": code}

    def _authenticate(self, request: Request, endpoint: Endpoint) -> None:
        """The checks of the gateway, in its order: data centre and app, signature, admin, envelope."""
        state, q = self.state, request.query_params
        sdkappid = q.get("sdkappid", "")
        if not sdkappid.isdigit() or int(sdkappid) != state.sdkappid:
            raise ApiFailure(SDKAPPID_NOT_FOUND)
        region = limits.region_of_host(request.headers.get("host", ""))
        if region is not None and region.key != state.region:
            raise ApiFailure(KEY_NOT_FOUND, f"SDKAppID {sdkappid} is not served by the {region.name} data centre")
        identifier = q.get("identifier", "")
        try:
            verify_usersig(q.get("usersig", ""), sdkappid=state.sdkappid, key=state.key,
                           identifier=identifier, now=self.clock.now())
        except UserSigError as exc:
            raise ApiFailure(exc.code) from None
        if identifier not in state.admins:
            raise ApiFailure(endpoint.admin_code)
        random = q.get("random", "")
        if not random.isdigit() or int(random) > limits.RANDOM_MAX:
            raise ApiFailure(INVALID_PARAMETER, "random must be an unsigned 32-bit integer")
        if q.get("contenttype", "").lower() != "json":
            raise ApiFailure(INVALID_PARAMETER, "contenttype must be json")

    def _admit(self, path: str) -> None:
        """At most calls_per_second accepted calls of one command in any second (emulated clock)."""
        now = self.clock.now()
        recent = self._recent[path]
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) >= self.calls_per_second:
            raise ApiFailure(RATE_LIMITED)
        recent.append(now)

    @staticmethod
    async def _body(request: Request, endpoint: Endpoint) -> dict:
        try:
            body = wire.loads(await request.body())
        except ValueError:
            raise ApiFailure(endpoint.parse_code) from None
        if not isinstance(body, dict):
            raise ApiFailure(endpoint.parse_code)
        return body

