"""Rules: a saved segment that keeps a tag on its followers, run after a sync (automatic) or by
`wxtui rules run`, each run an ordinary journaled job. Against the served emulator and the
account's cache; what the emulator holds is the truth the tests compare with."""

from __future__ import annotations

import asyncio
import json

import pytest

from jobs_support import job_service, synced_cli_account
from wxtui.cli.main import main
from wxtui.core import paths
from wxtui.families.wechat.emulator import Emulator
from wxtui.jobs.journal import Journal
from wxtui.jobs.rules import RuleRunner
from wxtui.store import Filter, Store
from wxtui.store.rules import Rules
from wxtui.store.segments import Segments

GUANGDONG, BEIJING, VIP, NEWSLETTER, STAFF = 100, 101, 106, 105, 112


@pytest.fixture
def emu():
    return Emulator.demo(followers=600, seed=43)


@pytest.fixture
def account(emu, monkeypatch):
    with synced_cli_account(emu, monkeypatch) as acct:
        yield acct


def _jobs(acct) -> list:
    with Store.open(paths.cache_db(acct.appid)) as store:
        return Journal(store).jobs(limit=100)


def _job_targets(acct, job_id: int) -> dict[str, set[str]]:
    """op -> every openid the job's calls hold, from the journal."""
    out: dict[str, set[str]] = {}
    with Store.open(paths.cache_db(acct.appid)) as store:
        for call in Journal(store).calls(job_id):
            out.setdefault(call.op, set()).update(call.targets)
    return out


def _converged(acct) -> set[str]:
    """Save the Guangdong segment with its rule and run it once; VIP's members afterwards."""
    assert main(["segments", "save", "Guangdong", "tag:广东"]) == 0
    assert main(["rules", "add", "Guangdong", "--tag", "VIP", "--auto"]) == 0
    assert main(["rules", "run", "--yes"]) == 0
    assert acct.tag_members(GUANGDONG) <= acct.tag_members(VIP)
    return acct.tag_members(VIP)


