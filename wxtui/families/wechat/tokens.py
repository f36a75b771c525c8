"""Where access tokens come from, and the one place that decides when to fetch a new one.

Sources:
- StableTokenSource (default): cgi-bin/stable_token. Repeated calls return the same token, so it
  is safe beside a production backend that uses the same account.
- ClassicTokenSource: cgi-bin/token. Every call mints a new token and kills the previous one five
  minutes later, including the token of any other system using the account.
- FixedTokenSource: a token handed over as it is (a third-party platform's
  authorizer_access_token), optionally renewed by a caller-supplied coroutine.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from abc import ABC, abstractmethod
from collections import deque
from typing import Awaitable, Callable, Protocol

from wxtui.families.wechat.errors import BadResponseError, CredentialsUnavailable
from wxtui.families.wechat.models import Token
from wxtui.core.secret_str import SecretStr

# Renew a token this long before it expires (the stable token rolls over in its last 5 minutes).
REFRESH_MARGIN_S = 240
PROVEN_TOKENS_KEPT = 4

# A callable giving the AppSecret when a token is fetched; it may be a coroutine function, so a
# provider that reads a keyring or runs a command does it off the event loop.
SecretProvider = Callable[[], "str | Awaitable[str]"]


class RawRequest(Protocol):
    """The client's request function without a token: (method, path, params, json) -> payload."""

    def __call__(self, method: str, path: str, *, params: dict | None = None,
                 json: dict | None = None) -> Awaitable[dict]: ...


class TokenSource(ABC):
    kind: str = "token"

    @abstractmethod
    async def fetch(self, request: RawRequest, *, force: bool = False) -> Token:
        """A fresh token. `force` asks for a rotation where the source supports it."""

    def describe(self) -> str:
        return self.kind


def _token_from(payload: dict, path: str, now: float) -> Token:
    value = payload.get("access_token")
    expires_in = payload.get("expires_in")
    if not isinstance(value, str) or not value or not isinstance(expires_in, int):
        raise BadResponseError(path, "no access_token/expires_in in the answer")
    return Token(SecretStr(value), now + expires_in)


async def _secret_of(secret: str | SecretProvider) -> str:
    value = secret() if callable(secret) else secret
    if inspect.isawaitable(value):
        value = await value
    if not value:
        raise CredentialsUnavailable("No AppSecret is available for this account (see: wxtui account add)")
    return value


class StableTokenSource(TokenSource):
    kind = "stable"

    def __init__(self, appid: str, secret: str | SecretProvider, clock: Callable[[], float] = time.time):
        self.appid = appid
        self._secret = secret
        self._clock = clock

    async def fetch(self, request: RawRequest, *, force: bool = False) -> Token:
        body = {
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": SecretStr(await _secret_of(self._secret)),
            "force_refresh": bool(force),
        }
        payload = await request("POST", "/cgi-bin/stable_token", json=body)
        return _token_from(payload, "/cgi-bin/stable_token", self._clock())

    def describe(self) -> str:
        return "stable token (cgi-bin/stable_token)"


class ClassicTokenSource(TokenSource):
    kind = "classic"

    def __init__(self, appid: str, secret: str | SecretProvider, clock: Callable[[], float] = time.time):
        self.appid = appid
        self._secret = secret
        self._clock = clock

    async def fetch(self, request: RawRequest, *, force: bool = False) -> Token:
        params = {"grant_type": "client_credential", "appid": self.appid,
                  "secret": SecretStr(await _secret_of(self._secret))}
        payload = await request("GET", "/cgi-bin/token", params=params)
        return _token_from(payload, "/cgi-bin/token", self._clock())

    def describe(self) -> str:
        return "classic token (cgi-bin/token: invalidates other systems' tokens)"


class FixedTokenSource(TokenSource):
    """A token supplied from outside; `renew` (if given) is awaited for a new one."""

    kind = "fixed"

    def __init__(self, token: str, *, expires_in: int = 7200,
                 renew: Callable[[], Awaitable[tuple[str, int]]] | None = None,
                 clock: Callable[[], float] = time.time):
        self._token = Token(SecretStr(token), clock() + expires_in)
        self._renew = renew
        self._clock = clock
        self._served = False

    async def fetch(self, request: RawRequest, *, force: bool = False) -> Token:
        # The first fetch hands out the token as given; any later one means it failed or
        # expired, so renew it when we can (without a renew command the caller's error stands).
        if self._renew is not None and (self._served or force):
            value, expires_in = await self._renew()
            self._token = Token(SecretStr(value), self._clock() + expires_in)
        self._served = True
        return self._token

    def describe(self) -> str:
        return "fixed token" + (" with a renew command" if self._renew else "")


class TokenManager:
    """Holds the current token; fetches it once for all concurrent callers.

    The refresh rule of the platform: on a token error, refetch once, and only if the token that
    failed is still the current one (another call may have refreshed it already).
    """

    def __init__(self, source: TokenSource, request: RawRequest, clock: Callable[[], float] = time.time):
        self.source = source
        self._request = request
        self._clock = clock
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0
        self._worked: deque[str] = deque(maxlen=PROVEN_TOKENS_KEPT)  # tokens some call succeeded with

    async def get(self) -> SecretStr:
        token = self._token
        if token is None or self._clock() >= token.expires_at - REFRESH_MARGIN_S:
            await self._refresh_if_current(token)
        assert self._token is not None
        return self._token.value

    def worked(self, token: str) -> None:
        """A call succeeded with this token."""
        if token not in self._worked:
            self._worked.append(token)

    def has_worked(self, token: str) -> bool:
        """Some call succeeded with this token (so a refusal of it now is a rotation, not bad
        credentials)."""
        return token in self._worked

    async def invalidate(self, failed: str) -> None:
        """The call using `failed` was refused: refetch, unless someone already did."""
        token = self._token
        if token is not None and token.value != failed:
            return
        await self._refresh_if_current(token)

    async def _refresh_if_current(self, seen: Token | None) -> None:
        async with self._lock:
            if self._token is not seen:
                return  # another caller refreshed while we waited for the lock
            self.fetches += 1
            self._token = await self.source.fetch(self._request)

    def forget(self) -> None:
        self._token = None
