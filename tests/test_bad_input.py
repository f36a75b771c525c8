"""Every class of bad input and broken environment gets its own clear message: what is wrong,
with which file, what to do; no traceback, no hang, nothing lost."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bad_input_support import digest, run_cli, synced_account
from wxtui.core import paths

CACHE_COMMANDS = [
    ["tag", "--tag", "VIP", "--everyone", "--dry-run"],
    ["tag", "--tag", "VIP", "--everyone", "--yes"],
    ["sync", "--quiet"],
    ["jobs", "list"],
]


def _assert_clean(run, code: int, *needles: str) -> None:
    assert "Traceback" not in run.text, run.text
    assert run.code == code, run.text
    for needle in needles:
        assert needle in run.text, run.text


# -- the cache file in trouble ------------------------------------------------------------------


def _zero_first_page(cache: Path) -> None:
    data = bytearray(cache.read_bytes())
    data[:4096] = bytes(4096)
    cache.write_bytes(bytes(data))


def _unknown_schema_format(cache: Path) -> None:
    data = bytearray(cache.read_bytes())
    data[47] = 9  # the header's schema format number: SQLite knows 1 to 4
    cache.write_bytes(bytes(data))


def _truncate(cache: Path) -> None:
    data = cache.read_bytes()
    cache.write_bytes(data[: len(data) // 2])


def _drop_table(table: str):
    def drop(cache: Path) -> None:
        conn = sqlite3.connect(cache, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(f"DROP TABLE {table}")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    return drop


def _replace(maker):
    def replace(cache: Path) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{cache}{suffix}").unlink(missing_ok=True)
        maker(cache)
    return replace


BROKEN_CACHES = {
    "random bytes": (_replace(lambda c: c.write_bytes(os.urandom(8192))), "not an SQLite database"),
    "a text file": (_replace(lambda c: c.write_text("followers\n" * 100)), "not an SQLite database"),
    "first page zeroed": (_zero_first_page, "not an SQLite database"),
    "truncated": (_truncate, "truncated"),
    "an unknown schema format": (_unknown_schema_format, "unsupported file format"),
    "a folder": (_replace(lambda c: c.mkdir()), "is a folder"),
    "a link to /dev/null": (_replace(lambda c: c.symlink_to("/dev/null")), "a link to /dev/null"),
    "a table missing": (_drop_table("followers"), "table followers is missing"),
    "the journal missing": (_drop_table("job_failures"), "table job_failures is missing"),
}


def _checkpointed(cache: Path) -> None:
    conn = sqlite3.connect(cache, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


@pytest.mark.parametrize("kind", list(BROKEN_CACHES))
def test_a_broken_cache_is_said_plainly_by_every_command_and_left_as_it_is(kind, emu, monkeypatch):
    break_it, what = BROKEN_CACHES[kind]
    with synced_account(emu, monkeypatch) as cache:
        _checkpointed(cache)
        break_it(cache)
        before = digest(cache)
        for argv in CACHE_COMMANDS:
            run = run_cli(argv)
            _assert_clean(run, 1, what, str(cache), "wxtui doctor --repair")
            assert digest(cache) == before, f"{argv} changed the broken cache"
        assert emu.account.tag_members(106) and len(emu.account.tag_members(106)) == 9  # nothing sent


def _cache_with_jobs(emu, monkeypatch, stack) -> Path:
    cache = stack.enter_context(synced_account(emu, monkeypatch))
    run = run_cli(["tag", "--tag", "VIP", "--everyone", "--yes"])
    assert run.code == 0, run.text
    run = run_cli(["untag", "--tag", "Staff", "--with-tag", "Staff", "--yes"])
    assert run.code == 0, run.text
    _checkpointed(cache)
    return cache


@pytest.mark.parametrize("kind", ["a table missing", "truncated", "a folder", "a link to /dev/null"])
def test_doctor_repair_moves_the_cache_aside_keeps_the_journal_and_a_sync_rebuilds(kind, emu, monkeypatch):
    import contextlib

    with contextlib.ExitStack() as stack:
        cache = _cache_with_jobs(emu, monkeypatch, stack)
        jobs_before = sqlite3.connect(cache).execute("SELECT id, kind, state FROM jobs ORDER BY id").fetchall()
        assert len(jobs_before) == 2
        BROKEN_CACHES[kind][0](cache)
        broken = digest(cache)
        run = run_cli(["doctor", "--repair"])
        _assert_clean(run, 0, "moved aside to", "wxtui sync")
        moved = sorted(cache.parent.glob(cache.name + ".damaged-*"))
        assert moved and digest(moved[0]) == broken  # kept as it was, beside the new one
        if kind == "a table missing":
            assert "job journal recovered" in run.out
            jobs_after = sqlite3.connect(cache).execute("SELECT id, kind, state FROM jobs ORDER BY id").fetchall()
            assert jobs_after == jobs_before
            assert "done" in run_cli(["jobs", "show", "1"]).out
        run = run_cli(["sync", "--quiet"])
        _assert_clean(run, 0, "Synced")
        db = sqlite3.connect(cache)
        assert db.execute("SELECT count(*) FROM followers").fetchone()[0] == len(emu.account.follower_openids())
        cached_vip = {o for (o,) in db.execute(
            "SELECT f.openid FROM memberships m JOIN followers f ON f.id = m.follower WHERE m.tagid = 106")}
        assert cached_vip == set(emu.account.tag_members(106))
        assert run_cli(["doctor", "--repair"]).out.count("nothing to repair") == 1


def test_doctor_repair_without_the_sqlite3_tool_copies_the_readable_journal(emu, monkeypatch):
    import contextlib

    from wxtui.store import repair

    with contextlib.ExitStack() as stack:
        cache = _cache_with_jobs(emu, monkeypatch, stack)
        _drop_table("followers")(cache)
        monkeypatch.setattr(repair.shutil, "which", lambda name: None)
        run = run_cli(["doctor", "--repair"])
        _assert_clean(run, 0, "reading the jobs tables row by row", "2 jobs")


@pytest.mark.parametrize("tool", ["sqlite3 .recover", "row by row"])
def test_doctor_repair_keeps_the_saved_segments_and_rules(tool, emu, monkeypatch):
    import contextlib

    from wxtui.store import repair

    with contextlib.ExitStack() as stack:
        cache = stack.enter_context(synced_account(emu, monkeypatch))
        for argv in (["segments", "save", "Guangdong fans", "tag:广东 -blacklisted"],
                     ["segments", "save", "Quiet", "untagged"],
                     ["rules", "add", "Guangdong fans", "--tag", "VIP", "--remove-leavers", "--auto"],
                     ["rules", "add", "Quiet", "--tag", "Newsletter"], ["rules", "pause", "2"]):
            assert run_cli(argv).code == 0
        segments_before = run_cli(["segments", "list", "--json"]).out
        rules_before = json.loads(run_cli(["rules", "list", "--json"]).out)
        _checkpointed(cache)
        _drop_table("followers")(cache)
        if tool == "row by row":
            monkeypatch.setattr(repair.shutil, "which", lambda name: None)
        run = run_cli(["doctor", "--repair"])
        _assert_clean(run, 0, "moved aside to", "kept 2 saved segments and 2 rules")
        _assert_clean(run_cli(["sync", "--quiet", "--no-rules"]), 0, "Synced")
        assert run_cli(["segments", "list", "--json"]).out == segments_before
        rules_after = json.loads(run_cli(["rules", "list", "--json"]).out)
        assert rules_after == rules_before
        assert [r["mode"] for r in rules_after] == ["automatic", "paused"]
        vip = set(emu.account.tag_members(106))
        _assert_clean(run_cli(["rules", "run", "--yes"]), 0)  # and they still work
        assert emu.account.tag_members(106) != vip
        assert emu.account.tag_members(100) - set(emu.account.blacklist()) <= emu.account.tag_members(106)


def test_a_busy_cache_waits_a_bounded_time_then_names_who_holds_it(emu, monkeypatch):
    from wxtui.store import db as store_db

    with synced_account(emu, monkeypatch) as cache:
        monkeypatch.setattr(store_db, "BUSY_TIMEOUT_S", 0.3)
        holder = subprocess.Popen([sys.executable, "-c", """
