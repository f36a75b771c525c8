"""One HTTP round trip to an API, with the retry, credential and failover rules every family shares.

`ApiTransport.call()` is the only place that talks HTTP. A family's client builds its typed calls
on it and hands it an `Envelope`: how the family puts its credential on a call (an access token,
a signature) and reads an answer's outcome (errcode, ActionStatus/ErrorCode). The attempt loop
is one for every family: transport failures fail over to the next host, garbage answers and
retryable codes back off, a refused credential is renewed once, a per-minute limit waits for
the next minute. Nothing here knows what a tag is, nor which family it serves.
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

from wxtui.core import wire
from wxtui.core.errors import ApiError, BadResponseError, Category, TransportError, redact
from wxtui.core.secret_str import SecretStr
from wxtui.core.net import default_transport

log = logging.getLogger("wxtui.api")

_JSON_HEADERS = {"Content-Type": "application/json"}


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
    # The attempt went out and its answer never came back whole (a timeout, a dropped
    # connection, a 5xx, a garbled body): the service may have made the change all the same.
    unanswered: bool = False


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
    """Internal: a failure worth another try on the next host. sent: the request may have
    reached the service (anything but a failure to connect)."""

    def __init__(self, reason: str, sent: bool = True):
        self.reason = reason
        self.sent = sent


class Envelope:
    """How one API family wraps a call and reads its answer. A family subclasses it."""

    transport_error: type[TransportError] = TransportError
    bad_response: type[BadResponseError] = BadResponseError
    renewal = "token"  # how a renewal of the credential is reported ("token", "usersig")
    renewal_is_retry = False  # whether a renewal counts among the transport's retries
    # Refused credentials that no call had used successfully, renewed before the credentials are
    # taken not to work (one that worked and was refused later was rotated: renewed any time).
    unproven_renewals = 1

    async def before_attempt(self) -> None:
        """Wait for the attempt's turn (a client-side rate limit), if the family has one."""

    async def credential(self, with_token: bool):
        """The credential this attempt carries (None: none)."""
        return None

    async def renew(self, refused) -> None:
        """The credential `refused` was refused: the next `credential()` is a fresh one."""

    def worked(self, credential) -> None:
        """A call succeeded with this credential."""

    def has_worked(self, credential) -> bool:
        """Some call succeeded with this credential (so a refusal of it now is a rotation)."""
        return False

    def query(self, params: dict | None, credential) -> tuple[dict | None, SecretStr | None]:
        """The attempt's query and the access token to add to it (a family that signs its
        query itself returns the signed query and None)."""
        return params, credential

    def outcome(self, payload: dict, path: str) -> tuple[bool, int, str]:
        """(succeeded, code, message) of an answer; raises `bad_response` for one that is garbage."""
        raise NotImplementedError

    def category(self, code: int) -> Category:
        raise NotImplementedError

    def error(self, code: int, message: str, path: str, payload: dict) -> ApiError:
        """The exception for a failed answer, of the class its category calls for."""
        raise NotImplementedError


class ApiTransport:
    def __init__(
        self,
        hosts: list[str] | tuple[str, ...],
        *,
        envelope: Envelope,
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
        self.envelope = envelope
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
            # aiohttp's transport unless a proxy is configured (see wxtui.core.net). Neither resends
            # a request: every retry is this class's, logged and counted.
            transport=transport if transport is not None else default_transport(pool),
            timeout=httpx.Timeout(retry.timeout_s),
            limits=pool,
            headers={"User-Agent": "wxtui"},
            follow_redirects=False,
        )
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
        envelope = self.envelope
        retries = transport_failures = minute_waits = 0
        refused: list = []  # the credentials refused to this call
        unproven_refused = 0
        while True:
            await envelope.before_attempt()
            credential = await envelope.credential(with_token)
            query, token = envelope.query(params, credential)
            host = self.host
            try:
                payload = await self._round_trip(method, host, path, query, body, token)
                ok, code, message = envelope.outcome(payload, path)
            except _Transient as exc:
                transport_failures += 1
                if transport_failures > self.retry.transport_retries:
                    raise envelope.transport_error(path, exc.reason) from None
                self._fail_over(host)
                await self._pause(path, exc.reason, transport_failures - 1, host, unanswered=exc.sent)
                continue
            except BadResponseError as exc:
                retries += 1
                if retries > self.retry.max_retries:
                    if isinstance(exc, envelope.bad_response):
                        raise
                    raise envelope.bad_response(path, exc.detail) from None
                await self._pause(path, "garbage answer", retries - 1, host, unanswered=True)
                continue
            if ok:
                if credential is not None:
                    envelope.worked(credential)
                return payload
            category = envelope.category(code)
            # A refused credential is renewed, once per refused credential: the one renewed may be
            # refused in turn (the account's tokens were invalidated again meanwhile, by a rotation
            # or another system) and is renewed too. The same one refused twice, or more than the
            # family allows that never worked anywhere, mean the credentials do not.
            if category is Category.TOKEN and credential is not None and credential not in refused:
                if not envelope.has_worked(credential):
                    unproven_refused += 1
                if unproven_refused <= envelope.unproven_renewals:
                    refused.append(credential)
                    if envelope.renewal_is_retry:
                        self.stats.retries += 1
                    self._notify(path, envelope.renewal, len(refused) - 1, 0.0, host)
                    await envelope.renew(credential)
                    continue
            if category is Category.RETRY and retries < self.retry.max_retries:
                retries += 1
                await self._pause(path, f"errcode {code}", retries - 1, host)
                continue
            if category is Category.MINUTE and minute_waits < self.retry.minute_waits:
                minute_waits += 1
                delay = self.retry.until_next_minute(self._clock(), self._rng)
                self._notify(path, f"errcode {code}", minute_waits, delay, host)
                self.stats.retries += 1
                await self._sleep(delay)
                continue
            raise envelope.error(code, message, path, payload)

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
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # Nothing was sent. str(exc) may quote the URL with its token: keep the class and
            # the redacted text.
            raise _Transient(f"{type(exc).__name__}: {redact(str(exc))}", sent=False) from None
        except (httpx.TimeoutException, TimeoutError):
            raise _Transient("timed out") from None
        except httpx.TransportError as exc:
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

    async def _pause(self, path: str, reason: str, attempt: int, host: str, *, unanswered: bool = False) -> None:
        delay = self.retry.backoff(attempt, self._rng)
        self.stats.retries += 1
        self._notify(path, reason, attempt + 1, delay, host, unanswered=unanswered)
        await self._sleep(delay)

    def _notify(self, path: str, reason: str, attempt: int, delay: float, host: str, *,
                unanswered: bool = False) -> None:
        # The reason is redacted where it is made (a transport error's text may quote the URL).
        log.info("%s: %s; trying again (attempt %d) in %.1f s", path, reason, attempt + 1, delay)
        observer = call_observer.get()
        if observer is not None:
            observer(RetryEvent(path, reason, attempt, delay, host, unanswered))


class ApiClient:
    """What every family's typed client shares: the lifecycle and counters of its ApiTransport.

    A family's client sets `transport` and says how many credentials it has made (tokens
    fetched, signatures made), which the counters report as token_fetches."""

    transport: ApiTransport

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()

    def credentials_made(self) -> int:
        return 0

    @property
    def stats(self) -> CallStats:
        """Round trips, retries, failovers, calls by path, and the credentials made."""
        self.transport.stats.token_fetches = self.credentials_made()
        return self.transport.stats

    @property
    def max_in_flight(self) -> int:
        return self.transport.max_in_flight
