"""`wxtui serve`: the app in a browser, for the person who started it and nobody else.

The app behind the page holds the account's AppSecret, so the page, its WebSocket and its
downloads answer only a request that
- names a loopback host (127.0.0.1, localhost, [::1]) in its Host header, so a DNS-rebound name
  gets nothing;
- carries no Origin, or the very origin the page was served as (a WebSocket must carry it): a
  page on another site cannot open the socket from the admin's browser (403);
- holds this run's token: in the printed address's `?token=`, exchanged at once for an HttpOnly,
  SameSite=Strict cookie, or that cookie (401 otherwise, with a page saying where the address is).
At most `max_sessions` app processes run at once; one more gets a page saying so, not a process.

textual-serve has no authentication, no Origin check and no session limit. Its `Server` is
meant to be subclassed (handlers and logging are methods); this module is a thin layer over it:
one aiohttp middleware in front of every route, the page's addresses taken from the request (so
`localhost` and a tunnel on another local port work), a session count around its WebSocket
handler, and our own listening loop (the address is printed only once the port is ours, and
`--port 0` takes a free one). It is tested with textual-serve 1.1.3, pinned in pyproject.toml:
a new release may rename what is overridden here, so moving the pin means running
tests/test_serve.py and tests/test_serve_browser.py again.
"""

from __future__ import annotations

import asyncio
import errno
import html
import json
import logging
import os
import re
import secrets
import signal
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server, to_int

TOKEN_BYTES = 32  # 256 bits
MIN_TOKEN_FILE_CHARS = 32  # 128 bits as hex (`openssl rand -hex 16`), more as base64
TOKEN_QUERY = "token"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-]+")
_TOKEN_IN_TEXT = re.compile(r"(token=)[^&\s\"';]+", re.IGNORECASE)


class ServeError(Exception):
    """A reason `wxtui serve` cannot start, fit for the user."""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_from_file(path: Path) -> str:
    """The token kept in path, or a new one written there (mode 0600) when the file is missing.

    The file is refused unless it is a regular file of this user that nobody else may read or
    write: whoever can read it can act on the account.
    """
    path = path.expanduser()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        return _read_token_file(path)
    except OSError as exc:
        raise ServeError(f"cannot create the token file {path}: {exc.strerror}") from None
    token = new_token()
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(token + "\n")
    return token


def _read_token_file(path: Path) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ServeError(f"cannot read the token file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "r", encoding="ascii", errors="replace") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ServeError(f"the token file {path} is not a regular file")
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise ServeError(f"the token file {path} belongs to another user: refused")
        if info.st_mode & 0o077:
            raise ServeError(
                f"the token file {path} may be read or changed by others "
                f"(mode {stat.S_IMODE(info.st_mode):03o}): refused. Run `chmod 600 {path}`.")
        token = file.read(4096).strip()
    if len(token) < MIN_TOKEN_FILE_CHARS or not _TOKEN_CHARS.fullmatch(token):
        raise ServeError(
            f"the token file {path} must hold one token of at least {MIN_TOKEN_FILE_CHARS} letters, "
            "digits, '-' or '_' (e.g. `openssl rand -hex 32`); delete it to have one made")
    return token


class RedactServeToken(logging.Filter):
    """Takes this run's token out of every record: request lines carry `?token=`."""

    def __init__(self, token: str):
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _TOKEN_IN_TEXT.sub(r"\1***", message).replace(self._token, "***")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


@dataclass
class SessionCount:
    limit: int
    active: int = 0

    @property
    def full(self) -> bool:
        return self.active >= self.limit

    def try_open(self) -> bool:
        if self.full:
            return False
        self.active += 1
        return True

    def close(self) -> None:
        self.active -= 1


_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


def _page(status: int, title: str, body_html: str, *, extra_head: str = "") -> web.Response:
    document = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>wxtui · {html.escape(title)}</title>{extra_head}"
        "<style>body{font-family:sans-serif;max-width:40em;margin:3em auto;line-height:1.5;"
        "color:#ddd;background:#0c181f}code{background:#12232d;padding:0 .3em}</style>"
        f"</head><body><h1>{html.escape(title)}</h1>{body_html}</body></html>")
    return web.Response(status=status, text=document, content_type="text/html",
                        headers=_PAGE_HEADERS)


def _address_again_page() -> web.Response:
    return _page(401, "This page needs its address with the token", (
        "<p>Each <code>wxtui serve</code> prints, once, the address to open: "
        "<code>http://127.0.0.1:PORT/?token=…</code>. Look for it in the terminal (or the log "
        "of the service) where <code>wxtui serve</code> runs, and open that whole address.</p>"
        "<p>Started with <code>--token-file PATH</code>? The token is the content of that file. "
        "Otherwise a new <code>wxtui serve</code> prints a new address (the old one stops "
        "working).</p>"))


