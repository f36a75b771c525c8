"""Importing Tencent Cloud IM accounts into the cache and learning their tags (the TIM sync)."""

from __future__ import annotations

import io

from wxtui.store import Store
from wxtui.families.tim.cache import cached_tags_of
from wxtui.families.tim.emulator import TimEmulator
from wxtui.families.tim.sync import import_accounts, known_accounts, learn_tags, read_accounts

from conftest import FAST_RETRY


def test_read_accounts_skips_blanks_comments_and_duplicates():
    accounts, invalid = read_accounts(io.StringIO("# users\nuser000001\n\n  user000002 \nuser000001\n"))
    assert accounts == ["user000001", "user000002"] and invalid == []


async def test_import_checks_accounts_and_caches_their_tags(tmp_path):
    emu = TimEmulator.demo(accounts=250, seed=4)
    wanted = emu.state.accounts()[:230] + ["nobody-1", "nobody-2"]
    store = Store.open(tmp_path / "tim.sqlite")
    seen = []
    async with emu.client(retry=FAST_RETRY, rate_limit=None) as client:
        result = await import_accounts(client, store, wanted, progress=lambda d, t: seen.append((d, t)))
    assert sorted(result.imported) == sorted(wanted[:230])
    assert sorted(result.not_imported) == ["nobody-1", "nobody-2"] and not result.unchecked
    assert sorted(known_accounts(store)) == sorted(wanted[:230])
    cached = cached_tags_of(store, wanted)
    assert all(sorted(cached[a]) == sorted(emu.state.tags_of(a)) for a in wanted[:230])
    counts = {r.name: r.count for r in store.tags()}
    expected: dict[str, int] = {}
    for a in wanted[:230]:
        for t in emu.state.tags_of(a):
            expected[t] = expected.get(t, 0) + 1
    assert {k: v for k, v in counts.items() if v} == expected
    assert seen[-1] == (232, 232)
    store.close()


async def test_learn_tags_replaces_what_the_cache_held(tmp_path):
    emu = TimEmulator.demo(accounts=120, seed=4)
    store = Store.open(tmp_path / "tim.sqlite")
    accounts = emu.state.accounts()
    async with emu.client(retry=FAST_RETRY, rate_limit=None) as client:
        await import_accounts(client, store, accounts)
        emu.state.tag_accounts(accounts[:7], "late")
        emu.state.clear(accounts[100:])
        assert await learn_tags(client, store, known_accounts(store)) == {}
    cached = cached_tags_of(store, accounts)
    assert all(sorted(cached[a]) == sorted(emu.state.tags_of(a)) for a in accounts)
    assert {r.name: r.count for r in store.tags()}["late"] == 7
    store.close()
