"""The audit log (`wxtui log`), read from the journal of jobs run against the emulator: who ran
each job, every call with its errcode and the platform's rid, and nothing secret."""

from __future__ import annotations

import getpass
import io
import json
import re
import socket

import pytest

from jobs_support import add_account, served, synced_cli_account
from wxtui.cli.main import main
from wxtui.families.wechat.emulator import Emulator
from wxtui.jobs.audit import parse_since


@pytest.fixture
def emu():
    return Emulator.demo(followers=800, seed=47)


@pytest.fixture
def account(emu, monkeypatch):
    with synced_cli_account(emu, monkeypatch) as acct:
        yield acct


def test_the_log_has_every_job_and_call_with_errcodes_rids_and_who_ran_it(account, emu, capsys, monkeypatch):
    stranger = account.prefix + "Z" * 22
    openids = account.follower_openids()[:70] + [stranger]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(openids)))
    assert main(["tag", "--tag", "VIP", "--stdin", "--yes"]) == 1  # the stranger fails
    assert main(["blacklist", "--query", "tag:VIP", "--yes"]) == 0
    capsys.readouterr()

    assert main(["log", "--json"]) == 0
    out = capsys.readouterr().out
    log = json.loads(out)
    assert [job["id"] for job in log] == [2, 1]  # newest first
    tag_job = log[1]
    assert tag_job["run_by"] == getpass.getuser() and tag_job["run_on"] == socket.gethostname()
    assert tag_job["kind"] == "tag" and tag_job["state"] == "done"
    assert tag_job["created_at"] <= tag_job["started_at"] <= tag_job["finished_at"]
    calls = tag_job["calls"]
    failed = [c for c in calls if c["state"] == "failed"]
    assert len(failed) == 1 and failed[0]["targets"] == 1 and failed[0]["errcode"] == 40003
    # Each error answer's rid, as the emulator formats it; splits keep theirs too.
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{10}", failed[0]["rid"])
    assert all(c["rid"] for c in calls if c["state"] == "split")
    assert all(not c["rid"] and c["errcode"] is None for c in calls if c["state"] == "done")
    # Targets the plan kept (followers already tagged are skipped), each in one call that ended.
    assert sum(c["targets"] for c in calls if c["state"] in ("done", "failed")) == tag_job["targets"] > 60
    assert all(c["sent_at"] <= c["ended_at"] for c in calls)
    # The calls the emulator saw are the ones in the log (all the sent ones, with their splits).
    sent = [c for c in calls if c["sent_at"] is not None]
    assert len(sent) == len(calls) and all(c["attempts"] == c["retries"] == 0 for c in calls)
    assert emu.stats.calls["/cgi-bin/tags/members/batchtagging"] == len(sent)
    blacklist_job = log[0]
    assert blacklist_job["kind"] == "blacklist" and blacklist_job["targets"] >= 70
    assert sum(c["targets"] for c in blacklist_job["calls"]) == blacklist_job["targets"]
    # Nothing secret: not the AppSecret, not a token, not an openid (only counts).
    assert account.secret not in out and "access_token" not in out and openids[0] not in out
    issued = list(emu.tokens._records)
    assert issued and not any(token in out for token in issued)

    assert main(["log"]) == 0
    text = capsys.readouterr().out
    assert f"by {getpass.getuser()} on {socket.gethostname()}" in text
    assert re.search(r"call \d+ +tag +1 targets +failed +errcode 40003 .* rid [0-9a-f]{8}-", text), text
    assert main(["log", "--job", "2", "--json"]) == 0
    assert [job["id"] for job in json.loads(capsys.readouterr().out)] == [2]
    assert main(["log", "--search", "40003", "--no-calls"]) == 0
    searched = capsys.readouterr().out
    assert "#1 " in searched and "#2 " not in searched and "call " not in searched
    assert main(["log", "--since", "2h", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert main(["log", "--since", "2999-01-01"]) == 0
    assert "No jobs in the log for that." in capsys.readouterr().out
    assert main(["log", "--since", "yesterday"]) == 2
    assert "--since: a day (2024-06-01)" in capsys.readouterr().err
    assert main(["log", "--job", "9"]) == 2
    assert "no job 9" in capsys.readouterr().err


def test_since_accepts_days_times_and_ages():
    assert parse_since("2024-06-01") == 1_717_200_000
    assert parse_since("2024-06-01 12:00") == 1_717_243_200
    assert parse_since("90m", now=10_000) == 10_000 - 5400
    assert parse_since("2w", now=2_000_000) == 2_000_000 - 1_209_600
    with pytest.raises(ValueError):
        parse_since("-3d")
