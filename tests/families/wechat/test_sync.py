"""Sync against the emulator: the cache ends equal to the account, however the sync was stopped."""

from __future__ import annotations

import asyncio

import pytest

from conftest import FAST_RETRY
from wxtui.families.wechat.emulator import Emulator
from wxtui.store import Filter, Store
from wxtui.families.wechat.sync import CANCELLED, DONE, FOLLOWERS, PAUSED, Sync
from wxtui.families.wechat import limits
from wxtui.families.wechat.client import WeChatClient


@pytest.fixture
def emu10k():
    return Emulator.demo(followers=10_000, seed=3)


@pytest.fixture
async def client10k(emu10k):
    acct = emu10k.account
    async with WeChatClient.with_secret(acct.appid, acct.secret, transport=emu10k.transport(),
                                        retry=FAST_RETRY, seed=1) as c:
        yield c


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "cache.sqlite")
    yield s
    s.close()


@pytest.fixture
def small_pages(monkeypatch):
    """user/get pages of 1,000 (the emulator reads the limit per call): ten pages at 10,000."""
    monkeypatch.setattr(limits, "PAGE_SIZE", 1_000)


def assert_equal_to_account(store: Store, acct) -> None:
    fields = ("remark", "subscribe_time", "subscribe_scene", "language", "unionid", "qr_scene", "qr_scene_str")
    blacklist = set(acct.blacklist())
    expected = {}
    for openid in acct.follower_openids():
        d = acct.follower(openid)
        expected[openid] = (*(d.get(k, "" if k != "qr_scene" else 0) for k in fields),
                            tuple(sorted(d["tagid_list"])), openid in blacklist)
    rows = store.rows_by_ids(store.view(Filter()).row_ids())
    got = {r.openid: (r.remark, r.subscribe_time, r.scene, r.language, r.unionid, r.qr_scene, r.qr_scene_str,
                      r.tagids, r.blacklisted) for r in rows}
    assert got == expected
    assert {(t.id, t.name, t.count) for t in store.tags()} == {(t, n, c) for t, (n, c) in acct.tags().items()}
    assert set(store.blacklist()) == blacklist
    for tagid, (_, count) in acct.tags().items():
        assert store.view(Filter(tags={tagid})).count() == count


async def test_a_sync_makes_the_cache_equal_the_account(emu10k, client10k, store):
    events = []
    result = await Sync(client10k, store, on_event=events.append).run()
    assert result.status == DONE and result.ok
    assert (result.followers, result.added, result.removed) == (10_000, 10_000, 0)
    assert_equal_to_account(store, emu10k.account)
    assert store.last_synced_at() is not None
    phases = [e.phase for e in events]
    assert phases[0] == "tags" and phases[-1] == DONE and FOLLOWERS in phases
    follower_events = [e for e in events if e.phase == FOLLOWERS]
    assert [e.done for e in follower_events] == sorted(e.done for e in follower_events)
    assert follower_events[-1].total == 10_000
    assert events[-1].done == 10_000 and events[-1].calls == result.calls > 100


async def test_gone_added_and_changed_followers_follow_the_account(emu10k, client10k, store, small_pages):
    acct = emu10k.account
    assert (await Sync(client10k, store).run()).ok
    openids = acct.follower_openids()
    acct.remove_followers(openids[:300])
    acct.add_followers(120)
    acct.set_tags(openids[500], [limits.STAR_TAG_ID])
    acct.blacklist_rows([acct.row(openids[600])], True)
    result = await Sync(client10k, store).run()
    assert (result.followers, result.added, result.removed) == (9_820, 120, 300)
    assert_equal_to_account(store, acct)
    assert not store.follower_ids(openids[:300])


async def test_a_cancelled_sync_resumes_and_ends_equal(emu10k, client10k, store, small_pages):
    sync = Sync(client10k, store)
    write = store.write_pass_answers
    pages = []

    def write_then_stop(answers, *args, **kwargs):  # stop once four pages are in the cache
        write(answers, *args, **kwargs)
        pages.append(len(answers))
        if len(pages) == 4:
            sync.cancel()

    store.write_pass_answers = write_then_stop
    result = await sync.run()
    del store.write_pass_answers
    assert result.status == CANCELLED
    written = store.pass_size()
    assert 3_000 <= written < 10_000 and store.follower_count() == 0
    again = await Sync(client10k, store).run()
    assert again.ok
    # Only what was not written is fetched again: its details, its pages, tags and blacklist.
    assert again.calls <= (10_000 - written) // 100 + 10 + 3
    assert_equal_to_account(store, emu10k.account)


async def test_a_sync_task_cancelled_midway_resumes(emu10k, client10k, store, small_pages):
    seen = asyncio.Event()

    def watch(event):
        if event.phase == FOLLOWERS and event.done >= 2_000:
            seen.set()

    task = asyncio.create_task(Sync(client10k, store, on_event=watch).run())
    await seen.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.pass_in_progress() is not None
    assert (await Sync(client10k, store).run()).ok
    assert_equal_to_account(store, emu10k.account)


