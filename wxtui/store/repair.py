"""`wxtui doctor --repair`: a cache file in trouble is moved aside, never deleted, and a new one
takes its place with whatever of the job journal could still be read from the old one.

The followers, tags and blacklist are a copy of the platform: a sync rebuilds them. The job
journal is not (it is what `wxtui jobs resume` and `undo` work from), nor are the segments and
rules the user saved, so they are recovered: with the sqlite3 command-line tool's `.recover`
when it is installed (it reads what it can of every page, even of a file SQLite refuses to
open), otherwise by reading those tables row by row from the old file and keeping every row
that can be read.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import trouble

JOURNAL_TABLES = ("jobs", "job_calls", "job_failures")
SAVED_TABLES = ("segments", "rules")  # made by the user: no sync brings them back
KEPT_TABLES = JOURNAL_TABLES + SAVED_TABLES
RECOVER_TIMEOUT_S = 300


@dataclass
class RepairReport:
    path: Path
    moved_to: list[Path] = field(default_factory=list)
    recovered: dict[str, int] = field(default_factory=dict)  # table: rows
    method: str = ""
    problem: str = ""  # what was wrong, or why nothing was done
    repaired: bool = False

    def lines(self) -> list[str]:
        if not self.repaired:
            return [f"{self.path}: {self.problem}"]
        out = [f"{self.path}: {self.problem}"]
        out += [f"  moved aside to {p}" for p in self.moved_to]
        if self.recovered.get("jobs"):
            out.append(f"  job journal recovered ({self.method}): {self.recovered.get('jobs', 0):,} jobs, "
                       f"{self.recovered.get('job_calls', 0):,} calls, "
                       f"{self.recovered.get('job_failures', 0):,} failures")
        elif self.method:
            out.append(f"  no job could be recovered from it ({self.method})")
        if self.recovered.get("segments") or self.recovered.get("rules"):
            out.append(f"  kept {self.recovered.get('segments', 0):,} saved segments and "
                       f"{self.recovered.get('rules', 0):,} rules")
        out.append("  a new, empty cache is in its place: run `wxtui sync` to fill it")
        return out


def stamp(clock=time.time) -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(clock()))


def _aside(path: Path, label: str, when: str) -> Path:
    target = path.with_name(f"{path.name}.{label}-{when}")
    n = 1
    while os.path.lexists(target):
        n += 1
        target = path.with_name(f"{path.name}.{label}-{when}-{n}")
    os.rename(path, target)
    return target


def diagnose(path: Path) -> trouble.CacheTrouble | None:
    """What is wrong with this cache file (None: nothing doctor --repair should touch)."""
    from .db import Store

    lock_dir = Path(f"{path}.jobs")
    if os.path.lexists(lock_dir) and not lock_dir.is_dir():
        return trouble.CacheTrouble(lock_dir, trouble.NOT_A_FILE, "The job lock folder is a file.",
                                    "doctor --repair moves it aside.")
    if not os.path.lexists(path):
        return None
    try:
        Store.open(path).close()
    except trouble.CacheTrouble as exc:
        return exc
    return None


def repair(path: Path, *, clock=time.time) -> RepairReport:
    """Move a damaged cache (or a file where its lock folder should be) aside and put a new
    cache with the recovered journal in its place. A cache that is only busy, unwritable or on
    a full disk is left alone: moving it would not help."""
    from .db import Store

    path = Path(path)
    report = RepairReport(path)
    found = diagnose(path)
    if found is None:
        report.problem = "nothing to repair"
        return report
    report.problem = found.what
    if not found.repairable:
        report.problem = f"{found.what} {found.todo}"
        return report
    when = stamp(clock)
    lock_dir = Path(f"{path}.jobs")
    if os.path.lexists(lock_dir) and not lock_dir.is_dir():
        report.moved_to.append(_aside(lock_dir, "moved", when))
    if found.path == lock_dir:
        report.repaired = True
        return report
    old = _aside(path, "damaged", when)
    report.moved_to.append(old)
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if os.path.lexists(side):
            report.moved_to.append(_aside(side, "damaged", when))
    wal = Path(f"{old}-wal")
    moved_wal = [p for p in report.moved_to if p.name.startswith(f"{path.name}-wal.")]
    if moved_wal and not wal.exists():  # let the recovery read the WAL's commits too
        shutil.copyfile(moved_wal[0], wal)
    rows, report.method = recover_journal(old)
    if wal.exists() and moved_wal:
        wal.unlink()
    store = Store.open(path)
    try:
        report.recovered = _load_journal(store, rows)
    finally:
        store.close()
    report.repaired = True
    return report


def recover_journal(old: Path) -> tuple[dict[str, list[tuple]], str]:
    """The rows of the journal, segments and rules tables that can still be read from a damaged
    file."""
    if not Path(old).is_file():
        return {}, "it was not a file"
    cli = shutil.which("sqlite3")
    if cli:
        rows = _recover_with_cli(cli, old)
        if rows is not None:
            return rows, "sqlite3 .recover"
    return _read_rows(old), "reading the jobs tables row by row"


def _recover_with_cli(cli: str, old: Path) -> dict[str, list[tuple]] | None:
    with tempfile.TemporaryDirectory(prefix="wxtui-recover-") as tmp:
        copy = Path(tmp) / "old.sqlite"
        shutil.copyfile(old, copy)  # .recover must not write anything next to the original
        if Path(f"{old}-wal").exists():
            shutil.copyfile(f"{old}-wal", f"{copy}-wal")
        try:
            done = subprocess.run([cli, str(copy), ".recover"], capture_output=True, timeout=RECOVER_TIMEOUT_S,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode != 0 or b"INSERT" not in done.stdout:
            return None  # some builds of the tool cannot recover at all: read the rows instead
        rebuilt = Path(tmp) / "recovered.sqlite"
        conn = sqlite3.connect(rebuilt)
        try:
            conn.executescript(done.stdout.decode("utf-8", "replace"))
        except sqlite3.Error:
            # The script stops at the first statement SQLite refuses; keep what went in.
            pass
        finally:
            conn.close()
        return _read_rows(rebuilt)


def _read_rows(db: Path) -> dict[str, list[tuple]]:
    """Every row of the kept tables that can be read; a table that cannot be read at all
    gives none. Rows are read one by one by rowid, so one bad page loses only its own rows."""
    out: dict[str, list[tuple]] = {}
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.Error:
        return out
    try:
        for table in KEPT_TABLES:
            rows: list[tuple] = []
            try:
                columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
                if not columns:
                    continue
                try:
                    rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id").fetchall()
                except sqlite3.Error:
                    top = conn.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0
                    for rowid in range(1, top + 1):
                        try:
                            row = conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE id = ?",
                                               (rowid,)).fetchone()
                        except sqlite3.Error:
                            continue
                        if row is not None:
                            rows.append(row)
            except sqlite3.Error:
                continue
            out[table] = [(tuple(columns),) + (row,) for row in rows]
    finally:
        conn.close()
    return out


def _load_journal(store, rows: dict[str, list[tuple]]) -> dict[str, int]:
    """Insert the recovered rows into the new cache's tables (columns both have)."""
    counts: dict[str, int] = {}
    with store.transaction():
        for table in KEPT_TABLES:
            have = {r[1] for r in store.conn.execute(f"PRAGMA table_info({table})")}
            n = 0
            for columns, row in rows.get(table, []):
                keep = [(c, v) for c, v in zip(columns, row) if c in have]
                if not keep:
                    continue
                names = ", ".join(c for c, _ in keep)
                try:
                    with store.transaction():
                        store.conn.execute(f"INSERT OR IGNORE INTO {table} ({names}) VALUES "
                                           f"({', '.join('?' * len(keep))})", [v for _, v in keep])
                    n += 1
                except sqlite3.Error:  # a row that lost a required field: left out
                    continue
            counts[table] = n
        # A job that was running when the file broke is resumable, like an interrupted one.
        store.conn.execute("UPDATE job_calls SET state = 'pending' WHERE state = 'in_flight'")
    return counts
