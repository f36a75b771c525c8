"""The command line on a Tencent Cloud IM account: tim-import, tim-sync and the tag verbs, against
the TIM emulator (the client is the emulator's; everything else is the real path)."""

from __future__ import annotations

import pytest

from wxtui.cli import main as cli
from wxtui.core.config import Config, new_profile, save_config
from wxtui.families.tim.family import account_key as tim_appid
from wxtui.cli.jobs_run import EXIT_FAILED, EXIT_NOT_SENT, EXIT_OK
from wxtui.store import Store
from wxtui.core import paths
from wxtui.families.tim.cache import cached_tags_of
from wxtui.families.tim.emulator import TimEmulator

from conftest import FAST_RETRY


@pytest.fixture
def emu(monkeypatch):
    emu = TimEmulator.demo(accounts=260, seed=6)
    config = Config()
    config.add(new_profile("im", tim_appid(emu.sdkappid), kind="tim", sdkappid=emu.sdkappid,
                           identifier=emu.identifier, region="china"))
    save_config(config)
    monkeypatch.setattr("wxtui.families.tim.session.build_tim_client",
                        lambda profile, **kw: emu.client(retry=FAST_RETRY, rate_limit=None, seed=1))
    return emu


def cache_tags(emu, accounts):
    store = Store.open(paths.cache_db(tim_appid(emu.sdkappid)))
    try:
        return cached_tags_of(store, accounts)
    finally:
        store.close()


def test_import_tag_untag_and_clear_tags_end_to_end(emu, tmp_path, capsys):
    accounts = emu.state.accounts()
    listed = tmp_path / "accounts.txt"
    listed.write_text("\n".join(accounts[:250] + ["nobody"]) + "\n")
    assert cli.main(["tim-import", "--file", str(listed)]) == EXIT_FAILED  # one is not in the app
    assert "nobody" in capsys.readouterr().out
    assert sorted(cache_tags(emu, accounts)) == sorted(accounts[:250])

    some = tmp_path / "some.txt"
    some.write_text("\n".join(accounts[:120]) + "\n")
    assert cli.main(["tag", "--tag", "promo-x", "--file", str(some), "--yes"]) == EXIT_OK
    assert all("promo-x" in emu.state.tags_of(a) for a in accounts[:120])
    assert not any("promo-x" in emu.state.tags_of(a) for a in accounts[120:])
    assert cli.main(["untag", "--tag", "promo-x", "--with-tag", "promo-x", "--yes"]) == EXIT_OK
    assert not any("promo-x" in emu.state.tags_of(a) for a in accounts)

    assert cli.main(["clear-tags", "--everyone", "--yes"]) == EXIT_OK
    assert all(emu.state.tags_of(a) == [] for a in accounts[:250])
    assert any(emu.state.tags_of(a) for a in accounts[250:])  # not imported, not touched
    assert all(tags == [] for tags in cache_tags(emu, accounts).values())
    assert "Job #3 done" in capsys.readouterr().out


def test_an_account_deleted_since_the_import_is_a_failure_named_by_account(emu, tmp_path, capsys):
    accounts = emu.state.accounts()[:150]
    listed = tmp_path / "accounts.txt"
    listed.write_text("\n".join(accounts) + "\n")
    assert cli.main(["tim-import", "--file", str(listed)]) == EXIT_OK
    emu.state.delete_accounts([accounts[7]])
    assert cli.main(["tag", "--tag", "beta", "--file", str(listed), "--yes"]) == EXIT_FAILED
    out = capsys.readouterr().out
    assert f"{accounts[7]}  70107  The account is not imported into the app" in out
    assert all("beta" in emu.state.tags_of(a) for a in accounts if a != accounts[7])


