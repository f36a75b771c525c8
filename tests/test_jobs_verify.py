"""Verification after a job: a sample of its targets read back from the emulator and compared
with what its done calls meant; the emulator's dropped-effect fault is caught, a repair fixes it."""

from __future__ import annotations

import asyncio
import random

import pytest

from jobs_support import job_service
from wxtui.families.wechat.emulator import Emulator
from wxtui.jobs.events import DONE
from wxtui.jobs.intents import (BlacklistFollowers, ClearTags, Followers, TagFollowers,
                                UntagFollowers)
from wxtui.jobs.verify import (INCOMPLETE, MISMATCHED, NOTHING, VERIFIED, VerifySettings)
from wxtui.families.wechat import limits

VIP = 106


@pytest.fixture
def emu():
    emulator = Emulator.demo(followers=3000, seed=31)
    emulator.faults.latency_ms = 1
    return emulator


def sample(acct, n: int, seed: int = 1) -> list[str]:
    return random.Random(seed).sample(acct.follower_openids(), n)


async def run(jobs, intent) -> int:
    event = await jobs.run(jobs.submit(await jobs.plan(intent)))
    assert event.state == DONE and event.failures_count == 0
    return event.job_id


def read_calls(emu) -> int:
    return emu.stats.calls["/cgi-bin/user/info/batchget"]


@pytest.mark.parametrize("make_intent", [
    lambda acct: TagFollowers(VIP, Followers.of(sample(acct, 1200))),
    lambda acct: UntagFollowers(100, Followers.of(sample(acct, 1500))),
    lambda acct: ClearTags(Followers.of(sample(acct, 800))),
    lambda acct: BlacklistFollowers(Followers.of(sample(acct, 300))),
], ids=["tag", "untag", "clear-tags", "blacklist"])
async def test_a_clean_run_is_verified_in_full(emu, tmp_path, make_intent):
    async with job_service(emu, tmp_path / "c.db") as jobs:
        job_id = await run(jobs, make_intent(emu.account))
        found = await jobs.verify(job_id)
        assert found.state == VERIFIED
        assert found.mismatches == [] and found.checked == found.sampled >= 10
        assert found.summary().startswith(f"verified {found.sampled} of {found.sampled}")
        assert jobs.verification(job_id) == found  # kept in the journal