def test_a_sync_that_adds_followers_to_a_segment_runs_exactly_their_job_and_undo_restores(account, capsys):
    _converged(account)
    new = account.add_followers(5)
    for openid in new[:3]:
        account.set_tags(openid, [GUANGDONG])
    account.set_tags(new[3], [GUANGDONG, VIP])  # already as the rule wants: not in the job
    before = account.tag_members(VIP)
    jobs_before = len(_jobs(account))
    capsys.readouterr()

    assert main(["sync", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Running the automatic rule (1) after the sync" in out
    records = _jobs(account)
    assert len(records) == jobs_before + 1
    job = records[0]
    assert job.kind == "rule" and job.title == 'rule #1 "Guangdong" → "VIP": tag 3'
    assert _job_targets(account, job.id) == {"tag": set(new[:3])}
    assert account.tag_members(VIP) == before | set(new[:3])
    assert f"Verification of job #{job.id}: verified 3 of 3" in out
    assert main(["rules", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["last_job"] == job.id and listed["mode"] == "automatic" and listed["problem"] == ""

    assert main(["jobs", "undo", str(job.id), "--yes"]) == 0
    assert account.tag_members(VIP) == before
    # A second sync puts them back (the rule still holds), and then there is nothing to change.
    assert main(["sync", "--quiet"]) == 0
    assert account.tag_members(VIP) == before | set(new[:3])
    capsys.readouterr()
    assert main(["rules", "run", "--yes"]) == 0
    assert "nothing to change" in capsys.readouterr().out
    assert len(_jobs(account)) == jobs_before + 3  # the rule's job, its undo, the rule's again: no empty job


def test_leavers_lose_the_tag_unless_another_rule_of_that_tag_keeps_them(account, capsys):
    assert main(["segments", "save", "Guangdong", "tag:广东"]) == 0
    assert main(["segments", "save", "Beijing", "tag:北京"]) == 0
    assert main(["rules", "add", "Guangdong", "--tag", "VIP", "--remove-leavers"]) == 0
    assert main(["rules", "add", "Beijing", "--tag", "VIP"]) == 0
    assert main(["rules", "run", "--yes"]) == 0
    assert account.tag_members(VIP) == account.tag_members(GUANGDONG) | account.tag_members(BEIJING)

    both = sorted(account.tag_members(GUANGDONG) & account.tag_members(BEIJING))
    only_gd = sorted(account.tag_members(GUANGDONG) - account.tag_members(BEIJING))
    assert both and len(only_gd) >= 3
    leavers = only_gd[:3]
    for openid in leavers + both[:1]:  # they leave Guangdong on WeChat; one is still in Beijing
        account.set_tags(openid, [t for t in account.tags_of(openid) if t != GUANGDONG])
    assert main(["sync", "--quiet"]) == 0  # the rules ask (not automatic): the sync runs none
    state = account.tag_members(VIP)
    jobs_before = len(_jobs(account))
    capsys.readouterr()

    # Without --yes: the plan, exactly the leavers, and nothing sent.
    assert main(["rules", "run", "--json"]) == 2
    planned = {p["rule"]: p for p in json.loads(capsys.readouterr().out)}
    assert planned[1]["remove"] == sorted(leavers) and planned[1]["add"] == []
    assert planned[1]["plan"]["calls_by_op"] == {"untag": 1}
    assert planned[2]["plan"] is None and planned[2]["problem"] == ""
    assert account.tag_members(VIP) == state and len(_jobs(account)) == jobs_before

    assert main(["rules", "run", "--yes", "--json"]) == 0
    ran = {p["rule"]: p for p in json.loads(capsys.readouterr().out)}  # the progress went to stderr
    assert account.tag_members(VIP) == state - set(leavers)
    (job,) = [j for j in _jobs(account) if j.id > jobs_before]  # the Beijing rule had nothing to do
    assert (ran[1]["job"], ran[1]["state"], ran[2]["job"]) == (job.id, "done", None)
    assert job.title == 'rule #1 "Guangdong" → "VIP": untag 3 who left'
    assert _job_targets(account, job.id) == {"untag": set(leavers)}


def test_a_paused_rule_does_nothing_until_resumed(account, capsys):
    vip = _converged(account)
    assert main(["rules", "pause", "Guangdong"]) == 0
    assert "it is paused" in capsys.readouterr().out
    new = account.add_followers(2)
    for openid in new:
        account.set_tags(openid, [GUANGDONG])
    jobs_before = len(_jobs(account))
    assert main(["sync", "--quiet"]) == 0
    assert main(["rules", "run", "--yes"]) == 0
    assert "No active rule to run" in capsys.readouterr().out
    assert main(["rules", "run", "1", "--yes"]) == 2
    assert "rule #1 is paused: resume it first" in capsys.readouterr().err
    assert account.tag_members(VIP) == vip and len(_jobs(account)) == jobs_before
    assert main(["rules", "resume", "#1"]) == 0
    assert main(["rules", "run", "--yes"]) == 0
    assert account.tag_members(VIP) == vip | set(new)


def test_a_rule_whose_segment_or_tag_was_deleted_is_reported_and_skipped(account, capsys):
    assert main(["segments", "save", "Guangdong", "tag:广东"]) == 0
    assert main(["segments", "save", "Staff fans", "tag:Staff"]) == 0
    assert main(["rules", "add", "Guangdong", "--tag", "VIP", "--auto"]) == 0
    assert main(["rules", "add", "Staff fans", "--tag", "Newsletter", "--auto"]) == 0
    assert main(["rules", "add", "guangdong", "--tag", "Newsletter"]) == 0
    state = {t: account.tag_members(t) for t in (VIP, NEWSLETTER)}
    capsys.readouterr()
    assert main(["segments", "delete", "Guangdong"]) == 0
    assert ("Its rules #1, #3 do nothing until a segment named 'Guangdong' is saved again"
            in capsys.readouterr().out)
    account.delete_tag(STAFF)  # deleted on WeChat: the next sync drops it from the cache
    account.delete_tag(NEWSLETTER)
    capsys.readouterr()
    assert main(["sync", "--quiet"]) == 1  # the sync is done; its automatic rules could not run
    out = capsys.readouterr().out
    assert 'skipped: its segment "Guangdong" was deleted' in out
    assert 'skipped: its tag "Newsletter" (#105) was deleted' in out
    assert main(["rules", "list"]) == 0
    out = capsys.readouterr().out
    assert out.count("problem:") == 3
    assert account.tag_members(VIP) == state[VIP]
    # The segment saved again: the rule follows its name and runs.
    assert main(["segments", "save", "Guangdong", "tag:广东"]) == 0
    assert main(["rules", "run", "1", "--yes"]) == 0
    assert account.tag_members(GUANGDONG) <= account.tag_members(VIP)
    # A tag created again under the rule's tag's name is followed (as an undone delete does).
    newsletter = account.create_tag("Newsletter")
    assert main(["sync", "--quiet", "--no-rules"]) == 0
    capsys.readouterr()
    assert main(["rules", "run", "3", "--yes"]) == 0
    assert f'its tag "Newsletter" was created again (#{newsletter}): the rule follows it' in capsys.readouterr().out
    assert account.tag_members(GUANGDONG) <= account.tag_members(newsletter)
    assert main(["rules", "delete", "Guangdong"]) == 2  # two rules on that segment: which?
    assert "carries 2 rules" in capsys.readouterr().err
    assert main(["rules", "delete", "3"]) == 0 and main(["rules", "delete", "Guangdong"]) == 0


def test_bad_rules_are_refused_with_a_reason(account, capsys):
    assert main(["segments", "save", "No VIP", "-tag:VIP tag:广东"]) == 0
    assert main(["segments", "save", "Untagged", "untagged"]) == 0
    assert main(["rules", "add", "No VIP", "--tag", "VIP", "--remove-leavers"]) == 2
    assert "would undo every run" in capsys.readouterr().err
    assert main(["rules", "add", "Untagged", "--tag", "VIP", "--remove-leavers"]) == 2
    assert "its query uses untagged" in capsys.readouterr().err
    assert main(["rules", "add", "Nope", "--tag", "VIP"]) == 2
    assert "no segment named 'Nope'" in capsys.readouterr().err
    assert main(["rules", "add", "Untagged", "--tag", "Nope"]) == 2
    assert "no tag named 'Nope'" in capsys.readouterr().err
    assert main(["rules", "pause", "9"]) == 2
    assert "no rule '9'" in capsys.readouterr().err
    # Without leavers removal, tagging the untagged is a rule that settles: allowed.
    assert main(["rules", "add", "Untagged", "--tag", "Newsletter"]) == 0
    with Store.open(paths.cache_db(account.appid)) as store:
        assert [r.segment for r in Rules(store).list()] == ["Untagged"]


# -- the order of a run, on the store and the in-process emulator -------------------------------------

def test_a_rule_using_another_rules_tag_runs_after_it_and_circles_that_remove_are_skipped(tmp_path):
    emu = Emulator.demo(followers=300, seed=5)

    async def scenario():
        async with job_service(emu, tmp_path / "cache.db") as jobs:
            store = jobs.store
            segments, rules = Segments(store), Rules(store)
            segments.save("Newsletter VIPs", Filter(tags={VIP, NEWSLETTER}, match_all_tags=True))
            segments.save("Guangdong", Filter(tags={GUANGDONG}))
            # Added first, but its segment uses VIP, which the second rule gives.
            first, _ = rules.add("Newsletter VIPs", STAFF)
            second, _ = rules.add("Guangdong", VIP)
            runner = RuleRunner(jobs)
            order, problems = runner.order()
            assert [r.id for r in order] == [second.id, first.id] and not problems
            async for planned in runner.each():
                if planned.plan is not None:
                    await jobs.run(runner.submit(planned))
            vip, news = emu.account.tag_members(VIP), emu.account.tag_members(NEWSLETTER)
            assert emu.account.tag_members(GUANGDONG) <= vip
            assert vip & news <= emu.account.tag_members(STAFF)  # in one run: it saw what VIP gained
            # A circle where one takes its tag away: both are reported, neither runs.
            segments.save("Staff", Filter(tags={STAFF}))
            segments.save("Not staff", Filter(not_tags={STAFF}))
            rules.delete(first.id)
            rules.delete(second.id)
            a, _ = rules.add("Staff", BEIJING, remove_leavers=True)
            segments.save("Beijing", Filter(tags={BEIJING}))
            b, _ = rules.add("Beijing", STAFF)
            _order, problems = runner.order()
            assert set(problems) == {a.id, b.id} and "undo each other" in problems[a.id]
            plans = [p async for p in runner.each()]
            assert [p.plan for p in plans] == [None, None] and all(p.problem for p in plans)

    asyncio.run(scenario())


# -- Tencent Cloud IM: tags are free text on each account ------------------------------------------

def test_a_rule_keeps_im_tags_and_finds_its_tag_by_name_in_a_rebuilt_cache(tmp_path):
    from conftest import FAST_RETRY
    from wxtui.family import family
    from wxtui.families.tim.cache import remember_accounts
    from wxtui.families.tim.emulator import TimEmulator
    from wxtui.jobs.service import JobService

    emu = TimEmulator.demo(accounts=300, seed=3)
    state = emu.state
    accounts = state.accounts()
    store = Store.open(tmp_path / "tim.sqlite")
    remember_accounts(store, {a: state.tags_of(a) for a in accounts})  # as tim-import leaves it

    async def scenario():
        async with emu.client(retry=FAST_RETRY, rate_limit=None, seed=1) as client:
            jobs = JobService(client, store, family=family("tim"), event_interval=0)
            try:
                runner = RuleRunner(jobs)

                async def run_all():
                    async for planned in runner.each():
                        assert not planned.problem, planned.problem
                        if planned.plan is not None:
                            assert (await jobs.run(runner.submit(planned))).state == "done"

                names = {n: t for t, n in store.tag_names().items()}
                Segments(store).save("Android", Filter(tags={names["android"]}))
                rule, _ = Rules(store).add("Android", names["vip"], remove_leavers=True)
                await run_all()
                android = {a for a in accounts if "android" in state.tags_of(a)}
                assert {a for a in accounts if "vip" in state.tags_of(a)} == android
                # A cache rebuilt (doctor --repair, then an import) numbers only the tags someone
                # carries: the rule's tag is not there, and the rule numbers it again by its name.
                state.remove([(a, ["vip", "android"]) for a in android])
                remember_accounts(store, {a: state.tags_of(a) for a in accounts})
                with store.transaction():
                    store.conn.execute("DELETE FROM tags WHERE name = 'vip'")
                one = sorted(android)[0]
                state.add([(one, ["android"])])
                remember_accounts(store, {one: state.tags_of(one)})
                await run_all()
                assert {a for a in accounts if "vip" in state.tags_of(a)} == {one}
                assert Rules(store).get(rule.id).tag_name == "vip"
            finally:
                await jobs.aclose()

    try:
        asyncio.run(scenario())
    finally:
        store.close()


def test_platform_text_in_rules_is_shown_escaped(account, capsys):
    hostile = account.create_tag("[b]x\x1b[2J")
    account.set_tags(account.follower_openids()[0], [GUANGDONG])
    assert main(["sync", "--quiet"]) == 0
    assert main(["segments", "save", "Guangdong", "tag:广东"]) == 0
    assert main(["rules", "add", "Guangdong", "--tag", str(hostile)]) == 0
    assert main(["rules", "list"]) == 0
    assert main(["rules", "run"]) == 2
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert 'carries tag "[b]x\\x1b[2J"' in out


def test_a_deleted_rules_number_is_never_given_to_another(account, capsys):
    """Job titles and the audit log name a rule by its number ('rule #2 ...'): a rule added after
    the last one was deleted gets a new number, so that history keeps meaning the rule it ran."""
    assert main(["segments", "save", "Guangdong", "tag:广东"]) == 0
    assert main(["segments", "save", "Beijing", "tag:北京"]) == 0
    assert main(["rules", "add", "Guangdong", "--tag", "VIP"]) == 0
    assert main(["rules", "add", "Beijing", "--tag", "VIP"]) == 0
    assert main(["rules", "run", "2", "--yes"]) == 0
    ran = _jobs(account)[0]
    assert ran.title.startswith('rule #2 "Beijing"')
    assert main(["rules", "delete", "2"]) == 0
    capsys.readouterr()
    assert main(["rules", "add", "Beijing", "--tag", "Newsletter"]) == 0
    assert "Added rule #3:" in capsys.readouterr().out
    with Store.open(paths.cache_db(account.appid)) as store:
        assert [r.id for r in Rules(store).list()] == [1, 3]


def test_deleting_a_tag_says_which_rules_give_it_before_anything_is_sent(account, capsys):
    assert main(["segments", "save", "Guangdong", "tag:广东"]) == 0
    assert main(["rules", "add", "Guangdong", "--tag", "Newsletter"]) == 0
    assert main(["segments", "save", "Beijing", "tag:北京"]) == 0
    assert main(["rules", "add", "Beijing", "--tag", "VIP"]) == 0
    capsys.readouterr()
    assert main(["tags", "delete", "Newsletter", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Rule #1 gives this tag" in out and "wxtui rules delete 1" in out
    assert "#2" not in out  # the VIP rule has nothing to do with it
    assert NEWSLETTER in account.tags()  # a dry run sends nothing
    assert main(["tags", "delete", "Newsletter", "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [w["code"] for w in plan["warnings"]] == ["rules"]
    assert main(["tags", "delete", "Staff", "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == []
