"""The client's policies: tokens, retries, failover, garbage answers and redaction.

Each test counts what the emulator saw, so it fails when the policy breaks.
"""

from __future__ import annotations

import asyncio
import io
import logging

import httpx
import pytest

from wxtui.families.wechat.client import WeChatClient
from wxtui.families.wechat.errors import ApiError, BadResponseError, TokenError, TransportError
from wxtui.families.wechat.tokens import ClassicTokenSource, FixedTokenSource
from wxtui.core.transport import RetryEvent, RetryPolicy, call_observer

from conftest import FAST_RETRY

STABLE = "/cgi-bin/stable_token"
TAGS_GET = "/cgi-bin/tags/get"


def calls(emu, path):
    return emu.stats.calls.get(path, 0)


async def test_stable_token_is_fetched_once_for_concurrent_calls(client, emu):
    await asyncio.gather(*(client.get_tags() for _ in range(20)))
    assert calls(emu, STABLE) == 1
    assert calls(emu, TAGS_GET) == 20


async def test_invalidated_token_is_refreshed_once_and_the_call_retried_once(emu):
    emu.faults.latency_ms = 20  # so the ten calls are in flight together with the dead token
    async with WeChatClient.with_secret(emu.account.appid, emu.account.secret, transport=emu.transport(),
                                        retry=FAST_RETRY, max_in_flight=16) as client:
        await client.get_tags()
        emu.invalidate_tokens()
        await asyncio.gather(*(client.get_tags() for _ in range(10)))
    # One shared refresh for all ten failures, not ten; each call retried once.
    assert calls(emu, STABLE) == 2
    assert calls(emu, TAGS_GET) == 1 + 10 + 10


async def test_token_error_after_refresh_is_not_retried_in_a_loop(emu):
    source = FixedTokenSource("not-a-real-token")
    async with WeChatClient(source, appid=emu.account.appid, transport=emu.transport(), retry=FAST_RETRY) as c:
        with pytest.raises(TokenError) as info:
            await c.get_tags()
    assert info.value.errcode == 40001
    assert calls(emu, TAGS_GET) == 2  # the call and its single retry


async def test_fresh_tokens_that_never_work_are_not_fetched_without_end(emu):
    renewed = 0

    async def renew():
        nonlocal renewed
        renewed += 1
        return f"never-valid-{renewed}", 7200

    source = FixedTokenSource("never-valid-0", renew=renew)
    async with WeChatClient(source, appid=emu.account.appid, transport=emu.transport(), retry=FAST_RETRY) as c:
        with pytest.raises(TokenError):
            await c.get_tags()
    assert renewed == 3 and calls(emu, TAGS_GET) == 4  # three new tokens, each refused at once


async def test_a_token_refused_after_it_worked_is_fetched_again_however_often(emu):
    async with WeChatClient.with_secret(emu.account.appid, emu.account.secret, transport=emu.transport(),
                                        retry=FAST_RETRY) as client:
        for _ in range(8):  # rotated eight times, each time after it worked
            await client.get_tags()
            emu.invalidate_tokens()
        await client.get_tags()
    assert calls(emu, STABLE) == 9 and calls(emu, TAGS_GET) == 9 + 8


async def test_expired_token_is_renewed(client, emu):
    await client.get_tags()
    emu.clock.advance(7300)
    await client.get_tags()
    assert calls(emu, STABLE) == 2


async def test_wrong_secret_is_a_clear_error(emu):
    async with WeChatClient.with_secret(emu.account.appid, "0" * 32, transport=emu.transport(),
                                        retry=FAST_RETRY) as c:
        with pytest.raises(ApiError) as info:
            await c.get_tags()
    assert info.value.errcode == 40125
    assert calls(emu, TAGS_GET) == 0


async def test_classic_token_source_works(emu):
    source = ClassicTokenSource(emu.account.appid, emu.account.secret)
    async with WeChatClient(source, transport=emu.transport(), retry=FAST_RETRY) as c:
        await c.get_tags()
    assert calls(emu, "/cgi-bin/token") == 1


