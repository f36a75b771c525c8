"""A real `wxtui tag` process is SIGKILLed at random points of a 20,000-follower job; `wxtui jobs
resume` in a new process ends exact, and no openid is sent twice except in the calls that were
in flight at the kill. The emulator runs in a process of its own, so its state survives."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from jobs_support import add_account
from wxtui.core import paths
from wxtui.cli.main import main
from wxtui.jobs.scheduler import MARKED_AHEAD

pytestmark = pytest.mark.slow

FOLLOWERS = 20_000
SERVER = Path(__file__).with_name("jobs_server.py")


@pytest.fixture
def server():
    proc = subprocess.Popen([sys.executable, str(SERVER), "--followers", str(FOLLOWERS), "--latency-ms", "20",
                             "--tags", "3"], stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        yield info
    finally:
        proc.kill()
        proc.wait(10)


def wxtui(*args: str) -> subprocess.Popen:
    # stderr kept in a file: what a process that ended early said is in the failure.
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "wxtui", *args], stdout=subprocess.DEVNULL, stderr=err)
    proc.err = err
    return proc


def said(proc: subprocess.Popen) -> str:
    proc.err.seek(0)
    return proc.err.read().decode("utf-8", "replace")[-3000:]


def kill_when(proc: subprocess.Popen, db: sqlite3.Connection, job_after: int, done_calls: int) -> int:
    """SIGKILL the process once its job (newer than job_after) has this many calls done."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the job ended before the kill (exit {proc.returncode}): {said(proc)}"
        row = db.execute("SELECT max(id) FROM jobs").fetchone()
        job_id = row[0] or 0
        if job_id > job_after:
            done = db.execute("SELECT count(*) FROM job_calls WHERE job_id = ? AND state = 'done'",
                              [job_id]).fetchone()[0]
            if done >= done_calls:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(10)
                return job_id
        time.sleep(0.003)
    raise AssertionError("the job did not get that far in time")


def in_flight_openids(db: sqlite3.Connection, job_id: int) -> set[str]:
    rows = db.execute("SELECT targets FROM job_calls WHERE job_id = ? AND state = 'in_flight'", [job_id])
    return {o for (targets,) in rows for o in json.loads(targets)}


def test_sigkill_at_random_points_then_resume_ends_exact(server, monkeypatch):
    monkeypatch.setenv("WXTUI_SECRET_" + server["appid"].upper(), server["secret"])
    add_account(main, server["appid"], server["url"])
    assert main(["sync", "--quiet"]) == 0
    db = sqlite3.connect(paths.cache_db(server["appid"]))
    http = httpx.Client(base_url=server["url"])
    everyone = {o for (o,) in db.execute("SELECT openid FROM followers")}
    assert len(everyone) == FOLLOWERS
    rng = random.Random(20)
    # Where each trial is killed (calls done of 400): at once, early or late; the last trial is
    # killed a second time while it resumes.
    kill_points = [[0], [rng.randint(1, 150)], [rng.randint(150, 300), rng.randint(330, 380)]]
    job_id = 0
    for trial, points in enumerate(kill_points):
        name = f"kill {trial}"
        tagid = server["tags"][name]
        proc = wxtui("tag", "--tag", name, "--everyone", "--yes", "--concurrency", "8")
        job_id = kill_when(proc, db, job_id, points[0])
        resent = in_flight_openids(db, job_id)
        assert db.execute("SELECT state FROM jobs WHERE id = ?", [job_id]).fetchone()[0] in ("ready", "running")
        for point in points[1:]:
            proc = wxtui("jobs", "resume", str(job_id))
            kill_when(proc, db, job_id - 1, point)
            resent |= in_flight_openids(db, job_id)
        # In flight in the journal: on the wire (8), marked just ahead of a free slot (8 for each
        # MARKED_AHEAD beyond the first), or answered with the result not yet committed (a round
        # or two): a few rounds of calls, never the job.
        assert len(resent) <= len(points) * (MARKED_AHEAD + 2) * 8 * 50
        assert subprocess.run([sys.executable, "-m", "wxtui", "jobs", "resume", str(job_id)],
                              capture_output=True, timeout=120).returncode == 0
        calls = dict(db.execute("SELECT state, count(*) FROM job_calls WHERE job_id = ? GROUP BY state", [job_id]))
        assert calls == {"done": FOLLOWERS // 50}
        members = http.get("/_test/members", params={"tagid": tagid}).json()
        counts = http.get("/_test/counts", params={"tagid": tagid}).json()
        assert set(members) == everyone == set(counts)
        twice = {o for o, n in counts.items() if n > 1}
        assert twice <= resent, f"trial {trial}: sent twice outside the calls in flight at the kill"
        assert max(counts.values()) <= 1 + len(points)
