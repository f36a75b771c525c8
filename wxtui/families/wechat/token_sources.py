"""Token sources that take the access token from outside instead of fetching it with the secret.

- CommandTokenSource: a command prints the token (a company's central token service through its
  CLI, or `curl` with the service's credentials).
- UrlTokenSource: a URL answers the token (the same service, reached directly).
- AuthorizerTokenSource: a third-party platform's authorizer_access_token, handed over as it is,
  then renewed by a command when it is refused or expires.

What a command prints or a URL answers, either:
  {"access_token": "...", "expires_in": 7200}   (or "authorizer_access_token"; expires_in optional)
  or just the token on the first line.
A JSON answer with a non-zero "errcode" is the service passing on WeChat's refusal: it is reported
with the errcode table's message. When the API refuses a token, the client asks its source again
(once per refusal), so a service that rotates its token is followed without a restart.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Awaitable, Callable

import httpx

from wxtui.families.wechat import limits
from wxtui.families.wechat.errors import WxtuiError, describe, redact
from wxtui.families.wechat.models import Token
from wxtui.core.secret_str import SecretStr
from wxtui.families.wechat.tokens import RawRequest, TokenSource

DEFAULT_EXPIRES_IN = limits.TOKEN_LIFETIME_S
COMMAND_TIMEOUT_S = 30.0
URL_TIMEOUT_S = 15.0


class TokenSourceError(WxtuiError):
    """The token could not be had from the configured source; str() says why (never the token)."""


def parse_token_answer(raw: bytes | str, where: str) -> tuple[SecretStr, int]:
    """(token, expires_in) from what a command printed or a URL answered."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = text.strip()
    if not text:
        raise TokenSourceError(f"{where} gave an empty answer")
    if text.startswith("{"):
        try:
            payload = json.loads(text)
        except ValueError:
            raise TokenSourceError(f"{where} answered JSON that cannot be parsed") from None
        return _token_from_json(payload, where)
    return _checked(text.splitlines()[0].strip(), where), DEFAULT_EXPIRES_IN


def _token_from_json(payload: object, where: str) -> tuple[SecretStr, int]:
    if not isinstance(payload, dict):
        raise TokenSourceError(f"{where} answered JSON that is not an object")
    errcode = payload.get("errcode")
    if isinstance(errcode, int) and errcode != 0:
        info = describe(errcode)
        errmsg = redact(str(payload.get("errmsg", "")))
        hint = f": {info.hint}" if info.hint else ""
        raise TokenSourceError(f"{where} passed on WeChat's refusal: {info.message} "
                               f"(errcode {errcode}{', ' + errmsg if errmsg else ''}){hint}")
    value = payload.get("access_token") or payload.get("authorizer_access_token")
    if not isinstance(value, str):
        raise TokenSourceError(f"{where} answered JSON without access_token")
    expires_in = payload.get("expires_in", DEFAULT_EXPIRES_IN)
    if isinstance(expires_in, str) and expires_in.isdigit():
        expires_in = int(expires_in)
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
        raise TokenSourceError(f"{where} answered an expires_in that is not a positive number of seconds")
    return _checked(value, where), expires_in


def _checked(value: str, where: str) -> SecretStr:
    if not value or len(value) > limits.MAX_TOKEN_LENGTH or not value.isascii() or any(
            c.isspace() or not c.isprintable() for c in value):
        raise TokenSourceError(f"{where} answered something that is not an access token "
                               f"(printable ASCII without spaces, at most {limits.MAX_TOKEN_LENGTH} characters)")
    return SecretStr(value)


async def run_token_command(argv: list[str], *, appid: str = "", timeout: float = COMMAND_TIMEOUT_S,
                            what: str = "token command") -> tuple[SecretStr, int]:
    """Run a command that prints a token; its stdin is closed so it cannot wait on the terminal."""
    where = f"The {what} ({argv[0]})"
    env = dict(os.environ, WXTUI_APPID=appid) if appid else None
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env)
    except FileNotFoundError:
        raise TokenSourceError(f"{where} was not found") from None
    except OSError as exc:
        raise TokenSourceError(f"{where} could not run: {exc.strerror or exc}") from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise TokenSourceError(f"{where} did not finish within {timeout:g} s") from None
    if proc.returncode != 0:
        lines = err.decode("utf-8", "replace").strip().splitlines()
        detail = f": {redact(lines[-1].strip())[:160]}" if lines else ""
        raise TokenSourceError(f"{where} exited with status {proc.returncode}{detail}")
    return parse_token_answer(out, where)


