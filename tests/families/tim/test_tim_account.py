"""The account kind "tim": its profile in the config file and `wxtui account add --kind tim`."""

from __future__ import annotations

import io

import pytest

from wxtui.cli import main as cli
from wxtui.core.config import Config, ConfigError, load_config, new_profile, save_config
from wxtui.families.tim.family import account_key as tim_appid


def test_a_tim_profile_round_trips_through_the_config_file(tmp_path):
    profile = new_profile("im", tim_appid(1400000001), kind="tim", sdkappid=1400000001,
                          identifier="administrator", region="singapore")
    config = Config()
    config.add(profile)
    path = save_config(config, tmp_path / "config.toml")
    text = path.read_text()
    assert 'kind = "tim"' in text and "sdkappid = 1400000001" in text and "\nappid =" not in text
    loaded = load_config(path)
    assert loaded.warnings == [] and loaded.accounts["im"] == profile
    assert loaded.accounts["im"].needs_secret and loaded.accounts["im"].hosts == []


@pytest.mark.parametrize("fields, problem", [
    ({"sdkappid": 0}, "sdkappid"),
    ({"identifier": " "}, "identifier"),
    ({"region": "mars"}, "region"),
])
def test_a_bad_tim_profile_says_what_is_wrong(fields, problem):
    values = {"kind": "tim", "sdkappid": 1400000001, "identifier": "admin", "region": "china", **fields}
    with pytest.raises(ConfigError, match=problem):
        new_profile("im", tim_appid(1400000001), **values)


def test_account_add_kind_tim_stores_the_profile_and_the_secret_key(monkeypatch, capsys, memory_keyring):
    monkeypatch.setattr("sys.stdin", io.StringIO("0123456789abcdef" * 4 + "\n"))
    status = cli.main(["account", "add", "im", "--kind", "tim", "--sdkappid", "1400000123",
                       "--identifier", "administrator", "--region", "china", "--secret-stdin"])
    out = capsys.readouterr()
    assert status == 0, out.err
    profile = load_config().accounts["im"]
    assert (profile.kind, profile.sdkappid, profile.identifier, profile.region) == (
        "tim", 1400000123, "administrator", "china")
    from wxtui.core import secrets
    assert secrets.read_stored_secret(profile.appid).reveal() == "0123456789abcdef" * 4
    assert "0123456789abcdef" not in load_config().path.read_text()


def test_account_add_kind_tim_without_sdkappid_changes_nothing(capsys):
    assert cli.main(["account", "add", "im", "--kind", "tim", "--identifier", "admin", "--no-secret"]) == 2
    assert "--sdkappid" in capsys.readouterr().err
    assert load_config().accounts == {}


async def test_check_tim_account_says_whether_the_credentials_work():
    from wxtui.families.tim.client import TimClient
    from wxtui.families.tim.emulator import TimEmulator
    from wxtui.families.tim.session import check_tim_account

    emu = TimEmulator.demo(accounts=5, seed=2)
    emu.state.import_accounts([emu.identifier])
    async with emu.client(rate_limit=None) as client:
        ok, message = await check_tim_account(client)
    assert ok and str(emu.sdkappid) in message
    wrong = "f" * 64
    async with TimClient(emu.sdkappid, emu.identifier, wrong, transport=emu.transport(), rate_limit=None) as client:
        ok, message = await check_tim_account(client)
    assert not ok and "secret key" in message and wrong not in message


def test_account_add_refuses_an_option_of_another_family_and_changes_nothing(capsys):
    argv = ["account", "add", "im", "--kind", "tim", "--sdkappid", "1400000001", "--identifier", "admin",
            "--token-source", "classic", "--no-secret"]
    assert cli.main(argv) == 2
    assert "--token-source is an option of wechat accounts, not of tim ones" in capsys.readouterr().err
    assert load_config().accounts == {}
    assert cli.main(["account", "add", "wx", "--appid", "wx0123456789abcdef", "--region", "seoul", "--no-secret"]) == 2
    assert "--region is an option of tim accounts" in capsys.readouterr().err
