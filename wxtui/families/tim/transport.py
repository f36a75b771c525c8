"""One Tencent Cloud IM round trip with the service's retry, signature and failover rules.

`TimTransport` is the shared `ApiTransport` (wxtui.core.transport: HTTP client, in-flight slots,
round trip, sticky failover, backoff, `call_observer` events, the attempt loop) with the
service's envelope:

- the query carries sdkappid, identifier, the UserSig, a fresh random uint32 and contenttype;
- the outcome is `ActionStatus`/`ErrorCode`/`ErrorInfo`, not `errcode`;
- 70001 (UserSig expired) signs anew and retries once; 91000, 70169, 70500 and the 600xx rate
  limits back off and retry; transport failures retry on the next host; any other code raises;
- every attempt waits its turn at a client-side rate limiter (100 calls per second).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Callable

import httpx

from wxtui.families.tim import limits
from wxtui.families.tim.errors import (
    TimBadResponseError,
    TimTransportError,
    describe,
    is_rate_limit,
    tim_api_error,
)
from wxtui.families.tim.usersig import UserSigSigner
from wxtui.core.transport import ApiTransport, Envelope, RedactingFilter, RetryEvent, RetryPolicy

# Whatever logs under wxtui.families.tim is scrubbed too (httpx's request lines already are).
logging.getLogger("wxtui.families.tim").addFilter(RedactingFilter())


class RateLimiter:
    """Keeps call starts under `rate` per second, as the server counts them.

    Calls leave one at a time on a schedule `1/rate` apart, stretched by `margin` (2%: 10.2 ms at
    100 per second). A call that leaves late (the event loop was busy) moves the schedule on, so
    calls held back never leave as a burst: consecutive starts are at least one interval less a
    tenth apart, which bounds any second to rate/(1+margin)+1 starts (99) while the small slack
    absorbs the usual sleep overshoot without losing pace. The margin lets calls reach the
    server ~10-20 ms more bunched than they left and still fit its one-second window. An idle
    client sends at once.
    """

    def __init__(self, rate: float, *, margin: float = 0.02, period: float = 1.0,
                 clock: Callable[[], float] | None = None, sleep=asyncio.sleep):
        if rate <= 0:
            raise ValueError("a rate limit must be positive")
        self.rate = float(rate)
        self.interval = (1.0 + margin) * period / self.rate
        self._slack = self.interval / 10
        self._clock = clock or time.monotonic
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._next = float("-inf")
        self.waited_s = 0.0  # total time calls spent waiting for their turn

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            if self._next > now:
                self.waited_s += self._next - now
                await self._sleep(self._next - now)
                now = self._clock()
            self._next = max(self._next + self.interval, now + self.interval - self._slack)


def is_throttle(event: RetryEvent) -> bool:
    """Whether a retry reported to `call_observer` happened because the service asked to slow
    down (a 600xx rate limit), as opposed to an internal error, a garbage answer or the network."""
    kind, _, code = event.reason.partition(" ")
    return kind == "errcode" and code.lstrip("-").isdigit() and is_rate_limit(int(code))


def _outcome(payload: dict, path: str) -> tuple[bool, int, str]:
    """(succeeded, ErrorCode, ErrorInfo) of an answer; an answer without either field is garbage."""
    status = payload.get("ActionStatus")
    code = payload.get("ErrorCode", 0)
    if status is None and "ErrorCode" not in payload:
        raise TimBadResponseError(path, "no ActionStatus or ErrorCode in the answer")
    if isinstance(code, bool) or not isinstance(code, int):
        try:
            code = int(code)
        except (TypeError, ValueError):
            raise TimBadResponseError(path, f"ErrorCode is not a number: {str(code)[:20]!r}") from None
    info = str(payload.get("ErrorInfo") or "")
    if status is not None:
        # OK with an ErrorList is a partial success: the caller reads the ErrorList.
        return str(status).upper() == "OK", code, info
    return code == 0, code, info


def _failed_accounts(payload: dict) -> tuple[str, ...]:
    items = payload.get("ErrorList")
    if not isinstance(items, list):
        return ()
    return tuple(str(i["To_Account"]) for i in items if isinstance(i, dict) and "To_Account" in i)


class TimEnvelope(Envelope):
    """The query carries the signature; the outcome is ActionStatus/ErrorCode/ErrorInfo."""

    transport_error = TimTransportError
    bad_response = TimBadResponseError
    renewal = "usersig"
    renewal_is_retry = True

    def __init__(self, signer: UserSigSigner, limiter: RateLimiter | None):
        self.signer = signer
        self.limiter = limiter

    async def before_attempt(self) -> None:
        if self.limiter is not None:
            await self.limiter.acquire()

    async def credential(self, with_token: bool):
        return await self.signer.current()

    async def renew(self, refused) -> None:
        await self.signer.renew(refused)

    def query(self, params: dict | None, credential):
        query = dict(params) if params else {}
        query.update(sdkappid=self.signer.sdkappid, identifier=self.signer.identifier, usersig=credential,
                     random=secrets.randbits(32), contenttype="json")
        return query, None

    def outcome(self, payload: dict, path: str) -> tuple[bool, int, str]:
        return _outcome(payload, path)

    def category(self, code: int):
        return describe(code).category

    def error(self, code: int, message: str, path: str, payload: dict):
        return tim_api_error(code, message, path, _failed_accounts(payload))


class TimTransport(ApiTransport):
    def __init__(self, signer: UserSigSigner, hosts: list[str] | tuple[str, ...], *,
                 transport: httpx.AsyncBaseTransport | None = None, max_in_flight: int = 8,
                 retry: RetryPolicy = RetryPolicy(), rate_limit: float | None = limits.CALLS_PER_SECOND,
                 seed: int | None = None, clock: Callable[[], float] = time.time, sleep=asyncio.sleep):
        self.signer = signer
        self.limiter = RateLimiter(rate_limit) if rate_limit else None
        super().__init__(hosts, envelope=TimEnvelope(signer, self.limiter), transport=transport,
                         max_in_flight=max_in_flight, retry=retry, seed=seed, clock=clock, sleep=sleep)

    async def post(self, path: str, body: dict) -> dict:
        """One call: POST `path` (/v4/<service>/<command>) with a JSON body; the answer's JSON.

        Raises TimApiError (by category) for ActionStatus FAIL, TimTransportError when no host
        answers, TimBadResponseError for an answer that is not the envelope, after retries."""
        return await self.call("POST", path, json=body)