@pytest.mark.parametrize("api", ["/cgi-bin/user/info/batchget", "/cgi-bin/user/get"])
async def test_a_quota_stop_pauses_and_resumes(emu10k, client10k, store, small_pages, api):
    acct = emu10k.account
    acct.set_quota(api, 4 if api.endswith("user/get") else 35)
    events = []
    result = await Sync(client10k, store, on_event=events.append).run()
    assert result.status == PAUSED and not result.ok
    assert "45009" in result.message and "resumes" in result.message and "quota" in result.message
    assert events[-1].phase == PAUSED and events[-1].message == result.message
    assert store.pass_in_progress() is not None and store.pass_size() >= 3_000
    acct.set_quota(api, limits.DEFAULT_DAILY_QUOTAS[api])  # the next day
    again = await Sync(client10k, store).run()
    assert again.ok and again.calls < 100
    assert_equal_to_account(store, acct)


async def test_a_fatal_error_fails_with_a_clear_message(emu10k, client10k, store):
    emu10k.account.verified = False
    result = await Sync(client10k, store).run()
    assert result.status == "failed" and "48001" in result.message and "Traceback" not in result.message


def _command(argv: list[str]):
    import argparse

    from wxtui.cli import sync as sync_command

    parser = argparse.ArgumentParser(prog="wxtui")
    sync_command.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_the_command_refuses_without_an_account_and_syncs_the_demo_only_when_asked(capsys):
    assert _command(["sync", "--followers", "2000", "--quiet"]) == 2
    captured = capsys.readouterr()
    assert "wxtui account add NAME --appid" in captured.err and "--demo" in captured.err
    assert captured.out == ""
    assert _command(["sync", "--demo", "--followers", "2000", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Synced Acme Coffee (demo): 2,000 followers") and "gone" in out


def test_the_command_names_a_missing_account_without_a_traceback(capsys):
    assert _command(["sync", "--account", "nope"]) == 2
    err = capsys.readouterr().err
    assert "No account named 'nope'" in err and "Traceback" not in err


class _CountingTransport:
    """Passes requests on, counting how many are on the wire at once."""

    def __init__(self, inner):
        self.inner = inner
        self.now = self.most = 0

    async def handle_async_request(self, request):
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1

    async def aclose(self):
        await self.inner.aclose()


@pytest.mark.parametrize("max_in_flight, concurrency, expected", [(3, None, 3), (3, 5, 3), (1, None, 1)])
async def test_calls_on_the_wire_never_exceed_the_client_nor_the_sync(tmp_path, max_in_flight, concurrency,
                                                                       expected):
    emu = Emulator.demo(followers=2_000, seed=4)
    emu.faults.latency_ms = 5  # calls overlap
    acct = emu.account
    counting = _CountingTransport(emu.transport())
    store = Store.open(tmp_path / "cache.sqlite")
    try:
        async with WeChatClient.with_secret(acct.appid, acct.secret, transport=counting, retry=FAST_RETRY,
                                            max_in_flight=max_in_flight) as client:
            result = await Sync(client, store, concurrency=concurrency).run()
        assert result.ok and result.followers == 2_000
        assert counting.most == expected
    finally:
        store.close()


class _StallingTransport(_CountingTransport):
    """Holds some batchget requests for an hour, as a stuck connection would."""

    def __init__(self, inner, stall: set[int]):
        super().__init__(inner)
        self.stall, self.batchgets = stall, 0

    async def handle_async_request(self, request):
        if request.url.path.endswith("/user/info/batchget"):
            self.batchgets += 1
            if self.batchgets in self.stall:
                await asyncio.sleep(3600)
        return await super().handle_async_request(request)


async def test_a_stuck_batchget_is_asked_again_and_the_sync_goes_on(tmp_path):
    """A call that would answer only after an hour (and a timeout as long) does not hold the
    sync: it is asked again beside itself, the first answer wins, the cache is exact."""
    from wxtui.core.transport import RetryPolicy

    emu = Emulator.demo(followers=3_000, seed=6)
    acct = emu.account
    stalling = _StallingTransport(emu.transport(), stall={3, 10})
    patient = RetryPolicy(max_retries=1, base_delay=0.001, max_delay=0.001, timeout_s=3600.0)
    store = Store.open(tmp_path / "cache.sqlite")
    try:
        async with WeChatClient.with_secret(acct.appid, acct.secret, transport=stalling, retry=patient) as client:
            sync = Sync(client, store, hedge_after_s=0.2)
            # A guard only: without the second ask this would wait for the hour.
            result = await asyncio.wait_for(sync.run(), timeout=60)
        assert result.ok and result.followers == 3_000
        assert sync.hedged == 2 and stalling.batchgets == 30 + 2
        assert_equal_to_account(store, acct)
    finally:
        store.close()


async def test_a_sync_survives_its_token_invalidated_every_25_calls(emu10k, client10k, store, small_pages,
                                                                 monkeypatch):
    # Another system rotating the account's token, over and over: each refused token is fetched
    # again, as many times as it happens over the sync.
    monkeypatch.setattr(limits, "USER_INFO_BATCH", 25)  # 400 detail calls: 16 rotations at least
    emu10k.faults.update(invalidate_token_every=25, latency_ms=1)
    result = await Sync(client10k, store).run()
    assert result.status == DONE, result.message
    assert_equal_to_account(store, emu10k.account)
    assert client10k.stats.token_fetches > 4
