"""The IM client's policies against the emulator: failover, garbage, the rate limit, redaction."""

from __future__ import annotations

import asyncio
import io
import logging

import httpx
import pytest

from wxtui.families.tim.client import TimClient
from wxtui.families.tim.emulator import TimEmulator
from wxtui.families.tim.errors import TimApiError, TimBadResponseError, TimTransportError, is_rate_limit
from wxtui.families.tim.transport import RateLimiter, is_throttle
from wxtui.core.errors import BadResponseError, TransportError
from wxtui.core.transport import RetryEvent, RetryPolicy, call_observer

from conftest import FAST_RETRY

GET = "/v4/all_member_push/im_get_tag"
CLEAR = "/v4/all_member_push/im_remove_all_tags"


@pytest.fixture
def tim_emu():
    return TimEmulator.demo(accounts=300, seed=9)


@pytest.fixture
async def tim(tim_emu):
    async with tim_emu.client(retry=FAST_RETRY, rate_limit=None, seed=1) as client:
        yield client


async def test_one_usersig_serves_many_calls(tim, tim_emu):
    await asyncio.gather(*(tim.get_tags([f"user{i:06d}"]) for i in range(20)))
    assert tim.stats.token_fetches == 1
    assert tim.stats.by_path[GET] == 20


async def test_every_call_sends_a_fresh_random_and_the_envelope(tim_emu):
    seen = []

    async def record(request: httpx.Request):
        seen.append(request)

    transport = tim_emu.transport()
    async with TimClient(tim_emu.sdkappid, tim_emu.identifier, tim_emu.secret_key, transport=transport,
                         retry=FAST_RETRY, rate_limit=None) as c:
        c.transport._http.event_hooks["request"].append(record)
        for _ in range(5):
            await c.get_tags(["user000001"])
    queries = [r.url.params for r in seen]
    assert len({q["random"] for q in queries}) == 5
    assert all(0 <= int(q["random"]) < 2 ** 32 for q in queries)
    assert all(q["contenttype"] == "json" and q["identifier"] == tim_emu.identifier
               and q["sdkappid"] == str(tim_emu.sdkappid) for q in queries)
    assert all(r.method == "POST" and r.url.host == "console.tim.qq.com" for r in seen)


async def test_gateway_failure_fails_over_to_the_backup_host(tim, tim_emu):
    tim_emu.faults.down_hosts = {"console.tim.qq.com"}
    assert (await tim.get_tags(["user000001"]))["user000001"] == tim_emu.state.tags_of("user000001")
    assert tim.transport.host == "https://adminapi.my-imcloud.com"
    assert tim.stats.failovers == 1
    await tim.get_tags(["user000001"])  # stays on the backup
    assert tim.stats.failovers == 1


async def test_error_codes_never_cause_failover(tim, tim_emu):
    tim_emu.faults.p_busy = 1.0
    with pytest.raises(TimApiError):
        await tim.get_tags(["user000001"])
    assert tim.transport.host == "https://console.tim.qq.com"
    assert tim.stats.failovers == 0


async def test_regions_without_a_backup_have_one_host(tim_emu):
    async with TimClient(1, "a", "k", region="frankfurt", transport=tim_emu.transport()) as c:
        assert c.transport.hosts == ["https://adminapiger.im.qcloud.com"]


async def test_garbage_answer_is_retried_then_reported(tim, tim_emu):
    tim_emu.faults.p_garbage = 1.0
    with pytest.raises(TimBadResponseError) as info:
        await tim.get_tags(["user000001"])
    assert isinstance(info.value, BadResponseError)
    assert "Tencent Cloud IM answered" in str(info.value)
    assert tim_emu.stats.garbage == 1 + FAST_RETRY.max_retries
    tim_emu.faults.p_garbage = 0.0
    assert await tim.get_tags(["user000001"])


async def test_http_5xx_is_retried(tim, tim_emu):
    tim_emu.faults.p_5xx = 0.5
    for i in range(10):
        await tim.remove_all_tags([f"user{i:06d}"])
    assert sum(tim_emu.stats.http_5xx.values()) == tim.stats.retries > 0


class _Unreachable(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request):
        raise httpx.ConnectError(f"cannot connect to {request.url}")


async def test_unreachable_is_a_transport_error_without_the_usersig_or_key():
    key = "KEY-abcdef0123456789-SECRET"
    async with TimClient(1400000001, "administrator", key, transport=_Unreachable(), retry=FAST_RETRY,
                         rate_limit=None) as c:
        usersig = str(await c.signer.current())
        with pytest.raises(TimTransportError) as info:
            await c.get_tags(["user000001"])
    text = str(info.value)
    assert isinstance(info.value, TransportError)
    assert "Could not reach Tencent Cloud IM" in text and "usersig=***" in text
    assert usersig not in text and key not in text and usersig not in repr(info.value)
    assert info.value.__suppress_context__
    assert c.stats.failovers >= 1  # tried the backup too


