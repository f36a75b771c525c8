"""The bulk-action commands on a configured account served by the emulator on loopback."""

from __future__ import annotations

import io
import json

import pytest

from jobs_support import add_account, served, synced_cli_account
from wxtui.cli.main import main
from wxtui.families.wechat.emulator import Emulator
from wxtui.families.wechat.operations import TAGGING_PATH

VIP = 106


@pytest.fixture
def emu():
    return Emulator.demo(followers=1500, seed=41)


@pytest.fixture
def account(emu, monkeypatch):
    with synced_cli_account(emu, monkeypatch) as acct:
        yield acct


def test_tag_from_a_file_reports_junk_lines_by_number_and_sends_the_rest(account, tmp_path, capsys):
    chosen = account.follower_openids()[:120]
    lines = ["# customers from the fair", chosen[0], "", "not an openid"] + chosen[1:] + ["oX"]
    path = tmp_path / "openids.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status = main(["tag", "--tag", "VIP", "--file", str(path), "--yes"])
    out, err = capsys.readouterr()
    assert status == 1  # two lines were not sent
    assert f"{path}:4: not an openid" in err and f"{path}:{len(lines)}: not an openid" in err
    assert "not an openid" not in out
    assert set(chosen) <= account.tag_members(VIP)
    assert "done" in out


def test_dry_run_prints_the_plan_and_sends_nothing(account, capsys, emu):
    status = main(["blacklist", "--with-tag", "北京", "--dry-run", "--json"])
    plan = json.loads(capsys.readouterr().out)
    assert status == 0
    assert plan["kind"] == "blacklist"
    assert plan["calls"] == plan["calls_by_op"]["blacklist"] == -(-plan["targets"] // 20)
    assert plan["targets"] + plan["noops"] == len(account.tag_members(101))
    assert emu.stats.calls["/cgi-bin/tags/members/batchblacklist"] == 0


def test_failures_are_listed_by_openid_with_the_message_and_the_status_is_1(account, capsys, monkeypatch):
    stranger = account.prefix + "Z" * 22
    openids = account.follower_openids()[:60] + [stranger]
    assert set(openids[:60]) & account.tag_members(100)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(openids)))
    status = main(["untag", "--tag", "广东", "--stdin", "--yes"])
    out = capsys.readouterr().out
    members = account.tag_members(100)
    assert status == 1
    assert f"{stranger}  40003  Not a follower of this account" in out
    assert not set(openids[:60]) & members


def test_jobs_list_show_undo_and_resume_after_a_quota_pause(account, capsys, emu):
    before = set(account.tag_members(VIP))
    emu.account.set_quota(TAGGING_PATH, 5)
    status = main(["tag", "--tag", "VIP", "--everyone", "--yes", "--concurrency", "2"])
    out = capsys.readouterr().out
    assert status == 3 and "paused" in out and "wxtui jobs resume 1" in out
    emu.account.set_quota(TAGGING_PATH, 1_000_000)
    assert main(["jobs", "resume", "1"]) == 0
    assert account.tag_members(VIP) == set(account.follower_openids())
    assert main(["jobs"]) == 0
    listing = capsys.readouterr().out
    assert "    1  done" in listing and 'tag "VIP"' in listing
    assert main(["jobs", "show", "1"]) == 0
    assert "45009" not in capsys.readouterr().out  # the pause is history, not a failure
    assert main(["jobs", "undo", "1", "--yes"]) == 0
    assert account.tag_members(VIP) == before
    assert main(["jobs", "cancel", "1"]) == 0
    assert "done; nothing to cancel" in capsys.readouterr().out


def test_bad_input_is_refused_with_a_clear_message(account, capsys, tmp_path):
    assert main(["tag", "--tag", "VIP"]) == 2
    assert "which followers?" in capsys.readouterr().err
    assert main(["tag", "--tag", "No such tag", "--everyone", "--yes"]) == 2
    assert "no tag named 'No such tag'" in capsys.readouterr().err
    assert main(["tag", "--tag", "VIP", "--file", str(tmp_path / "missing.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["jobs", "show", "99"]) == 2


def test_a_running_job_whose_process_is_gone_is_listed_interrupted(account, capsys):
    """After `kill -9` of `wxtui tag … --yes` the journal still says running; `wxtui jobs` tells
    from the job's lock whether a process still runs it."""
    import asyncio
    import subprocess
    import sys

    from wxtui.core import paths
    from wxtui.jobs.events import RUNNING
    from wxtui.jobs.intents import BlacklistFollowers, Followers
    from wxtui.jobs.journal import Journal
    from wxtui.families.wechat.planner import Planner
    from wxtui.store import Store

    cache = paths.cache_db(account.appid)
    store = Store.open(cache)
    try:
        targets = [o for o in account.follower_openids() if not account.is_blacklisted(o)][:10]
        plan = asyncio.run(Planner(store).plan(BlacklistFollowers(Followers.of(targets)), check_quota=False))
        journal = Journal(store)
        job_id = journal.create_job(family=plan.family, kind=plan.intent.kind, title=plan.title,
                                    intent=plan.intent.to_dict(), calls=plan.calls, targets=plan.targets,
                                    noops=plan.noops, plan=plan.summary())
        journal.set_state(job_id, RUNNING)  # as a killed process leaves it
    finally:
        store.close()
    assert main(["jobs"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith(str(job_id)))
    assert "interrupted" in row and "running" not in row
    assert main(["jobs", "show", str(job_id)]) == 0
    assert "state: interrupted" in capsys.readouterr().out
    # A process that holds the job's lock runs it: then it is running.
    lock = f"{cache}.jobs/{job_id}.lock"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"os.makedirs(os.path.dirname({lock!r}), exist_ok=True)\n"
        f"fd = os.open({lock!r}, os.O_CREAT | os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)\n")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["jobs"]) == 0
        row = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith(str(job_id)))
        assert "running" in row
    finally:
        holder.kill()
        holder.wait()
    # Listing asked and changed nothing: the journal still says running, nothing was sent.
    store = Store.open(cache)
    try:
        assert Journal(store).job(job_id).state == RUNNING
    finally:
        store.close()
    assert not any(account.is_blacklisted(o) for o in targets)


def test_a_scene_nobody_has_is_named_with_those_there_are(account, capsys, emu):
    status = main(["tag", "--tag", "VIP", "--scene", "qrcode", "--yes"])
    out, err = capsys.readouterr()
    assert status == 0 and "Nothing to send." in out
    assert "no follower has scene:qrcode (did you mean qr_code? scenes here: " in err
    assert emu.stats.calls[TAGGING_PATH] == 0
    status = main(["tag", "--tag", "VIP", "--query", "lang:en scene:qr_code", "--dry-run"])
    out, err = capsys.readouterr()
    assert status == 0 and "no follower has" not in err