async def test_system_busy_is_retried_with_backoff(client, emu, caplog):
    events: list[RetryEvent] = []
    call_observer.set(events.append)
    emu.faults.p_busy = 0.5
    with caplog.at_level(logging.INFO, logger="wxtui.api"):
        for _ in range(10):
            await client.get_tags()
    emu.faults.p_busy = 0.0
    busy = [e for e in events if e.reason == "errcode -1"]
    assert busy, "with half the calls busy, some must have been retried"
    assert calls(emu, TAGS_GET) == 10 + len(busy)
    assert client.stats.retries == len(busy)
    # Each retry is in the log, for whoever wonders later why a job took its time.
    logged = [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]
    assert len(logged) == len(busy) and all(m.startswith("/cgi-bin/tags/get: errcode -1") for m in logged)


async def test_busy_forever_gives_up_after_max_retries(client, emu):
    await client.get_tags()
    emu.stats.reset()
    emu.faults.p_busy = 1.0
    with pytest.raises(ApiError) as info:
        await client.get_tags()
    assert info.value.errcode == -1
    assert calls(emu, TAGS_GET) == 1 + FAST_RETRY.max_retries


async def test_minute_limit_waits_for_the_next_minute_and_continues(emu):
    waits: list[float] = []

    async def sleep(seconds):
        waits.append(seconds)
        emu.faults.p_minute = 0.0  # the next minute has come

    policy = RetryPolicy(base_delay=0.001, minute_wait_s=None)
    async with WeChatClient.with_secret(emu.account.appid, emu.account.secret, transport=emu.transport(),
                                        retry=policy, sleep=sleep, clock=lambda: 1_699_999_995.0) as c:
        await c.get_tags()
        emu.faults.p_minute = 1.0
        assert await c.get_tags()
    assert len(waits) == 1
    assert 45 < waits[0] <= 46  # to the next minute of the clock (15 s past), plus a little jitter


async def test_http_5xx_fails_over_to_the_backup_host(client, emu):
    emu.faults.down_hosts = {"api.weixin.qq.com"}
    await client.get_tags()
    assert client.transport.host == "https://api2.weixin.qq.com"
    assert client.stats.failovers == 1
    await client.get_tags()  # stays on the backup host
    assert client.stats.failovers == 1


async def test_errcodes_never_cause_failover(client, emu):
    emu.faults.p_busy = 1.0
    with pytest.raises(ApiError):
        await client.get_tags()
    assert client.transport.host == "https://api.weixin.qq.com"


class _Unreachable(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request):
        raise httpx.ConnectError(f"cannot connect to {request.url}")


async def test_unreachable_host_is_a_transport_error_without_the_token():
    source = FixedTokenSource("SECRET-TOKEN-VALUE-123")
    async with WeChatClient(source, transport=_Unreachable(), retry=FAST_RETRY) as c:
        with pytest.raises(TransportError) as info:
            await c.get_tags()
    text = str(info.value)
    assert "Could not reach WeChat" in text
    assert "SECRET-TOKEN-VALUE-123" not in text
    assert info.value.__suppress_context__


async def test_garbage_answer_is_retried_then_reported(client, emu):
    await client.get_tags()
    emu.faults.p_garbage = 1.0
    with pytest.raises(BadResponseError) as info:
        await client.get_tags()
    assert "unexpected" in str(info.value)
    emu.faults.p_garbage = 0.0
    assert await client.get_tags()


async def test_slow_answer_times_out_and_retries(emu):
    emu.faults.p_slow = 1.0
    emu.faults.slow_s = 0.5
    policy = RetryPolicy(base_delay=0.001, max_delay=0.01, timeout_s=0.05, transport_retries=1)
    async with WeChatClient.with_secret(emu.account.appid, emu.account.secret, transport=emu.transport(),
                                        retry=policy) as c:
        with pytest.raises(TransportError, match="timed out"):
            await c.get_tags()


async def test_no_token_or_secret_in_logs_errors_or_reprs(emu):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    for name in ("httpx", "wxtui"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        async with WeChatClient.with_secret(emu.account.appid, emu.account.secret, transport=emu.transport(),
                                            retry=FAST_RETRY) as c:
            await c.get_tags()
            token = await c.access_token()
            emu.faults.down_hosts = {"api.weixin.qq.com", "api2.weixin.qq.com"}
            with pytest.raises(TransportError) as info:
                await c.get_tags()
            texts = [stream.getvalue(), str(info.value), repr(info.value), repr(c.tokens._token),
                     repr(token)]
    finally:
        for name in ("httpx", "wxtui"):
            logging.getLogger(name).removeHandler(handler)
    assert "access_token=***" in stream.getvalue()  # httpx did log the URL, scrubbed
    for text in texts:
        assert str(token) not in text
        assert emu.account.secret not in text
