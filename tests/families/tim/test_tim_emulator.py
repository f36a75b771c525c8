"""The IM emulator itself: demo data, state rules, the admin API, the command, loopback serving."""

from __future__ import annotations

import httpx
import pytest

from wxtui.cli.main import build_parser
from wxtui.emulation.server import serving
from wxtui.families.tim import limits
from wxtui.families.tim.emulator import TimEmulator
from wxtui.families.tim.emulator.demo import DEMO_TAGS
from wxtui.families.tim.errors import TimApiError

from conftest import FAST_RETRY


def test_demo_is_deterministic_and_skewed():
    a, b = TimEmulator.demo(accounts=2_000, seed=3), TimEmulator.demo(accounts=2_000, seed=3)
    assert a.state.snapshot() == b.state.snapshot()
    assert (a.sdkappid, a.secret_key) == (b.sdkappid, b.secret_key)
    assert TimEmulator.demo(accounts=10, seed=4).sdkappid != a.sdkappid
    counts = a.state.tag_counts()
    assert a.state.account_count() == 2_000 and a.state.accounts()[:2] == ["user000000", "user000001"]
    assert counts["zh"] == 1_700 and counts["staff"] == 12 and counts["beta"] == 6
    assert len(counts) == len(DEMO_TAGS) <= limits.MAX_DISTINCT_TAGS_PER_APP
    assert max(len(a.state.tags_of(x)) for x in a.state.accounts()) <= limits.MAX_TAGS_PER_ACCOUNT
    assert all(limits.tag_bytes(t) <= limits.MAX_TAG_BYTES for t in counts)
    assert len(a.secret_key) == 64 and str(a.sdkappid).startswith("14")


def test_secret_key_appears_in_no_repr():
    emu = TimEmulator.demo(accounts=5)
    assert emu.secret_key not in repr(emu) and emu.secret_key not in repr(emu.state)


def test_state_keeps_tag_holders_consistent():
    state = TimEmulator.demo(accounts=50, seed=2).state
    state.add([("user000001", ["p", "q"]), ("user000002", ["p"])])
    state.remove([("user000001", ["p"])])
    state.clear(["user000002"])
    state.add([("user000003", ["r"])], replace=True)
    state.delete_accounts(["user000001"])
    recount: dict[str, int] = {}
    for account in state.accounts():
        for tag in state.tags_of(account):
            recount[tag] = recount.get(tag, 0) + 1
    assert recount == state.tag_counts()
    assert state.tags_of("user000003") == ["r"]
    assert not state.is_imported("user000001") and state.tags_of("user000001") == []


async def test_timpush_replace_sets_all_tags_of_an_account():
    emu = TimEmulator.demo(accounts=20, seed=2)
    async with emu.client(family="timpush", retry=FAST_RETRY, rate_limit=None) as tim:
        tags = [f"t{i}" for i in range(40)]
        await tim.transport.post("/v4/timpush/add_tag",
                                 {"Replace": 1, "UserTags": [{"To_Account": "user000004", "Tags": tags}]})
        assert emu.state.tags_of("user000004") == tags
        # The im_* family does not document Replace: a body with it is refused, nothing changes.
        with pytest.raises(TimApiError) as info:
            await tim.transport.post("/v4/all_member_push/im_add_tag",
                                     {"Replace": 1, "UserTags": [{"To_Account": "user000004", "Tags": ["z"]}]})
        assert info.value.errcode == 90001
        assert emu.state.tags_of("user000004") == tags


@pytest.fixture
async def admin():
    emu = TimEmulator.demo(accounts=100, seed=1)
    async with httpx.AsyncClient(transport=emu.transport(), base_url="http://emulator") as http:
        yield http, emu


async def test_admin_api(admin):
    http, emu = admin
    state = (await http.get("/_emulator/state")).json()
    assert state["app"]["accounts"] == 100 and state["app"]["sdkappid"] == emu.sdkappid
    assert state["calls_per_second"] == limits.CALLS_PER_SECOND
    assert (await http.post("/_emulator/faults", json={"p_busy": 0.25})).json()["p_busy"] == 0.25
    assert (await http.post("/_emulator/faults", json={"p_busy": 3})).status_code == 400
    now = emu.clock.now()
    assert (await http.post("/_emulator/clock/advance", json={"seconds": 90})).json()["now"] >= now + 90
    assert (await http.post("/_emulator/accounts/import", json={"accounts": ["alice"]})).json()["accounts"] == 101
    assert (await http.get("/_emulator/account", params={"id": "alice"})).json()["tags"] == []
    assert (await http.post("/_emulator/accounts/delete", json={"accounts": ["alice"]})).json()["accounts"] == 100
    assert (await http.get("/_emulator/account", params={"id": "alice"})).status_code == 400
    assert (await http.post("/_emulator/accounts/import", json={"accounts": "alice"})).status_code == 400
    assert (await http.post("/_emulator/rate", json={"calls_per_second": 5})).json() == {"calls_per_second": 5}
    assert emu.calls_per_second == 5
    assert (await http.post("/_emulator/rate", json={"calls_per_second": 0})).status_code == 400
    stats = (await http.get("/_emulator/stats")).json()
    assert stats["rate_limited"] == 0 and "openid_much_req" not in stats
    texts = [(await http.get(p)).text for p in ("/_emulator/state", "/_emulator/stats")]
    assert all(emu.secret_key not in t for t in texts)


async def test_admin_rate_knob_is_enforced(admin):
    http, emu = admin
    await http.post("/_emulator/rate", json={"calls_per_second": 3})
    emu.clock.speed = 0
    async with emu.client(retry=FAST_RETRY, rate_limit=None) as tim:
        for _ in range(3):
            await tim.get_tags(["user000001"])
        with pytest.raises(TimApiError) as info:
            await tim.get_tags(["user000001"])
    assert info.value.errcode == 60018
    assert (await http.get("/_emulator/stats")).json()["rate_limited"] == 1 + FAST_RETRY.max_retries


def test_tim_emulator_command_is_registered():
    args = build_parser().parse_args(["tim-emulator", "--port", "0", "--accounts", "5", "--fault-busy", "0.1"])
    assert (args.port, args.accounts, args.fault_busy) == (0, 5, 0.1)
    assert callable(args.func)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["tim-emulator", "--fault-busy", "2"])


async def test_served_on_loopback_for_a_real_client():
    emu = TimEmulator.demo(accounts=50, seed=6)
    async with serving(emu) as url:
        async with emu.client(hosts=[url], retry=FAST_RETRY) as tim:
            change = await tim.add_tags({"user000001": ["loopback"], "ghost": ["loopback"]})
            assert change.succeeded == ("user000001",) and list(change.failed) == ["ghost"]
            assert "loopback" in (await tim.get_tags(["user000001"]))["user000001"]
            assert (await tim.account_check(["user000001"])) == {"user000001": True}
