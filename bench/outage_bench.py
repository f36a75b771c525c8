"""A tagging job killed again and again, then run through an outage: what it reports, and whether
the platform, the cache and the journal agree.

    /work/venv/bin/python bench/outage_bench.py [--kills 8] [--outage-s 30] [--followers 20000]

Real processes against the emulator served in a process of its own (tests/jobs_server.py, 20 ms
of latency): `wxtui tag --tag "kill 0" --everyone --yes` is SIGKILLed as soon as it has 8 calls in
flight, and `wxtui jobs resume` is killed the same way, --kills times in all; then the API host
goes down (the emulator's down_hosts fault: HTTP 503 to every API call) and the job is resumed
(or, with --kills 0, started) while it is down. The host comes back after --outage-s seconds or
when that run ends, and a last `wxtui jobs resume` runs if the job is not done. Prints one JSON
object:
  kills                       processes killed
  attempts_after_kills        the journal's attempts column, value -> calls (kills spend none)
  outage_run                  exit status, seconds, and its last line
  resume                      exit status and last line of the resume after the outage, if any
  platform_tagged, cache_tagged, followers   must be equal at the end
  journal                     calls by state; failures: targets reported as failures (must be 0)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "tests" / "jobs_server.py"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--outage-s", type=float, default=30.0)
    parser.add_argument("--followers", type=int, default=20_000)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="wxtui-outage-")
    env = dict(os.environ, WXTUI_HOME=home, PYTHONPATH=str(ROOT))
    server = subprocess.Popen([sys.executable, str(SERVER), "--followers", str(args.followers),
                               "--latency-ms", "20", "--tags", "1"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        info = json.loads(server.stdout.readline())
        env["WXTUI_SECRET_" + info["appid"].upper()] = info["secret"]
        print(json.dumps(run(args, env, info), indent=2))
    finally:
        server.kill()
        server.wait(10)


def wxtui(env, *argv: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "wxtui", *argv], env=env, **kwargs)


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run(args, env: dict, info: dict) -> dict:
    def finished(*argv: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "wxtui", *argv], env=env, capture_output=True,
                              text=True, timeout=timeout)

    assert finished("account", "add", "emu", "--appid", info["appid"], "--host", info["url"], "--no-secret",
                    "--default").returncode == 0
    assert finished("sync", "--quiet").returncode == 0
    db = sqlite3.connect(next(Path(env["WXTUI_HOME"]).rglob("*.sqlite")))
    http = httpx.Client(base_url=info["url"])
    tag = ["tag", "--tag", "kill 0", "--everyone", "--yes"]
    job_id = None
    for _ in range(args.kills):
        started = time.time()
        proc = wxtui(env, *(tag if job_id is None else ["jobs", "resume", str(job_id)]),
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = started + 60
        while time.time() < deadline:
            job_id = db.execute("SELECT max(id) FROM jobs").fetchone()[0]
            marked = db.execute("SELECT count(*) FROM job_calls WHERE job_id = ? AND state = 'in_flight' "
                                "AND updated_at > ?", [job_id, started]).fetchone()[0] if job_id else 0
            if marked >= 8:  # marked by this process, not left over by the one killed before
                break
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    attempts = dict(db.execute("SELECT attempts, count(*) FROM job_calls WHERE job_id = ? GROUP BY attempts",
                               [job_id])) if job_id else {}
    http.post("/_emulator/faults", json={"down_hosts": ["127.0.0.1"]})
    started = time.time()
    proc = wxtui(env, *(tag if job_id is None else ["jobs", "resume", str(job_id)]), stdout=subprocess.PIPE,
                 stderr=subprocess.DEVNULL, text=True)
    while proc.poll() is None and time.time() - started < args.outage_s:
        time.sleep(0.1)
    http.post("/_emulator/faults", json={"down_hosts": []})
    out, _ = proc.communicate(timeout=900)
    result = {"kills": args.kills, "attempts_after_kills": attempts,
              "outage_run": {"exit": proc.returncode, "seconds": round(time.time() - started), "said": last_line(out)}}
    job_id = job_id or db.execute("SELECT max(id) FROM jobs").fetchone()[0]
    if db.execute("SELECT state FROM jobs WHERE id = ?", [job_id]).fetchone()[0] != "done":
        resumed = finished("jobs", "resume", str(job_id))
        result["resume"] = {"exit": resumed.returncode, "said": last_line(resumed.stdout)}
    tagid = info["tags"]["kill 0"]
    result.update(
        followers=db.execute("SELECT count(*) FROM followers").fetchone()[0],
        platform_tagged=len(http.get("/_test/members", params={"tagid": tagid}).json()),
        cache_tagged=db.execute("SELECT count(*) FROM memberships WHERE tagid = ?", [tagid]).fetchone()[0],
        journal=dict(db.execute("SELECT state, count(*) FROM job_calls WHERE job_id = ? GROUP BY state", [job_id])),
        failures=db.execute("SELECT count(*) FROM job_failures WHERE job_id = ?", [job_id]).fetchone()[0],
    )
    return result


if __name__ == "__main__":
    main()
