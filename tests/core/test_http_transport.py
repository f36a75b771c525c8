"""The HTTP transports under the API clients, against real sockets: a scripted asyncio server
records every connection and every raw request, and answers each request with the bytes a test
chooses.

Both transports wxtui can pick are held to the same rules: aiohttp's (wxtui.core.net, the default)
and httpx's own (httpcore, taken when a proxy is configured)."""

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

from wxtui.core import net
from wxtui.core.net import ApiHttpTransport, default_transport, describe_transport
from wxtui.families.wechat.client import WeChatClient
from wxtui.families.wechat.errors import TransportError
from wxtui.families.wechat.tokens import FixedTokenSource
from wxtui.core.transport import RetryEvent, RetryPolicy, call_observer

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


def header_names(raw: bytes) -> list[str]:
    """Every header line's name as the server reads it, in order."""
    head = raw.partition(b"\r\n\r\n")[0].decode("latin-1")
    return [item.partition(":")[0].strip().lower() for item in head.split("\r\n")[1:]]


TRANSPORTS = {
    "aiohttp": lambda **kwargs: ApiHttpTransport(**kwargs),
    "httpcore": lambda **kwargs: httpx.AsyncHTTPTransport(**kwargs),
}


@pytest.fixture(params=sorted(TRANSPORTS))
def make_transport(request):
    return TRANSPORTS[request.param]


@pytest.fixture
async def http(make_transport):
    async with httpx.AsyncClient(transport=make_transport(), timeout=httpx.Timeout(2.0)) as client:
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
    assert headers.get("content-length", "0") == "0" and body == b""


@pytest.mark.parametrize("value", ["1\r\nX-Injected: yes", "1\nX-Injected: yes", "1\rX-Injected: yes"])
async def test_line_break_in_a_header_value_never_reaches_the_server(serve, http, value):
    server = await serve(ok())
    with pytest.raises(httpx.LocalProtocolError):
        await http.get(server.url() + "/a", headers={"X-Note": value})
    assert all("x-injected" not in header_names(r) for r in server.requests)
    assert server.requests == []  # refused before a byte was sent


async def test_line_break_in_a_header_name_never_reaches_the_server(serve, http):
    server = await serve(ok())
    with pytest.raises(httpx.LocalProtocolError):
        await http.get(server.url() + "/a", headers={"X-Note\r\nX-Injected": "yes"})
    assert server.requests == []


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


async def test_connection_close_asked_by_the_request_is_honoured(serve, http):
    server = await serve(ok(b"1"), ok(b"2"))
    await http.get(server.url() + "/a", headers={"Connection": "close"})
    assert parse_request(server.requests[0])[1]["connection"] == "close"
    assert await ended_by_client(server.conns[0])  # the client hung up, as it said it would
    assert (await http.get(server.url() + "/b")).content == b"2"
    assert [len(conn.requests) for conn in server.conns] == [1, 1]


async def test_http10_answer_without_keep_alive_is_not_reused(serve, http):
    server = await serve(ok(b"1", version=b"HTTP/1.0"), ok(b"2", version=b"HTTP/1.0"))
    assert (await http.get(server.url() + "/a")).content == b"1"
    assert (await http.get(server.url() + "/b")).content == b"2"
    assert [len(conn.requests) for conn in server.conns] == [1, 1]


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


async def test_large_answers_in_every_framing(serve, http):
    big = bytes(range(256)) * 4096  # 1 MiB
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(big), big)
    server = await serve(ok(big), Answer(chunked), Answer(b"HTTP/1.1 200 OK\r\n\r\n" + big, close=True))
    for path in ("/length", "/chunked", "/to-the-end"):
        assert (await http.get(server.url() + path)).content == big
    assert [len(conn.requests) for conn in server.conns] == [3]


# ---- stale connections and resending ----------------------------------------------------------


async def test_idle_connection_closed_by_the_server_is_not_reused(serve, http):
    server = await serve(Answer(ok(b"1").data, close=True), ok(b"2"))
    await http.get(server.url() + "/a")
    await asyncio.wait_for(server.conns[0].ended.wait(), 2.0)
    await asyncio.sleep(0.05)  # the client's side of the loop takes in the end of the connection
    assert (await http.post(server.url() + "/b", content=b"once")).content == b"2"
    assert [len(conn.requests) for conn in server.conns] == [1, 1]


