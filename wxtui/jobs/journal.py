"""The job journal: every job and every one of its calls, in the account's SQLite cache file.

A job and all its calls are written before the first call is sent. A call is marked in flight
(committed) before it is sent, and its result is written together with its effect on the cache
in one transaction; so after a crash the journal knows exactly which calls may have reached the
service (those in flight) and which certainly did (done). Done calls carry exactly the targets
they changed (the planner drops proven no-ops), which is what an undo inverts.

Tables (migration set "wxtui.jobs", applied by the store with its own):
  jobs          one row per job: kind, title, state and why, counts of the plan, job variables,
                a stop asked for by another process (`wxtui jobs cancel` while a job runs), and
                who created it (OS user and host)
  job_calls     one row per call: operation, params and targets (JSON), state, attempts,
                retries, last errcode, message and request id (rid), when first sent; a call split to isolate a bad target is
                state 'split' and its halves point to it with parent_id
  job_failures  one row per target that could not be changed, with errcode and message
  job_verifications  what reading a sample of a job's targets back found (jobs/verify.py)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from .events import READY, Failure
from .operations import CallSpec

journal_migrations = Migrations("wxtui.jobs")

# Call states.
PENDING = "pending"
IN_FLIGHT = "in_flight"
CALL_DONE = "done"
CALL_FAILED = "failed"
SPLIT = "split"


@journal_migrations()
def m001_journal(db: Database) -> None:
    for statement in (
        """CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            family TEXT NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            intent TEXT NOT NULL,
            plan TEXT NOT NULL DEFAULT '{}',
            state TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            resume_after REAL,
            undo_of INTEGER REFERENCES jobs(id),
            targets INTEGER NOT NULL DEFAULT 0,
            noops INTEGER NOT NULL DEFAULT 0,
            vars TEXT NOT NULL DEFAULT '{}',
            stop_request TEXT,
            created_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE job_calls (
            id INTEGER PRIMARY KEY,
            job_id INTEGER NOT NULL REFERENCES jobs(id),
            phase INTEGER NOT NULL DEFAULT 0,
            op TEXT NOT NULL,
            params TEXT NOT NULL,
            targets TEXT NOT NULL,
            n_targets INTEGER NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            retries INTEGER NOT NULL DEFAULT 0,
            errcode INTEGER,
            message TEXT NOT NULL DEFAULT '',
            output TEXT,
            parent_id INTEGER,
            updated_at REAL
        )""",
        "CREATE INDEX job_calls_by_state ON job_calls(job_id, state, phase, id)",
        """CREATE TABLE job_failures (
            id INTEGER PRIMARY KEY,
            job_id INTEGER NOT NULL REFERENCES jobs(id),
            call_id INTEGER NOT NULL,
            target TEXT NOT NULL,
            errcode INTEGER,
            message TEXT NOT NULL,
            at REAL NOT NULL
        )""",
        "CREATE INDEX job_failures_by_job ON job_failures(job_id, id)",
    ):
        db.execute(statement)


@journal_migrations()
def m002_audit(db: Database) -> None:
    # Who ran a job (recorded when it is created), and for each call when it was first sent
    # and the request id the platform gave a failed answer (rid), which its support asks for.
    for statement in (
        "ALTER TABLE jobs ADD COLUMN run_by TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE jobs ADD COLUMN run_on TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE job_calls ADD COLUMN sent_at REAL",
        "ALTER TABLE job_calls ADD COLUMN rid TEXT NOT NULL DEFAULT ''",
    ):
        db.execute(statement)


def who_runs() -> tuple[str, str]:
    """The operating-system user and the host name of this process, for the audit log."""
    import getpass
    import os
    import socket

    try:
        user = getpass.getuser()
    except Exception:  # no login name, no USER variable (a bare container): the uid still says who
        user = f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
    try:
        host = socket.gethostname()
    except OSError:
        host = "unknown"
    return user, host


@dataclass(slots=True)
class JobRecord:
    id: int
    family: str
    kind: str
    title: str
    intent: dict
    plan: dict
    state: str
    reason: str
    resume_after: float | None
    undo_of: int | None
    targets: int
    noops: int
    vars: dict
    created_at: float
    started_at: float | None
    finished_at: float | None


@dataclass(slots=True)
class CallRecord:
    id: int
    job_id: int
    phase: int
    op: str
    params: dict
    targets: tuple[str, ...]
    state: str
    attempts: int = 0
    retries: int = 0
    errcode: int | None = None
    message: str = ""
    output: dict = field(default_factory=dict)
    parent_id: int | None = None
    sent_at: float | None = None  # when it was first marked in flight: it may have gone out since


@dataclass(frozen=True, slots=True)
class CallCounts:
    """Calls and their targets by state."""

    calls: dict[str, int]
    targets: dict[str, int]

    def total_calls(self) -> int:
        return sum(n for state, n in self.calls.items() if state != SPLIT)

    def total_targets(self) -> int:
        return sum(n for state, n in self.targets.items() if state != SPLIT)


_JOB_COLUMNS = ("id, family, kind, title, intent, plan, state, reason, resume_after, undo_of, "
                "targets, noops, vars, created_at, started_at, finished_at")
_CALL_COLUMNS = ("id, job_id, phase, op, params, targets, state, attempts, retries, errcode, "
                 "message, output, parent_id, sent_at")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _job(row) -> JobRecord:
    (id_, family, kind, title, intent, plan, state, reason, resume_after, undo_of, targets, noops,
     vars_, created_at, started_at, finished_at) = row
    return JobRecord(id_, family, kind, title, json.loads(intent), json.loads(plan), state, reason,
                     resume_after, undo_of, targets, noops, json.loads(vars_), created_at,
                     started_at, finished_at)


def _call(row) -> CallRecord:
    (id_, job_id, phase, op, params, targets, state, attempts, retries, errcode, message, output,
     parent_id, sent_at) = row
    return CallRecord(id_, job_id, phase, op, json.loads(params), tuple(json.loads(targets)), state,
                      attempts, retries, errcode, message, json.loads(output) if output else {},
                      parent_id, sent_at)


class Journal:
    """The journal tables of one account's cache. Writes go through the store's transactions,
    so a call's record and its effect on the cache commit together."""

    def __init__(self, store: Any, clock: Callable[[], float] = time.time):
        self.store = store  # opened by Store.open, which applies journal_migrations with its own
        self._clock = clock

    def _read(self, sql: str, args: Iterable = ()):
        return self.store.reader().execute(sql, list(args))

    def _write(self, sql: str, args: Iterable = ()):
        return self.store.conn.execute(sql, list(args))

    # -- jobs ---------------------------------------------------------------------------------

    def create_job(self, *, family: str, kind: str, title: str, intent: dict, calls: Iterable[CallSpec],
                   targets: int = 0, noops: int = 0, plan: dict | None = None,
                   undo_of: int | None = None) -> int:
        """Write a job and all its calls (state pending) in one transaction; returns its id."""
        now = self._clock()
        run_by, run_on = who_runs()
        with self.store.transaction():
            cursor = self._write(
                "INSERT INTO jobs (family, kind, title, intent, plan, state, undo_of, targets, noops, "
                "created_at, updated_at, run_by, run_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [family, kind, title, _dumps(intent), _dumps(plan or {}), READY, undo_of, targets,
                 noops, now, now, run_by, run_on],
            )
            job_id = cursor.lastrowid
            self.store.conn.executemany(
                "INSERT INTO job_calls (job_id, phase, op, params, targets, n_targets, state, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                ((job_id, c.phase, c.op, _dumps(dict(c.params)), _dumps(list(c.targets)), len(c.targets),
                  now) for c in calls),
            )
        return job_id

    def job(self, job_id: int) -> JobRecord | None:
        row = self._read(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", [job_id]).fetchone()
        return _job(row) if row else None

    def jobs(self, limit: int = 50, states: Iterable[str] | None = None) -> list[JobRecord]:
        """The latest jobs first."""
        where, args = "", []
        if states is not None:
            states = list(states)
            where = f"WHERE state IN ({', '.join('?' * len(states))})"
            args = states
        rows = self._read(f"SELECT {_JOB_COLUMNS} FROM jobs {where} ORDER BY id DESC LIMIT ?",
                               [*args, limit]).fetchall()
        return [_job(r) for r in rows]

    def jobs_touching(self, target: str, limit: int = 20) -> list[JobRecord]:
        """The latest jobs with a call naming this target (an openid, an account id), among its
        targets or its parameters (the members a tag deletion took along)."""
        needle = _dumps(target)  # quoted, as the JSON lists hold it: no prefix of another id matches
        rows = self._read(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id IN (SELECT DISTINCT job_id FROM job_calls "
            "WHERE instr(targets, ?) > 0 OR instr(params, ?) > 0) ORDER BY id DESC LIMIT ?",
            [needle, needle, limit]).fetchall()
        return [_job(r) for r in rows]

    def set_state(self, job_id: int, state: str, *, reason: str = "",
                  resume_after: float | None = None) -> None:
        now = self._clock()
        with self.store.transaction():
            self._write(
                "UPDATE jobs SET state = ?, reason = ?, resume_after = ?, updated_at = ?, stop_request = NULL, "
                "started_at = CASE WHEN ? = 'running' THEN COALESCE(started_at, ?) ELSE started_at END, "
                "finished_at = CASE WHEN ? = 'done' THEN ? ELSE finished_at END WHERE id = ?",
                [state, reason, resume_after, now, state, now, state, now, job_id],
            )

    def request_stop(self, job_id: int, state: str) -> None:
        """Ask whichever process runs the job to stop it (state: cancelled or paused)."""
        with self.store.transaction():
            self._write("UPDATE jobs SET stop_request = ?, updated_at = ? WHERE id = ?",
                        [state, self._clock(), job_id])

    def stop_requests(self, job_ids: Iterable[int]) -> dict[int, str]:
        job_ids = list(job_ids)
        if not job_ids:
            return {}
        rows = self._read(f"SELECT id, stop_request FROM jobs WHERE stop_request IS NOT NULL AND id IN "
                          f"({', '.join('?' * len(job_ids))})", job_ids)
        return dict(rows.fetchall())

    def requeue_in_flight(self, job_id: int) -> int:
        """After a crash: calls that were in flight go back to pending (they are idempotent).
        Their attempts stay as they were: a crash is not an answer from the platform."""
        with self.store.transaction():
            cursor = self._write(
                "UPDATE job_calls SET state = 'pending' WHERE job_id = ? AND state = 'in_flight'", [job_id])
        return cursor.rowcount

    # -- calls --------------------------------------------------------------------------------

    def counts(self, job_id: int) -> CallCounts:
        calls: dict[str, int] = {}
        targets: dict[str, int] = {}
        for state, n, t in self._read(
                "SELECT state, count(*), sum(n_targets) FROM job_calls WHERE job_id = ? GROUP BY state",
                [job_id]):
            calls[state], targets[state] = n, t or 0
        return CallCounts(calls, targets)

    def retries(self, job_id: int) -> int:
        return self._read("SELECT coalesce(sum(retries), 0) FROM job_calls WHERE job_id = ?",
                               [job_id]).fetchone()[0]

    def open_phase(self, job_id: int) -> int | None:
        """The lowest phase that still has calls to send (pending or in flight)."""
        row = self._read(
            "SELECT min(phase) FROM job_calls WHERE job_id = ? AND state IN ('pending', 'in_flight')",
            [job_id]).fetchone()
        return row[0]

    def pending_calls(self, job_id: int, phase: int, after_id: int = 0, limit: int = 500) -> list[CallRecord]:
        rows = self._read(
            f"SELECT {_CALL_COLUMNS} FROM job_calls WHERE job_id = ? AND state = 'pending' AND phase = ? "
            "AND id > ? ORDER BY id LIMIT ?", [job_id, phase, after_id, limit]).fetchall()
        return [_call(r) for r in rows]

    def calls(self, job_id: int, states: Iterable[str] | None = None) -> Iterator[CallRecord]:
        where, args = "job_id = ?", [job_id]
        if states is not None:
            states = list(states)
            where += f" AND state IN ({', '.join('?' * len(states))})"
            args += states
        for row in self._read(f"SELECT {_CALL_COLUMNS} FROM job_calls WHERE {where} ORDER BY id", args):
            yield _call(row)

    def mark_in_flight(self, calls: list[CallRecord]) -> None:
        """Committed before the calls are sent. Not an attempt: a call marked in flight may
        never be answered (the process is killed, the job paused), and only an answer counts."""
        now = self._clock()
        with self.store.transaction():
            self.store.conn.executemany(
                "UPDATE job_calls SET state = 'in_flight', updated_at = ?, sent_at = coalesce(sent_at, ?) "
                "WHERE id = ?",
                [(now, now, c.id) for c in calls])
        for c in calls:
            c.state = IN_FLIGHT
            if c.sent_at is None:
                c.sent_at = now

    def finish(self, call: CallRecord, state: str, *, retries: int = 0, errcode: int | None = None,
               message: str = "", output: dict | None = None, failures: Iterable[Failure] = (),
               children: Iterable[CallSpec] = (), job_vars: dict | None = None, rid: str = "") -> list[int]:
        """Record a call's end, its failures, the calls it was split into and the job variables
        it set, in one transaction (the caller's, which also holds the call's effect on the
        cache). Returns the children's ids."""
        now = self._clock()
        child_ids = []
        with self.store.transaction():
            self._write(
                "UPDATE job_calls SET state = ?, retries = retries + ?, errcode = ?, message = ?, output = ?, "
                "updated_at = ?, rid = CASE WHEN ? != '' THEN ? ELSE rid END WHERE id = ?",
                [state, retries, errcode, message, _dumps(output) if output else None, now, rid, rid, call.id])
            failures = list(failures)
            if failures:
                self.store.conn.executemany(
                    "INSERT INTO job_failures (job_id, call_id, target, errcode, message, at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(call.job_id, call.id, f.target, f.errcode, f.message, now) for f in failures])
            for child in children:
                cursor = self._write(
                    "INSERT INTO job_calls (job_id, phase, op, params, targets, n_targets, state, parent_id, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                    [call.job_id, child.phase, child.op, _dumps(dict(child.params)), _dumps(list(child.targets)),
                     len(child.targets), call.id, now])
                child_ids.append(cursor.lastrowid)
            if job_vars is not None:
                self._write("UPDATE jobs SET vars = ?, updated_at = ? WHERE id = ?",
                                [_dumps(job_vars), now, call.job_id])
        call.state = state
        call.retries += retries
        call.errcode, call.message = errcode, message
        return child_ids

    def release(self, call: CallRecord, *, retries: int = 0, errcode: int | None = None,
                message: str = "", attempted: bool = False, rid: str = "") -> None:
        """The call goes back to pending (quota pause, transient failure, a stop): it will be
        sent again. attempted: it was tried and the answer was a transient failure."""
        with self.store.transaction():
            self._write(
                "UPDATE job_calls SET state = 'pending', retries = retries + ?, attempts = attempts + ?, "
                "errcode = ?, message = ?, updated_at = ?, rid = CASE WHEN ? != '' THEN ? ELSE rid END "
                "WHERE id = ?",
                [retries, int(attempted), errcode, message, self._clock(), rid, rid, call.id])
        call.state = PENDING
        call.retries += retries
        call.attempts += int(attempted)
        call.errcode, call.message = errcode, message

    # -- failures -----------------------------------------------------------------------------

    def failures(self, job_id: int, limit: int | None = None) -> list[Failure]:
        sql = "SELECT target, errcode, message FROM job_failures WHERE job_id = ? ORDER BY id"
        args: list = [job_id]
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [Failure(*row) for row in self._read(sql, args)]

    def failures_count(self, job_id: int, of_done_calls: bool = False) -> int:
        """Targets that failed; of_done_calls: only those a call that succeeded for the others
        named (a partial success)."""
        if of_done_calls:
            return self._read(
                "SELECT count(*) FROM job_failures f JOIN job_calls c ON c.id = f.call_id "
                "WHERE f.job_id = ? AND c.state = ?", [job_id, CALL_DONE]).fetchone()[0]
        return self._read("SELECT count(*) FROM job_failures WHERE job_id = ?", [job_id]).fetchone()[0]


# After a job: what reading a sample of its targets back found (wxtui.jobs.verify).
@journal_migrations()
def m003_job_verifications(db: Database) -> None:
    db.execute("""CREATE TABLE job_verifications (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES jobs(id),
        state TEXT NOT NULL,
        targets INTEGER NOT NULL,
        sampled INTEGER NOT NULL,
        checked INTEGER NOT NULL,
        calls INTEGER NOT NULL,
        mismatches TEXT NOT NULL DEFAULT '[]',
        message TEXT NOT NULL DEFAULT '',
        repair_job INTEGER REFERENCES jobs(id),
        at REAL NOT NULL
    )""")
    db.execute("CREATE INDEX job_verifications_by_job ON job_verifications(job_id, id)")
