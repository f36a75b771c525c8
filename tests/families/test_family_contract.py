"""What every API family must do, run for each (the model: harlequin's adapter tests).

Each family opens a demo session on its emulator, syncs, tags, untags and clears tags of a few
members, isolates a member its service no longer knows while delivering the rest, undoes a job,
and passes its doctor. What the service holds is read back through the family's own sync, so
the assertions speak of the service, not of what the job wrote to the cache.
"""

from __future__ import annotations

import pytest

from wxtui.core.diagnosis import FAIL
from wxtui.core.session import open_session
from wxtui.family import Family, all_families, family
from wxtui.jobs.events import DONE
from wxtui.jobs.intents import ClearTags, CreateTag, Followers, TagFollowers, UntagFollowers
from wxtui.jobs.service import JobService

MEMBERS = 40


def forget_member(emulator, member: str) -> None:
    """The service stops knowing a member (unfollowed; account deleted): each emulator's own way."""
    if emulator.family_key == "wechat":
        emulator.account.remove_followers([member])
    else:
        emulator.state.delete_accounts([member])


@pytest.fixture(params=sorted(f.key for f in all_families()))
def each_family(request) -> Family:
    return family(request.param)


@pytest.fixture
async def session(each_family, tmp_path):
    emulator = each_family.demo_emulator(members=MEMBERS, seed=3)
    async with open_session(emulator=emulator, store_path=tmp_path / "cache.sqlite") as opened:
        yield opened


def test_every_family_is_registered_with_its_words_and_options():
    keys = {f.key for f in all_families()}
    assert keys == {"wechat", "tim"}
    for f in all_families():
        assert f.nouns.member and f.nouns.members and f.nouns.member_ids and f.options
        assert f.columns()[0].key == "openid"  # the member id comes first
        assert len({o.flag for o in f.options}) == len(f.options)


async def synced_tags(session) -> dict[str, set[str]]:
    """member -> tag names, as the service says after a fresh sync."""
    result = await session.family.sync(session.client, session.store)
    assert result.ok, result.message
    store = session.store
    names = store.tag_names()
    ids = [row[0] for row in store.reader().execute("SELECT openid FROM followers")]
    return {member: {names[t] for t in tags if t in names} for member, tags in store.tag_ids_of(ids).items()}


async def run(jobs: JobService, intent):
    plan = await jobs.plan(intent)
    assert plan.ok, plan.describe()
    if not plan.calls:
        return None
    final = await jobs.run(jobs.submit(plan))
    assert final.state == DONE, final.message
    return final


async def test_a_demo_session_syncs_tags_untags_clears_and_undoes(session, each_family):
    assert session.family is each_family and session.is_demo
    before = await synced_tags(session)
    assert len(before) == MEMBERS
    jobs = JobService(session.client, session.store, family=session.family, event_interval=0.01)
    try:
        await run(jobs, CreateTag("contract"))
        tagid = next(t for t, name in session.store.tag_names().items() if name == "contract")
        members = sorted(before)[:3]

        tagged = await run(jobs, TagFollowers(tagid, Followers.of(members)))
        after = await synced_tags(session)
        assert all("contract" in after[m] for m in members)
        assert not any("contract" in tags for m, tags in after.items() if m not in members)

        await run(jobs, UntagFollowers(tagid, Followers.of(members[:1])))
        await run(jobs, ClearTags(Followers.of(members[1:2])))
        after = await synced_tags(session)
        assert "contract" not in after[members[0]] and after[members[0]] == before[members[0]]
        assert after[members[1]] == set()
        assert "contract" in after[members[2]]

        undo = jobs.plan_undo(tagged.job_id)
        assert undo.ok and undo.calls
        await jobs.run(jobs.submit(undo))
        after = await synced_tags(session)
        assert "contract" not in after[members[2]]
    finally:
        await jobs.aclose()


async def test_a_member_the_service_no_longer_knows_is_isolated_and_the_rest_delivered(session):
    members = sorted(await synced_tags(session))[:6]
    gone = members[2]
    forget_member(session.emulator, gone)
    jobs = JobService(session.client, session.store, family=session.family, event_interval=0.01)
    try:
        await run(jobs, CreateTag("isolated"))
        tagid = next(t for t, name in session.store.tag_names().items() if name == "isolated")
        final = await run(jobs, TagFollowers(tagid, Followers.of(members)))
        assert final.failures_count == 1
        assert [f.target for f in jobs.journal.failures(final.job_id)] == [gone]
        cached = session.store.tag_ids_of([m for m in members if m != gone])
        assert all(tagid in cached[m] for m in members if m != gone)
    finally:
        await jobs.aclose()


def test_ids_are_read_from_lines_with_comments_and_blanks_skipped(each_family):
    emulator = each_family.demo_emulator(members=3, seed=3)
    member = (emulator.account.follower_openids()[0] if each_family.key == "wechat"
              else emulator.state.accounts()[0])
    ids, junk = each_family.parse_ids(["# a comment", "", f"  {member}  ", member])
    assert ids[:1] == [member] and junk == []


async def test_the_doctor_passes_on_the_demo_account(each_family):
    profile, transport, secret = each_family.demo_profile(members=5)
    assert profile.family is each_family
    section = await each_family.doctor(profile, transport=transport, secret=secret, timeout=5.0)
    assert section.checks and [c for c in section.checks if c.status == FAIL] == []
