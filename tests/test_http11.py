"""wxtui.http11 against real sockets: a scripted asyncio server records every connection and
every raw request, and answers each request with the bytes a test chooses."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import socket
import ssl
import traceback
from dataclasses import dataclass, field

import httpx
import pytest
import trustme

from wxtui.http11 import Http11Transport, default_transport, describe_transport
from wxtui.families.wechat.client import WeChatClient
from wxtui.families.wechat.errors import TransportError
from wxtui.families.wechat.tokens import FixedTokenSource
from wxtui.core.transport import RetryPolicy

SECRET = "SECRETTOKEN123"


@dataclass
class Answer:
    """What the server does with one request: send `data`, then end the connection if `close`;
    with `hang`, send nothing and wait for the client to give up."""

    data: bytes = b""
    close: bool = False
    hang: bool = False


NO_ANSWER = Answer(close=True)  # the connection is closed without a byte of answer


def ok(body: bytes = b"{}", headers: bytes = b"", version: bytes = b"HTTP/1.1") -> Answer:
    return Answer(b"%s 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (version, len(body), headers, body))


@dataclass
class Conn:
    requests: list[bytes] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    client_closed: bool = False  # the client ended the connection (the server read EOF)


class ScriptedServer:
    """Answers the requests in arrival order with `answers`; the last answer repeats."""

    def __init__(self, answers, tls: ssl.SSLContext | None = None):
        self.answers = list(answers)
        self.tls = tls
        self.conns: list[Conn] = []
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> "ScriptedServer":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def url(self, host: str = "127.0.0.1") -> str:
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def requests(self) -> list[bytes]:
        return [r for conn in self.conns for r in conn.requests]

    async def stop(self) -> None:
        self.server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.wait_closed()

    def _next_answer(self) -> Answer:
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tasks.add(asyncio.current_task())
        conn = Conn()
        self.conns.append(conn)
        try:
            while True:
                request = await read_request(reader)
                if request is None:
                    conn.client_closed = True
                    break
                conn.requests.append(request)
                answer = self._next_answer()
                if answer.hang:
                    conn.client_closed = await reader.read() == b""
                    break
                writer.write(answer.data)
                await writer.drain()
                if answer.close:
                    break
        except (OSError, asyncio.IncompleteReadError):
            pass  # the client went away mid-request (a failed TLS handshake, a reset)
        finally:
            writer.close()
            conn.ended.set()


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise
    length = parse_request(head)[1].get("content-length", "0")
    return head + await reader.readexactly(int(length))


def parse_request(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    """(request line, headers by lower-case name, body)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    line, *fields = head.decode("latin-1").split("\r\n")
    headers = {}
    for item in fields:
        name, _, value = item.partition(":")
        headers[name.strip().lower()] = value.strip()
    return line, headers, body


def with_token(server: ScriptedServer, path: str = "/cgi-bin/tags/get") -> str:
    return f"{server.url()}{path}?access_token={SECRET}"


def assert_no_token(exc: BaseException) -> None:
    assert SECRET not in str(exc)
    assert SECRET not in "".join(traceback.format_exception(exc))


@pytest.fixture
async def serve():
    servers = []

    async def start(*answers: Answer, tls: ssl.SSLContext | None = None) -> ScriptedServer:
        server = await ScriptedServer(answers, tls).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def http():
    async with httpx.AsyncClient(transport=Http11Transport(), timeout=httpx.Timeout(2.0)) as client:
        yield client


async def ended_by_client(conn: Conn) -> bool:
    await asyncio.wait_for(conn.ended.wait(), 2.0)
    return conn.client_closed


# ---- request encoding -------------------------------------------------------------------------


async def test_request_arrives_as_sent(serve, http):
    server = await serve(ok(b'{"errcode":0}'))
    sent = {"tag": {"name": "星标客户"}}
    response = await http.post(server.url() + "/cgi-bin/tags/create?access_token=abc&x=1", json=sent)
    assert response.status_code == 200 and response.json() == {"errcode": 0}
    line, headers, body = parse_request(server.requests[0])
    assert line == "POST /cgi-bin/tags/create?access_token=abc&x=1 HTTP/1.1"
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert headers["content-length"] == str(len(body))
    assert "transfer-encoding" not in headers
    assert json.loads(body) == sent


async def test_post_without_body_sends_zero_length(serve, http):
    server = await serve(ok())
    await http.post(server.url() + "/cgi-bin/x")
    line, headers, body = parse_request(server.requests[0])
    assert line == "POST /cgi-bin/x HTTP/1.1"
    assert headers["content-length"] == "0" and body == b""


