"""One HTTP round trip to the API, with the platform's retry, token and failover rules.

`ApiTransport.call()` is the only place that talks HTTP. The typed calls in client.py build on
it. Nothing here knows what a tag is.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Callable

import httpx

from wxtui import wire
from wxtui.net import default_transport
from wxtui.wechat import limits
from wxtui.wechat.errors import (
    BadResponseError,
    Category,
    TransportError,
    api_error,
    describe,
    redact,
)
from wxtui.wechat.secret_str import SecretStr

log = logging.getLogger("wxtui.wechat")

_JSON_HEADERS = {"Content-Type": "application/json"}
# Tokens refused to one call that no call had used successfully: more than this, and the
# credentials are taken not to work (a token that worked and was later refused was rotated, which
# may happen any number of times).
MAX_UNPROVEN_TOKENS_REFUSED = 3


class RedactingFilter(logging.Filter):
    """Scrubs tokens and secrets from log records (httpx logs every request URL at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error handling
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


for _name in ("httpx", "httpcore", "wxtui"):
    logging.getLogger(_name).addFilter(RedactingFilter())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. Delays are seconds; tests shrink them."""

    max_retries: int = 5  # for -1, 45169, 45159 and garbage answers
    base_delay: float = 1.0
    max_delay: float = 30.0
    transport_retries: int = 4  # connection errors, timeouts, HTTP 5xx (each may fail over)
    minute_waits: int = 3  # 45011: how many times to wait for the next minute
    minute_wait_s: float | None = None  # None: until the next minute of the wall clock
    timeout_s: float = 15.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential with 'equal jitter': half fixed, half random, capped."""
        delay = min(self.max_delay, self.base_delay * (2 ** attempt))
        return delay / 2 + rng.uniform(0, delay / 2)

    def until_next_minute(self, now: float, rng: random.Random) -> float:
        if self.minute_wait_s is not None:
            return self.minute_wait_s
        return 60 - (now % 60) + rng.uniform(0.2, 1.0)


@dataclass(frozen=True, slots=True)
class RetryEvent:
    path: str
    reason: str  # "errcode -1", "errcode 45011", "HTTP 503", "timeout", "token", ...
    attempt: int
    delay_s: float
    host: str


# Set by whoever runs a call (the bulk-action scheduler) to hear about that call's retries.
call_observer: contextvars.ContextVar[Callable[[RetryEvent], None] | None] = contextvars.ContextVar(
    "wxtui_call_observer", default=None
)


@dataclass
class CallStats:
    calls: int = 0  # HTTP round trips, retries included
    retries: int = 0
    failovers: int = 0
    token_fetches: int = 0
    by_path: dict[str, int] = field(default_factory=dict)


class _Transient(Exception):
    """Internal: a failure worth another try on the next host."""

    def __init__(self, reason: str):
        self.reason = reason


class ApiTransport:
    def __init__(
        self,
        hosts: list[str] | tuple[str, ...] = (limits.DEFAULT_HOST, limits.BACKUP_HOST),
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_in_flight: int = 8,
        retry: RetryPolicy = RetryPolicy(),
        seed: int | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], object] = asyncio.sleep,
    ):
        if not hosts:
            raise ValueError("at least one API host is needed")
        self.hosts = [h.rstrip("/") for h in hosts]
        self._host_index = 0
        self.retry = retry
        self._rng = random.Random(seed)
        self._clock = clock
        self._sleep = sleep
        self._slots = asyncio.Semaphore(max_in_flight)
        self.max_in_flight = max_in_flight
        self.stats = CallStats()
        pool = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
        self._http = httpx.AsyncClient(
            # aiohttp's transport unless a proxy is configured (see wxtui.net). Neither resends
            # a request: every retry is this class's, logged and counted.
            transport=transport if transport is not None else default_transport(pool),
            timeout=httpx.Timeout(retry.timeout_s),
            limits=pool,
            headers={"User-Agent": "wxtui"},
            follow_redirects=False,
        )
        self.token_manager = None  # set by the client; None for token-less calls
        self._urls: dict[tuple[str, str], httpx.URL] = {}  # see _url()
        self._urls_token: SecretStr | None = None

    @property
    def host(self) -> str:
        return self.hosts[self._host_index]

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the raw round trip -------------------------------------------------------------------

    async def request(self, method: str, path: str, *, params: dict | None = None,
                      json: dict | None = None) -> dict:
        """One call without an access token (token endpoints), with transport retries and
        failover, raising ApiError on a non-zero errcode. Used by the token sources."""
        return await self._call(method, path, params=params, json=json, with_token=False)

    async def call(self, method: str, path: str, *, params: dict | None = None,
                   json: dict | None = None) -> dict:
        """One API call with the access token, every retry rule applied."""
        return await self._call(method, path, params=params, json=json, with_token=True)

    async def _call(self, method: str, path: str, *, params: dict | None, json: dict | None,
                    with_token: bool) -> dict:
        body = None
        if json is not None:
            body = wire.dumps(json)
        return await self._attempts(method, path, params, body, with_token)

    async def _attempts(self, method: str, path: str, params: dict | None, body: bytes | None,
                        with_token: bool) -> dict:
        retries = transport_failures = minute_waits = 0
        refused_tokens: list[SecretStr] = []
        unproven_refused = 0
        while True:
            token: SecretStr | None = None
            if with_token:
                token = await self.token_manager.get()
            host = self.host
            try:
                payload = await self._round_trip(method, host, path, params, body, token)
            except _Transient as exc:
                transport_failures += 1
                if transport_failures > self.retry.transport_retries:
                    raise TransportError(path, exc.reason) from None
                self._fail_over(host)
                await self._pause(path, exc.reason, transport_failures - 1, host)
                continue
            except BadResponseError:
                retries += 1
                if retries > self.retry.max_retries:
                    raise
                await self._pause(path, "garbage answer", retries - 1, host)
                continue
            errcode = payload.get("errcode", 0) if isinstance(payload, dict) else 0
            if not errcode:
                if token is not None:
                    self.token_manager.worked(token)
                return payload
            errmsg = str(payload.get("errmsg", ""))
            category = describe(errcode).category
            # The platform's rule: a refused token is fetched again, once per refused token. The
            # token fetched may be refused in turn (the account's tokens were invalidated again
            # meanwhile, by a rotation or another system): it is fetched again too. The same token
            # refused twice, or several that never worked anywhere, mean the credentials do not.
            if category is Category.TOKEN and with_token and token not in refused_tokens:
                if not self.token_manager.has_worked(token):
                    unproven_refused += 1
                if unproven_refused <= MAX_UNPROVEN_TOKENS_REFUSED:
                    refused_tokens.append(token)
                    self._notify(path, "token", len(refused_tokens) - 1, 0.0, host)
                    await self.token_manager.invalidate(token)
                    continue
            if category is Category.RETRY and retries < self.retry.max_retries:
                retries += 1
                await self._pause(path, f"errcode {errcode}", retries - 1, host)
                continue
            if category is Category.MINUTE and minute_waits < self.retry.minute_waits:
                minute_waits += 1
                delay = self.retry.until_next_minute(self._clock(), self._rng)
                self._notify(path, f"errcode {errcode}", minute_waits, delay, host)
                self.stats.retries += 1
                await self._sleep(delay)
                continue
            raise api_error(errcode, errmsg, path)

    async def _round_trip(self, method: str, host: str, path: str, params: dict | None,
                          body: bytes | None, token: SecretStr | None = None) -> dict:
        """One request: `params` as its query, with the access token when one is given.

        It holds one of the in-flight slots while it is on the wire, and only then: reading
        the answer's JSON, backing off before a retry and waiting for a token happen outside,
        so the next call goes out while this one's answer is being read."""
        if params:
            query: dict | None = dict(params)
            if token is not None:
                query["access_token"] = token
        else:
            query = None
        try:
            # httpx enforces its timeouts in the network layer only; this bound holds for any
            # transport (the in-process emulator included) and for a server that trickles bytes.
            # The URL is built inline, never held in a local: tracebacks render locals, and
            # it carries the token in clear (the query dict holds it as a SecretStr).
            async with self._slots, asyncio.timeout(self.retry.timeout_s):
                self.stats.calls += 1
                self.stats.by_path[path] = self.stats.by_path.get(path, 0) + 1
                response = await self._http.request(
                    method, host + path if query is not None else self._url(host, path, token),
                    params=query, content=body, headers=_JSON_HEADERS if body is not None else None)
        except (httpx.TimeoutException, TimeoutError):
            raise _Transient("timed out") from None
        except httpx.TransportError as exc:
            # str(exc) may quote the URL with its token: keep the class and the redacted text.
            raise _Transient(f"{type(exc).__name__}: {redact(str(exc))}") from None
        if response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise BadResponseError(path, f"HTTP {response.status_code}")
        try:
            payload = wire.loads(response.content)
        except ValueError:
            raise BadResponseError(path, f"not JSON: {response.content[:60]!r}") from None
        if not isinstance(payload, dict):
            raise BadResponseError(path, f"a JSON {type(payload).__name__}, not an object")
        return payload

    def _url(self, host: str, path: str, token: SecretStr | None) -> httpx.URL:
        """The URL of a call without parameters of its own (batchget, the tag calls: the hot
        ones), built once per host, path and token: httpx otherwise parses the URL and merges
        the query for every request."""
        if token != self._urls_token:
            self._urls.clear()
            self._urls_token = token
        url = self._urls.get((host, path))
        if url is None:
            params = {"access_token": token} if token is not None else None
            url = self._urls[host, path] = httpx.URL(host + path, params=params)
        return url

    def _fail_over(self, failed_host: str) -> None:
        """After a transport failure, later calls go to the next host (sticky)."""
        if len(self.hosts) > 1 and self.host == failed_host:
            self._host_index = (self._host_index + 1) % len(self.hosts)
            self.stats.failovers += 1
            log.warning("API host %s failed; switching to %s", failed_host, self.host)

    async def _pause(self, path: str, reason: str, attempt: int, host: str) -> None:
        delay = self.retry.backoff(attempt, self._rng)
        self.stats.retries += 1
        self._notify(path, reason, attempt + 1, delay, host)
        await self._sleep(delay)

    def _notify(self, path: str, reason: str, attempt: int, delay: float, host: str) -> None:
        # The reason is redacted where it is made (a transport error's text may quote the URL).
        log.info("%s: %s; trying again (attempt %d) in %.1f s", path, reason, attempt + 1, delay)
        observer = call_observer.get()
        if observer is not None:
            observer(RetryEvent(path, reason, attempt, delay, host))
