"""The filter bar's query language: parsing, errors with positions, format() back, completion,
and views of parsed queries against the plain-Python reference on a crafted cache."""

from __future__ import annotations

import calendar

import pytest
from hypothesis import given, settings, strategies as st

from wxtui.store import Filter, NEWEST_FIRST, Store
from wxtui.store.query import complete, format, parse

from store_support import crafted_model, expected_ids, load

NAMES = {2: "星标", 100: "VIP", 101: "广东", 102: "Staff", 103: "Big spenders", 104: 'say "hi"'}


def day(text: str) -> int:
    return calendar.timegm(tuple(int(p) for p in text.split("-")) + (0, 0, 0))


def ok(query: str, names=NAMES) -> Filter:
    parsed = parse(query, names)
    assert parsed.error is None, parsed.error
    return parsed.filter


def test_the_example_query():
    flt = ok("tag:VIP tag:广东 -tag:Staff scene:qr_code followed:2024-01-01..2024-06-30 lang:zh_CN 李")
    assert flt == Filter(tags={100, 101}, match_all_tags=True, not_tags={102}, scenes={"ADD_SCENE_QR_CODE"},
                         subscribed_from=day("2024-01-01"), subscribed_to=day("2024-07-01"),
                         languages={"zh_CN"}, text="李")


@pytest.mark.parametrize("query, expected", [
    ("", Filter()),
    ("   ", Filter()),
    ("tag:VIP|广东", Filter(tags={100, 101})),
    ("tag:vip", Filter(tags={100})),  # a unique name matches whatever its case
    ('tag:"Big spenders"', Filter(tags={103})),
    ('tag:"say \\"hi\\""', Filter(tags={104})),
    ("tag:#7", Filter(tags={7})),  # an id the cache no longer names still reads
    ("-tag:Staff -tag:VIP", Filter(not_tags={100, 102})),
    ("-tag:Staff|VIP", Filter(not_tags={100, 102})),
    ("untagged", Filter(untagged=True)),
    ("UNTAGGED blacklisted", Filter(untagged=True, blacklisted=True)),
    ("-blacklisted", Filter(blacklisted=False)),
    ("scene:search|ADD_SCENE_PAID", Filter(scenes={"ADD_SCENE_SEARCH", "ADD_SCENE_PAID"})),
    ("followed:2024-03-05", Filter(subscribed_from=day("2024-03-05"), subscribed_to=day("2024-03-06"))),
    ("followed:2024-03-05..", Filter(subscribed_from=day("2024-03-05"))),
    ("followed:..2024-03-05", Filter(subscribed_to=day("2024-03-06"))),
    ("followed:2024-01-01.. followed:..2024-01-31",
     Filter(subscribed_from=day("2024-01-01"), subscribed_to=day("2024-02-01"))),
    ("李  娜", Filter(text="李 娜")),
    ('"李  娜"', Filter(text="李  娜")),
    ('"untagged"', Filter(text="untagged")),
    ('"a:b"', Filter(text="a:b")),
    ("lang:zh_CN|en", Filter(languages={"zh_CN", "en"})),
])
def test_queries(query, expected):
    assert ok(query) == expected


@pytest.mark.parametrize("query, bad, says", [
    ("tag:VIP tag:Guangdng", "Guangdng", "no tag named"),
    ("tag:", ":", "needs a value"),
    ("tag:VIP|", "|", "needs a value"),
    ('tag:"VIP', '"VIP', "quote is not closed"),
    ("colour:red", "colour:", "no field colour:"),
    ("followed:2024-13-01..", "2024-13-01", "no such day"),
    ("followed:2024-01-01..yesterday", "yesterday", "not a day"),
    ("followed:2024-02-01..2024-01-01", "2024-02-01..2024-01-01", "ends before it starts"),
    ("followed:..", "..", "at least one side"),
    ("blacklisted -blacklisted", "-blacklisted", "match nobody"),
    ("-untagged", "-untagged", "not a filter"),
    ("-scene:search", "-", "goes only before"),
    ("-vip", "-", "quote text"),
    ("scene:search scene:paid", "scene:paid", "one scene"),
    ("lang:en lang:zh_CN", "lang:zh_CN", "one language"),
    ("tag:VIP|Staff tag:广东", "tag:VIP|Staff", "cannot be combined"),
    ("scene:qr-code", "qr-code", "not a scene"),
])
def test_errors_point_at_the_bad_token(query, bad, says):
    parsed = parse(query, NAMES)
    assert parsed.filter is None
    error = parsed.error
    assert says in error.message
    assert query[error.start:error.end] == bad