async def test_idle_connections_expire(serve, make_transport):
    server = await serve(ok(b"1"), ok(b"2"))
    expiring = make_transport(limits=httpx.Limits(keepalive_expiry=0.0))
    async with httpx.AsyncClient(transport=expiring) as client:
        await client.get(server.url() + "/a")
        await asyncio.sleep(0.05)
        assert (await client.get(server.url() + "/b")).content == b"2"
        assert [len(conn.requests) for conn in server.conns] == [1, 1]
        assert await ended_by_client(server.conns[0])


async def test_concurrent_requests_each_take_a_connection_and_return_it(serve, http):
    server = await serve(ok(b"x"))
    urls = [server.url() + f"/{n}" for n in range(3)]
    for _ in range(2):
        answers = await asyncio.gather(*(http.get(url) for url in urls))
        assert [a.content for a in answers] == [b"x"] * 3
    assert sorted(len(conn.requests) for conn in server.conns) == [2, 2, 2]


@pytest.mark.parametrize("method", ["POST", "GET", "PUT", "DELETE"])
async def test_request_lost_on_a_reused_connection_is_not_sent_again(serve, http, method):
    # The server takes the second request and hangs up without answering: whether it acted on
    # it is unknown, so the transport says so and leaves any retry to the API transport (which
    # logs it). A tag call sent twice would be applied twice.
    server = await serve(ok(b"1"), NO_ANSWER, ok(b"3"))
    await http.get(server.url() + "/a")
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        await http.request(method, with_token(server, "/b"), content=b"payload")
    assert_no_token(caught.value)
    assert [len(conn.requests) for conn in server.conns] == [2]
    assert parse_request(server.requests[1])[0].startswith(f"{method} /b?")


async def test_fresh_connection_closed_without_answer_fails(serve, http):
    server = await serve(NO_ANSWER)
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        await http.get(with_token(server))
    assert len(server.requests) == 1
    assert_no_token(caught.value)


# ---- errors -----------------------------------------------------------------------------------


async def test_nothing_listening_is_a_connect_error(http):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(httpx.ConnectError) as caught:
        await http.get(f"http://127.0.0.1:{port}/cgi-bin/x?access_token={SECRET}")
    assert_no_token(caught.value)


async def test_answer_that_never_comes_is_a_read_timeout(serve, make_transport):
    server = await serve(Answer(hang=True))
    async with httpx.AsyncClient(transport=make_transport(), timeout=httpx.Timeout(0.2)) as client:
        with pytest.raises(httpx.ReadTimeout) as caught:
            await client.get(with_token(server))
    assert_no_token(caught.value)
    assert await ended_by_client(server.conns[0])  # the late connection is not kept


BROKEN_ANSWERS = {
    "bad protocol": b"HTP/1.1 200 OK\r\n\r\n",
    "letters in the status": b"HTTP/1.1 2OO OK\r\n\r\n",
    "four-digit status": b"HTTP/1.1 0200 OK\r\nContent-Length: 2\r\n\r\nok",
    "no colon": b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
    "length in words": b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
    "two lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
    "signed length": b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
    "huge length": b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\nok",
    "huge head": b"HTTP/1.1 200 OK\r\nX-Huge: " + b"a" * 300_000 + b"\r\n\r\n",
    "chunk size in letters": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "negative chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
    "signed chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+2\r\nok\r\n0\r\n\r\n",
    "0x chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n",
    "chunk longer than said": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
}
CUT_SHORT = {
    "length": Answer(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncut short", close=True),
    "chunked": Answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", close=True),
}


@pytest.mark.parametrize("answer", BROKEN_ANSWERS.values(), ids=BROKEN_ANSWERS.keys())
async def test_malformed_answers_are_protocol_errors(serve, http, answer):
    # The server keeps the connection open: an answer the client cannot frame must not be read
    # as far as it goes and taken as good.
    server = await serve(Answer(answer), ok(b"next"))
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        await http.get(with_token(server))
    assert_no_token(caught.value)
    # The broken connection is dropped, never handed to the next request.
    assert (await http.get(server.url() + "/b")).content == b"next"
    assert [len(conn.requests) for conn in server.conns] == [1, 1]


@pytest.mark.parametrize("coding", [b"xchunked", b"chunkedx", b"gzip"])
async def test_unknown_transfer_coding_is_not_taken_for_chunked(serve, http, coding):
    body = b"2\r\nok\r\n0\r\n\r\n"
    server = await serve(Answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: %s\r\n\r\n%s" % (coding, body),
                                close=True), ok(b"next"))
    try:
        response = await http.get(with_token(server))
    except httpx.RemoteProtocolError as exc:  # h11 refuses any coding but chunked
        assert_no_token(exc)
    else:
        # RFC 9112 6.3: without chunked last, the body runs to the end of the connection, as it is.
        assert response.content == body
    assert (await http.get(server.url() + "/b")).content == b"next"
    assert [len(conn.requests) for conn in server.conns] == [1, 1]


