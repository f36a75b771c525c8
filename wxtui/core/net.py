"""The HTTP transport under the API clients' httpx.AsyncClient: aiohttp's, through httpx-aiohttp.

    httpx.AsyncClient(transport=default_transport(limits))

The API clients send small JSON requests and read small JSON answers, thousands of them in a
sync. httpx's own transport (httpcore on anyio, h11 in pure Python) spends more CPU on each
call than the rest of the sync does; aiohttp parses HTTP in C (llhttp) and is kept as well as
httpx is. bench/sync_bench.py measures the candidates side by side (`--transport`).

What this module adds to httpx-aiohttp's transport, so that it behaves as httpx's own does:

- Every aiohttp exception comes out as httpx's (httpx-aiohttp lets `ClientResponseError`
  through and calls a dropped connection a connect timeout), with a message that names the
  host and never the URL: the URL's query carries the access token.
- aiohttp resends an idempotent request once when a reused connection drops; the API
  transport (wxtui.core.transport) owns every retry, logs it and fails over, so that resend
  is switched off. A request is sent once per attempt, whatever its method.
- Proxies stay httpx's business: when the system or the environment configures one
  (urllib's `getproxies()`, which httpx reads too: variables, and the macOS and Windows
  settings), `default_transport()` gives None and httpx builds its own transport with its own
  proxy handling, NO_PROXY included.
"""

from __future__ import annotations

import asyncio
import ssl
import typing
import urllib.parse
import urllib.request
from importlib.metadata import version

import httpx

if typing.TYPE_CHECKING:
    import aiohttp

# aiohttp is imported, and the TLS context made, when a transport sends its first request, not
# when it is built: together they take a few hundred milliseconds, which a command or an app
# start that sends nothing (wxtui jobs, the first frame) should not pay.


def default_transport(limits: httpx.Limits | None = None) -> httpx.AsyncBaseTransport | None:
    """The transport the API clients use: aiohttp's, unless a proxy is configured (None lets
    httpx choose its own, which honours it)."""
    if configured_proxies():
        return None
    return ApiHttpTransport(limits=limits or httpx.Limits())


def describe_transport() -> str:
    """Which transport default_transport() picks and why, for `wxtui doctor`. Proxies are
    named by scheme and host only: their URLs may carry a user and password."""
    proxies = configured_proxies()
    if proxies:
        named = ", ".join(f"{scheme} via {_host_of(url)}" for scheme, url in sorted(proxies.items()))
        return f"httpx's own, through a proxy ({named})"
    return f"aiohttp {version('aiohttp')} under httpx {httpx.__version__} (no proxy configured)"


def configured_proxies() -> dict[str, str]:
    """The proxies httpx would use, by scheme: what urllib finds in the environment and, on
    macOS and Windows, in the system settings."""
    # httpx reads these three and ignores the rest (NO_PROXY alone configures no proxy).
    return {scheme: url for scheme, url in urllib.request.getproxies().items()
            if url and scheme in ("http", "https", "all")}


def _host_of(url: str) -> str:
    parsed = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
    try:
        port = parsed.port
    except ValueError:
        port = None
    host = parsed.hostname or "?"
    return f"{host}:{port}" if port else host


class ApiHttpTransport(httpx.AsyncBaseTransport):
    """httpx-aiohttp's transport with httpx's exceptions, no resend of its own, and the
    request's own `Connection: close` honoured (aiohttp heeds only the answer's): such a request
    goes through a second session whose connections serve one request each."""

    def __init__(self, *, verify: ssl.SSLContext | bool = True, limits: httpx.Limits = httpx.Limits()):
        self._verify = verify
        self._limits = limits
        self._reusing: httpx.AsyncBaseTransport | None = None
        self._closing: httpx.AsyncBaseTransport | None = None

    def _ready(self) -> None:
        if self._reusing is not None:
            return
        from httpx_aiohttp import AiohttpTransport

        tls, limits = httpx.create_ssl_context(verify=self._verify), self._limits
        self._reusing = AiohttpTransport(verify=tls, client=lambda: _session(tls, limits, force_close=False))
        self._closing = AiohttpTransport(verify=tls, client=lambda: _session(tls, limits, force_close=True))

    async def aclose(self) -> None:
        if self._reusing is not None:
            await self._reusing.aclose()
            await self._closing.aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._ready()
        where = _where(request.url)
        asks_close = any(token.strip().lower() == "close"
                         for value in request.headers.get_list("connection") for token in value.split(","))
        try:
            response = await (self._closing if asks_close else self._reusing).handle_async_request(request)
        except Exception as exc:  # httpx-aiohttp's mapping first, then ours on its cause
            raise _as_httpx(_unwrapped(exc), where, answering=False) from None
        response.stream = _MappedStream(response.stream, where)
        return response


