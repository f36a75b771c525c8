"""Account profiles in the TOML config: round trip, validation, private atomic writes."""

from __future__ import annotations

import os
import stat
import tomllib

import pytest

from wxtui.core import paths
from wxtui.core.config import Config, ConfigError, Profile, load_config, new_profile, save_config

APPID = "wx0123456789abcdef"


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_missing_config_is_empty_and_points_at_the_platform_file():
    config = load_config()
    assert config.accounts == {}
    assert config.path == paths.config_file()
    assert config.default_account() is None
    assert config.account("acme") is None


def test_profiles_round_trip_with_every_field_and_unknown_keys_kept():
    config = Config()
    config.add(new_profile("acme", APPID, hosts=["https://sh.api.weixin.qq.com/"], token_source="classic",
                           secret_command="pass show wechat/acme", secret_env="ACME_SECRET",
                           concurrency=4, keymap={"tag": "t", "blacklist": "ctrl+b"}))
    config.add(new_profile("咖啡 分店", "wxfedcba9876543210", token_source="url",
                           token_url="https://tokens.example.com/wechat/{appid}"), make_default=True)
    config.accounts["acme"].extra["future_setting"] = {"x": 1}
    config.extra["theme"] = "dark"
    path = config.save()

    again = load_config()
    assert again.default_name == "咖啡 分店"
    acme = again.account("acme")
    assert acme.hosts == ["https://sh.api.weixin.qq.com"]
    assert (acme.token_source, acme.secret_command, acme.secret_env, acme.concurrency) == (
        "classic", "pass show wechat/acme", "ACME_SECRET", 4)
    assert acme.keymap == {"tag": "t", "blacklist": "ctrl+b"}
    assert acme.extra == {"future_setting": {"x": 1}}
    assert again.extra == {"theme": "dark"}
    assert again.account().name == "咖啡 分店"
    raw = tomllib.loads(path.read_text("utf-8"))
    assert raw["accounts"]["acme"]["kind"] == "wechat"