class CommandTokenSource(TokenSource):
    kind = "command"

    def __init__(self, argv: list[str], *, appid: str = "", timeout: float = COMMAND_TIMEOUT_S,
                 clock: Callable[[], float] = time.time):
        if not argv:
            raise ValueError("a token command is needed")
        self.argv = list(argv)
        self.appid = appid
        self._timeout = timeout
        self._clock = clock

    async def fetch(self, request: RawRequest, *, force: bool = False) -> Token:
        value, expires_in = await run_token_command(self.argv, appid=self.appid, timeout=self._timeout)
        return Token(value, self._clock() + expires_in)

    def describe(self) -> str:
        return f"token from a command ({self.argv[0]})"


class UrlTokenSource(TokenSource):
    """GET a URL for the token. `{appid}` in the URL is replaced by the AppID."""

    kind = "url"

    def __init__(self, url: str, *, appid: str = "", transport: httpx.AsyncBaseTransport | None = None,
                 headers: dict[str, str] | None = None, timeout: float = URL_TIMEOUT_S,
                 clock: Callable[[], float] = time.time):
        self.url = url.replace("{appid}", appid)
        self.appid = appid
        self._transport = transport
        self._headers = dict(headers or {})
        self._timeout = timeout
        self._clock = clock

    @property
    def shown_url(self) -> str:
        """The URL without what may carry a credential (user info, query string)."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"

    @property
    def where(self) -> str:
        return f"The token service ({self.shown_url})"

    async def fetch(self, request: RawRequest, *, force: bool = False) -> Token:
        headers = {"User-Agent": "wxtui", **self._headers}
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=self._timeout,
                                         headers=headers, follow_redirects=False) as http:
                response = await http.get(self.url)
        except httpx.TimeoutException:
            raise TokenSourceError(f"{self.where} did not answer within {self._timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise TokenSourceError(f"{self.where} could not be reached: {type(exc).__name__}: "
                                   f"{redact(str(exc))}") from None
        if response.status_code != 200:
            raise TokenSourceError(f"{self.where} answered HTTP {response.status_code}")
        value, expires_in = parse_token_answer(response.content, self.where)
        return Token(value, self._clock() + expires_in)

    def describe(self) -> str:
        return f"token from a URL ({self.shown_url})"


TokenProvider = Callable[[], "str | None | Awaitable[str | None]"]


class AuthorizerTokenSource(TokenSource):
    """A third-party platform's authorizer_access_token.

    The first fetch uses the token handed over (`initial`, e.g. from an environment variable) if
    there is one; every later fetch means the token was refused or is about to expire, so the
    refresh command is run for a new one.
    """

    kind = "authorizer"

    def __init__(self, refresh_argv: list[str] | None, *, appid: str = "",
                 initial: TokenProvider | None = None, expires_in: int = DEFAULT_EXPIRES_IN,
                 timeout: float = COMMAND_TIMEOUT_S, clock: Callable[[], float] = time.time):
        self.refresh_argv = list(refresh_argv) if refresh_argv else None
        self.appid = appid
        self._initial = initial
        self._expires_in = expires_in
        self._timeout = timeout
        self._clock = clock
        self._served = False

    async def fetch(self, request: RawRequest, *, force: bool = False) -> Token:
        if not self._served and not force and self._initial is not None:
            value = self._initial()
            if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
                value = await value
            if value:
                self._served = True
                return Token(_checked(value, "The authorizer_access_token"), self._clock() + self._expires_in)
        if self.refresh_argv is None:
            if self._served:
                raise TokenSourceError("The authorizer_access_token was refused or has expired, and the "
                                       "profile has no refresh_command to renew it")
            raise TokenSourceError("No authorizer_access_token was given and the profile has no "
                                   "refresh_command to get one")
        value, expires_in = await run_token_command(self.refresh_argv, appid=self.appid,
                                                    timeout=self._timeout, what="refresh command")
        self._served = True
        return Token(value, self._clock() + expires_in)

    def describe(self) -> str:
        renew = f", renewed by {self.refresh_argv[0]}" if self.refresh_argv else ", never renewed"
        return "third-party authorizer_access_token" + renew
