"""`wxtui account add|list|remove|default|test`, in-process and, for the headless server, as a
subprocess with keyring's fail backend."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from conftest import FAST_RETRY
from wxtui.families.wechat.accounts import build_client
from wxtui.core.accounts import add_account, remove_account, run_account_test
from wxtui.cli.main import main
from wxtui.core.config import Config, load_config, new_profile
from wxtui.core import paths

APPID = "wx0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"


def run_cli(monkeypatch, capsys, *argv, stdin: str = ""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- add, list, default, remove -------------------------------------------------------------------


def test_add_from_a_script_stores_the_secret_in_the_keyring_only(memory_keyring, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "account", "add", "acme", "--appid", APPID,
                             "--secret-stdin", "--concurrency", "4", stdin=SECRET + "\n")
    assert code == 0, err
    assert "Saved: the AppSecret, in the keyring" in out
    assert memory_keyring.entries == {("wxtui", APPID): SECRET}
    config_text = paths.config_file().read_text("utf-8")
    assert SECRET not in config_text and SECRET not in out + err
    profile = load_config().require("acme")
    assert (profile.appid, profile.concurrency, profile.token_source) == (APPID, 4, "stable")


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_add_on_a_terminal_asks_for_the_secret_when_the_keyring_works(memory_keyring, monkeypatch, capsys):
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or SECRET)
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    assert main(["account", "add", "acme", "--appid", APPID]) == 0
    assert len(asked) == 1 and "stored in the keyring" in asked[0]
    assert memory_keyring.entries == {("wxtui", APPID): SECRET}


def test_add_on_a_terminal_without_keyring_does_not_ask_and_offers_the_choices(failing_keyring, monkeypatch,
                                                                               capsys):
    monkeypatch.setattr("getpass.getpass", lambda prompt: pytest.fail("asked for a secret it cannot keep"))
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    assert main(["account", "add", "acme", "--appid", APPID]) == 1
    err = capsys.readouterr().err
    assert "the keyring cannot be used" in err and "--secret-command" in err and "Traceback" not in err
    assert load_config().require("acme").appid == APPID  # the profile is kept


def test_add_refuses_bad_input_and_changes_nothing(memory_keyring, monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "account", "add", "acme", "--appid", "wx12", "--secret-stdin",
                           stdin=SECRET)
    assert code == 2 and "is not an AppID" in err
    code, _, err = run_cli(monkeypatch, capsys, "account", "add", "acme", "--appid", APPID, "--secret-stdin",
                           stdin="\n")
    assert code == 2 and "nothing was read" in err
    code, _, err = run_cli(monkeypatch, capsys, "account", "add", "acme", "--appid", APPID, "--secret-stdin",
                           stdin="not a secret\n")
    assert code == 2 and "does not look like an AppSecret" in err and "not a secret" not in err
    assert not paths.config_file().exists() and memory_keyring.entries == {}
    run_cli(monkeypatch, capsys, "account", "add", "acme", "--appid", APPID, "--no-secret")
    code, _, err = run_cli(monkeypatch, capsys, "account", "add", "acme", "--appid", "wxfedcba9876543210",
                           "--no-secret")
    assert code == 2 and "--replace" in err
    assert load_config().require("acme").appid == APPID


def test_list_shows_where_each_secret_is_without_showing_it(memory_keyring, monkeypatch, capsys):
    run_cli(monkeypatch, capsys, "account", "add", "acme", "--appid", APPID, "--secret-stdin", stdin=SECRET)
    run_cli(monkeypatch, capsys, "account", "add", "beta", "--appid", "wxfedcba9876543210",
            "--secret-command", "pass show beta", "--default")
    run_cli(monkeypatch, capsys, "account", "add", "gamma", "--appid", "wx1111111111111111", "--no-secret")
    run_cli(monkeypatch, capsys, "account", "add", "corp", "--appid", "wx2222222222222222",
            "--token-source", "url", "--token-url", "https://tokens.example.com/{appid}")
    code, out, _ = run_cli(monkeypatch, capsys, "account", "list", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)["accounts"]}
    assert {n: r["secret"] for n, r in rows.items()} == {
        "acme": "keyring", "beta": "secret_command", "gamma": "missing", "corp": "not used"}
    assert rows["beta"]["default"] and not rows["acme"]["default"]
    code, out, _ = run_cli(monkeypatch, capsys, "account", "list")
    assert "* beta" in out and SECRET not in out


def test_default_and_remove(memory_keyring, monkeypatch, capsys):
    run_cli(monkeypatch, capsys, "account", "add", "acme", "--appid", APPID, "--secret-stdin", stdin=SECRET)
    run_cli(monkeypatch, capsys, "account", "add", "acme-copy", "--appid", APPID, "--no-secret")
    run_cli(monkeypatch, capsys, "account", "add", "beta", "--appid", "wxfedcba9876543210", "--no-secret")
    assert run_cli(monkeypatch, capsys, "account", "default", "beta")[0] == 0
    assert load_config().default_account().name == "beta"
    code, _, err = run_cli(monkeypatch, capsys, "account", "default", "nope")
    assert code == 2 and "No account named 'nope'" in err
    code, out, _ = run_cli(monkeypatch, capsys, "account", "remove", "acme")
    assert code == 0 and "acme-copy uses the same AppID" in out
    assert ("wxtui", APPID) in memory_keyring.entries  # still needed by acme-copy
    code, out, _ = run_cli(monkeypatch, capsys, "account", "remove", "acme-copy")
    assert "with its keyring entry" in out and memory_keyring.entries == {}
    assert sorted(load_config().accounts) == ["beta"]


def test_replace_keeps_what_the_command_line_cannot_say(memory_keyring, monkeypatch, capsys):
    config = Config()
    profile = new_profile("acme", APPID, keymap={"tag": "t"})
    profile.extra["future_setting"] = 3
    add_account(config, profile)
    code, _, err = run_cli(monkeypatch, capsys, "account", "add", "acme", "--appid", APPID, "--replace",
                           "--concurrency", "2", "--no-secret")
    assert code == 0, err
    again = load_config().require("acme")
    assert (again.concurrency, again.keymap, again.extra) == (2, {"tag": "t"}, {"future_setting": 3})


def test_remove_keeps_the_cache_and_says_where(memory_keyring):
    config = Config()
    add_account(config, new_profile("acme", APPID), secret=SECRET)
    cache = paths.cache_db(APPID)
    paths.create_private_file(cache)
    outcome = remove_account(config, "acme")
    assert outcome.secret_deleted and cache.exists()
    assert any(str(cache) in m for m in outcome.messages)


def test_add_on_a_headless_server_saves_the_profile_and_offers_the_choices(failing_keyring):
    config = Config()
    outcome = add_account(config, new_profile("acme", APPID), secret=SECRET)
    assert not outcome.secret_stored
    message = "\n".join(outcome.messages)
    assert "NOT stored" in message and "export WXTUI_SECRET_WX0123456789ABCDEF=" in message
    assert SECRET not in message
    assert load_config().require("acme").appid == APPID
    from wxtui.core import secrets

    # Typed during this process (the app's first-run screen): usable until the process ends.
    assert secrets.resolve_secret(config.require("acme")).source == "session"


# -- build_client and test ------------------------------------------------------------------------


def test_build_client_uses_the_profile_hosts_and_concurrency():
    profile = new_profile("acme", APPID, hosts=["https://sh.api.weixin.qq.com"], concurrency=3)
    client = build_client(profile, secret=SECRET)
    assert client.transport.hosts == ["https://sh.api.weixin.qq.com"]
    assert client.max_in_flight == 3 and client.appid == APPID
    assert build_client(profile, secret=SECRET, max_in_flight=5).max_in_flight == 5


async def test_account_test_reports_the_tags_and_where_the_secret_came_from(emu, memory_keyring):
    memory_keyring.entries[("wxtui", emu.account.appid)] = emu.account.secret
    result = await run_account_test(new_profile("acme", emu.account.appid), transport=emu.transport(), retry=FAST_RETRY)
    assert result.ok and result.tags == len(emu.account.tags())
    assert result.secret_source == "keyring" and "stable" in result.token_source


@pytest.mark.parametrize("change, errcode, words", [
    ({"secret": "f" * 32}, 40125, "The AppSecret is wrong"),
    ({"ip_whitelist": {"10.1.2.3"}}, 40164, "add 127.0.0.1 to the API IP whitelist"),
    ({"verified": False}, 48001, "verified"),
])
async def test_account_test_explains_errors_with_the_errcode_table(emu, change, errcode, words):
    secret = change.pop("secret", emu.account.secret)
    for key, value in change.items():
        setattr(emu.account, key, value)
    result = await run_account_test(new_profile("acme", emu.account.appid), transport=emu.transport(),
                                secret=secret, retry=FAST_RETRY)
    assert not result.ok and result.errcode == errcode
    assert words in result.message + " " + result.hint


async def test_account_test_without_a_secret_lists_the_choices(failing_keyring):
    result = await run_account_test(new_profile("acme", APPID))
    assert not result.ok and "No AppSecret" in result.message and "Choose one" in result.hint


def test_account_test_command_against_a_loopback_emulator(served_emu, emu, memory_keyring, monkeypatch, capsys):
    memory_keyring.entries[("wxtui", emu.account.appid)] = emu.account.secret
    run_cli(monkeypatch, capsys, "account", "add", "local", "--appid", emu.account.appid,
            "--host", served_emu, "--no-secret")
    code, out, err = run_cli(monkeypatch, capsys, "account", "test", "local")
    assert code == 0, err
    assert f"{len(emu.account.tags())} tags" in out and "AppSecret from keyring" in out
    emu.account.ip_whitelist = {"203.0.113.9"}
    code, out, err = run_cli(monkeypatch, capsys, "account", "test")
    assert code == 1
    assert "errcode 40164" in err and "add 127.0.0.1 to the API IP whitelist" in err
    assert "Traceback" not in err


# -- the headless server, as the user runs it -----------------------------------------------------


def wxtui(*argv, env, stdin=""):
    return subprocess.run([sys.executable, "-m", "wxtui", *argv], input=stdin, capture_output=True,
                          text=True, env=env, timeout=60)


def test_headless_server_flow_with_the_fail_backend(served_emu, emu, private_home):
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", WXTUI_HOME=str(private_home))
    env.pop("WXTUI_SECRET_" + emu.account.appid.upper(), None)
    appid, secret = emu.account.appid, emu.account.secret

    added = wxtui("account", "add", "acme", "--appid", appid, "--host", served_emu, "--secret-stdin",
                  env=env, stdin=secret + "\n")
    assert added.returncode == 1  # saved, but the secret could not be stored: say so in the status
    assert "Saved: account acme" in added.stdout and "NOT stored" in added.stderr
    assert "Not saved: the AppSecret" in added.stderr and "--no-secret" in added.stderr
    assert "Traceback" not in added.stderr and secret not in added.stdout + added.stderr

    failed = wxtui("account", "test", env=env)
    assert failed.returncode == 1
    assert "Tried, in order" in failed.stderr and "Choose one" in failed.stderr
    assert "Traceback" not in failed.stderr

    env["WXTUI_SECRET_" + appid.upper()] = secret
    passed = wxtui("account", "test", env=env)
    assert passed.returncode == 0, passed.stderr
    assert "AppSecret from env WXTUI_SECRET_" in passed.stdout
    assert secret not in passed.stdout + passed.stderr
