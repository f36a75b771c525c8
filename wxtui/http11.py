"""A lean keep-alive HTTP/1.1 transport for httpx, on asyncio streams.

    httpx.AsyncClient(transport=Http11Transport())

The API clients send small JSON requests and read small JSON answers, thousands of them in a
sync, eight at a time. httpx's default transport (httpcore on anyio, h11) spends ~1 ms of CPU
on each such call here, as much as everything else the sync does per call; this one spends a
fraction of that (bench/sync_bench.py measures both). It speaks only what those calls need:

- HTTP/1.1 with keep-alive: idle connections are kept per (scheme, host, port) for
  `keepalive_expiry` seconds and checked before reuse; a request that fails on a reused
  connection before any byte of the answer came back is sent once more on a fresh one (the
  server closed the idle connection as we reused it).
- Answers framed by Content-Length, chunked transfer coding or the end of the connection;
  1xx interim answers skipped; HEAD, 204 and 304 without a body. The body is read whole
  (httpx then decodes gzip or deflate as the headers say).
- TLS with certificate and host name checks (httpx's own SSL context: certifi, SSL_CERT_FILE).
- Timeouts from the request (connect, read, write) and httpx's exception classes, with
  messages that name the host, never the URL (its query carries the access token).

No proxies: `default_transport()` gives None (httpx's own transport, which honours the
HTTP(S)_PROXY variables) when a proxy is configured in the environment.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
import urllib.parse
import urllib.request
from collections import defaultdict

import httpx

# A status line and headers longer than this are refused. It is also the streams' buffer
# size, which they let grow to twice this before pausing the socket: a page of 10,000 openids
# (~300 KB) then arrives without a pause.
_MAX_HEAD = 256 * 1024
_NO_BODY_STATUS = {204, 304}
_CRLF = b"\r\n"


def default_transport(**kwargs) -> "Http11Transport | None":
    """The transport the API clients use: this one, unless the environment configures a
    proxy or WXTUI_HTTP=httpx asks for httpx's own (None lets httpx choose)."""
    if _httpx_asked() or _proxies():
        return None
    return Http11Transport(**kwargs)


def describe_transport() -> str:
    """Which transport default_transport() picks and why, for `wxtui doctor`. Proxies are
    named by scheme and host only: their URLs may carry a user and password."""
    if _httpx_asked():
        return "httpx's own (WXTUI_HTTP=httpx)"
    proxies = _proxies()
    if proxies:
        named = ", ".join(f"{scheme} via {_host_of(url)}" for scheme, url in sorted(proxies.items()))
        return f"httpx's own, through a proxy ({named})"
    return "keep-alive HTTP/1.1 (no proxy configured)"


def _httpx_asked() -> bool:
    return os.environ.get("WXTUI_HTTP", "").strip().lower() == "httpx"


def _proxies() -> dict[str, str]:
    proxies = urllib.request.getproxies_environment()
    proxies.pop("no", None)  # NO_PROXY alone names exceptions and configures no proxy
    return proxies


def _host_of(url: str) -> str:
    parsed = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
    try:
        port = parsed.port
    except ValueError:
        port = None
    host = parsed.hostname or "?"
    return f"{host}:{port}" if port else host


class _Connection:
    __slots__ = ("reader", "writer", "idle_since")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def usable(self, now: float, expiry: float) -> bool:
        """Idle and still open: the server has not closed it nor sent anything unasked."""
        return (now - self.idle_since < expiry and not self.writer.is_closing()
                and not self.reader.at_eof() and not self.reader._buffer)  # noqa: SLF001

    def close(self) -> None:
        self.writer.close()


class _NoAnswer(Exception):
    """Internal: the connection failed before any byte of the answer arrived."""

    def __init__(self, error: httpx.TransportError):
        self.error = error


