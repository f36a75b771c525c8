"""The emulator's lean columns against the plain structures they replace: the openid column
against a list and a dict, tag members and the blacklist (bitmaps) paged as sorted row lists
with the cursor's position found by bisection."""

from __future__ import annotations

import random
from bisect import bisect_right

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wxtui.families.wechat import limits
from wxtui.families.wechat.emulator import ApiFailure, Emulator
from wxtui.families.wechat.emulator.openids import TAIL, OpenidColumn
from wxtui.families.wechat.emulator.persist import load_state, save_state

PREFIX = "oAbCd_"
tails = st.text(alphabet="ABCab01_-", min_size=TAIL, max_size=TAIL)


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(st.lists(tails, max_size=40), max_size=6), probes=st.lists(tails, max_size=20))
def test_openid_column_answers_as_a_list_and_a_dict(batches, probes):
    column, listed, rows = OpenidColumn(PREFIX), [], {}
    for batch in batches:
        openids = [PREFIX + t for t in batch]
        clash = len(set(openids)) != len(openids) or any(o in rows for o in openids)
        if clash:
            with pytest.raises(ValueError):
                column.extend("".join(batch))
        else:
            column.extend("".join(batch))
            rows.update(zip(openids, range(len(listed), len(listed) + len(openids))))
            listed += openids
        assert len(column) == len(listed)
    assert list(column) == listed and column[:] == listed and column[3:9] == listed[3:9]
    assert [column[i] for i in range(len(listed))] == listed
    for openid in listed + [PREFIX + t for t in probes]:
        assert column.get(openid) == rows.get(openid)
    assert column.get("x" + listed[0][1:] if listed else "nothing") is None
    assert column.get("o" * 6 + "é" * TAIL) is None and column.get(42) is None
    assert OpenidColumn(PREFIX, column.tails().decode()).get(listed[-1] if listed else "") == rows.get(
        listed[-1] if listed else "")


def old_page(rows: set[int], names: list[str], cursor_row: int) -> list[str]:
    ordered = sorted(rows)
    start = bisect_right(ordered, cursor_row)
    return [names[i] for i in ordered[start:start + limits.PAGE_SIZE]]


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_tag_and_blacklist_pages_follow_row_order_through_any_changes(data):
    emu = Emulator.demo(followers=400, seed=data.draw(st.integers(0, 3)))
    acct = emu.account
    names = list(acct._openids)  # noqa: SLF001 - every row, unfollowers included
    tagid = acct.create_tag("Property")
    members: set[int] = set()
    blacklisted = {acct.row(o, subscribed=False) for o in acct.blacklist()}
    row_lists = st.lists(st.integers(0, len(names) - 1), max_size=60)
    for kind, chosen in data.draw(st.lists(st.tuples(st.sampled_from(["tag", "untag", "black", "white", "unfollow"]),
                                                     row_lists), max_size=12)):
        subscribed = [i for i in chosen if acct._subscribed[i]]  # noqa: SLF001
        if kind == "tag":
            try:
                acct.tag_rows(subscribed, tagid)
                members.update(subscribed)
            except ApiFailure as failure:
                assert failure.errcode == 45059  # someone would pass 20 tags: nothing changed
        elif kind == "untag":
            acct.untag_rows(subscribed, tagid)
            members.difference_update(subscribed)
        elif kind == "black":
            acct.blacklist_rows(subscribed, True)
            blacklisted.update(subscribed)
        elif kind == "white":
            acct.blacklist_rows(subscribed, False)
            blacklisted.difference_update(subscribed)
        else:
            acct.remove_followers([names[i] for i in subscribed])
            members.difference_update(subscribed)
            blacklisted.difference_update(subscribed)
        for cursor_row in [-1, *data.draw(st.lists(st.integers(0, len(names) - 1), max_size=3))]:
            cursor = names[cursor_row] if cursor_row >= 0 else None
            tag_page = acct.tag_page(tagid, cursor)
            assert tag_page.get("data", {}).get("openid", []) == old_page(members, names, cursor_row)
            black_page = acct.blacklist_page(cursor)
            assert black_page.get("data", {}).get("openid", []) == old_page(blacklisted, names, cursor_row)
            assert black_page["total"] == len(blacklisted)
        assert acct.tag_members(tagid) == {names[i] for i in members}


def test_a_tag_over_several_pages_pages_in_row_order_and_survives_a_kept_state(tmp_path):
    emu = Emulator.demo(followers=25_000, seed=2)
    acct = emu.account
    names = list(acct._openids)  # noqa: SLF001
    rows = set(random.Random(5).sample(range(len(names)), 21_000))
    tagid = acct.create_tag("Wide")
    acct.tag_rows(sorted(rows, reverse=True), tagid)
    save_state(emu, tmp_path / "emulator.state")
    for account in (acct, load_state(tmp_path / "emulator.state").account):
        seen, cursor = [], None
        while True:
            page = account.tag_page(tagid, cursor)
            if not page["count"]:
                break
            seen += page["data"]["openid"]
            cursor = page["next_openid"]
        assert seen == [names[i] for i in sorted(rows)]
        assert account.follower(names[7]) == acct.follower(names[7])
        assert account.is_blacklisted(acct.blacklist()[0]) and not account.is_blacklisted("not an openid")


def test_answers_of_a_span_of_rows_are_each_rows_own_answer():
    emu = Emulator.demo(followers=3000, seed=4)
    acct = emu.account
    names = list(acct._openids)  # noqa: SLF001
    acct.set_tags(names[10], [100, 101, 105, limits.STAR_TAG_ID])
    acct.remove_followers(names[20:40])
    acct.set_remark(acct.row(names[50]), "张伟 VIP")
    expected = [acct.follower(o) for o in names if acct.follower(o)["subscribe"]]
    assert acct.infos(0, 1000) + acct.infos(1000, 3000) == expected
    assert acct.infos(10, 11)[0]["tagid_list"] == [105, 101, 100, limits.STAR_TAG_ID]
    assert acct.infos(20, 40) == []