import fcntl, os, sqlite3, sys, time
os.makedirs(sys.argv[1] + ".jobs", exist_ok=True)
fd = os.open(sys.argv[1] + ".jobs/sync.lock", os.O_CREAT | os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, f"{os.getpid()} wxtui sync".encode())
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(60)
""", str(cache)], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "held"
            for argv in (["jobs", "list"], ["tag", "--tag", "VIP", "--everyone", "--dry-run"]):
                run = run_cli(argv)
                _assert_clean(run, 1, "stayed busy", f"process {holder.pid} (wxtui sync) syncs it",
                              "Nothing was lost")
        finally:
            holder.kill()
            holder.wait()
        assert run_cli(["jobs", "list"]).code == 0


def test_a_full_disk_stops_the_job_resumably_and_the_resume_ends_exact(emu, monkeypatch):
    """SQLite answers SQLITE_FULL both when the disk is full and when the file reaches its
    max_page_count: the second stands in for the first here."""
    import asyncio

    from jobs_support import job_service, state_of
    from wxtui.jobs.intents import Followers, TagFollowers
    from wxtui.store.filters import Filter

    emu.account  # noqa: B018
    path = paths.cache_db(emu.account.appid)

    async def scenario():
        async with job_service(emu, path, concurrency=2) as jobs:
            store = jobs.store
            pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
            plan = await jobs.plan(TagFollowers(106, Followers(filter=Filter())))
            job_id = jobs.submit(plan)
            store.conn.execute(f"PRAGMA max_page_count = {pages + 2}")
            final = await jobs.start(job_id)
            assert final.state == "paused", final
            assert "disk holding the account's cache is full" in final.message
            assert "jobs resume" in final.message
            store.conn.execute("PRAGMA max_page_count = 1073741823")
            final = await jobs.start(job_id)
            assert final.state == "done" and final.failures_count == 0, final
            cached = {o for (o,) in store.conn.execute(
                "SELECT f.openid FROM memberships m JOIN followers f ON f.id = m.follower WHERE m.tagid = 106")}
            assert cached == set(emu.account.tag_members(106)) == set(emu.account.follower_openids())

    asyncio.run(scenario())


# -- read-only folders (as another user when the tests run as root: root writes anywhere) -------


def _unprivileged(argv: list[str], home: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "wxtui", *argv]
    if os.geteuid() == 0:
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    env = {**os.environ, "WXTUI_HOME": str(home), "HOME": str(home)}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env,
                          stdin=subprocess.DEVNULL)


@pytest.fixture
def shared_home(tmp_path):
    """A WXTUI_HOME another user can reach (the tests' tmp_path is private to root)."""
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="wxtui-ro-", dir="/tmp"))
    os.chmod(home, 0o755)
    yield home
    for root, dirs, _files in os.walk(home):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
    shutil.rmtree(home, ignore_errors=True)


