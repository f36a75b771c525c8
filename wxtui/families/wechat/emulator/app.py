"""The Emulator: accounts, tokens, faults and stats behind one Starlette app."""

from __future__ import annotations

import asyncio
import hmac
import random

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wxtui.core import wire
from wxtui.families.wechat.errors import ERRORS

from . import demo
from .admin import admin_routes
from .api import ENDPOINTS, TOKEN_PATHS, Call
from wxtui.emulation.faults import Clock, Faults, Stats, injected_fault, left_of, sleep
from wxtui.emulation.failure import ApiFailure
from .state import Account, make_prefix
from .tokens import TokenIssuer

JSON_TYPE = "application/json; encoding=utf-8"
# errmsgs of codes the shared table does not carry (the client never needs to explain them).
_EXTRA_ERRMSGS = {47001: "data format error"}
# What a broken gateway sends: HTTP 200, a body cut short.
GARBAGE_BODY = b'{"errcode":0,"errmsg":"ok","tag'
UNAVAILABLE_BODY = b"<html><body><h1>503 Service Unavailable</h1></body></html>"


def _json(payload: dict, status: int = 200) -> Response:
    body = wire.dumps(payload)
    return Response(body, status_code=status, media_type=JSON_TYPE)


def _unavailable() -> Response:
    return Response(UNAVAILABLE_BODY, status_code=503, media_type="text/html")