async def test_the_sample_is_one_percent_at_least_ten_within_the_call_budget(emu, tmp_path):
    settings = VerifySettings()
    assert settings.sample_size(5, 100) == 5
    assert settings.sample_size(500, 100) == 10
    assert settings.sample_size(30_000, 100) == 300
    assert settings.sample_size(10_000_000, 100) == 100 * 100  # 100 calls of 100
    assert settings.sample_size(10_000_000, 1) == 100
    assert VerifySettings(percent=0).sample_size(1000, 100) == 0
    async with job_service(emu, tmp_path / "c.db") as jobs:
        job_id = await run(jobs, TagFollowers(VIP, Followers.of(sample(emu.account, 2500))))
        before = read_calls(emu)
        found = await jobs.verify(job_id, VerifySettings(percent=2))
        changed = jobs.job(job_id).targets  # those already tagged were dropped as no-ops
        assert 2000 < changed < 2500
        assert (found.targets, found.sampled) == (changed, -(-changed * 2 // 100))
        assert read_calls(emu) - before == found.calls == 1
        assert await jobs.verify(job_id, VerifySettings(percent=0)) is None
        assert read_calls(emu) - before == 1


async def test_a_dropped_effect_is_caught_named_and_repaired(emu, tmp_path):
    acct = emu.account
    openids = sample(acct, 2000)
    async with job_service(emu, tmp_path / "c.db") as jobs:
        emu.faults.update(drop_effect=0.2)
        job_id = await run(jobs, TagFollowers(VIP, Followers.of(openids)))
        emu.faults.update(drop_effect=0)
        missing = {o for o in openids if VIP not in acct.tags_of(o)}
        assert missing  # the platform said ok and did not do it all

        found = await jobs.verify(job_id, VerifySettings(percent=100, max_calls=100))
        assert found.state == MISMATCHED
        wrong = {m.target for m in found.mismatches}
        assert wrong == missing
        assert all((m.aspect, m.expected, m.actual) == (f"tag:{VIP}", True, False) for m in found.mismatches)
        assert "do not match" in found.summary()
        line = jobs.mismatch_lines(found, 1)[0]
        assert "should: carries tag" in line and "is: does not carry tag" in line
        # The cache now says what the platform said.
        assert all(VIP not in ids for ids in jobs.store.tag_ids_of(sorted(missing)).values())

        plan = jobs.plan_repair(job_id)
        assert plan.ok and plan.targets == len(missing)
        repair_id = (await jobs.run(jobs.submit(plan))).job_id
        assert jobs.verification(job_id).repair_job == repair_id
        assert all(VIP in acct.tags_of(o) for o in openids)
        again = await jobs.verify(job_id, VerifySettings(percent=100))
        assert again.state == VERIFIED and again.checked == found.targets


async def test_a_dropped_blacklisting_is_caught(emu, tmp_path):
    acct = emu.account
    openids = sample(acct, 400, seed=5)
    async with job_service(emu, tmp_path / "c.db") as jobs:
        emu.faults.update(drop_effect=0.5)
        job_id = await run(jobs, BlacklistFollowers(Followers.of(openids)))
        emu.faults.update(drop_effect=0)
        found = await jobs.verify(job_id, VerifySettings(percent=100))
        assert found.state == MISMATCHED
        assert {m.target for m in found.mismatches} == {o for o in openids if not acct.is_blacklisted(o)}
        await jobs.run(jobs.submit(jobs.plan_repair(job_id)))
        assert all(acct.is_blacklisted(o) for o in openids)


async def test_remarks_are_read_back_and_a_dropped_one_is_caught_repaired_and_undone(emu, tmp_path):
    from wxtui.jobs.intents import SetRemark

    acct = emu.account
    clean, dropped = sample(acct, 2, seed=11)
    old = acct.follower(dropped)["remark"]
    async with job_service(emu, tmp_path / "c.db") as jobs:
        job_id = await run(jobs, SetRemark(clean, "Coffee 李"))
        found = await jobs.verify(job_id)
        assert found.state == VERIFIED and (found.sampled, found.checked) == (1, 1)

        emu.faults.update(drop_effect=1)
        job_id = await run(jobs, SetRemark(dropped, "VIP 王"))
        emu.faults.update(drop_effect=0)
        assert acct.follower(dropped)["remark"] == old  # answered ok, never written
        found = await jobs.verify(job_id)
        assert found.state == MISMATCHED
        assert [(m.target, m.aspect, m.expected, m.actual) for m in found.mismatches] == \
            [(dropped, "remark", "VIP 王", old)]
        assert 'should: the remark "VIP 王"' in jobs.mismatch_lines(found)[0]
        assert jobs.store.row_by_openid(dropped).remark == old  # the cache says what WeChat said
        repair_id = (await jobs.run(jobs.submit(jobs.plan_repair(job_id)))).job_id
        assert acct.follower(dropped)["remark"] == "VIP 王"
        assert (await jobs.verify(job_id)).state == VERIFIED
        await jobs.run(jobs.submit(jobs.plan_undo(repair_id)))  # the repair's undo gives back what was
        assert acct.follower(dropped)["remark"] == old


async def test_a_rename_is_read_back_and_a_dropped_one_is_caught_and_repaired(emu, tmp_path):
    from wxtui.jobs.intents import RenameTag

    acct = emu.account
    newsletter = next(t for t, (name, _) in acct.tags().items() if name == "Newsletter")
    async with job_service(emu, tmp_path / "c.db") as jobs:
        job_id = await run(jobs, RenameTag(VIP, "VIP 2026"))
        found = await jobs.verify(job_id)
        assert found.state == VERIFIED and found.checked == 1 and acct.tags()[VIP][0] == "VIP 2026"

        emu.faults.update(drop_effect=1)
        job_id = await run(jobs, RenameTag(newsletter, "Weekly"))
        emu.faults.update(drop_effect=0)
        assert acct.tags()[newsletter][0] == "Newsletter"
        found = await jobs.verify(job_id)
        assert found.state == MISMATCHED
        assert [(m.target, m.aspect, m.expected, m.actual) for m in found.mismatches] == \
            [(f"tag #{newsletter}", "name", "Weekly", "Newsletter")]
        assert jobs.store.tag_names()[newsletter] == "Newsletter"
        await jobs.run(jobs.submit(jobs.plan_repair(job_id)))
        assert acct.tags()[newsletter][0] == "Weekly" == jobs.store.tag_names()[newsletter]
        assert (await jobs.verify(job_id)).state == VERIFIED


async def test_a_follower_gone_since_is_not_a_mismatch(emu, tmp_path):
    acct = emu.account
    openids = [o for o in sample(acct, 100) if VIP not in acct.tags_of(o)][:20]
    async with job_service(emu, tmp_path / "c.db") as jobs:
        job_id = await run(jobs, TagFollowers(VIP, Followers.of(openids)))
        acct.remove_followers(openids[:5])
        found = await jobs.verify(job_id, VerifySettings(percent=100))
        assert found.state == VERIFIED and (found.sampled, found.checked) == (20, 15)


async def test_a_spent_read_quota_leaves_the_verification_incomplete(emu, tmp_path):
    acct = emu.account
    async with job_service(emu, tmp_path / "c.db") as jobs:
        job_id = await run(jobs, TagFollowers(VIP, Followers.of(sample(acct, 300))))
        acct.set_quota("/cgi-bin/user/info/batchget", 0)
        found = await jobs.verify(job_id, VerifySettings(percent=100))
        assert found.state == INCOMPLETE and found.checked == 0
        assert "incomplete" in found.summary()


async def test_a_job_that_changed_nothing_readable_says_so(emu, tmp_path):
    from wxtui.jobs.intents import CreateTag

    async with job_service(emu, tmp_path / "c.db") as jobs:
        job_id = await run(jobs, CreateTag("Fresh"))
        found = await jobs.verify(job_id)
        assert found.state == NOTHING and "nothing to verify" in found.summary()
        assert not jobs.plan_repair(job_id).ok


async def test_reads_wait_for_a_call_on_the_same_followers(emu, tmp_path):
    """A verification read never goes while a job call holding one of its openids is in flight."""
    acct = emu.account
    openids = sample(acct, 100, seed=9)
    emu.faults.latency_ms = 30
    async with job_service(emu, tmp_path / "c.db", concurrency=4) as jobs:
        first = await run(jobs, TagFollowers(VIP, Followers.of(openids)))
        second = jobs.submit(await jobs.plan(UntagFollowers(VIP, Followers.of(openids))))
        running = jobs.start(second)
        await asyncio.sleep(0.01)
        found = await jobs.verify(first, VerifySettings(percent=100))
        await running
        assert emu.stats.openid_much_req == 0
        # Each read came after the untag call holding its followers: what it read is untagged.
        assert found.state == MISMATCHED and {m.actual for m in found.mismatches} == {False}


# -- Tencent Cloud IM: read back with im_get_tag ----------------------------------------------------

async def test_im_verification_catches_a_dropped_effect_and_repairs_it(tmp_path):
    from conftest import FAST_RETRY
    from wxtui.family import family
    from wxtui.jobs.service import JobService
    from wxtui.families.tim.operations import TimOperations, tag_calls
    from wxtui.store import Store
    from wxtui.families.tim.cache import remember_accounts
    from wxtui.families.tim.emulator import TimEmulator

    emu = TimEmulator.demo(accounts=300, seed=3)
    accounts = emu.state.accounts()
    store = Store.open(tmp_path / "tim.sqlite")
    remember_accounts(store, {a: emu.state.tags_of(a) for a in accounts})
    async with emu.client(retry=FAST_RETRY, rate_limit=None, seed=1) as client:
        jobs = JobService(client, store, family=family("tim"), event_interval=0)
        try:
            clean = jobs.journal.create_job(family="tim", kind="tag", title="tag", intent={},
                                            calls=tag_calls("add_tag", ["gold"], accounts[:100]))
            assert (await jobs.run(clean)).state == DONE
            assert (await jobs.verify(clean)).state == VERIFIED

            emu.faults.update(drop_effect=0.3)
            dropped = jobs.journal.create_job(family="tim", kind="tag", title="tag", intent={},
                                              calls=tag_calls("add_tag", ["silver"], accounts))
            assert (await jobs.run(dropped)).state == DONE
            emu.faults.update(drop_effect=0)
            missing = {a for a in accounts if "silver" not in emu.state.tags_of(a)}
            found = await jobs.verify(dropped, VerifySettings(percent=100))
            assert found.state == MISMATCHED and {m.target for m in found.mismatches} == missing
            await jobs.run(jobs.submit(jobs.plan_repair(dropped)))
            assert all("silver" in emu.state.tags_of(a) for a in accounts)
        finally:
            await jobs.aclose()
            store.close()


# -- the fault knob -----------------------------------------------------------------------------

async def test_drop_effect_is_set_by_the_admin_api_and_the_command_line():
    import httpx

    from wxtui.cli.main import build_parser
    from wxtui.emulation.commands import apply_fault_arguments

    emu = Emulator.demo(followers=200, seed=31)
    async with httpx.AsyncClient(transport=emu.transport(), base_url="http://emu") as http:
        answer = await http.post("/_emulator/faults", json={"drop_effect": 0.25})
        assert answer.status_code == 200 and answer.json()["drop_effect"] == 0.25
        refused = await http.post("/_emulator/faults", json={"drop_effect": 2})
        assert refused.status_code == 400 and "probability" in refused.text
    assert emu.faults.drop_effect == 0.25

    args = build_parser().parse_args(["emulator", "--fault-drop-effect", "0.1"])
    apply_fault_arguments(emu, args)
    assert emu.faults.drop_effect == 0.1
    with pytest.raises(SystemExit):
        build_parser().parse_args(["emulator", "--fault-drop-effect", "1.5"])


async def test_a_dropped_effect_answers_ok_and_changes_only_part_of_the_call(emu):
    acct = emu.account
    openids = [o for o in sample(acct, 200, seed=4) if VIP not in acct.tags_of(o)][:limits.TAGGING_BATCH]
    emu.faults.update(drop_effect=0.5, seed=7)
    from wxtui.families.wechat.client import WeChatClient

    async with WeChatClient.with_secret(acct.appid, acct.secret, transport=emu.transport()) as client:
        await client.batch_tag(VIP, openids)  # no error: the platform said ok
    tagged = sum(VIP in acct.tags_of(o) for o in openids)
    assert 0 < tagged < len(openids)