def _owned_by_runner(path: Path) -> None:
    if os.geteuid() == 0:
        for root, dirs, files in os.walk(path):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                os.chown(name, 65534, 65534)


def _config_for(home: Path, emu) -> None:
    from wxtui.core.config import Config, new_profile

    os.environ["WXTUI_HOME"], saved = str(home), os.environ.get("WXTUI_HOME")
    try:
        config = Config()
        config.add(new_profile("acme", emu.account.appid, hosts=["http://127.0.0.1:9"]))
        config.set_default("acme")
        config.save()
    finally:
        os.environ["WXTUI_HOME"] = saved


def test_a_read_only_wxtui_home_says_which_folder_and_changes_nothing(shared_home, emu):
    _config_for(shared_home, emu)
    _owned_by_runner(shared_home / "config")
    os.chmod(shared_home / "config" / "config.toml", 0o644)
    os.chmod(shared_home, 0o555)  # no data folder can be made
    for argv in (["jobs", "list"], ["sync", "--quiet"], ["tag", "--tag", "VIP", "--everyone", "--dry-run"]):
        done = _unprivileged(argv, shared_home)
        assert "Traceback" not in done.stderr + done.stdout, done.stderr
        assert done.returncode == 1, done.stderr
        assert "cannot write the account's cache" in done.stderr and "Nothing was changed" in done.stderr
    assert not (shared_home / "data").exists()


def test_a_cache_in_a_read_only_folder_is_said_plainly(shared_home, emu):
    from wxtui.store import Store

    _config_for(shared_home, emu)
    cache = shared_home / "data" / "accounts" / f"{emu.account.appid}.sqlite"
    os.environ["WXTUI_HOME"], saved = str(shared_home), os.environ["WXTUI_HOME"]
    try:
        Store.open(cache).close()
    finally:
        os.environ["WXTUI_HOME"] = saved
    _owned_by_runner(shared_home)
    before = digest(cache)
    os.chmod(cache.parent, 0o555)
    done = _unprivileged(["jobs", "list"], shared_home)
    assert "Traceback" not in done.stderr and done.returncode == 1, done.stderr
    assert "cannot write the account's cache" in done.stderr and str(cache.parent) in done.stderr
    assert digest(cache) == before


def test_an_unwritable_config_folder_says_which_folder_and_that_nothing_changed(shared_home, emu):
    _config_for(shared_home, emu)  # a config folder of another user's (root's), readable by all
    config = shared_home / "config" / "config.toml"
    os.chmod(config, 0o644)
    os.chmod(config.parent, 0o755)
    before = digest(config)
    if os.geteuid() != 0:  # the owner of a folder makes it writable again: take one of root's
        shared_home = Path("/")
    for argv in (["account", "add", "other", "--appid", "wxfedcba9876543210", "--no-secret"],
                 ["account", "remove", "acme", "--keep-secret"],
                 ["account", "default", "acme"]):
        if shared_home == Path("/") and argv[1] != "add":
            continue
        done = _unprivileged(argv, shared_home)
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 2, done.stderr
        assert f"Cannot write the config in the folder {shared_home / 'config'}" in done.stderr
        assert "Nothing was changed" in done.stderr
    assert digest(config) == before


# -- numbers, text, files and streams --------------------------------------------------------------


@pytest.mark.parametrize("argv, needle", [
    (["tag", "--tag", "²", "--everyone", "--dry-run"], "no tag named '²'"),
    (["jobs", "show", "100000000000000000000"], "is too large: a job number must be at most"),
    (["jobs", "resume", "100000000000000000000"], "is too large"),
    (["jobs", "cancel", "100000000000000000000"], "is too large"),
    (["jobs", "show", "²"], "'²' is not a whole number"),
    (["jobs", "show", "0"], "0 is too small"),
    (["jobs", "list", "--limit", "100000000000000000000"], "is too large"),
    (["emulator", "--port", "70000"], "70000 is too large: a port must be at most 65,535"),
    (["emulator", "--port", "-1"], "-1 is too small: a port must be at least 0"),
    (["emulator", "--followers", "1e9"], "'1e9' is not a whole number"),
    (["emulator", "--fault-busy", "nan"], "is not a probability"),
    (["tag", "--tag", "VIP", "--everyone", "--demo", "--demo-followers", "100000000000"],
     "is too large: the demo's followers must be at most 2,000,000"),
    (["sync", "--demo", "--followers", "100000000000"], "is too large"),
    (["demo", "--followers", "100000000000"], "is too large"),
    (["tag", "--tag", "VIP", "--text", "x" * 100_000, "--dry-run"], "--text of 100,000 characters is too long"),
    (["tag", "--tag", "V" * 5000, "--everyone", "--dry-run"], "a tag name of 5,000 characters is too long"),
    (["doctor", "--timeout", "inf"], "must be more than 0 seconds"),
])
def test_a_bad_value_is_a_usage_error_with_a_sentence(argv, needle, emu, monkeypatch):
    with synced_account(emu, monkeypatch):
        run = run_cli(argv)
    _assert_clean(run, 2, needle)


def test_files_and_streams_are_read_with_limits_and_never_hang(tmp_path, emu, monkeypatch):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    long_line = tmp_path / "long.txt"
    long_line.write_text("o" * 10_000 + "\n")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\0\1\2" * 100)
    cases = [
        (["--file", "/dev/zero"], "a device, not a regular file"),
        (["--file", str(fifo)], "a named pipe (FIFO), not a regular file"),
        (["--file", str(tmp_path)], "is a folder"),
        (["--file", str(tmp_path / "nothing")], "does not exist"),
        (["--file", str(long_line)], "line 1: 10,000 characters long"),
        (["--file", str(binary)], "binary data"),
    ]
    with synced_account(emu, monkeypatch) as cache:
        before = digest(cache)
        for source, needle in cases:
            started = time.monotonic()
            run = run_cli(["tag", "--tag", "VIP", *source, "--yes"])
            _assert_clean(run, 2, needle)
            assert time.monotonic() - started < 30
        closed = io.TextIOWrapper(io.BytesIO(b""))
        closed.close()
        for stdin in (None, closed):
            run = run_cli(["tag", "--tag", "VIP", "--stdin", "--yes"], stdin=stdin)
            _assert_clean(run, 2, "standard input is closed")
        from wxtui.core import listfile

        monkeypatch.setattr(listfile, "MAX_BYTES", 1000)
        run = run_cli(["tag", "--tag", "VIP", "--stdin", "--yes"], stdin="x" * 5000)
        _assert_clean(run, 2, "standard input gave more than 1,000 bytes")
        assert digest(cache) == before


def test_a_fifo_as_the_openid_file_does_not_hang_a_real_process(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "wxtui", "tag", "--tag", "VIP", "--file", str(fifo), "--demo",
                           "--demo-followers", "20", "--yes"], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and "named pipe (FIFO)" in done.stderr and "Traceback" not in done.stderr


def test_the_job_lock_folder_being_a_file_is_said_and_repaired(emu, monkeypatch):
    with synced_account(emu, monkeypatch) as cache:
        lock = Path(f"{cache}.jobs")
        shutil.rmtree(lock, ignore_errors=True)
        lock.write_text("not a folder")
        run = run_cli(["tag", "--tag", "VIP", "--everyone", "--yes"])
        _assert_clean(run, 1, "The folder wxtui keeps its job locks in is a file", str(lock),
                      "wxtui doctor --repair")
        assert len(emu.account.tag_members(106)) == 9  # nothing was sent
        assert "run `wxtui doctor --repair`" in run_cli(["doctor"]).out
        run = run_cli(["doctor", "--repair"])
        _assert_clean(run, 0, "moved aside to")
        assert run_cli(["jobs", "resume", "1", "--yes"]).code == 0
        assert set(emu.account.tag_members(106)) == set(emu.account.follower_openids())


# -- terminals, echoes and the last net -----------------------------------------------------------


@pytest.mark.parametrize("argv", [[], ["demo"], ["demo", "--followers", "50"], ["app"]])
def test_the_app_without_a_terminal_says_so_and_exits_2(argv, emu, monkeypatch):
    with synced_account(emu, monkeypatch):
        run = run_cli(argv)
    _assert_clean(run, 2, "wxtui needs a terminal; use the headless commands (wxtui tag …")
    assert "ssh -t" in run.err and "\x1b" not in run.text


def test_the_app_without_a_terminal_in_a_real_process_ends_at_once():
    done = subprocess.run([sys.executable, "-m", "wxtui", "demo", "--followers", "50"], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and "needs a terminal" in done.stderr and "\x1b" not in done.stdout


@pytest.mark.parametrize("argv", [
    ["tag", "--tag", "x\x1b[2J\x1b]0;PWNED\x07", "--everyone", "--dry-run"],
    ["tag", "--tag", "VIP", "--with-tag", "a\u202eb", "--dry-run"],
    ["tag", "--tag", "VIP", "--followed-from", "\x1b[31mred", "--dry-run"],
    ["tag", "--tag", "VIP", "--everyone", "extra\x1b[2J"],
    ["nosuch\x1b]0;PWNED\x07"],
    ["jobs", "show", "\x1b[2J"],
])
def test_input_echoed_back_has_its_control_characters_escaped(argv, emu, monkeypatch):
    with synced_account(emu, monkeypatch):
        run = run_cli(argv)
    assert run.code == 2 and "Traceback" not in run.text, run.text
    assert not any(c in run.text for c in ("\x1b", "\x07", "\u202e")), repr(run.text)
    assert "\\x1b" in run.text or "\\u202e" in run.text


def test_openid_file_lines_are_echoed_escaped(tmp_path, emu, monkeypatch):
    listing = tmp_path / "ids.txt"
    with synced_account(emu, monkeypatch):
        listing.write_text("\n".join([*emu.account.follower_openids()[:3], "bad\x1b[2Jline"]) + "\n")
        run = run_cli(["tag", "--tag", "VIP", "--file", str(listing), "--dry-run"])
    assert "Traceback" not in run.text and "\x1b" not in run.text
    assert ":4: not an openid" in run.err and "bad\\x1b[2Jline" in run.err


def test_the_last_net_turns_an_unexpected_error_into_a_paragraph_with_the_log(monkeypatch, private_home):
    from wxtui.cli import jobs_run as cli_run

    def broken(args):
        raise RuntimeError("no such thing as \x1b[2J access_token=abc123")

    monkeypatch.setattr(cli_run, "run_jobs", broken)
    run = run_cli(["jobs", "list"])
    _assert_clean(run, 1, "something went wrong that wxtui did not expect (RuntimeError",
                  str(paths.log_dir() / "wxtui.log"))
    assert "\x1b" not in run.text and "abc123" not in run.text and run.err.count("\n") == 1
    log = (paths.log_dir() / "wxtui.log").read_text()
    assert "Traceback" in log and "RuntimeError" in log and "abc123" not in log


async def test_the_app_shows_a_damaged_cache_and_repairs_it(emu, tmp_path):
    import contextlib

    from wxtui.core.session import open_session
    from wxtui.ui.app import WxtuiApp
    from ui_fixtures import ready, wait_for_screen
    from wxtui.ui.screens.cache_trouble import CacheTroubleScreen
    from wxtui.ui.screens.main import MainScreen

    cache = tmp_path / "cache.sqlite"
    cache.write_text("this is not a database\n" * 100)

    def opener():
        return open_session(emulator=emu, store_path=cache)

    app = WxtuiApp(opener, sync_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await wait_for_screen(pilot, CacheTroubleScreen)
        shown = " ".join(str(w.render()) for w in screen.query("Static"))
        assert "damaged" in shown and str(cache) in shown and "Traceback" not in shown
        await pilot.press("r")
        main = await ready(pilot)
        assert isinstance(main, MainScreen)
        assert app.session is not None and app.session.store.path == cache
        assert list(tmp_path.glob("cache.sqlite.damaged-*"))