def test_pointer_counts_wide_characters_twice():
    query = "tag:广东 tag:Nope"
    error = parse(query, NAMES).error
    assert error.pointer(query) == " " * len("tag:广东 tag:") + " " * 2 + "^" * 4


def test_several_tags_of_one_name_are_written_by_id():
    names = {1: "dup", 2: "dup", 3: "Dup"}
    error = parse("tag:dup", names).error
    assert "several tags" in error.message and "#1, #2" in error.message
    flt = Filter(tags={1, 3}, match_all_tags=True)
    assert format(flt, names) == "tag:#1 tag:#3"
    assert parse(format(flt, names), names).filter == flt


def test_a_tag_named_like_an_id_is_quoted():
    names = {5: "#9"}
    assert format(Filter(tags={5}), names) == 'tag:"#9"'
    assert ok('tag:"#9"', names) == Filter(tags={5})
    assert ok("tag:#9", names) == Filter(tags={9})


# -- random input never raises; format() reads back ----------------------------------------------

_alphabet = st.sampled_from(list('tagscenlwdbkuf:|-".\\ #0123456789李VIP广东\t') + ["tag:", "-tag:", "followed:",
                                                                              "2024-01-31", "..", "scene:",
                                                                              "lang:", "untagged", "blacklisted"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_alphabet, max_size=20).map("".join))
def test_random_queries_never_raise(query):
    parsed = parse(query, NAMES)
    assert (parsed.filter is None) != (parsed.error is None)
    if parsed.error is not None:
        assert 0 <= parsed.error.start <= parsed.error.end <= len(query)
        assert parsed.error.message
        parsed.error.pointer(query)
    complete(query, NAMES)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_text_never_raises(query):
    parsed = parse(query, NAMES)
    assert (parsed.filter is None) != (parsed.error is None)
    complete(query, NAMES)


_tag_names = st.dictionaries(st.integers(0, 10_000), st.text(min_size=1, max_size=12), max_size=6)
_days = st.integers(0, 60_000).map(lambda d: d * 86_400)  # 1970 .. 2134


@st.composite
def filters(draw):
    names = draw(_tag_names)
    tag_pool = st.sampled_from(sorted(names) + [10_001, 10_002]) if names else st.integers(10_001, 10_010)
    tags = draw(st.frozensets(tag_pool, max_size=4))
    match_all = len(tags) > 1 and draw(st.booleans())
    start = draw(st.none() | _days)
    end = draw(st.none() | _days)
    if start is not None and end is not None and end <= start:
        start, end = end, start + 86_400 if end == start else start
    flt = Filter(
        tags=tags, match_all_tags=match_all, not_tags=draw(st.frozensets(tag_pool, max_size=3)),
        untagged=draw(st.booleans()), blacklisted=draw(st.sampled_from([None, True, False])),
        text=draw(st.text(max_size=12)),
        scenes=draw(st.frozensets(st.from_regex(r"ADD_SCENE_[A-Z0-9_]{1,8}", fullmatch=True), max_size=3)),
        languages=draw(st.frozensets(st.text(min_size=1, max_size=6), max_size=3)),
        subscribed_from=start, subscribed_to=end,
    )
    return flt, names


@settings(max_examples=400, deadline=None)
@given(filters())
def test_parse_of_format_is_the_filter(case):
    flt, names = case
    query = format(flt, names)
    parsed = parse(query, names)
    assert parsed.error is None, (query, parsed.error)
    assert parsed.filter == flt, query


# -- completion ------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, completed", [
    ("tag:V", "tag:VIP"),
    ("tag:vi", "tag:VIP"),
    ("tag:B", 'tag:"Big spenders"'),
    ("tag:VIP|广", "tag:VIP|广东"),
    ("李 -tag:St", "李 -tag:Staff"),
    ("unt", "untagged"),
    ("fol", "followed:"),
    ("-bl", "-blacklisted"),
    ("tag:VIP", None),
    ("tag:Nope", None),
    ("", None),
    ("tag:VIP ", None),
])
def test_completion(typed, completed):
    assert complete(typed, NAMES) == completed


# -- the views of parsed queries equal the reference --------------------------------------------------

@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    model = crafted_model(n=300, seed=12)
    store = Store.open(tmp_path_factory.mktemp("q") / "cache.db")
    load(store, model)
    ids = store.follower_ids(model.followers)
    yield store, model, ids
    store.close()


QUERIES = [
    'tag:"tag 100" tag:"tag 101"',
    'tag:"tag 100"|"tag 103" -tag:"tag 104"',
    "untagged -blacklisted",
    "blacklisted scene:qr_code|paid",
    'tag:"tag 101" scene:search followed:2020-09-20..2020-10-05',
    "lang:en followed:..2020-09-25 vip",
    'tag:"tag 2" tag:"tag 100" tag:"tag 102" scene:qr_code followed:2020-09-14..2020-10-20',
    "李娜",
    '"say \\"hi\\""',
]


@pytest.mark.parametrize("query", QUERIES)
def test_views_of_queries_equal_the_reference(crafted, query):
    store, model, ids = crafted
    parsed = parse(query, model.tags)
    assert parsed.error is None, parsed.error
    view = store.view(parsed.filter, NEWEST_FIRST)
    expected = expected_ids(model, ids, parsed.filter, NEWEST_FIRST)
    assert list(view.row_ids()) == expected
    assert store.view(parsed.filter).count() == len(expected)
    assert list(view.first_ids(20)) == expected[:20]
    # Three given tags are rare among the crafted followers (at most three each); the others match.
    assert expected or query.startswith('tag:"tag 2" tag:"tag 100" tag:"tag 102"')


@pytest.mark.parametrize("a, b, expected", [
    (Filter(tags={1}), Filter(tags={2}), Filter(tags={1, 2}, match_all_tags=True)),
    (Filter(tags={1}), Filter(tags={1}), Filter(tags={1})),
    (Filter(tags={1}), Filter(tags={2, 3}), None),
    (Filter(blacklisted=True), Filter(text="李", not_tags={4}), Filter(blacklisted=True, text="李", not_tags={4})),
    (Filter(blacklisted=True), Filter(blacklisted=False), None),
    (Filter(scenes={"A", "B"}), Filter(scenes={"B", "C"}), Filter(scenes={"B"})),
    (Filter(scenes={"A"}), Filter(scenes={"C"}), None),
    (Filter(subscribed_from=10, subscribed_to=50), Filter(subscribed_from=20), Filter(subscribed_from=20, subscribed_to=50)),
    (Filter(untagged=True), Filter(), Filter(untagged=True)),
])
def test_combine(a, b, expected):
    from wxtui.store.query import combine

    assert combine(a, b) == expected
    assert combine(b, a) == expected


@pytest.mark.parametrize("query, meaning", [
    ("followed:2024-01-01..2024-12-31", "followed 2024-01-01..2024-12-31"),
    ("followed:2024-06-01", "followed 2024-06-01"),
    ("followed:2024-06-01..", "followed 2024-06-01.."),
    ("followed:..2024-06-30", "followed ..2024-06-30"),
])
def test_what_a_query_means_names_the_days_it_wrote(query, meaning):
    """The meaning shown beside a segment (segments show, the confirmation) reads as the query
    does: the last day is the last day included, not the day after it."""
    assert ok(query).describe(NAMES) == meaning


def test_a_scene_or_language_nobody_has_is_named_with_those_the_cache_holds():
    from wxtui.store.query import absent_values

    typo = parse("scene:qrcode lang:xx").filter
    held = {"ADD_SCENE_QR_CODE", "ADD_SCENE_SEARCH"}
    said = absent_values(typo, held, {"zh_CN", "en"})
    assert said == ("no follower has scene:qrcode (did you mean qr_code? scenes here: qr_code, search); "
                    "no follower has lang:xx (languages here: en, zh_CN)")
    # lang: matches as typed: a wrong case is the likeliest slip, and it is named.
    assert absent_values(parse("lang:zh_cn").filter, None, {"zh_CN", "en"}).startswith(
        "no follower has lang:zh_cn (did you mean zh_CN? ")
    # One of the alternatives is held: the filter is not a typo, nothing is said.
    assert absent_values(parse("scene:qrcode|search").filter, held, None) == ""
    assert absent_values(parse("lang:en").filter, None, {"en"}) == ""
    assert absent_values(typo, None, None) == ""  # the cache cannot say: nothing is guessed