async def test_no_usersig_or_key_in_logs_errors_or_reprs(tim_emu):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    loggers = [logging.getLogger(n) for n in ("httpx", "wxtui", "wxtui.families.tim", "wxtui.api")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        async with tim_emu.client(retry=FAST_RETRY, rate_limit=None) as c:
            await c.get_tags(["user000001"])
            usersig = str(await c.signer.current())
            tim_emu.faults.down_hosts = {"console.tim.qq.com", "adminapi.my-imcloud.com"}
            with pytest.raises(TimTransportError) as info:
                await c.get_tags(["user000001"])
            texts = [stream.getvalue(), str(info.value), repr(info.value), repr(c), repr(c.signer),
                     repr(c.transport.signer._usersig), repr(c.signer._key), str(c.stats)]
    finally:
        for lg, level in zip(loggers, levels):
            lg.removeHandler(handler)
            lg.setLevel(level)
    assert "usersig=***" in stream.getvalue()  # httpx logged the URL, scrubbed
    for text in texts:
        assert usersig not in text
        assert tim_emu.secret_key not in text


async def test_fatal_errors_carry_no_usersig_even_when_the_server_echoes_it(tim_emu):
    async with tim_emu.client(retry=FAST_RETRY, rate_limit=None) as c:
        usersig = str(await c.signer.current())
        error = TimApiError(70003, f"bad usersig={usersig}", GET)
    assert usersig not in str(error) and usersig not in error.errmsg


async def test_retries_are_reported_to_the_call_observer(tim, tim_emu):
    events: list[RetryEvent] = []
    token = call_observer.set(events.append)
    try:
        tim_emu.faults.p_minute = 0.5
        for i in range(10):
            await tim.remove_all_tags([f"user{i:06d}"])
    finally:
        call_observer.reset(token)
    assert events and all(e.reason == "errcode 60018" and e.path == CLEAR for e in events)
    assert all(is_throttle(e) for e in events)
    assert not is_throttle(RetryEvent(CLEAR, "errcode 91000", 1, 0.1, "h"))
    assert not is_throttle(RetryEvent(CLEAR, "garbage answer", 1, 0.1, "h"))
    assert is_rate_limit(60007) and not is_rate_limit(70001)


# ---- the rate limit ------------------------------------------------------------------------


async def test_limiter_paces_concurrent_callers_and_never_bursts_after_a_stall():
    now = [0.0]  # a virtual clock: sleeping moves it to the sleeper's wake-up time
    starts: list[float] = []

    async def sleep(seconds):
        wake = now[0] + seconds + 0.0002  # a sleep always overshoots a little
        await asyncio.sleep(0)
        now[0] = max(now[0], wake)

    limiter = RateLimiter(100, clock=lambda: now[0], sleep=sleep)

    async def worker(w):
        for i in range(50):
            await limiter.acquire()
            starts.append(now[0])
            if w == 0 and i == 20:
                now[0] += 0.3  # this caller blocked the event loop: the others are held back

    await asyncio.gather(*(worker(w) for w in range(8)))
    starts.sort()
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= limiter.interval * 0.9 - 1e-9  # no burst after the stall
    most_in_a_second = max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts)
    assert most_in_a_second <= 99
    assert (starts[-1] - starts[0] - 0.3) / (len(starts) - 1) == pytest.approx(limiter.interval, rel=0.03)
    idle_at = now[0] = starts[-1] + 5.0  # idle: the next call goes at once
    await limiter.acquire()
    assert now[0] == idle_at


async def test_emulator_answers_60018_past_100_calls_in_a_second(tim, tim_emu):
    tim_emu.clock.speed = 0  # every call lands in the same emulated instant
    for i in range(100):
        await tim.remove_all_tags([f"user{i:06d}"])
    with pytest.raises(TimApiError) as info:
        await tim.remove_all_tags(["user000000"])
    assert info.value.errcode == 60018 and info.value.category.value == "retry"
    assert tim_emu.stats.errcodes[CLEAR][60018] == 1 + FAST_RETRY.max_retries
    assert (await tim.get_tags(["user000000"]))  # another command has its own window
    tim_emu.clock.advance(1.0)
    assert (await tim.remove_all_tags(["user000000"])).ok


async def test_the_client_limiter_keeps_the_emulator_from_answering_600xx(tim_emu):
    # 130 calls as fast as 8 in flight allow: without the limiter the emulator refuses some.
    accounts = [f"user{i:06d}" for i in range(130)]

    async def burst(client):
        return await asyncio.gather(*(client.remove_all_tags([a]) for a in accounts), return_exceptions=True)

    no_retries = RetryPolicy(max_retries=0, transport_retries=0)
    async with tim_emu.client(retry=no_retries, rate_limit=None) as unlimited:
        results = await burst(unlimited)
    assert tim_emu.stats.rate_limited > 0
    assert any(isinstance(r, TimApiError) and r.errcode == 60018 for r in results)

    tim_emu.stats.reset()
    tim_emu.clock.advance(2.0)
    async with tim_emu.client(retry=no_retries) as limited:  # the default: 100 calls per second
        results = await burst(limited)
    assert all(r.ok for r in results)
    assert tim_emu.stats.rate_limited == 0
    assert limited.transport.limiter.waited_s > 0