class Emulator:
    """In-memory WeChat Official Account API. `app` is the ASGI app; `transport()` serves it to httpx."""

    family_key = "wechat"  # the family whose API it emulates (wxtui.family)

    def __init__(self, seed: int = 1, *, clock: Clock | None = None):
        self.seed = seed
        self.clock = clock or Clock()
        self.faults = Faults(seed=seed)
        self.stats = Stats()
        self.accounts: list[Account] = []
        self.tokens = TokenIssuer(self.clock)
        self._rid_rng = random.Random(seed)
        self._api_calls = 0
        self.app = Starlette(routes=[
            Route("/cgi-bin/{path:path}", self._cgi, methods=["GET", "POST"]),
            *admin_routes(self),
        ])

    # ---- accounts --------------------------------------------------------------------------

    def add_account(self, name: str = "Acme Coffee", followers: int = 0, seed: int | None = None,
                    appid: str | None = None, secret: str | None = None, *, prefix: str | None = None,
                    verified: bool = True, ip_whitelist: set[str] | None = None) -> Account:
        """A new account populated with `followers` demo followers; everything derives from `seed`."""
        if seed is None:
            seed = self.seed + len(self.accounts)
        rng = random.Random(seed)
        # Always drawn, in this order, so that the followers do not depend on which were given.
        derived_appid = "wx" + rng.randbytes(8).hex()
        derived_secret = rng.randbytes(16).hex()
        derived_prefix = make_prefix(rng)
        acct = Account(name=name, appid=appid or derived_appid, secret=secret or derived_secret,
                       prefix=prefix or derived_prefix, clock=self.clock, rng=rng,
                       verified=verified, ip_whitelist=ip_whitelist)
        for other in self.accounts:
            if other.appid == acct.appid or other.prefix == acct.prefix:
                raise ValueError("two accounts with the same AppID or openid prefix (same seed?)")
        demo.populate(acct, followers, rng)
        self.accounts.append(acct)
        return acct

    @classmethod
    def demo(cls, followers: int = 10_000, seed: int = 1, latency_ms: float = 0) -> "Emulator":
        """One populated demo account, "Acme Coffee"."""
        emu = cls(seed=seed)
        emu.faults.latency_ms = latency_ms
        emu.add_account(name="Acme Coffee", followers=followers, seed=seed)
        return emu

    @property
    def account(self) -> Account:
        if not self.accounts:
            raise LookupError("the emulator has no account yet: call add_account()")
        return self.accounts[0]

    def account_by_appid(self, appid: object) -> Account | None:
        return next((a for a in self.accounts if a.appid == appid), None)

    def account_by_openid(self, openid: str) -> Account | None:
        return next((a for a in self.accounts if openid.startswith(a.prefix)), None)

    def transport(self, client: tuple[str, int] = ("127.0.0.1", 50000)):
        import httpx

        return httpx.ASGITransport(app=self.app, client=client)

    def invalidate_tokens(self) -> None:
        self.tokens.invalidate_all()

    def __repr__(self) -> str:
        return f"Emulator(seed={self.seed}, accounts={[a.name for a in self.accounts]})"

    # ---- answers ---------------------------------------------------------------------------

    def _error(self, path: str, failure: ApiFailure) -> dict:
        code = failure.errcode
        text = failure.errmsg or (ERRORS[code].errmsg if code in ERRORS else _EXTRA_ERRMSGS[code])
        self.stats.errcodes[path][code] += 1
        rid = f"{int(self.clock.now()):08x}-{self._rid_rng.getrandbits(40):010x}"
        return {"errcode": code, "errmsg": f"{text} rid: {rid}"}

    @staticmethod
    def _check_ip(acct: Account, request: Request) -> None:
        if acct.ip_whitelist is not None:
            ip = request.client.host if request.client else "127.0.0.1"
            if ip not in acct.ip_whitelist:
                raise ApiFailure(40164, f"invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist")

    @staticmethod
    async def _body(request: Request, required: bool) -> dict:
        raw = await request.body()
        if not raw.strip():
            if required:
                raise ApiFailure(44002)
            return {}
        try:
            body = wire.loads(raw)
        except ValueError:
            raise ApiFailure(47001) from None
        if not isinstance(body, dict):
            raise ApiFailure(47001)
        return body

    # ---- cgi-bin ---------------------------------------------------------------------------

    async def _cgi(self, request: Request) -> Response:
        path = request.url.path
        if path in TOKEN_PATHS:
            return await self._token_call(request, path)
        endpoint = ENDPOINTS.get(path)
        if endpoint is None:
            return Response(b"not found", status_code=404, media_type="text/plain")
        stats, faults = self.stats, self.faults
        early, arrived, delay = await injected_fault(
            faults, stats, path, request.headers.get("host", ""), unavailable=_unavailable,
            garbage=lambda: Response(GARBAGE_BODY, media_type=JSON_TYPE))
        if early is not None:
            return early
        call = None
        try:
            if faults.hit(faults.p_busy):
                raise ApiFailure(-1)
            if faults.hit(faults.p_minute):
                raise ApiFailure(45011)
            if request.method not in endpoint.methods:
                raise ApiFailure(43002)
            if faults.invalidate_token_every > 0:
                self._api_calls += 1
                if self._api_calls % faults.invalidate_token_every == 0:
                    self.tokens.invalidate_all()
            query = request.query_params
            acct = self.tokens.check(query.get("access_token"))
            self._check_ip(acct, request)
            if endpoint.account_calls and not acct.verified:
                raise ApiFailure(48001)
            acct.quotas.charge(path)
            call = Call(query, await self._body(request, "GET" not in endpoint.methods),
                        faults.tag_propagation_s)
            payload = endpoint.handler(acct, call)
        except ApiFailure as failure:
            payload = self._error(path, failure)
        response = _json(payload)
        delay = left_of(delay, arrived)
        if call is not None and call.held and delay > 0:
            await self._hold(acct, call.held, delay)
        else:
            await sleep(delay)
        return response

    @staticmethod
    async def _hold(acct: Account, openids: list[str], seconds: float) -> None:
        """Keep the call's openids in flight while it answers (another tagging call gets 45169)."""
        inflight = acct.inflight
        inflight.update(openids)
        try:
            await asyncio.sleep(seconds)
        finally:
            inflight.subtract(openids)
            for o in set(openids):
                if inflight[o] <= 0:
                    del inflight[o]

    async def _token_call(self, request: Request, path: str) -> Response:
        self.stats.calls[path] += 1
        try:
            if path == "/cgi-bin/token":
                q = request.query_params
                grant, appid, secret = q.get("grant_type"), q.get("appid"), q.get("secret")
                force = False
            else:
                if request.method != "POST":
                    raise ApiFailure(43002)
                body = await self._body(request, required=True)
                grant, appid, secret = body.get("grant_type"), body.get("appid"), body.get("secret")
                force = body.get("force_refresh") in (True, 1, "true")
            acct = self._credentials(grant, appid, secret, request)
            acct.quotas.charge(path)
            if path == "/cgi-bin/token":
                payload = self.tokens.classic(acct)
            else:
                payload = self.tokens.stable(acct, force)
        except ApiFailure as failure:
            payload = self._error(path, failure)
        return _json(payload)

    def _credentials(self, grant, appid, secret, request: Request) -> Account:
        if grant != "client_credential":
            raise ApiFailure(40002)
        if not appid:
            raise ApiFailure(41002)
        if not secret:
            raise ApiFailure(41004)
        acct = self.account_by_appid(appid)
        if acct is None:
            raise ApiFailure(40013)
        self._check_ip(acct, request)
        if not hmac.compare_digest(str(secret).encode(), acct.secret.encode()):
            raise ApiFailure(40125)
        return acct

