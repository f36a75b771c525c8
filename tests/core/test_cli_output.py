"""What the commands print: outside text shown literally and harmlessly, no demo unless asked
for, one table of exit statuses, and the small rules of the command line. Against the emulator
served on loopback, through `wxtui.cli.main` as a script would call it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from jobs_support import add_account, served, synced_cli_account
from wxtui.cli import exit_status
from wxtui.core import paths
from wxtui.cli.main import main
from wxtui.families.wechat.emulator import Emulator
from wxtui.core.outside_text import visible

# Tag names a platform may hold (WeChat allows up to 30 bytes of anything): they clear the
# screen and retitle the terminal, reverse what follows, fake a new line, start a C1 sequence,
# or read as Rich markup.
ESCAPES = "x\x1b[2J\x1b]0;PWNED\x07"
BIDI = "a\u202eb\nc\rd"
C1 = "e\x9b31mf\x7f"
CLOSING_MARKUP = "[/]x"
BOLD_MARKUP = "[bold]b"
NAMES = (ESCAPES, BIDI, C1, CLOSING_MARKUP, BOLD_MARKUP)
RAW = ("\x1b", "\x07", "\u202e", "\x9b", "\x7f", "\r")


def assert_harmless(text: str, allowed: str = "") -> None:
    shown = [repr(c) for c in RAW if c in text and c not in allowed]
    assert not shown, f"raw control characters reached the terminal: {shown}"


def test_visible_escapes_every_control_and_keeps_everything_else():
    assert visible("x\x1b[2J\x07\t\n\r\x00\x7f\x9b") == "x\\x1b[2J\\x07\\t\\n\\r\\x00\\x7f\\x9b"
    assert visible("a\u202eb\u2066c\u200fd\u2028e\ud800") == "a\\u202eb\\u2066c\\u200fd\\u2028e\\ud800"
    kept = "北京 [/]x [bold]b C:\\temp 👨\u200d👩\u200d👧 émoji"
    assert visible(kept) == kept


def test_json_output_stays_the_same_json_without_raw_controls():
    from wxtui.core.outside_text import visible_json

    data = {"title": f"tag {ESCAPES} {BIDI} {C1} 北京", "n": [1, 2]}
    text = visible_json(data, indent=2)
    assert_harmless(text)
    assert json.loads(text) == data and "北京" in text


@pytest.fixture
def emu():
    emu = Emulator.demo(followers=240, seed=20)
    for name in NAMES:
        emu.account.create_tag(name)
    return emu


@pytest.fixture
def account(emu, monkeypatch, capsys):
    with synced_cli_account(emu, monkeypatch) as acct:
        capsys.readouterr()
        yield acct


def tag_id(acct, name: str) -> int:
    return next(t for t, (tag_name, _count) in acct.tags().items() if tag_name == name)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert_harmless(out + err)
    return status, out, err


def test_names_from_the_platform_are_shown_escaped_and_literally_by_every_command(account, capsys, tmp_path):
    everyone = set(account.follower_openids())
    for number, name in enumerate(NAMES, 1):
        status, out, err = run(capsys, "tag", "--tag", name, "--everyone", "--yes")
        assert status == 0, err
        assert account.tag_members(tag_id(account, name)) == everyone  # the job really ran
        assert f'tag "{visible(name)}"' in out  # the plan's title, one line
        assert f"Job #{number} done" in out
        assert visible(name)[:7] in err  # the progress bar's description (cut to the column)

    status, out, _ = run(capsys, "jobs")
    assert status == 0
    listing = out.splitlines()
    assert len(listing) == 1 + len(NAMES)  # a name with a newline still takes one line
    for name in NAMES:
        assert any(line.endswith(f'tag "{visible(name)}" → 240 followers') for line in listing), name
    assert "x\\x1b[2J\\x1b]0;PWNED\\x07" in out and "a\\u202eb\\nc\\rd" in out and "e\\x9b31mf\\x7f" in out
    assert "[/]x" in out and "[bold]b" in out

    for number, name in enumerate(NAMES, 1):
        status, out, _ = run(capsys, "jobs", "show", str(number))
        assert status == 0
        assert out.startswith(f'Job #{number}: tag "{visible(name)}"')

    status, out, _ = run(capsys, "untag", "--tag", BIDI, "--with-tag", ESCAPES, "--dry-run", "--json")
    plan = json.loads(out)
    assert status == 0 and plan["title"] == f'untag "{BIDI}" → 240 followers'  # the same JSON, escaped

    status, _, err = run(capsys, "tag", "--tag", "no such tag", "--everyone", "--yes")
    assert status == 2
    for name in NAMES:  # the error names the tags there are
        assert visible(name) in err

    junk = tmp_path / "openids.txt"
    junk.write_text(f"{ESCAPES}\nabc\u202edef\n" + "\n".join(sorted(everyone)[:5]) + "\n", "utf-8")
    status, out, err = run(capsys, "untag", "--tag", CLOSING_MARKUP, "--file", str(junk), "--yes")
    assert status == 1  # two lines were not openids
    assert f"{junk}:1: not an openid" in err and "x\\x1b[2J\\x1b]0;PWNED\\x07" in err
    assert f"{junk}:2: not an openid" in err and "\\u202e" in err

    status, out, _ = run(capsys, "jobs", "undo", "1", "--yes")  # the inverse plan names the tag too
    assert status == 0 and visible(ESCAPES) in out
    assert account.tag_members(tag_id(account, ESCAPES)) == set()


def test_a_tag_named_like_markup_is_tagged_by_name_from_the_command_line(account, capsys):
    status, out, err = run(capsys, "tag", "--tag", CLOSING_MARKUP, "--everyone", "--yes")
    assert status == 0, err
    assert account.tag_members(tag_id(account, CLOSING_MARKUP)) == set(account.follower_openids())
    assert 'tag "[/]x"' in out and "[/]x" in err


def test_account_ids_from_a_file_are_shown_escaped(monkeypatch, tmp_path, capsys):
    from conftest import FAST_RETRY
    from wxtui.core.config import Config, new_profile, save_config
    from wxtui.families.tim.family import account_key as tim_appid
    from wxtui.families.tim.emulator import TimEmulator

    tim = TimEmulator.demo(accounts=20, seed=3)
    config = Config()
    config.add(new_profile("im", tim_appid(tim.sdkappid), kind="tim", sdkappid=tim.sdkappid,
                           identifier=tim.identifier, region="china"))
    save_config(config)
    monkeypatch.setattr("wxtui.families.tim.session.build_tim_client",
                        lambda profile, **kw: tim.client(retry=FAST_RETRY, rate_limit=None, seed=1))
    listed = tmp_path / "accounts.txt"
    listed.write_text("\n".join(tim.state.accounts()[:3] + [ESCAPES, "[bold]nobody"]) + "\n", "utf-8")
    status = main(["tim-import", "--file", str(listed)])
    out, err = capsys.readouterr()
    assert_harmless(out)
    assert_harmless(err, allowed="\r")  # the counter's own carriage return
    assert status == 1  # two are not in the app
    assert "3 accounts imported" in out
    assert f"  {visible(ESCAPES)}" in out.splitlines() and "  [bold]nobody" in out.splitlines()


# -- no account, no demo ---------------------------------------------------------------------------

HEADLESS = (
    ["tag", "--tag", "VIP", "--everyone", "--yes"],
    ["untag", "--tag", "VIP", "--everyone", "--yes"],
    ["clear-tags", "--everyone", "--yes"],
    ["blacklist", "--everyone", "--yes"],
    ["unblacklist", "--everyone", "--yes"],
    ["jobs"],
    ["jobs", "list"],
    ["jobs", "show", "1"],
    ["jobs", "resume", "1", "--yes"],
    ["jobs", "undo", "1", "--yes"],
    ["jobs", "cancel", "1"],
    ["sync", "--quiet"],
    ["doctor"],
    ["tim-import", "--stdin"],
    ["tim-sync"],
    ["account", "test"],
)


@pytest.mark.parametrize("argv", HEADLESS, ids=" ".join)
def test_without_an_account_every_headless_command_says_how_to_add_one(argv, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("user1\n"))
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2
    assert "wxtui account add NAME" in out + err
    assert "demo account" not in out + err and "done" not in out
    assert not (paths.data_dir() / "demo").exists()  # no demo cache was built


def test_the_demo_is_used_when_asked_for(capsys):
    assert main(["tag", "--tag", "VIP", "--everyone", "--yes", "--demo", "--demo-followers", "300"]) == 0
    assert "Job #1 done" in capsys.readouterr().out


# -- the small rules ---------------------------------------------------------------------------------

def test_an_empty_account_name_is_refused_not_taken_for_the_default(account, capsys):
    for argv in (["sync", "--account", ""], ["tag", "--tag", "VIP", "--everyone", "--account", " "],
                 ["jobs", "--account", ""], ["jobs", "show", "1", "--account", ""]):
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 2
        assert "needs an account's name" in capsys.readouterr().err


def test_a_selection_that_is_not_saved_is_an_error(account, capsys, emu):
    status, out, err = run(capsys, "tag", "--tag", BOLD_MARKUP, "--selection", "nosuch", "--yes")
    assert status == 2
    assert "no selection named 'nosuch'" in err and "Nothing to send" not in out
    assert emu.stats.calls["/cgi-bin/tags/members/batchtagging"] == 0


def _write_config(text: str) -> None:
    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    path.write_text(text, "utf-8")


def test_a_default_account_naming_no_account_is_an_error_naming_the_accounts(account, capsys, emu):
    text = paths.config_file().read_text("utf-8")
    _write_config(text.replace('default_account = "emu"', 'default_account = "nosuch"'))
    for argv in (["tag", "--tag", BOLD_MARKUP, "--everyone", "--yes"], ["sync", "--quiet"], ["jobs"]):
        status, out, err = run(capsys, *argv)
        assert status == 2
        assert "default_account 'nosuch' names no account; configured: emu" in err
    assert emu.stats.calls["/cgi-bin/tags/members/batchtagging"] == 0
    assert main(["sync", "--quiet", "--account", "emu"]) == 0  # naming it still works


def test_a_secret_written_in_a_profile_draws_a_warning_from_tag_and_sync(account, capsys):
    text = paths.config_file().read_text("utf-8")
    _write_config(text.replace("[accounts.emu]\n", '[accounts.emu]\nappsecret = "written-here"\n'))
    for argv in (["sync", "--quiet"], ["tag", "--tag", BOLD_MARKUP, "--everyone", "--yes"]):
        status, _, err = run(capsys, *argv)
        assert status == 0
        assert "the key 'appsecret' in the config file is ignored: credentials belong in the keyring" in err
        assert "written-here" not in err


@pytest.mark.parametrize("hosts, message", [
    ('[" http://127.0.0.1:8080 "]', "host ' http://127.0.0.1:8080 ' holds a space"),
    ("5", "hosts must be a list of URLs"),
    ('[5]', "host 5 is not an http(s) URL"),
])
def test_hosts_that_cannot_work_are_refused_when_the_config_is_read(hosts, message, capsys):
    _write_config(f'[accounts.acme]\nappid = "wx0123456789abcdef"\nhosts = {hosts}\n')
    status, _, err = run(capsys, "sync", "--quiet")
    assert status == 2
    assert message in err and "Traceback" not in err


def test_a_sync_paused_by_the_quota_exits_like_a_paused_job(account, capsys, emu):
    emu.account.set_quota("/cgi-bin/user/get", 0)
    assert main(["sync", "--quiet"]) == exit_status.RESUMABLE
    emu.account.set_quota("/cgi-bin/user/get", 1_000_000)
    assert main(["sync", "--quiet"]) == exit_status.OK


@pytest.mark.parametrize("argv", [
    [], ["tag"], ["untag"], ["clear-tags"], ["blacklist"], ["unblacklist"], ["jobs"], ["jobs", "list"],
    ["jobs", "show"], ["jobs", "resume"], ["jobs", "undo"], ["jobs", "cancel"], ["sync"], ["doctor"],
    ["account"], ["account", "add"], ["account", "test"], ["tim-import"], ["tim-sync"],
], ids=lambda argv: " ".join(argv) or "wxtui")
def test_every_command_help_ends_with_the_exit_status_table(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv + ["--help"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith(exit_status.EPILOG.splitlines()[-1].strip())
    for code, meaning in exit_status.TABLE:
        assert f"  {code:<4} {meaning}" in out


def test_the_readme_shows_the_same_exit_status_table():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    for code, meaning in exit_status.TABLE:
        assert f"| {code} | {meaning} |" in readme
    assert "--no-secret" in readme


def test_output_closed_early_ends_quietly(account, capsys, monkeypatch):
    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    assert main(["tag", "--tag", BOLD_MARKUP, "--everyone", "--yes"]) == 0
    for argv in (["jobs"], ["jobs", "show", "1"], ["doctor"], ["account", "list"]):
        with monkeypatch.context() as patched:
            patched.setattr("sys.stdout", ClosedPipe())
            assert main(argv) == exit_status.OUTPUT_CLOSED
        assert "Traceback" not in capsys.readouterr().err


def test_a_closed_pipe_leaves_no_traceback_in_a_real_process():
    proc = subprocess.Popen([sys.executable, "-m", "wxtui", "doctor", "--demo"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # `| head -n 0`
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == exit_status.OUTPUT_CLOSED
    assert err == b""