@pytest.mark.parametrize("answer", CUT_SHORT.values(), ids=CUT_SHORT.keys())
async def test_answers_cut_short_are_protocol_errors(serve, http, answer):
    server = await serve(answer, ok(b"next"))
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        await http.get(with_token(server))
    assert_no_token(caught.value)
    assert (await http.get(server.url() + "/b")).content == b"next"


async def test_other_schemes_are_unsupported(http):
    with pytest.raises(httpx.UnsupportedProtocol) as caught:
        await http.get(f"ftp://127.0.0.1/cgi-bin/x?access_token={SECRET}")
    assert_no_token(caught.value)


async def test_aclose_closes_idle_connections(serve, make_transport):
    server = await serve(ok())
    async with httpx.AsyncClient(transport=make_transport()) as client:
        await client.get(server.url() + "/a")
        assert not server.conns[0].ended.is_set()  # kept alive while the client is open
    assert await ended_by_client(server.conns[0])


# ---- TLS --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate_authority():
    return trustme.CA()


@pytest.fixture
async def tls_server(serve, certificate_authority):
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("localhost").configure_cert(server_context)
    return await serve(ok(b"secure"), tls=server_context)


async def test_tls_with_a_trusted_certificate(tls_server, certificate_authority, make_transport):
    trusting = ssl.create_default_context()
    certificate_authority.configure_trust(trusting)
    async with httpx.AsyncClient(transport=make_transport(verify=trusting)) as client:
        response = await client.get(tls_server.url("localhost") + "/a")
        assert response.content == b"secure"
        await client.get(tls_server.url("localhost") + "/b")
    assert [len(conn.requests) for conn in tls_server.conns] == [2]


async def test_tls_with_an_untrusted_certificate_is_a_connect_error(tls_server, make_transport):
    async with httpx.AsyncClient(transport=make_transport()) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get(f"{tls_server.url('localhost')}/a?access_token={SECRET}")
    assert "CERTIFICATE" in str(caught.value).upper()
    assert_no_token(caught.value)
    assert tls_server.requests == []


# ---- the choice of transport ------------------------------------------------------------------