class Http11Transport(httpx.AsyncBaseTransport):
    def __init__(self, *, verify: ssl.SSLContext | bool = True, keepalive_expiry: float = 5.0,
                 max_idle_per_host: int = 16):
        self._verify = verify
        self._ssl: ssl.SSLContext | None = verify if isinstance(verify, ssl.SSLContext) else None
        self._expiry = keepalive_expiry
        self._max_idle = max_idle_per_host
        self._idle: dict[tuple[str, str, int], list[_Connection]] = defaultdict(list)
        self._closed = False

    async def aclose(self) -> None:
        self._closed = True
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.")
        if not url.host:
            raise httpx.UnsupportedProtocol("Request URL is missing a host.")
        if self._closed:
            raise httpx.ConnectError("the transport is closed")
        key = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
        head, body = await self._encode(request)
        timeouts = request.extensions.get("timeout") or {}
        conn = self._take_idle(key)
        if conn is not None:
            try:
                return await self._exchange(conn, key, request, head, body, timeouts)
            except _NoAnswer:
                pass  # the server dropped the idle connection: once more on a fresh one
        conn = await self._connect(key, request, timeouts.get("connect"))
        try:
            return await self._exchange(conn, key, request, head, body, timeouts)
        except _NoAnswer as failed:
            raise failed.error from None

    # ---- connections -----------------------------------------------------------------------

    def _take_idle(self, key) -> _Connection | None:
        conns = self._idle.get(key)
        now = time.monotonic()
        while conns:
            conn = conns.pop()
            if conn.usable(now, self._expiry):
                return conn
            conn.close()
        return None

    def _put_idle(self, key, conn: _Connection) -> None:
        conns = self._idle[key]
        if self._closed or len(conns) >= self._max_idle:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        conns.append(conn)

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context(verify=self._verify)
        return self._ssl

    async def _connect(self, key, request: httpx.Request, timeout: float | None) -> _Connection:
        scheme, host, port = key
        tls = None
        server_hostname = None
        if scheme == "https":
            tls = self._ssl_context()
            server_hostname = request.extensions.get("sni_hostname") or host
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=server_hostname, limit=_MAX_HEAD)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from None
        except ssl.SSLError as exc:
            raise httpx.ConnectError(f"TLS with {host}:{port} failed: {exc.reason or exc}") from None
        except OSError as exc:
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
        return _Connection(reader, writer)

    # ---- one exchange ----------------------------------------------------------------------

    @staticmethod
    async def _encode(request: httpx.Request) -> tuple[bytes, bytes]:
        body = await request.aread()
        lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), request.url.raw_path)]
        has_length = False
        for name, value in request.headers.raw:
            lower = name.lower()
            if lower == b"transfer-encoding":
                continue  # the body is read whole and sent with its length
            if lower == b"content-length":
                has_length = True
                value = b"%d" % len(body)
            lines.append(name + b": " + value)
        if not has_length and (body or request.method in ("POST", "PUT", "PATCH")):
            lines.append(b"Content-Length: %d" % len(body))
        lines.append(_CRLF)
        return _CRLF.join(lines), body

    async def _exchange(self, conn: _Connection, key, request: httpx.Request, head: bytes, body: bytes,
                        timeouts: dict) -> httpx.Response:
        where = f"{key[1]}:{key[2]}"
        reader, writer = conn.reader, conn.writer
        try:
            writer.write(head + body if len(body) < 65536 else head)
            if len(body) >= 65536:
                writer.write(body)
            async with asyncio.timeout(timeouts.get("write")):
                await writer.drain()
        except TimeoutError:
            conn.close()
            raise httpx.WriteTimeout(f"sending to {where} timed out") from None
        except OSError as exc:
            conn.close()
            raise _NoAnswer(httpx.WriteError(f"sending to {where} failed: {exc.strerror or exc}")) from None
        except BaseException:  # cancelled while sending: the connection is mid-request
            conn.close()
            raise
        try:
            async with asyncio.timeout(timeouts.get("read")):
                version, status, reason, headers, keep_alive = await self._read_head(reader, where)
                content = await self._read_body(reader, request.method, status, headers, where)
                if content is None:  # framed by the end of the connection
                    content = await self._read_to_end(reader, where)
                    keep_alive = False
        except TimeoutError:
            conn.close()
            raise httpx.ReadTimeout(f"waiting for {where} timed out") from None
        except BaseException:
            conn.close()
            raise
        if keep_alive:
            self._put_idle(key, conn)
        else:
            conn.close()
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content),
                              extensions={"http_version": version, "reason_phrase": reason})

    async def _read_head(self, reader: asyncio.StreamReader, where: str):
        first = True
        while True:
            try:
                raw = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                error = httpx.RemoteProtocolError(f"{where} closed the connection without an answer")
                if first and not exc.partial:
                    raise _NoAnswer(error) from None
                raise error from None
            except asyncio.LimitOverrunError:
                raise httpx.RemoteProtocolError(f"{where} sent headers over {_MAX_HEAD} bytes") from None
            except OSError as exc:
                error = httpx.ReadError(f"reading from {where} failed: {exc.strerror or exc}")
                if first:
                    raise _NoAnswer(error) from None
                raise error from None
            first = False
            lines = raw[:-4].split(_CRLF)
            parts = lines[0].split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
                raise httpx.RemoteProtocolError(f"{where} sent a malformed status line")
            status = int(parts[1])
            headers = []
            for line in lines[1:]:
                name, sep, value = line.partition(b":")
                if not sep or not name or name != name.strip():
                    raise httpx.RemoteProtocolError(f"{where} sent a malformed header line")
                headers.append((name, value.strip()))
            if 100 <= status < 200 and status != 101:
                continue  # an interim answer: the real one follows
            keep_alive = parts[0] == b"HTTP/1.1"
            for name, value in headers:
                if name.lower() == b"connection":
                    tokens = {t.strip().lower() for t in value.split(b",")}
                    if b"close" in tokens:
                        keep_alive = False
                    elif b"keep-alive" in tokens:
                        keep_alive = True
            reason = parts[2] if len(parts) > 2 else b""
            return parts[0], status, reason, headers, keep_alive

    async def _read_body(self, reader: asyncio.StreamReader, method: str, status: int, headers: list,
                         where: str) -> bytes | None:
        """The body, or None when only the end of the connection ends it."""
        if method == "HEAD" or status in _NO_BODY_STATUS:
            return b""
        length = None
        chunked = False
        for name, value in headers:
            lower = name.lower()
            if lower == b"transfer-encoding":
                chunked = value.strip().lower().endswith(b"chunked")
            elif lower == b"content-length":
                if not value.isdigit() or (length is not None and int(value) != length):
                    raise httpx.RemoteProtocolError(f"{where} sent a bad Content-Length")
                length = int(value)
        try:
            if chunked:
                return await self._read_chunked(reader, where)
            if length is not None:
                return await reader.readexactly(length)
        except asyncio.IncompleteReadError:
            raise httpx.RemoteProtocolError(f"{where} closed the connection in the middle of an answer") from None
        except asyncio.LimitOverrunError:
            raise httpx.RemoteProtocolError(f"{where} sent a malformed chunk") from None
        except OSError as exc:
            raise httpx.ReadError(f"reading from {where} failed: {exc.strerror or exc}") from None
        return None

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader, where: str) -> bytes:
        parts = []
        while True:
            line = await reader.readuntil(_CRLF)
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                size = -1
            if size < 0:  # int() also takes a sign, which readexactly() would refuse
                raise httpx.RemoteProtocolError(f"{where} sent a malformed chunk size")
            if size == 0:
                while await reader.readuntil(_CRLF) != _CRLF:
                    pass  # trailer fields, ignored
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            if await reader.readexactly(2) != _CRLF:
                raise httpx.RemoteProtocolError(f"{where} sent a malformed chunk")

    @staticmethod
    async def _read_to_end(reader: asyncio.StreamReader, where: str) -> bytes:
        try:
            return await reader.read()
        except OSError as exc:
            raise httpx.ReadError(f"reading from {where} failed: {exc.strerror or exc}") from None
