"""`wxtui doctor` against the emulator: a healthy account, and each failure it must explain."""

from __future__ import annotations

import io
import os
import sys

import pytest

from wxtui.core import paths
from wxtui.cli.main import main
from wxtui.core.config import Config, new_profile
from wxtui.cli.doctor import FAIL, OK, WARN, run_doctor


def profile_of(emu, **fields):
    return new_profile("acme", emu.account.appid, **fields)


async def doctor(emu, profile=None, **kwargs):
    profile = profile or profile_of(emu)
    kwargs.setdefault("secrets_by_appid", {emu.account.appid: emu.account.secret})
    return await run_doctor([profile], transport=emu.transport(), timeout=5, **kwargs)


def statuses(report, label):
    return [c.status for c in report.find(label)]


async def test_a_healthy_account_passes_every_check(emu, memory_keyring):
    report = await doctor(emu)
    assert report.ok, report.render()
    assert statuses(report, "backend") == [OK]
    assert statuses(report, "host") == [OK, OK]
    assert statuses(report, "whitelist") == [OK] and statuses(report, "verified") == [OK]
    quotas = [c.detail for c in report.find("quota")]
    assert any(d.startswith("/cgi-bin/user/get: 500 of 500") for d in quotas)
    assert any(d.startswith("/cgi-bin/stable_token:") for d in quotas)
    assert report.render().endswith("Everything is fine.")


async def test_ip_not_on_the_whitelist_names_the_ip_to_add(emu):
    emu.account.ip_whitelist = {"198.51.100.7"}
    report = await doctor(emu)
    assert not report.ok
    [check] = report.find("whitelist")
    assert check.status == FAIL and "40164" in check.detail
    assert "add 127.0.0.1 to the API IP whitelist" in check.hint
    assert report.find("quota") == []  # nothing more can be asked from this machine


async def test_an_unverified_account_is_explained_and_quotas_still_shown(emu):
    emu.account.verified = False
    report = await doctor(emu)
    [check] = report.find("verified")
    assert check.status == FAIL and "48001" in check.detail and "verified" in check.hint
    assert report.find("quota")


async def test_low_and_used_up_quotas(emu, client):
    emu.account.set_quota("/cgi-bin/user/get", 100)
    for _ in range(95):
        await client.followers_page()
    emu.account.set_quota("/cgi-bin/tags/members/batchtagging", 1)
    await client.batch_tag(2, emu.account.follower_openids()[:1])
    report = await doctor(emu)
    by_path = {c.detail.split(":")[0]: c for c in report.find("quota")}
    assert by_path["/cgi-bin/user/get"].status == WARN and "5 of 100" in by_path["/cgi-bin/user/get"].detail
    assert by_path["/cgi-bin/tags/members/batchtagging"].status == FAIL
    assert not report.ok


async def test_a_down_host_is_a_warning_and_all_hosts_down_a_failure(emu):
    emu.faults.down_hosts = {"api.weixin.qq.com"}
    report = await doctor(emu)
    assert statuses(report, "host") == [WARN, OK]
    assert report.ok, report.render()  # the client fails over to the backup host
    emu.faults.down_hosts = {"api.weixin.qq.com", "api2.weixin.qq.com"}
    report = await doctor(emu)
    assert statuses(report, "network") == [FAIL]


async def test_a_wrong_secret_is_a_credentials_failure(emu):
    report = await doctor(emu, secrets_by_appid={emu.account.appid: "0" * 32})
    [check] = report.find("credentials")
    assert check.status == FAIL and "40125" in check.detail


async def test_a_missing_secret_on_a_headless_server(emu, failing_keyring):
    report = await doctor(emu, secrets_by_appid={})
    [backend] = report.find("backend")
    assert backend.status == WARN and "keyrings.alt" in backend.hint
    [secret] = report.find("secret")
    assert secret.status == FAIL and "Choose one" in secret.hint
    assert not report.ok


async def test_the_classic_source_is_flagged(emu):
    report = await doctor(emu, profile_of(emu, token_source="classic"))
    [token] = report.find("token")
    assert token.status == WARN and "kills the token" in token.hint
    assert any(c.detail.startswith("/cgi-bin/token:") for c in report.find("quota"))


async def test_files_with_sizes_and_a_loose_mode_warned(emu):
    config = Config()
    config.add(profile_of(emu))
    path = config.save()
    cache = paths.cache_db(emu.account.appid)
    from wxtui.store import Store

    Store.open(cache).close()
    size = sum(p.stat().st_size for p in cache.parent.glob(cache.name + "*") if p.is_file())
    report = await doctor(emu, config=config)
    [config_check] = report.find("config")
    assert config_check.status == OK and str(path) in config_check.detail and "mode 0600" in config_check.detail
    [cache_check] = report.find("cache")
    assert cache_check.status == OK and f"{size / 1024:.1f} KB" in cache_check.detail
    os.chmod(path, 0o644)
    report = await doctor(emu, config=config)
    [config_check] = report.find("config")
    assert config_check.status == WARN and "chmod 600" in config_check.hint


def test_doctor_demo_command_exits_0(memory_keyring, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code = main(["doctor", "--demo"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Account demo" in out and "Everything is fine." in out
    assert "Network" in out and "http" in out


def test_doctor_command_exits_1_when_a_check_fails(failing_keyring, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    config = Config()
    config.add(new_profile("acme", "wx0123456789abcdef", hosts="http://127.0.0.1:9"))
    config.save()
    code = main(["doctor"])
    out = capsys.readouterr().out
    assert code == 1
    assert "No AppSecret for account 'acme'" in out and "1 problem found." in out
    assert "Traceback" not in out


def test_doctor_against_a_loopback_emulator_by_name(served_emu, emu, memory_keyring, monkeypatch, capsys):
    memory_keyring.entries[("wxtui", emu.account.appid)] = emu.account.secret
    config = Config()
    config.add(new_profile("local", emu.account.appid, hosts=served_emu))
    config.add(new_profile("other", "wx0123456789abcdef"))
    config.save()
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code = main(["doctor", "local", "--timeout", "5"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{served_emu} reachable" in out and "secret      from keyring" in out
    assert "Account other" not in out


def test_network_section_names_the_transport_and_a_proxy_without_its_password(monkeypatch):
    from wxtui.cli.doctor import check_machine

    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    [network] = [s for s in check_machine(None, keyring_timeout=0.1) if s.title == "Network"]
    assert [(c.status, c.label) for c in network.checks] == [(OK, "http")]
    assert network.checks[0].detail.startswith("aiohttp ") and "no proxy" in network.checks[0].detail
    monkeypatch.setenv("HTTPS_PROXY", "http://bob:hunter2@proxy.example:3128")
    [network] = [s for s in check_machine(None, keyring_timeout=0.1) if s.title == "Network"]
    detail = network.checks[0].detail
    assert detail == "httpx's own, through a proxy (https via proxy.example:3128)"
    assert "hunter2" not in detail and "bob" not in detail