def test_the_config_file_is_created_0600_in_a_0700_directory():
    path = Config().save()
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(monkeypatch):
    config = Config()
    config.add(new_profile("acme", APPID))
    path = config.save()
    before = path.read_bytes()
    config.add(new_profile("other", "wxfedcba9876543210"))

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ConfigError, match="disk holding .* is full.*Nothing was changed"):
        config.save()
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_invalid_toml_is_reported_with_the_path_and_left_untouched():
    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    path.write_text('default_account = "acme"\n[accounts.acme\n', "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config()
    assert str(path) in str(info.value) and "not valid TOML" in str(info.value)
    assert path.read_text("utf-8").startswith('default_account = "acme"')


@pytest.mark.parametrize("fields, message", [
    ({"appid": "wx123"}, "is not an AppID"),
    ({"appid": "wx0123456789abcdef", "hosts": ["ftp://x"]}, "is not an http(s) URL"),
    ({"appid": "wx0123456789abcdef", "hosts": ["http://api.example.com"]}, "unencrypted"),
    ({"appid": "wx0123456789abcdef", "concurrency": 0}, "concurrency must be"),
    ({"appid": "wx0123456789abcdef", "token_source": "magic"}, "is not one of"),
    ({"appid": "wx0123456789abcdef", "token_source": "command"}, "needs token_command"),
    ({"appid": "wx0123456789abcdef", "token_source": "url"}, "needs token_url"),
    ({"appid": "wx0123456789abcdef", "secret_command": "pass 'unclosed"}, "cannot parse"),
    ({"appid": "wx0123456789abcdef", "secret_env": "NOT A NAME"}, "not a variable name"),
    ({"appid": "wx0123456789abcdef", "kind": "line"}, "not supported"),
])
def test_bad_profiles_get_a_message_naming_the_problem(fields, message):
    with pytest.raises(ConfigError) as info:
        Profile(name="acme", **fields).validate()
    assert message in str(info.value)


def test_http_is_accepted_on_loopback_for_the_emulator():
    profile = new_profile("local", APPID, hosts="http://127.0.0.1:8080")
    assert profile.hosts == ["http://127.0.0.1:8080"]


def test_a_bad_profile_in_the_file_names_the_file_and_the_account():
    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    path.write_text('[accounts.acme]\nappid = "wx0123456789abcdef"\nconcurrency = "many"\n', "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config()
    assert str(path) in str(info.value) and "'acme'" in str(info.value)


def test_a_credential_in_the_file_is_ignored_with_a_warning_and_never_rewritten():
    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    path.write_text('[accounts.acme]\nappid = "wx0123456789abcdef"\nsecret = "s3cr3t-in-plain-text"\n', "utf-8")
    config = load_config()
    assert any("'secret'" in w and "keyring" in w for w in config.warnings)
    assert not any("s3cr3t" in w for w in config.warnings)
    config.add(new_profile("other", "wxfedcba9876543210"))
    with pytest.raises(ConfigError) as info:
        config.save()
    assert "delete that line" in str(info.value)
    # Nothing was lost: the file is as the user wrote it.
    assert "s3cr3t-in-plain-text" in path.read_text("utf-8")
    # Replacing the profile (as the message says) drops the credential for good.
    config.add(new_profile("acme", APPID), replace_existing=True)
    config.save()
    assert "s3cr3t" not in path.read_text("utf-8")


def test_default_account_rules_and_clear_errors():
    config = Config()
    with pytest.raises(ConfigError, match="No account is configured"):
        config.require()
    config.add(new_profile("acme", APPID))
    assert config.default_account().name == "acme"  # the first one becomes the default
    config.add(new_profile("beta", "wxfedcba9876543210"))
    assert config.default_account().name == "acme"
    config.set_default("beta")
    assert config.require().name == "beta"
    with pytest.raises(ConfigError, match="exists already"):
        config.add(new_profile("beta", APPID))
    with pytest.raises(ConfigError) as info:
        config.require("gamma")
    assert "acme, beta" in str(info.value)
    config.remove("beta")
    assert config.default_name == "acme"
    assert config.account("beta") is None


def test_a_single_host_key_and_a_dangling_default_are_understood(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('default_account = "gone"\n[accounts.acme]\nappid = "wx0123456789abcdef"\n'
                    'host = "https://hk.api.weixin.qq.com"\n', "utf-8")
    config = load_config(path)
    assert config.account("acme").hosts == ["https://hk.api.weixin.qq.com"]
    assert any("'gone'" in w for w in config.warnings)
    with pytest.raises(ConfigError, match="default_account 'gone' names no account; configured: acme"):
        config.default_account()  # not the only one: acting on another account would be a guess
    save_config(config)
    assert mode_of(path) == 0o600


def test_a_profile_of_another_api_family_is_kept_and_does_not_break_the_others():
    path = paths.config_file()
    paths.ensure_private_dir(path.parent)
    path.write_text('[accounts.im]\nkind = "line"\nsdkappid = 1400000000\nidentifier = "admin"\n'
                    'region = "sgp"\n\n[accounts.acme]\nappid = "wx0123456789abcdef"\n', "utf-8")
    config = load_config()
    assert list(config.accounts) == ["acme"]
    assert any("'line'" in w for w in config.warnings)
    with pytest.raises(ConfigError, match="kind 'line'"):
        config.require("im")
    with pytest.raises(ConfigError, match="taken"):
        config.add(new_profile("im", APPID))
    config.add(new_profile("beta", "wxfedcba9876543210"))
    config.save()
    again = tomllib.loads(path.read_text("utf-8"))
    assert again["accounts"]["im"] == {"kind": "line", "sdkappid": 1400000000, "identifier": "admin",
                                       "region": "sgp"}


def test_the_apps_keymap_round_trips_beside_the_accounts(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('default_account = "acme"\n\n[keymap]\ntag = "ctrl+t"\n\n'
                    '[accounts.acme]\nappid = "wx0123456789abcdef"\n\n[accounts.acme.keymap]\nsync = "S"\n')
    config = load_config(path)
    assert config.keymap == {"tag": "ctrl+t"} and "keymap" not in config.extra
    assert config.accounts["acme"].keymap == {"sync": "S"}  # that account's own, on top while it is open
    save_config(config)
    saved = tomllib.loads(path.read_text())
    assert saved["keymap"] == {"tag": "ctrl+t"} and saved["accounts"]["acme"]["keymap"] == {"sync": "S"}


def test_a_keymap_that_is_not_names_to_keys_is_refused_with_the_file_named(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[keymap]\ntag = 3\n")
    with pytest.raises(ConfigError, match=r"\[keymap\] must map action names to keys"):
        load_config(path)