def test_unknown_accounts_are_left_out_and_blacklist_verbs_send_nothing(emu, tmp_path, capsys):
    accounts = emu.state.accounts()[:2]
    known = tmp_path / "known.txt"
    known.write_text("\n".join(accounts) + "\n")
    assert cli.main(["tim-import", "--file", str(known)]) == EXIT_OK
    capsys.readouterr()
    # One account the cache does not know is named and left out; the others are tagged (as a
    # WeChat job sends the rest when a few openids are unknown).
    listed = tmp_path / "accounts.txt"
    listed.write_text("stranger\n" + "\n".join(accounts) + "\n")
    assert cli.main(["tag", "--tag", "x", "--file", str(listed), "--yes"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "1 accounts are not in the cache" in out and "stranger" in out
    assert all("x" in emu.state.tags_of(a) for a in accounts)
    assert "stranger" not in emu.state.accounts()
    calls_before = emu.stats.total_calls()
    assert cli.main(["blacklist", "--file", str(listed), "--yes"]) == EXIT_NOT_SENT
    assert "no blacklist" in capsys.readouterr().err
    assert emu.stats.total_calls() == calls_before


def test_sync_reads_the_tags_of_cached_accounts(emu, tmp_path):
    accounts = emu.state.accounts()[:100]
    listed = tmp_path / "accounts.txt"
    listed.write_text("\n".join(accounts) + "\n")
    assert cli.main(["tim-import", "--file", str(listed)]) == EXIT_OK
    emu.state.tag_accounts(accounts[:3], "later")
    assert cli.main(["tim-sync"]) == EXIT_OK
    assert [a for a, tags in cache_tags(emu, accounts).items() if "later" in tags] == accounts[:3]


def test_jobs_undo_of_clear_tags_puts_back_each_accounts_tags(emu, tmp_path, capsys):
    accounts = emu.state.accounts()[:200]
    listed = tmp_path / "accounts.txt"
    listed.write_text("\n".join(accounts) + "\n")
    assert cli.main(["tim-import", "--file", str(listed)]) == EXIT_OK
    before = {a: sorted(emu.state.tags_of(a)) for a in accounts}
    emu.calls_per_second = 10_000  # the undo is one small call per set of tags
    assert cli.main(["clear-tags", "--file", str(listed), "--yes"]) == EXIT_OK
    assert all(emu.state.tags_of(a) == [] for a in accounts)
    assert cli.main(["jobs", "list"]) == EXIT_OK
    assert "remove all tags from 200 accounts" in capsys.readouterr().out
    assert cli.main(["jobs", "undo", "1", "--yes"]) == EXIT_OK
    assert {a: sorted(emu.state.tags_of(a)) for a in accounts} == before
    assert {a: sorted(t) for a, t in cache_tags(emu, accounts).items()} == before


def test_wxtui_sync_takes_an_im_account_and_reads_its_tags(emu, tmp_path, capsys):
    accounts = emu.state.accounts()[:50]
    listed = tmp_path / "accounts.txt"
    listed.write_text("\n".join(accounts) + "\n")
    assert cli.main(["tim-import", "--file", str(listed)]) == EXIT_OK
    emu.state.tag_accounts(accounts[:4], "synced-later")
    capsys.readouterr()
    assert cli.main(["sync", "--quiet"]) == EXIT_OK
    assert "tags of 50 accounts read" in capsys.readouterr().out
    assert [a for a, tags in cache_tags(emu, accounts).items() if "synced-later" in tags] == accounts[:4]


def test_wxtui_doctor_on_an_im_account_checks_the_app_not_wechat(emu, monkeypatch, capsys):
    monkeypatch.setenv(f"WXTUI_SECRET_{tim_appid(emu.sdkappid).upper()}", emu.secret_key)
    emu.state.import_accounts([emu.identifier])
    status = cli.main(["doctor", "im", "--timeout", "5"])
    out = capsys.readouterr().out
    assert status == EXIT_OK, out
    assert f"Tencent Cloud IM {emu.sdkappid}" in out and f"admin {emu.identifier} is imported" in out
    assert "stable_token" not in out and "weixin" not in out
