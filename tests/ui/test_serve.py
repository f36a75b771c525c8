"""`wxtui serve` lets in only the holder of its token, from its own page, a few sessions at once.

Every refusal is checked to start no app process, against servers whose accepted requests do
start one (the real demo app), so a gate that let a request through would be seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import shlex
import signal
import stat
import sys

import pytest

pytest.importorskip("textual_serve")

import aiohttp  # noqa: E402  (installed with textual-serve)
import psutil  # noqa: E402

from tests.serve_support import files_holding, isolated_env, wxtui_serve  # noqa: E402
from wxtui.cli.main import main  # noqa: E402
from wxtui.ui.serve import (  # noqa: E402
    RedactServeToken,
    ServeError,
    WxtuiServer,
    new_token,
    token_from_file,
)

DEMO = shlex.join([sys.executable, "-m", "wxtui", "demo", "--followers", "200"])


@contextlib.asynccontextmanager
async def serving(*, max_sessions: int = 2):
    server = WxtuiServer(DEMO, token=new_token(), port=0, max_sessions=max_sessions,
                         announce=lambda text: None)
    before = child_pids()
    runner = await server.start()
    try:
        yield server
    finally:
        await runner.cleanup()
        await until(lambda: not (child_pids() - before))
        gc.collect()  # textual-serve never waits on its app processes: close them while a loop runs


def base_of(server: WxtuiServer) -> str:
    return server.address().split("/?", 1)[0]


def browser_session() -> aiohttp.ClientSession:
    # Cookies for an IP address are what the browser keeps here; aiohttp refuses them by default.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def child_pids() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


async def read_screen(ws, needle: bytes, *, timeout: float = 30.0) -> bytes:
    """What the app has drawn, until needle is among it."""
    seen = b""
    async with asyncio.timeout(timeout):
        while needle not in seen:
            message = await ws.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                seen += message.data
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                  aiohttp.WSMsgType.ERROR):
                raise AssertionError(f"the socket closed before {needle!r} was drawn")
    return seen


async def until(predicate, *, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


async def handshake_status(session: aiohttp.ClientSession, url: str, **kwargs) -> int:
    try:
        async with session.ws_connect(url, **kwargs):
            return 101
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status


async def test_every_request_without_the_token_or_from_another_site_is_refused_and_starts_nothing():
    before = child_pids()
    async with serving() as server, browser_session() as session:
        base, token = base_of(server), server.token
        ws = base.replace("http:", "ws:") + "/ws"
        own = {"Origin": base}
        cookie = {"Cookie": f"{server.cookie_name}={token}"}

        # A page on another site opening the socket in the admin's browser, cookie and all.
        assert await handshake_status(session, ws, headers={"Origin": "http://evil.example", **cookie}) == 403
        assert await handshake_status(session, f"{ws}?token={token}",
                                      headers={"Origin": "http://evil.example"}) == 403
        assert await handshake_status(session, ws, headers={"Origin": "null", **cookie}) == 403
        # A WebSocket always says where it comes from: one that does not is not a browser's page.
        assert await handshake_status(session, ws, headers=cookie) == 403
        # Another local user: the right Origin, but no token or a guessed one.
        assert await handshake_status(session, ws, headers=own) == 401
        assert await handshake_status(session, f"{ws}?token=guess", headers=own) == 401
        assert await handshake_status(session, f"{ws}?token={token[:-1]}", headers=own) == 401
        assert await handshake_status(
            session, ws, headers={**own, "Cookie": f"{server.cookie_name}={token[:-1]}x"}) == 401

        async with session.get(f"{base}/") as answer:
            page = await answer.text()
            assert answer.status == 401
            assert "wxtui serve" in page and "?token=" in page and "--token-file" in page
        async with session.get(f"{base}/?token=wrong") as answer:
            assert answer.status == 401
            assert not answer.cookies
        for path in ("/download/anything", "/static/js/textual.js"):
            async with session.get(f"{base}{path}") as answer:
                assert answer.status == 401, path
        # With the token, but from another site's page, or under a DNS-rebound name.
        async with session.get(f"{base}/", headers={"Origin": "http://evil.example", **cookie}) as answer:
            assert answer.status == 403
        async with session.get(f"{base}/?token={token}", headers={"Host": "evil.example"}) as answer:
            assert answer.status == 403
            assert not answer.cookies

        assert server.sessions.active == 0
    assert child_pids() == before


async def test_the_address_opens_the_app_through_an_httponly_strict_cookie():
    async with serving() as server, browser_session() as session:
        base = base_of(server)
        async with session.get(server.address() + "&fontsize=18") as answer:
            page = await answer.text()
            assert answer.status == 200
            cookie = answer.cookies[server.cookie_name]
            assert cookie.value == server.token
            assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
            assert answer.headers["Referrer-Policy"] == "no-referrer"
            # The page reloads the address without the token, keeping the rest.
            assert "url=/?fontsize=18" in page and server.token not in page

        async with session.get(f"{base}/?fontsize=18") as answer:
            page = await answer.text()
            assert answer.status == 200
            assert f'data-session-websocket-url="ws://127.0.0.1:{server.listening_port}/ws"' in page
            assert 'data-font-size="18"' in page
        # Opened as localhost, the page's socket goes to localhost, where its cookie is.
        async with session.get(f"{base}/", headers={"Host": f"localhost:{server.listening_port}"}) as answer:
            assert f'data-session-websocket-url="ws://localhost:{server.listening_port}/ws"' in await answer.text()
        async with session.get(f"{base}/static/js/textual.js") as answer:
            assert answer.status == 200

        before = child_pids()
        async with session.ws_connect(f"{base}/ws?width=100&height=30", headers={"Origin": base}) as ws:
            await read_screen(ws, b"Followers")
            assert server.sessions.active == 1
            assert len(child_pids() - before) >= 1
            await ws.send_json(["stdin", "?"])
            await read_screen(ws, b"Keys")
        await until(lambda: server.sessions.active == 0)
    await until(lambda: not (child_pids() - before))


async def test_one_session_more_than_allowed_gets_a_page_not_a_process():
    async with serving(max_sessions=1) as server, browser_session() as session:
        base = base_of(server)
        async with session.get(server.address()):
            pass
        before = child_pids()
        async with session.ws_connect(f"{base}/ws", headers={"Origin": base}) as ws:
            await read_screen(ws, b"Followers")
            running = child_pids() - before
            assert running

            async with session.get(f"{base}/") as answer:
                page = await answer.text()
                assert answer.status == 503
                assert "open already" in page and "--max-sessions" in page
            assert await handshake_status(session, f"{base}/ws", headers={"Origin": base}) == 503
            assert child_pids() - before == running
            assert server.sessions.active == 1
        await until(lambda: server.sessions.active == 0)
        async with session.get(f"{base}/") as answer:
            assert answer.status == 200
            assert "data-session-websocket-url" in await answer.text()


def test_the_printed_address_works_and_the_token_is_written_nowhere(tmp_path):
    env = isolated_env(tmp_path)
    with wxtui_serve(env) as served:
        assert "".join(served.output).count(served.token) == 1

        async def session_through_the_printed_address() -> None:
            async with browser_session() as session:
                async with session.get(f"{served.origin}/") as answer:
                    assert answer.status == 401
                assert served.app_processes() == []
                async with session.get(served.address) as answer:
                    assert answer.status == 200
                async with session.ws_connect(f"{served.origin}/ws", headers={"Origin": served.origin}) as ws:
                    await read_screen(ws, b"Followers")
                    assert len(served.app_processes()) >= 1

        asyncio.run(session_through_the_printed_address())
        served.process.send_signal(signal.SIGINT)
        assert served.process.wait(20) == 0
    assert "Traceback" not in "".join(served.output)

    log = (tmp_path / "wxtui-home" / "logs" / "wxtui.log").read_text()
    assert "GET /?token=*** " in log  # the request was logged, its token was not
    assert files_holding(tmp_path, served.token) == []


def test_serve_with_a_token_file_prints_the_address_it_holds(tmp_path):
    path = tmp_path / "serve-token"
    token = token_from_file(path)
    with wxtui_serve(isolated_env(tmp_path / "run"), "--token-file", str(path)) as served:
        assert served.token == token

        async def open_it() -> int:
            async with browser_session() as session, session.get(served.address) as answer:
                return answer.status

        assert asyncio.run(open_it()) == 200


def test_a_token_file_keeps_the_address_and_must_be_private(tmp_path):
    path = tmp_path / "serve-token"
    token = token_from_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(token) >= 43 and token_from_file(path) == token

    path.chmod(0o640)
    with pytest.raises(ServeError, match="chmod 600"):
        token_from_file(path)
    path.chmod(0o600)
    path.write_text("short\n")
    with pytest.raises(ServeError, match="at least 32"):
        token_from_file(path)

    link = tmp_path / "link"
    link.symlink_to(path)
    with pytest.raises(ServeError):
        token_from_file(link)


def test_serve_refuses_a_token_file_others_can_read_without_a_traceback(tmp_path, capsys):
    path = tmp_path / "serve-token"
    path.write_text(new_token() + "\n")
    path.chmod(0o644)
    assert main(["serve", "--demo", "--port", "0", "--token-file", str(path)]) == 2
    err = capsys.readouterr().err
    assert "may be read or changed by others" in err and f"chmod 600 {path}" in err
    assert "Traceback" not in err


def test_serve_says_so_when_the_port_is_taken(capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--demo", "--port", str(port)]) == 2
    out = capsys.readouterr()
    assert f"cannot listen on 127.0.0.1:{port}" in out.err
    assert "token=" not in out.out  # no address is printed for a server that does not run


def test_the_log_filter_takes_the_token_out_of_request_lines():
    token = new_token()
    record = logging.LogRecord("aiohttp.access", logging.INFO, __file__, 1,
                               '%s "GET /?token=%s&fontsize=18 HTTP/1.1" 200 "%s"',
                               ("127.0.0.1", token, f"http://127.0.0.1/?token={token}"), None)
    assert RedactServeToken(token).filter(record)
    assert token not in record.getMessage()
    assert '"GET /?token=***&fontsize=18 HTTP/1.1"' in record.getMessage()


def test_tokens_are_random_and_long():
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert min(len(t) for t in tokens) >= 43  # 32 bytes in URL-safe base64


def test_cookie_names_differ_by_port():
    assert WxtuiServer(DEMO, token="x" * 43, port=8000).cookie_name != \
        WxtuiServer(DEMO, token="x" * 43, port=8001).cookie_name



def test_serve_options_parse():
    from wxtui.cli.main import build_parser
    from wxtui.cli import app as commands

    args = build_parser().parse_args(["serve", "--demo", "--followers", "2,000", "--port", "0",
                                      "--token-file", "~/t", "--max-sessions", "3"])
    assert (args.func, args.followers, args.port, args.token_file, args.max_sessions) == \
        (commands.cmd_serve, 2000, 0, "~/t", 3)
    args = build_parser().parse_args(["serve"])
    assert (args.port, args.max_sessions, args.token_file) == (8000, 2, None)
    for bad in (["--port", "70000"], ["--port", "x"], ["--max-sessions", "0"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["serve", *bad])
