"""Verification on the command line, on a configured account served by the emulator: after a
verb's job, `wxtui jobs verify ID [--repair]`, `wxtui jobs show`, the config and the flags."""

from __future__ import annotations

import pytest

from jobs_support import add_account, served, synced_cli_account
from wxtui.cli.main import main
from wxtui.families.wechat.emulator import Emulator

VIP = 106
BATCHGET = "/cgi-bin/user/info/batchget"


@pytest.fixture
def emu():
    return Emulator.demo(followers=1500, seed=41)


@pytest.fixture
def account(emu, monkeypatch):
    with synced_cli_account(emu, monkeypatch) as acct:
        yield acct


def test_a_clean_job_is_verified_after_it_ran(account, capsys, emu):
    before = emu.stats.calls[BATCHGET]
    assert main(["tag", "--tag", "VIP", "--everyone", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Verification of job #1: verified 15 of 15 sampled" in out  # 1% of ~1,500, in one call
    assert emu.stats.calls[BATCHGET] - before == 1
    assert main(["jobs", "show", "1"]) == 0
    assert "Verification of job #1: verified 15 of 15 sampled" in capsys.readouterr().out


def test_a_dropped_effect_is_reported_then_repaired(account, capsys, emu):
    emu.faults.update(drop_effect=0.3)
    status = main(["tag", "--tag", "VIP", "--everyone", "--yes", "--verify", "100"])
    emu.faults.update(drop_effect=0)
    out = capsys.readouterr().out
    missing = set(account.follower_openids()) - account.tag_members(VIP)
    assert status == 1 and missing
    assert f"{len(missing):,} of " in out and "do not match what the job did" in out
    assert f"{sorted(missing)[0]}  should: carries tag VIP; is: does not carry tag VIP" in out
    assert "Repair them: wxtui jobs verify 1 --repair" in out

    assert main(["jobs", "show", "1"]) == 0  # the job itself failed nothing
    assert "do not match" in capsys.readouterr().out

    assert main(["jobs", "verify", "1", "--sample", "100", "--repair", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "repair #1" in out and "Job #2 done" in out
    assert account.tag_members(VIP) == set(account.follower_openids())
    assert main(["jobs", "verify", "1", "--sample", "100"]) == 0
    assert "verified" in capsys.readouterr().out


def test_verification_is_turned_off_by_the_flag_and_by_the_account(account, capsys, emu, monkeypatch, tmp_path):
    before = emu.stats.calls[BATCHGET]
    assert main(["tag", "--tag", "VIP", "--with-tag", "北京", "--yes", "--verify", "0"]) == 0
    assert "Verification" not in capsys.readouterr().out
    assert emu.stats.calls[BATCHGET] == before

    from wxtui.core.config import load_config, save_config, with_changes

    config = load_config()
    config.add(with_changes(config.require("emu"), verify_percent=0), replace_existing=True)
    save_config(config)
    assert main(["untag", "--tag", "VIP", "--with-tag", "北京", "--yes"]) == 0
    assert "Verification" not in capsys.readouterr().out
    assert emu.stats.calls[BATCHGET] == before


def test_a_bad_setting_or_flag_is_refused_plainly(account, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["tag", "--tag", "VIP", "--everyone", "--verify", "150"])
    assert exited.value.code == 2
    assert "must be from 0 to 100" in capsys.readouterr().err
    assert main(["jobs", "verify", "9"]) == 2
    assert "no job 9" in capsys.readouterr().err

    from wxtui.core.config import ConfigError, load_config, with_changes

    with pytest.raises(ConfigError, match="verify_percent must be a number from 0"):
        with_changes(load_config().require("emu"), verify_percent="lots")


def test_the_printed_repair_command_repairs_every_mismatch_found(account, capsys, emu):
    """`Repair them: wxtui jobs verify 1 --repair`, run as printed after a verification that read
    every follower back, repairs every mismatch it found, not only those of a new 1% sample."""
    emu.faults.update(drop_effect=0.3)
    assert main(["tag", "--tag", "VIP", "--everyone", "--yes", "--verify", "100"]) == 1
    emu.faults.update(drop_effect=0)
    missing = set(account.follower_openids()) - account.tag_members(VIP)
    assert len(missing) > 100 and "Repair them: wxtui jobs verify 1 --repair" in capsys.readouterr().out
    assert main(["jobs", "verify", "1", "--repair", "--yes"]) == 0
    out = capsys.readouterr().out
    assert f"{len(missing):,} of " in out and "Job #2 done" in out
    assert account.tag_members(VIP) == set(account.follower_openids())