async def test_streaming_body_is_sent_whole_with_its_length(serve, http):
    server = await serve(ok())

    async def parts():
        for part in (b"first-", b"second-", b"third"):
            yield part

    await http.post(server.url() + "/upload", content=parts())
    _, headers, body = parse_request(server.requests[0])
    assert body == b"first-second-third"
    assert headers["content-length"] == str(len(body))
    assert "transfer-encoding" not in headers


# ---- keep-alive -------------------------------------------------------------------------------


async def test_sequential_requests_share_one_connection(serve, http):
    server = await serve(ok(b"1"), ok(b"2"))
    assert (await http.get(server.url() + "/a")).content == b"1"
    assert (await http.get(server.url() + "/b")).content == b"2"
    assert [len(conn.requests) for conn in server.conns] == [2]


async def test_connection_close_answer_opens_a_new_connection(serve, http):
    server = await serve(ok(b"1", b"Connection: close\r\n"), ok(b"2"))
    await http.get(server.url() + "/a")
    assert await ended_by_client(server.conns[0])  # the client hung up, as it was told
    assert (await http.get(server.url() + "/b")).content == b"2"
    assert [len(conn.requests) for conn in server.conns] == [1, 1]


@pytest.mark.parametrize("headers, connections", [
    (b"", [1, 1]),
    (b"Connection: keep-alive\r\n", [2]),
])
async def test_http10_answers_are_reused_only_with_keep_alive(serve, http, headers, connections):
    server = await serve(ok(b"1", headers, b"HTTP/1.0"), ok(b"2", headers, b"HTTP/1.0"))
    first = await http.get(server.url() + "/a")
    assert (first.content, first.http_version) == (b"1", "HTTP/1.0")
    assert (await http.get(server.url() + "/b")).content == b"2"
    assert [len(conn.requests) for conn in server.conns] == connections


# ---- framing ----------------------------------------------------------------------------------


async def test_chunked_answer_with_extensions_and_trailers(serve, http):
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"6;name=value\r\nhello \r\n5\r\nworld\r\n"
               b"0;last\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n")
    server = await serve(Answer(chunked), ok(b"next"))
    assert (await http.get(server.url() + "/a")).content == b"hello world"
    assert (await http.get(server.url() + "/b")).content == b"next"
    assert [len(conn.requests) for conn in server.conns] == [2]