@pytest.fixture
def no_proxy_env(monkeypatch):
    """An environment without proxies (whatever the machine running the tests sets)."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_default_transport_is_aiohttps_without_a_proxy(no_proxy_env):
    assert isinstance(default_transport(), ApiHttpTransport)
    no_proxy_env.setenv("NO_PROXY", "localhost")  # names exceptions, configures no proxy
    assert isinstance(default_transport(), ApiHttpTransport)
    no_proxy_env.setenv("FTP_PROXY", "http://proxy.example:3128")  # httpx would not use it either
    assert isinstance(default_transport(), ApiHttpTransport)


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "ALL_PROXY"])
def test_default_transport_leaves_proxies_to_httpx(no_proxy_env, variable):
    no_proxy_env.setenv(variable, "http://proxy.example:3128")
    assert default_transport() is None


def test_the_transport_in_use_is_described_without_proxy_credentials(no_proxy_env):
    assert describe_transport().startswith("aiohttp ")
    no_proxy_env.setenv("HTTPS_PROXY", "http://bob:hunter2@proxy.example:3128")
    described = describe_transport()
    assert described == "httpx's own, through a proxy (https via proxy.example:3128)"
    assert "hunter2" not in described and "bob" not in described


# ---- through the API client -------------------------------------------------------------------


def fast_retry(retries: int = 2) -> RetryPolicy:
    return RetryPolicy(transport_retries=retries, base_delay=0.001, max_delay=0.002, timeout_s=2.0)


async def test_api_client_uses_the_default_transport(serve, no_proxy_env):
    server = await serve(ok(b'{"tags": []}'))
    async with WeChatClient(FixedTokenSource(SECRET), hosts=[server.url()], retry=fast_retry()) as client:
        assert await client.get_tags() == []
        assert isinstance(client.transport._http._transport, ApiHttpTransport)  # noqa: SLF001


async def test_api_client_owns_every_resend_and_logs_it(serve, no_proxy_env):
    # A tag call whose connection is dropped after the request went out: the API transport
    # sends it again, once, and says so; nothing below it sends it a third time.
    server = await serve(ok(b'{"tags": []}'), NO_ANSWER, ok(b'{"errcode": 0}'))
    events: list[RetryEvent] = []
    async with WeChatClient(FixedTokenSource(SECRET), hosts=[server.url()], retry=fast_retry()) as client:
        await client.get_tags()
        token = call_observer.set(events.append)
        try:
            await client.batch_tag(100, ["o1", "o2"])
        finally:
            call_observer.reset(token)
        posts = [r for r in server.requests if r.startswith(b"POST ")]
        assert len(posts) == 2 and posts[0] == posts[1]
        assert client.transport.stats.calls == len(server.requests) == 3
    assert [(e.attempt, e.reason.split(":")[0]) for e in events] == [(1, "RemoteProtocolError")]


@pytest.mark.parametrize("answer", [
    Answer(b"HTP/1.1 200 OK\r\n\r\n"),
    Answer(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\nok"),
    Answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n"),
], ids=["status line", "huge length", "chunk size"])
async def test_api_client_retries_a_malformed_answer_then_gives_up_without_its_token(serve, no_proxy_env,
                                                                                      answer):
    server = await serve(answer)
    async with WeChatClient(FixedTokenSource(SECRET), hosts=[server.url()], retry=fast_retry()) as client:
        with pytest.raises(TransportError) as caught:
            await client.get_tags()
        assert client.transport.stats.calls == 3
    assert "RemoteProtocolError" in str(caught.value)
    assert len(server.requests) == 3  # the first try and two retries, one request each
    assert all(SECRET in parse_request(r)[0] for r in server.requests)  # it was really sent
    assert_no_token(caught.value)


async def test_api_client_goes_through_a_configured_proxy(serve, no_proxy_env):
    # The proxy is the scripted server: it receives the request in absolute form.
    proxy = await serve(ok(b'{"tags": []}'))
    no_proxy_env.setenv("HTTP_PROXY", proxy.url())
    async with WeChatClient(FixedTokenSource(SECRET), hosts=["http://api.weixin.example"],
                            retry=fast_retry()) as client:
        assert await client.get_tags() == []
    line = parse_request(proxy.requests[0])[0]
    assert line.startswith("GET http://api.weixin.example/cgi-bin/tags/get?access_token=")


async def test_api_client_goes_through_a_system_proxy(serve, no_proxy_env):
    # What macOS and Windows settings give urllib (and so httpx) with no variable set.
    proxy = await serve(ok(b'{"tags": []}'))
    import urllib.request

    import httpx._utils

    def system_proxies() -> dict[str, str]:
        return {"http": proxy.url(), "https": proxy.url()}

    no_proxy_env.setattr(urllib.request, "getproxies", system_proxies)
    no_proxy_env.setattr(httpx._utils, "getproxies", system_proxies)  # httpx holds its own reference
    assert default_transport() is None and "through a proxy" in describe_transport()
    async with WeChatClient(FixedTokenSource(SECRET), hosts=["http://api.weixin.example"],
                            retry=fast_retry()) as client:
        assert await client.get_tags() == []
    assert parse_request(proxy.requests[0])[0].startswith("GET http://api.weixin.example/cgi-bin/tags/get?")
