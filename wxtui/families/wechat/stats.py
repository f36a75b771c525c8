"""WeChat's daily follower statistics (datacube), fetched into the cache incrementally: only
the days the cache does not hold yet are asked for, in calls of at most 7 consecutive days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from wxtui.families.wechat import limits
from wxtui.store.history import DayStats, china_today, save_days, saved_days


@dataclass(frozen=True, slots=True)
class StatsResult:
    days: list[DayStats]  # the range asked for, oldest first, as the cache now holds it
    fetched: int  # days asked of WeChat this time
    calls: int


def day_range(days: int, today: dt.date) -> tuple[dt.date, dt.date]:
    """The last `days` complete days before today (WeChat has no statistics for today)."""
    last = today - dt.timedelta(days=1)
    first = max(limits.DATACUBE_FIRST_DAY, today - dt.timedelta(days=max(1, days)))
    return first, last


def missing_windows(store: Any, first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Runs of days the cache lacks, each at most DATACUBE_MAX_DAYS long."""
    have = {d.day for d in saved_days(store, first.isoformat(), last.isoformat())}
    windows: list[tuple[dt.date, dt.date]] = []
    day = first
    while day <= last:
        if day.isoformat() in have:
            day += dt.timedelta(days=1)
            continue
        start = day
        while (day <= last and day.isoformat() not in have
               and (day - start).days < limits.DATACUBE_MAX_DAYS):
            day += dt.timedelta(days=1)
        windows.append((start, day - dt.timedelta(days=1)))
    return windows


async def fetch_stats(client: Any, store: Any, days: int = 90, now: float | None = None) -> StatsResult:
    first, last = day_range(days, china_today(now))
    if first > last:
        return StatsResult([], 0, 0)
    fetched = calls = 0
    for begin, end in missing_windows(store, first, last):
        summary = await client.user_summary(begin.isoformat(), end.isoformat())
        cumulate = await client.user_cumulate(begin.isoformat(), end.isoformat())
        calls += 2
        new: dict[str, int] = {}
        cancel: dict[str, int] = {}
        for row in summary:  # one row per day and source of followers
            new[row["ref_date"]] = new.get(row["ref_date"], 0) + row["new_user"]
            cancel[row["ref_date"]] = cancel.get(row["ref_date"], 0) + row["cancel_user"]
        totals = {row["ref_date"]: row["cumulate_user"] for row in cumulate}
        window = [(begin + dt.timedelta(days=i)).isoformat() for i in range((end - begin).days + 1)]
        save_days(store, [DayStats(d, new.get(d, 0), cancel.get(d, 0), totals.get(d)) for d in window])
        fetched += len(window)
    return StatsResult(saved_days(store, first.isoformat(), last.isoformat()), fetched, calls)