class WxtuiServer(Server):
    """textual-serve's server, open only to the holder of this run's token."""

    def __init__(self, command: str, *, token: str, port: int, max_sessions: int = 2,
                 host: str = "127.0.0.1", announce=print):
        super().__init__(command, host=host, port=port, title="wxtui")
        self.token = token
        self.sessions = SessionCount(max_sessions)
        self._token_bytes = token.encode("ascii")
        self._announce = announce
        self.listening_port = port

    # -- the gate ----------------------------------------------------------------------------

    @property
    def cookie_name(self) -> str:
        # Cookies are not kept apart by port: two servers on one host need two names.
        return f"wxtui-serve-{self.listening_port}"

    def _token_matches(self, candidate: str | None) -> bool:
        if not candidate:
            return False
        return secrets.compare_digest(candidate.encode("utf-8", "replace"), self._token_bytes)

    @web.middleware
    async def gate(self, request: web.Request, handler) -> web.StreamResponse:
        if (request.url.host or "").lower() not in LOOPBACK_NAMES:
            return web.Response(status=403, text="wxtui serves loopback names only "
                                                 "(127.0.0.1, localhost).\n")
        origin = request.headers.get("Origin")
        is_websocket = request.headers.get("Upgrade", "").lower() == "websocket"
        if (origin is None and is_websocket) or (
                origin is not None and origin.lower() != f"http://{request.host}".lower()):
            return web.Response(status=403, text="Refused: this request comes from another site.\n")
        from_query = request.query.get(TOKEN_QUERY)
        if from_query is not None:
            if not self._token_matches(from_query):
                return _address_again_page()
            if request.method == "GET" and not is_websocket:
                return self._exchange_for_cookie(request)
        elif not self._token_matches(request.cookies.get(self.cookie_name)):
            return _address_again_page()
        response = await handler(request)
        if not response.prepared:  # a WebSocket's handshake has long been sent
            for name, value in _PAGE_HEADERS.items():
                if name != "Cache-Control":
                    response.headers.setdefault(name, value)
        return response

    def _exchange_for_cookie(self, request: web.Request) -> web.Response:
        """Keep the token in a cookie and reload the address without it.

        The reload is asked by this page rather than by a redirect: a SameSite=Strict cookie is
        not sent on a redirect of a navigation that another site started (a link clicked in a
        web mail or chat), while it is on a navigation this page starts itself.
        """
        rest = [(k, v) for k, v in request.query.items() if k != TOKEN_QUERY]
        target = request.rel_url.raw_path + (f"?{urlencode(rest)}" if rest else "")
        quoted = html.escape(target, quote=True)
        in_script = json.dumps(target).replace("<", "\\u003c")
        response = _page(200, "Opening…", f"<p><a href=\"{quoted}\">Open wxtui</a></p>",
                         extra_head=(f"<meta http-equiv='refresh' content='0;url={quoted}'>"
                                     f"<script>location.replace({in_script})</script>"))
        response.set_cookie(self.cookie_name, self.token, path="/", httponly=True,
                            samesite="Strict")
        return response

    def _sessions_full_page(self) -> web.Response:
        limit = self.sessions.limit
        return _page(503, "wxtui is open elsewhere", (
            f"<p>{limit} session{'s' if limit != 1 else ''} of this <code>wxtui serve</code> "
            f"{'are' if limit != 1 else 'is'} open already, in other tabs or browsers. Close one "
            "(or press <code>ctrl+q</code> in it) and this page opens the app by itself: it "
            "tries again every 5 seconds.</p><p>Whoever started <code>wxtui serve</code> can "
            "allow more with <code>--max-sessions N</code>.</p>"),
            extra_head="<meta http-equiv='refresh' content='5'>")

    # -- textual-serve's hooks ------------------------------------------------------------------

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.gate)
        return app

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any] | web.Response:
        # textual-serve builds these from the address it was started with; the browser may have
        # asked for localhost, or a tunnel's own port, where that cookie would not be sent.
        if self.sessions.full:
            return self._sessions_full_page()
        origin = f"http://{request.host}"
        return {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"ws://{request.host}{request.app.router['websocket'].url_for()}",
            "config": {"static": {"url": f"{origin}/static/"}},
            "application": {"name": self.title},
        }

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if not self.sessions.try_open():
            return web.Response(status=503, text=f"{self.sessions.limit} sessions are open already.\n")
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions.close()

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve prints its banner here, before the port is bound; ours comes after."""

    def initialize_logging(self) -> None:
        redact = RedactServeToken(self.token)
        for handler in logging.getLogger().handlers:
            handler.addFilter(redact)
        logging.getLogger("aiohttp.access").addFilter(redact)

    # -- running ----------------------------------------------------------------------------------

    def address(self) -> str:
        return f"http://{self.host}:{self.listening_port}/?{TOKEN_QUERY}={self.token}"

    async def start(self) -> web.AppRunner:
        """Listen, then announce the address; the caller cleans the runner up."""
        runner = web.AppRunner(await self._make_app(), handle_signals=False, shutdown_timeout=3)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            reason = ("the port is taken (by another wxtui serve?): choose another with --port"
                      if exc.errno == errno.EADDRINUSE else os.strerror(exc.errno or 0))
            raise ServeError(f"cannot listen on {self.host}:{self.port}: {reason}") from None
        self.listening_port = runner.addresses[0][1]
        self._announce(self._banner())
        return runner

    def _banner(self) -> str:
        port = self.listening_port
        return (
            "wxtui serve: open this address in a browser. It holds this run's token: whoever "
            "has it can act on the account, so keep it to yourself.\n\n"
            f"    {self.address()}\n\n"
            f"It listens on {self.host} only. From another machine: "
            f"ssh -L {port}:127.0.0.1:{port} THIS_SERVER, then open the address there.\n"
            f"At most {self.sessions.limit} app session(s) at once. Ctrl+C stops.")

    def run(self) -> None:
        self.initialize_logging()
        asyncio.run(self._run_until_signal())

    async def _run_until_signal(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        runner = await self.start()
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
