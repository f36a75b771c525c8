"""How fast views answer on a big cache: first rows, exact count, ordered ids, a page by id.

    python bench/view_bench.py [--followers 1000000] [--cache PATH] [--seed 1] [--only NAME,...]

The cache is built once from the emulator's demo data (the same distribution the demo shows:
a regional tag on 12% of followers, rare tags of a handful, 30% with a remark) through the
store's own sync writes, and reused while its follower count matches. Prints JSON:
{"followers", "filters": {NAME: {"first_rows_ms", "count_ms", "row_ids_ms", "select_all_ms",
 "matches"}}, "page_by_id_ms", "build_s"}. Each figure is the median of three runs on a new View
(a View remembers its count). select_all_ms is what `a` asks of the store: the selection made of
the filter, its exact count and the marks of a screenful of rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from wxtui.store import Filter, Sort, SortKey, Store
from wxtui.families.wechat.models import Follower, Tag

FIRST_ROWS = 100
PAGE = 50
RUNS = 3


def build_cache(path: Path, followers: int, seed: int) -> float:
    """Fill the cache with the demo account of this size; returns seconds taken."""
    from wxtui.families.wechat.emulator import Emulator

    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    account = Emulator.demo(followers=followers, seed=seed).account
    store = Store.open(path)
    try:
        store.replace_tags(Tag(tagid, name, count) for tagid, (name, count) in account.tags().items())
        pass_id = store.begin_pass()
        rows = account.row_count()
        for start in range(0, rows, 10_000):
            page = [Follower.from_api(account.info(i)) for i in range(start, min(start + 10_000, rows))]
            store.upsert_followers(page, pass_id)
        store.finish_pass(pass_id)
        store.replace_blacklist(account.blacklist())
    finally:
        store.close()
    return time.perf_counter() - started


def _ms(fn) -> tuple[float, object]:
    timings, result = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = fn()
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 2), result


def filters_to_measure(store: Store) -> dict[str, tuple[Filter, Sort]]:
    tags = sorted(store.tags(), key=lambda t: t.count)
    by_name = {t.name: t for t in tags}
    big = by_name.get("广东", tags[-1])
    rare = next(t for t in tags if t.count > 0)
    other = by_name.get("会员", tags[-2])
    third = next(t for t in reversed(tags) if t.id not in (big.id, other.id))
    newest = Sort()
    return {
        "all": (Filter(), newest),
        "big_tag": (Filter(tags={big.id}), newest),
        "rare_tag": (Filter(tags={rare.id}), newest),
        "untagged": (Filter(untagged=True), newest),
        "remark_zh_2chars": (Filter(text="李娜"), newest),
        "remark_zh_1char": (Filter(text="王"), newest),
        "remark_mixed_3plus": (Filter(text="VIP客户"), newest),
        "tag_and_not_tag": (Filter(tags={big.id}, not_tags={other.id}), newest),
        "any_of_two_tags": (Filter(tags={big.id, other.id}), newest),
        "blacklisted": (Filter(blacklisted=True), newest),
        "scene_paid": (Filter(scenes={"ADD_SCENE_PAID"}), newest),
        "followed_2025": (Filter(subscribed_from=1735689600, subscribed_to=1767225600), newest),
        "all_by_openid": (Filter(), Sort(SortKey.OPENID, descending=False)),
        "all_by_remark": (Filter(), Sort(SortKey.REMARK, descending=False)),
        "big_tag_by_openid": (Filter(tags={big.id}), Sort(SortKey.OPENID, descending=False)),
        "hostile_text": (Filter(text='%_"*#\\'), newest),
        # Searches that match no one (the slow case when a plan scans rows), one Latin letter.
        "no_match_latin": (Filter(text="zzzz"), newest),
        "no_match_zh_4chars": (Filter(text="张伟伟伟"), newest),
        "one_letter_q": (Filter(text="q"), newest),
        "text_by_openid": (Filter(text="王"), Sort(SortKey.OPENID, descending=False)),
        # A segment: three tags AND / OR / NOT, a scene and a year of subscriptions.
        "segment": (Filter(tags={big.id, other.id}, not_tags={third.id}, scenes={"ADD_SCENE_QR_CODE", "ADD_SCENE_SEARCH"},
                           subscribed_from=1704067200, subscribed_to=1767225600), newest),
        "tags_or_not": (Filter(tags={big.id, other.id}, not_tags={third.id}), newest),
        # A saved segment as a person types it in the filter bar: three tags (all of them), a
        # scene and a range of follow days, through the query parser.
        "segment_3_tags_scene_dates": (_segment(store, tags), newest),
    }


def _segment(store: Store, tags) -> Filter:
    from wxtui.store.query import parse, quote

    biggest = [t.name for t in sorted(tags, key=lambda t: -t.count)[:3]]
    query = " ".join(f"tag:{quote(name, for_value=True)}" for name in biggest)
    query += " scene:qr_code|search followed:2020-01-01..2025-12-31"
    parsed = parse(query, store.tag_names())
    assert parsed.error is None, parsed.error
    return parsed.filter


def _select_all(selection, flt: Filter, screen) -> int:
    selection.select_all(flt)
    count = selection.count()
    assert selection.contained(screen) == set(screen)
    return count


def measure(store: Store, only: set[str] | None = None) -> dict:
    out: dict = {}
    selection = store.selection("view-bench")
    for name, (flt, sort) in filters_to_measure(store).items():
        if only and name not in only:
            continue
        first_ms, _ = _ms(lambda: store.view(flt, sort).first_rows(FIRST_ROWS))
        count_ms, count = _ms(lambda: store.view(flt, sort).count())
        ids_ms, ids = _ms(lambda: store.view(flt, sort).row_ids())
        assert len(ids) == count, (name, len(ids), count)
        select_ms, selected = _ms(lambda: _select_all(selection, flt, ids[:PAGE]))
        assert selected == count, (name, selected, count)
        out[name] = {"first_rows_ms": first_ms, "count_ms": count_ms, "row_ids_ms": ids_ms,
                     "select_all_ms": select_ms, "matches": count}
    selection.clear()
    ids = store.view(Filter()).row_ids()
    middle = len(ids) // 2
    page_ms, rows = _ms(lambda: store.rows_by_ids(ids[middle : middle + PAGE]))
    assert all(r is not None for r in rows)
    return {"filters": out, "page_by_id_ms": page_ms}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "wxtui-view-bench.sqlite")
    parser.add_argument("--only", metavar="NAME,...", help="measure only these filters (by name)")
    args = parser.parse_args(argv)
    build_s = None
    if args.cache.exists():
        store = Store.open(args.cache)
        stale = store.follower_count() != args.followers
        store.close()
    else:
        stale = True
    if stale:
        build_s = round(build_cache(args.cache, args.followers, args.seed), 1)
    store = Store.open(args.cache)
    try:
        result = {"followers": store.follower_count(), **measure(store, set(args.only.split(",")) if args.only else None), "build_s": build_s}
    finally:
        store.close()
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
