"""History: snapshots written by sync and by jobs; WeChat's daily statistics through the client
and the emulator, consistent with its followers, fetched into the cache only where missing."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from jobs_support import job_service
from wxtui.families.wechat.emulator import Emulator
from wxtui.jobs.intents import Followers, TagFollowers
from wxtui.families.wechat.stats import fetch_stats
from wxtui.store.history import china_today
from wxtui.store import Store
from wxtui.store.history import snapshots, tag_series
from wxtui.families.wechat.sync import Sync
from wxtui.families.wechat.client import WeChatClient
from wxtui.families.wechat.errors import ApiError, ValidationError

VIP = 106


@pytest.fixture
def emu():
    return Emulator.demo(followers=2000, seed=17)


async def test_a_sync_and_every_finished_job_leave_a_snapshot(emu, tmp_path):
    acct = emu.account
    store = Store.open(tmp_path / "c.db")
    async with WeChatClient.with_secret(acct.appid, acct.secret, transport=emu.transport()) as client:
        await Sync(client, store).run()
    taken = snapshots(store)
    assert [(s.source, s.followers, s.blacklist) for s in taken] == [
        ("sync", len(acct.follower_openids()), len(acct.blacklist()))]
    assert tag_series(store, [VIP])[VIP] == [(taken[0].at, len(acct.tag_members(VIP)))]
    store.close()

    async with job_service(emu, tmp_path / "c.db", fill=False) as jobs:
        openids = random.Random(2).sample(acct.follower_openids(), 300)
        plan = await jobs.plan(TagFollowers(VIP, Followers.of(openids)))
        job_id = (await jobs.run(jobs.submit(plan))).job_id
        after = snapshots(jobs.store)
        assert [s.source for s in after] == ["sync", f"job #{job_id}"]
        assert [count for _at, count in tag_series(jobs.store, [VIP])[VIP]] == [
            len(acct.tag_members(VIP)) - plan.targets, len(acct.tag_members(VIP))]


async def test_the_daily_statistics_agree_with_the_followers(emu):
    acct = emu.account
    today = china_today(emu.clock.now())
    end = today - dt.timedelta(days=1)
    begin = end - dt.timedelta(days=6)
    async with WeChatClient.with_secret(acct.appid, acct.secret, transport=emu.transport()) as client:
        summary = await client.user_summary(begin.isoformat(), end.isoformat())
        cumulate = await client.user_cumulate(begin.isoformat(), end.isoformat())
        before = await client.user_cumulate((begin - dt.timedelta(days=1)).isoformat(),
                                            (begin - dt.timedelta(days=1)).isoformat())
        with pytest.raises(ValidationError, match="at most 7 days"):
            await client.user_summary((begin - dt.timedelta(days=1)).isoformat(), end.isoformat())
        with pytest.raises(ValidationError):
            await client.user_cumulate("2014-11-30", "2014-12-01")
        with pytest.raises(ApiError) as refused:
            await client.user_summary(today.isoformat(), today.isoformat())  # not over yet
        assert refused.value.errcode == 61500
    assert [r["ref_date"] for r in summary] == [r["ref_date"] for r in cumulate] == [
        (begin + dt.timedelta(days=i)).isoformat() for i in range(7)]
    previous = before[0]["cumulate_user"]
    for s, c in zip(summary, cumulate):
        assert c["cumulate_user"] - previous == s["new_user"] - s["cancel_user"]
        previous = c["cumulate_user"]
    china = dt.timezone(dt.timedelta(hours=8))
    followed_by_end = sum(1 for o in acct.follower_openids()
                          if dt.datetime.fromtimestamp(acct.follower(o)["subscribe_time"], china).date() <= end)
    assert cumulate[-1]["cumulate_user"] == followed_by_end


async def test_statistics_are_fetched_only_for_the_days_the_cache_lacks(emu, tmp_path):
    acct = emu.account
    store = Store.open(tmp_path / "c.db")
    now = emu.clock.now()
    async with WeChatClient.with_secret(acct.appid, acct.secret, transport=emu.transport()) as client:
        first = await fetch_stats(client, store, days=30, now=now)
        assert len(first.days) == 30 and first.fetched == 30 and first.calls == 2 * 5  # 7+7+7+7+2
        again = await fetch_stats(client, store, days=30, now=now)
        assert again.fetched == again.calls == 0 and again.days == first.days
        longer = await fetch_stats(client, store, days=33, now=now)
        assert longer.fetched == 3 and longer.calls == 2 and longer.days[3:] == first.days
    assert emu.stats.calls["/datacube/getusersummary"] == 6
    store.close()


def test_wxtui_stats_prints_json_csv_and_a_table_from_the_cache(emu, monkeypatch, capsys):
    import json

    from jobs_support import add_account, served
    from wxtui.cli.main import main

    acct = emu.account
    monkeypatch.setenv("WXTUI_SECRET_" + acct.appid.upper(), acct.secret)
    with served(emu) as url:
        add_account(main, acct.appid, url)
        capsys.readouterr()
        assert main(["stats", "--days", "60", "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert len(rows) == 60 and rows[-1]["day"] == (china_today() - dt.timedelta(days=1)).isoformat()
        assert all(r["net"] == r["new"] - r["cancelled"] for r in rows)
        calls = emu.stats.calls["/datacube/getusersummary"]
        assert main(["stats", "--days", "60", "--csv"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == "day,new,cancelled,net,cumulative" and len(lines) == 61
        assert emu.stats.calls["/datacube/getusersummary"] == calls  # all from the cache
        assert main(["stats", "--days", "7"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("DAY") and "7 days:" in out and "0 days fetched in 0 calls" in out
        with pytest.raises(SystemExit):
            main(["stats", "--days", "0"])


async def test_an_im_sync_leaves_a_snapshot_with_its_tags(tmp_path):
    from conftest import FAST_RETRY
    from wxtui.families.tim.emulator import TimEmulator
    from wxtui.families.tim.sync import import_accounts, known_accounts, learn_tags

    emu = TimEmulator.demo(accounts=120, seed=4)
    store = Store.open(tmp_path / "tim.sqlite")
    async with emu.client(retry=FAST_RETRY, rate_limit=None) as client:
        await import_accounts(client, store, emu.state.accounts())
        emu.state.tag_accounts(emu.state.accounts()[:7], "late")
        await learn_tags(client, store, known_accounts(store))
    (taken,) = snapshots(store)
    assert (taken.source, taken.followers) == ("sync", 120)
    late = next(t.id for t in store.tags() if t.name == "late")
    assert [n for _at, n in tag_series(store, [late])[late]] == [7]
    store.close()


@pytest.mark.parametrize("damage", ["migration record", "header format"])
def test_a_cache_whose_migration_record_or_header_was_changed_is_called_damaged(tmp_path, damage):
    """Every open reads the record of the migrations applied (more of them now, with the
    history's): bytes changed there are a damaged cache, said as such, not an unexpected error."""
    import sqlite3

    from wxtui.store.trouble import DAMAGED, CacheTrouble

    path = tmp_path / "c.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    if damage == "header format":
        data[47] = 5  # the schema format number: 1 to 4
    else:
        at = data.index(b"m001_history") + len(b"m001_history")  # its applied_at text follows
        data[at] = 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CacheTrouble) as found:
        Store.open(path)
    assert found.value.kind == DAMAGED and "doctor --repair" in str(found.value)
