"""A second process on the same account never crashes the first: writes take the write lock
first (BEGIN IMMEDIATE) and wait for each other; a second sync waits for the first and says who
holds the account; a write that waits too long says plainly who holds it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from jobs_support import add_account
from wxtui.core import paths
from wxtui.cli.main import main
from wxtui.store import Store
from wxtui.store.trouble import BUSY, CacheTrouble

FOLLOWERS = 6_000


@pytest.fixture
def emulator():
    """`wxtui emulator` in a process of its own, on a free port."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "wxtui", "emulator", "--port", "0", "--followers", str(FOLLOWERS),
         "--latency-ms", "40", "--seed", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = {}
        while "Base URL" not in lines:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            key, _, value = line.partition(":")
            lines[key.strip()] = value.strip()
        yield {"appid": lines["AppID"], "secret": lines["AppSecret"], "url": lines["Base URL"].split()[0]}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wxtui(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "wxtui", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _platform(url: str, appid: str, secret: str) -> tuple[set[str], dict[int, set[str]]]:
    """The followers and each tag's members, as the platform has them."""
    with httpx.Client(base_url=url) as http:
        token = http.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": appid,
                                                   "secret": secret}).json()["access_token"]
        followers = set(http.get("/cgi-bin/user/get", params={"access_token": token}).json()["data"]["openid"])
        members: dict[int, set[str]] = {}
        for tag in http.get("/cgi-bin/tags/get", params={"access_token": token}).json()["tags"]:
            found, cursor = set(), ""
            while True:
                page = http.post("/cgi-bin/user/tag/get", params={"access_token": token},
                                 json={"tagid": tag["id"], "next_openid": cursor}).json()
                found |= set(page.get("data", {}).get("openid", []))
                cursor = page.get("next_openid", "")
                if not cursor or not page.get("count"):
                    break
            members[tag["id"]] = found
    return followers, members


@pytest.mark.slow
def test_sync_job_and_sync_side_by_side_all_finish_and_the_cache_equals_the_platform(emulator, monkeypatch):
    appid, url = emulator["appid"], emulator["url"]
    monkeypatch.setenv("WXTUI_SECRET_" + appid.upper(), emulator["secret"])
    add_account(main, appid, url)
    assert main(["sync", "--quiet"]) == 0
    cache = paths.cache_db(appid)
    db = sqlite3.connect(cache)
    tag_name, tagid = db.execute("SELECT name, id FROM tags ORDER BY count LIMIT 1").fetchone()
    db.execute("PRAGMA query_only = ON")

    first = _wxtui("sync", "--quiet")
    deadline = time.monotonic() + 60
    while db.execute("SELECT value FROM meta WHERE key = 'sync.pass'").fetchone() is None:
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.01)
    job = _wxtui("tag", "--tag", tag_name, "--everyone", "--yes")
    second = _wxtui("sync", "--quiet")
    outputs = {}
    for name, proc in (("first sync", first), ("job", job), ("second sync", second)):
        out, err = proc.communicate(timeout=180)
        outputs[name] = (proc.returncode, out, err)
    for name, (code, out, err) in outputs.items():
        assert "Traceback" not in err and "database is locked" not in err, f"{name}: {err}"
        assert code == 0, f"{name} exited {code}: {out} {err}"
    assert "Job #1 done" in outputs["job"][1]
    # The second sync started while the first held the account: it said who, then ran.
    waited = outputs["second sync"][2]
    if "waiting" in waited:
        assert f"process {first.pid} (" in waited and "syncs it" in waited

    followers, members = _platform(url, appid, emulator["secret"])
    assert members[tagid] == followers  # the job tagged everyone
    cached = {o for (o,) in db.execute("SELECT openid FROM followers")}
    assert cached == followers
    for t, who in members.items():
        in_cache = {o for (o,) in db.execute(
            "SELECT f.openid FROM memberships m JOIN followers f ON f.id = m.follower WHERE m.tagid = ?", [t])}
        assert in_cache == who, f"tag {t}: cache and platform differ"
    assert db.execute("SELECT state FROM jobs").fetchall() == [("done",)]


def test_a_write_waits_for_another_connections_write_instead_of_failing(tmp_path):
    """The failure this guards against: a transaction that read first and writes later fails at
    once with "database is locked" when another connection wrote meanwhile."""
    path = tmp_path / "cache.sqlite"
    Store.open(path).close()
    holder, waiter = Store.open(path), Store.open(path)
    held, release, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        with holder.transaction():
            holder.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('a', '1')")
            held.set()
            release.wait(10)

    def write() -> None:
        try:
            with waiter.transaction():
                # Reads first, then writes: under BEGIN DEFERRED the write fails at once.
                waiter.get_meta("a")
                waiter.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('b', '2')")
        except BaseException as exc:
            errors.append(exc)
        done.set()

    first = threading.Thread(target=hold)
    first.start()
    held.wait(10)
    second = threading.Thread(target=write)
    second.start()
    assert not done.wait(0.3)  # it waits for the lock...
    release.set()
    first.join(10)
    second.join(10)
    assert errors == []  # ...and then writes
    assert (waiter.get_meta("a"), waiter.get_meta("b")) == ("1", "2")
    holder.close()
    waiter.close()


def test_a_write_kept_waiting_too_long_names_the_process_that_holds_the_account(tmp_path, monkeypatch):
    from wxtui.store import db as store_db

    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "cache.sqlite"
    Store.open(path).close()
    lock = Path(f"{path}.jobs")
    lock.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", """
import fcntl, os, sqlite3, sys, time
fd = os.open(sys.argv[1] + ".jobs/7.lock", os.O_CREAT | os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, f"{os.getpid()} wxtui tag --tag VIP".encode())
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(60)
""", str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(CacheTrouble) as info:
            store = Store.open(path)
        trouble = info.value
        assert trouble.kind == BUSY
        message = str(trouble)
        assert f"process {holder.pid} (wxtui tag --tag VIP) runs job #7" in message
        assert str(path) in message and "Nothing was lost" in message
    finally:
        holder.kill()
        holder.wait()
    Store.open(path).close()  # the holder gone, the cache opens