async def test_body_framed_by_the_end_of_the_connection(serve, http):
    server = await serve(Answer(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", close=True),
                         ok(b"next"))
    assert (await http.get(server.url() + "/a")).text == "all of it"
    assert (await http.get(server.url() + "/b")).content == b"next"
    assert [len(conn.requests) for conn in server.conns] == [1, 1]


@pytest.mark.parametrize("method, answer", [
    ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n"),
    ("GET", b"HTTP/1.1 204 No Content\r\n\r\n"),
    ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\n\r\n"),
])
async def test_answers_without_a_body(serve, http, method, answer):
    server = await serve(Answer(answer), ok(b"next"))
    response = await http.request(method, server.url() + "/a")
    assert response.content == b""
    # Had the transport waited for a body, this answer would have been taken for it.
    assert (await http.get(server.url() + "/b")).content == b"next"
    assert [len(conn.requests) for conn in server.conns] == [2]


async def test_interim_answers_are_skipped(serve, http):
    server = await serve(Answer(b"HTTP/1.1 100 Continue\r\n\r\n"
                                b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                                b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\nX-Final: 1\r\n\r\ndone"))
    response = await http.get(server.url() + "/a")
    assert (response.status_code, response.content, response.headers["x-final"]) == (201, b"done", "1")
    assert "link" not in response.headers


async def test_gzip_answer_comes_out_decoded(serve, http):
    plain = json.dumps({"openid": ["o" * 28] * 50}).encode()
    packed = gzip.compress(plain)
    server = await serve(ok(packed, b"Content-Encoding: gzip\r\nContent-Type: application/json\r\n"))
    response = await http.get(server.url() + "/a")
    assert response.content == plain and len(packed) < len(plain)


# ---- stale connections ------------------------------------------------------------------------


async def test_idle_connection_closed_by_the_server_is_not_reused(serve, http):
    server = await serve(Answer(ok(b"1").data, close=True), ok(b"2"))
    await http.get(server.url() + "/a")
    await asyncio.wait_for(server.conns[0].ended.wait(), 2.0)
    await asyncio.sleep(0.05)  # the client's side of the loop takes in the end of the connection
    assert (await http.get(server.url() + "/b")).content == b"2"
    assert [len(conn.requests) for conn in server.conns] == [1, 1]


async def test_connection_with_unasked_bytes_is_not_reused(serve, http):
    # Some servers say "408" on an idle connection before closing it: that is no answer to
    # the next request.
    server = await serve(Answer(ok(b"1").data + b"HTTP/1.1 408 Request Timeout\r\n\r\n"), ok(b"2"))
    await http.get(server.url() + "/a")
    await asyncio.sleep(0.05)
    response = await http.get(server.url() + "/b")
    assert (response.status_code, response.content) == (200, b"2")
    assert [len(conn.requests) for conn in server.conns] == [1, 1]
    assert await ended_by_client(server.conns[0])


async def test_idle_connections_expire(serve):
    server = await serve(ok(b"1"), ok(b"2"))
    async with httpx.AsyncClient(transport=Http11Transport(keepalive_expiry=0.0)) as client:
        await client.get(server.url() + "/a")
        assert (await client.get(server.url() + "/b")).content == b"2"
        assert [len(conn.requests) for conn in server.conns] == [1, 1]
        assert await ended_by_client(server.conns[0])


async def test_concurrent_requests_each_take_a_connection_and_return_it(serve, http):
    server = await serve(ok(b"x"))
    urls = [server.url() + f"/{n}" for n in range(3)]
    for _ in range(2):
        answers = await asyncio.gather(*(http.get(url) for url in urls))
        assert [a.content for a in answers] == [b"x"] * 3
    assert [len(conn.requests) for conn in server.conns] == [2, 2, 2]


async def test_large_answers_in_every_framing(serve, http):
    big = bytes(range(256)) * 4096  # 1 MiB, four times the head limit
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(big), big)
    server = await serve(ok(big), Answer(chunked), Answer(b"HTTP/1.1 200 OK\r\n\r\n" + big, close=True))
    for path in ("/length", "/chunked", "/to-the-end"):
        assert (await http.get(server.url() + path)).content == big
    assert [len(conn.requests) for conn in server.conns] == [3]


async def test_reused_connection_closed_as_the_request_arrives_is_retried_once(serve, http):
    server = await serve(ok(b"1"), NO_ANSWER, ok(b"2"))
    await http.get(server.url() + "/a")
    assert (await http.post(server.url() + "/b", content=b"payload")).content == b"2"
    assert [len(conn.requests) for conn in server.conns] == [2, 1]
    assert server.conns[0].requests[1] == server.conns[1].requests[0]
    assert parse_request(server.conns[1].requests[0])[2] == b"payload"


async def test_fresh_connection_closed_without_answer_fails(serve, http):
    server = await serve(NO_ANSWER)
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        await http.get(with_token(server))
    assert "closed the connection without an answer" in str(caught.value)
    assert len(server.requests) == 1
    assert_no_token(caught.value)


async def test_retry_after_a_dropped_reused_connection_happens_once(serve, http):
    server = await serve(ok(b"1"), NO_ANSWER)
    await http.get(server.url() + "/a")
    with pytest.raises(httpx.RemoteProtocolError):
        await http.get(with_token(server))
    assert [len(conn.requests) for conn in server.conns] == [2, 1]


# ---- errors -----------------------------------------------------------------------------------


async def test_nothing_listening_is_a_connect_error(http):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(httpx.ConnectError) as caught:
        await http.get(f"http://127.0.0.1:{port}/cgi-bin/x?access_token={SECRET}")
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert_no_token(caught.value)


async def test_answer_that_never_comes_is_a_read_timeout(serve):
    server = await serve(Answer(hang=True))
    async with httpx.AsyncClient(transport=Http11Transport(), timeout=httpx.Timeout(0.2)) as client:
        with pytest.raises(httpx.ReadTimeout) as caught:
            await client.get(with_token(server))
    assert_no_token(caught.value)
    assert await ended_by_client(server.conns[0])  # the late connection is not kept


@pytest.mark.parametrize("answer, complaint", [
    (Answer(b"HTP/1.1 200 OK\r\n\r\n"), "malformed status line"),
    (Answer(b"HTTP/1.1 2OO OK\r\n\r\n"), "malformed status line"),
    (Answer(b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n"), "malformed header line"),
    (Answer(b"HTTP/1.1 200 OK\r\n Folded: value\r\n\r\n"), "malformed header line"),
    (Answer(b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n"), "bad Content-Length"),
    (Answer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc"), "bad Content-Length"),
    (Answer(b"HTTP/1.1 200 OK\r\nX-Huge: " + b"a" * 300_000 + b"\r\n\r\n"), "sent headers over"),
    (Answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
     "malformed chunk size"),
    (Answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n"),
     "malformed chunk size"),
    (Answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"),
     "malformed chunk"),
    (Answer(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncut short", close=True),
     "in the middle of an answer"),
    (Answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", close=True),
     "in the middle of an answer"),
])
async def test_broken_answers_are_protocol_errors(serve, http, answer, complaint):
    server = await serve(answer, ok(b"next"))
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        await http.get(with_token(server))
    assert complaint in str(caught.value)
    assert f"127.0.0.1:{server.port}" in str(caught.value)
    assert_no_token(caught.value)
    # The broken connection is dropped, never handed to the next request.
    assert (await http.get(server.url() + "/b")).content == b"next"
    assert [len(conn.requests) for conn in server.conns] == [1, 1]


async def test_other_schemes_are_unsupported(http):
    with pytest.raises(httpx.UnsupportedProtocol) as caught:
        await http.get(f"ftp://127.0.0.1/cgi-bin/x?access_token={SECRET}")
    assert_no_token(caught.value)


async def test_aclose_closes_idle_connections(serve):
    server = await serve(ok())
    transport = Http11Transport()
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get(server.url() + "/a")
        assert not server.conns[0].ended.is_set()  # kept alive while the client is open
    assert await ended_by_client(server.conns[0])
    with pytest.raises(httpx.ConnectError, match="closed"):
        await transport.handle_async_request(httpx.Request("GET", server.url() + "/b"))
    assert len(server.conns) == 1


# ---- the choice of transport ------------------------------------------------------------------


@pytest.fixture
def no_proxy_env(monkeypatch):
    """An environment without proxies (whatever the machine running the tests sets)."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("WXTUI_HTTP", raising=False)
    return monkeypatch


def test_default_transport_is_this_one_without_a_proxy(no_proxy_env):
    assert isinstance(default_transport(), Http11Transport)
    no_proxy_env.setenv("NO_PROXY", "localhost")  # names exceptions, configures no proxy
    assert isinstance(default_transport(), Http11Transport)


def test_default_transport_leaves_proxies_to_httpx(no_proxy_env):
    no_proxy_env.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert default_transport() is None


def test_default_transport_can_be_httpx_on_request(no_proxy_env):
    no_proxy_env.setenv("WXTUI_HTTP", "httpx")
    assert default_transport() is None


def test_the_transport_in_use_is_described_without_proxy_credentials(no_proxy_env):
    assert describe_transport() == "keep-alive HTTP/1.1 (no proxy configured)"
    no_proxy_env.setenv("HTTPS_PROXY", "http://bob:hunter2@proxy.example:3128")
    described = describe_transport()
    assert described == "httpx's own, through a proxy (https via proxy.example:3128)"
    assert "hunter2" not in described and "bob" not in described
    no_proxy_env.setenv("WXTUI_HTTP", "httpx")
    assert describe_transport() == "httpx's own (WXTUI_HTTP=httpx)"


# ---- TLS --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate_authority():
    return trustme.CA()


@pytest.fixture
async def tls_server(serve, certificate_authority):
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("localhost").configure_cert(server_context)
    return await serve(ok(b"secure"), tls=server_context)


async def test_tls_with_a_trusted_certificate(tls_server, certificate_authority):
    trusting = ssl.create_default_context()
    certificate_authority.configure_trust(trusting)
    async with httpx.AsyncClient(transport=Http11Transport(verify=trusting)) as client:
        response = await client.get(tls_server.url("localhost") + "/a")
        assert response.content == b"secure"
        await client.get(tls_server.url("localhost") + "/b")
    assert [len(conn.requests) for conn in tls_server.conns] == [2]


async def test_tls_with_an_untrusted_certificate_is_a_connect_error(tls_server):
    async with httpx.AsyncClient(transport=Http11Transport()) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get(f"{tls_server.url('localhost')}/a?access_token={SECRET}")
    assert "TLS" in str(caught.value) and "CERTIFICATE" in str(caught.value).upper()
    assert_no_token(caught.value)
    assert tls_server.requests == []


# ---- through the API client -------------------------------------------------------------------


async def test_client_gives_up_on_garbage_http_without_showing_its_token(serve, no_proxy_env):
    server = await serve(Answer(b"HTP/1.1 200 OK\r\n\r\n"))
    retry = RetryPolicy(transport_retries=2, base_delay=0.001, max_delay=0.002, timeout_s=2.0)
    async with WeChatClient(FixedTokenSource(SECRET), hosts=[server.url()], retry=retry) as client:
        with pytest.raises(TransportError) as caught:
            await client.get_tags()
    # Our transport's own words: the client took it by default.
    assert f"RemoteProtocolError: 127.0.0.1:{server.port} sent a malformed status line" in str(caught.value)
    assert len(server.requests) == 3  # the first try and two retries
    assert all(SECRET in parse_request(r)[0] for r in server.requests)  # it was really sent
    assert_no_token(caught.value)
