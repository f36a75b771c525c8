"""The account's history in its cache: a snapshot of its numbers after every sync and every
finished job, and WeChat's own daily follower statistics (datacube), fetched day by day.

Tables (migration set "wxtui.history", applied with the cache's own):
  history_snapshots   one row per snapshot: when, what took it (a sync, job #12), followers
                      and blacklist size
  history_tag_counts  each tag's count at that snapshot (by id, with its name then)
  datacube_days       one row per day (China time, YYYY-MM-DD): new, cancelled and cumulative
                      followers as getusersummary and getusercumulate said them
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any, Iterable

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

history_migrations = Migrations("wxtui.history")


@history_migrations()
def m001_history(db: Database) -> None:
    for statement in (
        """CREATE TABLE history_snapshots (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            source TEXT NOT NULL,
            followers INTEGER NOT NULL,
            blacklist INTEGER NOT NULL
        )""",
        "CREATE INDEX history_snapshots_by_time ON history_snapshots(at)",
        """CREATE TABLE history_tag_counts (
            snapshot INTEGER NOT NULL REFERENCES history_snapshots(id),
            tagid INTEGER NOT NULL,
            name TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (snapshot, tagid)
        ) WITHOUT ROWID""",
        "CREATE INDEX history_tag_counts_by_tag ON history_tag_counts(tagid, snapshot)",
        """CREATE TABLE datacube_days (
            day TEXT PRIMARY KEY,
            new_users INTEGER NOT NULL,
            cancel_users INTEGER NOT NULL,
            cumulate_users INTEGER,
            fetched_at REAL NOT NULL
        ) WITHOUT ROWID""",
    ):
        db.execute(statement)


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: int
    at: float
    source: str
    followers: int
    blacklist: int


@dataclass(frozen=True, slots=True)
class DayStats:
    day: str  # YYYY-MM-DD, China time
    new_users: int
    cancel_users: int
    cumulate_users: int | None

    @property
    def net(self) -> int:
        return self.new_users - self.cancel_users

    def to_dict(self) -> dict:
        return {"day": self.day, "new": self.new_users, "cancelled": self.cancel_users,
                "net": self.net, "cumulative": self.cumulate_users}


def record_snapshot(store: Any, source: str, at: float | None = None) -> int:
    """Write the account's numbers now (followers, blacklist, each tag's count)."""
    at = time.time() if at is None else at
    followers, blacklist = store.follower_count(), store.blacklist_count()
    tags = store.tags()
    with store.transaction():
        cursor = store.conn.execute(
            "INSERT INTO history_snapshots (at, source, followers, blacklist) VALUES (?, ?, ?, ?)",
            [at, source, followers, blacklist])
        snapshot = cursor.lastrowid
        store.conn.executemany(
            "INSERT INTO history_tag_counts (snapshot, tagid, name, count) VALUES (?, ?, ?, ?)",
            [(snapshot, t.id, t.name, t.count) for t in tags])
    return snapshot


def snapshots(store: Any, since: float | None = None) -> list[Snapshot]:
    rows = store.reader().execute(
        "SELECT id, at, source, followers, blacklist FROM history_snapshots WHERE at >= ? ORDER BY at, id",
        [since or 0]).fetchall()
    return [Snapshot(*r) for r in rows]


def tag_series(store: Any, tagids: Iterable[int], since: float | None = None) -> dict[int, list[tuple[float, int]]]:
    """tag id -> [(time, count)] over the snapshots that knew the tag."""
    tagids = list(tagids)
    series: dict[int, list[tuple[float, int]]] = {t: [] for t in tagids}
    if not tagids:
        return series
    rows = store.reader().execute(
        f"SELECT c.tagid, s.at, c.count FROM history_tag_counts c JOIN history_snapshots s ON s.id = c.snapshot "
        f"WHERE c.tagid IN ({', '.join('?' * len(tagids))}) AND s.at >= ? ORDER BY s.at, s.id",
        [*tagids, since or 0]).fetchall()
    for tagid, at, count in rows:
        series[tagid].append((at, count))
    return series


# -- daily statistics ------------------------------------------------------------------------------

CHINA = dt.timezone(dt.timedelta(hours=8))


def china_today(now: float | None = None) -> dt.date:
    """Today in China time, where the platform's statistics days begin and end."""
    return dt.datetime.fromtimestamp(time.time() if now is None else now, CHINA).date()


def recent_days(store: Any, days: int, now: float | None = None) -> list["DayStats"]:
    """The cached statistics of the last `days` complete days."""
    today = china_today(now)
    first, last = today - dt.timedelta(days=max(1, days)), today - dt.timedelta(days=1)
    return saved_days(store, first.isoformat(), last.isoformat())


def save_days(store: Any, days: Iterable[DayStats], at: float | None = None) -> None:
    at = time.time() if at is None else at
    with store.transaction():
        store.conn.executemany(
            "INSERT OR REPLACE INTO datacube_days (day, new_users, cancel_users, cumulate_users, fetched_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [(d.day, d.new_users, d.cancel_users, d.cumulate_users, at) for d in days])


def saved_days(store: Any, first: str, last: str) -> list[DayStats]:
    rows = store.reader().execute(
        "SELECT day, new_users, cancel_users, cumulate_users FROM datacube_days WHERE day BETWEEN ? AND ? "
        "ORDER BY day", [first, last]).fetchall()
    return [DayStats(*r) for r in rows]
