"""The audit log: every job and every API call it made, read from the journal.

For each job: what it was, its state, who created it (OS user and host), when it was created,
started and finished, and its targets; for each call: the operation, its targets count, its
state, attempts and retries, the last errcode with its message and the platform's request id
(rid), and when it was first sent and last answered. Nothing secret is in the journal (no token,
no AppSecret, and the targets themselves are not part of the log, only their count); messages
go through the same redaction as the log file all the same.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field

from wxtui.core.errors import redact


@dataclass(frozen=True, slots=True)
class AuditCall:
    id: int
    op: str
    targets: int
    state: str
    attempts: int
    retries: int
    errcode: int | None
    message: str
    rid: str
    sent_at: float | None
    ended_at: float | None
    split_from: int | None


@dataclass(frozen=True, slots=True)
class AuditJob:
    id: int
    family: str
    kind: str
    title: str
    state: str
    reason: str
    run_by: str
    run_on: str
    targets: int
    undo_of: int | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    calls: tuple[AuditCall, ...] = field(default=())

    @property
    def failed_calls(self) -> int:
        return sum(1 for c in self.calls if c.state == "failed")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["calls"] = [asdict(c) for c in self.calls]
        return d

    def search_text(self) -> str:
        """What a search of the log matches against, lower-cased."""
        parts = [f"#{self.id}", self.kind, self.title, self.state, self.reason, self.run_by, self.run_on,
                 self.family]
        for c in self.calls:
            parts += [c.op, c.state, c.message, c.rid, str(c.errcode or "")]
        return " ".join(parts).casefold()


_SINCE_RE = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_since(text: str, now: float | None = None) -> float:
    """Unix seconds from '2024-06-01', '2024-06-01 12:00' (UTC), or an age: '90m', '2h', '7d', '2w'.
    ValueError says what is accepted."""
    text = text.strip()
    now = time.time() if now is None else now
    m = _SINCE_RE.fullmatch(text)
    if m:
        return now - int(m.group(1)) * _UNITS[m.group(2)]
    import calendar

    for pattern in ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return float(calendar.timegm(time.strptime(text, pattern)))
        except ValueError:
            continue
    raise ValueError("a day (2024-06-01), a day and time in UTC (2024-06-01 12:00) or an age (90m, 2h, 7d, 2w)")


class AuditLog:
    def __init__(self, journal):
        self.journal = journal

    def jobs(self, *, since: float | None = None, job_id: int | None = None, search: str = "",
             limit: int | None = None) -> list[AuditJob]:
        """Jobs, newest first, each with its calls in the order they were planned."""
        where, args = [], []
        if since is not None:
            where.append("coalesce(finished_at, updated_at, created_at) >= ?")
            args.append(since)
        if job_id is not None:
            where.append("id = ?")
            args.append(job_id)
        sql = ("SELECT id, family, kind, title, state, reason, run_by, run_on, targets, undo_of, created_at, "
               "started_at, finished_at FROM jobs")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        read = self.journal.store.reader().execute
        out = []
        for row in read(sql, args).fetchall():
            (id_, family, kind, title, state, reason, run_by, run_on, targets, undo_of, created_at, started_at,
             finished_at) = row
            calls = tuple(
                AuditCall(cid, op, n, cstate, attempts, retries, errcode, redact(message or ""), rid or "",
                          sent_at, updated_at if sent_at is not None else None, parent)
                for (cid, op, n, cstate, attempts, retries, errcode, message, rid, sent_at, updated_at, parent)
                in read("SELECT id, op, n_targets, state, attempts, retries, errcode, message, rid, sent_at, "
                        "updated_at, parent_id FROM job_calls WHERE job_id = ? ORDER BY id", [id_]))
            job = AuditJob(id_, family, kind, title, state, redact(reason or ""), run_by, run_on, targets,
                           undo_of, created_at, started_at, finished_at, calls)
            if search and search.casefold() not in job.search_text():
                continue
            out.append(job)
            if limit is not None and len(out) >= limit:
                break
        return out