def _session(tls: ssl.SSLContext, limits: httpx.Limits, *, force_close: bool) -> aiohttp.ClientSession:
    import aiohttp

    connector = aiohttp.TCPConnector(
        ssl=tls, limit=limits.max_connections or 0, force_close=force_close,
        keepalive_timeout=None if force_close else limits.keepalive_expiry)
    session = aiohttp.ClientSession(connector=connector)
    # aiohttp has no public switch for its resend of an idempotent request after a reused
    # connection drops; its own test client turns it off the same way.
    session._retry_connection = False  # noqa: SLF001
    return session


class _MappedStream(httpx.AsyncByteStream):
    """The answer's body, read with aiohttp's exceptions turned into httpx's."""

    def __init__(self, stream: httpx.AsyncByteStream, where: str):
        self._stream = stream
        self._where = where

    async def __aiter__(self) -> typing.AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except Exception as exc:
            raise _as_httpx(_unwrapped(exc), self._where, answering=True) from None

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        except Exception as exc:
            raise _as_httpx(_unwrapped(exc), self._where, answering=True) from None


def _unwrapped(exc: BaseException) -> BaseException:
    """The aiohttp exception behind httpx-aiohttp's mapping of it (which words and classes
    some of them wrongly), or the exception itself."""
    if isinstance(exc, httpx.HTTPError) and isinstance(exc.__cause__, Exception):
        return exc.__cause__
    return exc


def _where(url: httpx.URL) -> str:
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"{url.host}:{port}"


def _as_httpx(exc: BaseException, where: str, *, answering: bool) -> BaseException:
    """httpx's exception for an aiohttp one, worded without the URL. Anything that is not a
    network failure (a bug, a cancellation) is returned as it is."""
    import aiohttp

    if isinstance(exc, httpx.HTTPError):
        return exc
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(f"connecting to {where} timed out")
    if isinstance(exc, (aiohttp.SocketTimeoutError, aiohttp.ServerTimeoutError, asyncio.TimeoutError)):
        return httpx.ReadTimeout(f"waiting for {where} timed out")
    if isinstance(exc, (aiohttp.ClientSSLError, aiohttp.ClientConnectorCertificateError)):
        return httpx.ConnectError(f"TLS with {where} failed: {_reason(exc)}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(f"cannot connect to {where}: {exc.strerror or exc.os_error}")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(
            f"{where} closed the connection {'in the middle of an answer' if answering else 'without an answer'}")
    if isinstance(exc, (aiohttp.ClientPayloadError, aiohttp.ClientResponseError)):
        # A malformed answer: aiohttp's parser said what was wrong with it (ClientResponseError's
        # own str() would quote the URL).
        detail = exc.message if isinstance(exc, aiohttp.ClientResponseError) else str(exc)
        return httpx.RemoteProtocolError(f"{where} sent a malformed answer: {detail}")
    if isinstance(exc, (aiohttp.NonHttpUrlClientError, aiohttp.InvalidUrlClientError)):
        return httpx.UnsupportedProtocol(f"unsupported URL for {where}")
    if isinstance(exc, aiohttp.ClientOSError):
        return httpx.ReadError(f"{'reading from' if answering else 'talking to'} {where} failed: "
                               f"{exc.strerror or exc}")
    if isinstance(exc, aiohttp.ClientError):
        return httpx.TransportError(f"{where}: {type(exc).__name__}")
    if isinstance(exc, ValueError) and not answering:
        # aiohttp refuses a header carrying CR or LF (or another malformed request) this way.
        return httpx.LocalProtocolError(f"request to {where} refused: {exc}")
    return exc


def _reason(exc: BaseException) -> str:
    cause = getattr(exc, "os_error", None) or getattr(exc, "certificate_error", None) or exc
    return str(getattr(cause, "reason", None) or getattr(cause, "verify_message", None) or cause)
