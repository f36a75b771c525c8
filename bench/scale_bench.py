"""The member browser and the sync at several sizes of account: what grows faster than the data.

    python bench/scale_bench.py [--sizes 100000,1000000,3000000] [--max 10000000] [--sync]
                                [--cache-dir ~/.cache/wxtui-bench] [--seed 1] [--skip-ui]

For each size it builds the demo account's cache once (bench/view_bench.py's build_cache, the
store's own sync writes) into the cache folder and reuses it on later runs, then measures in
fresh processes: the views (bench/view_bench.py) and the app (bench/ui_bench.py). --max adds a
larger size (10M: ~4 minutes to build, ~1.7 GB). --sync also runs bench/sync_bench.py at 1M and
at the largest size (the emulator in its own process, 30 ms latency, concurrency 8).

Prints one JSON object:
  sizes            {N: {measure: value}} for every size (see MEASURES), with "filters": each
                   view_bench filter's figures, and "build_s" when the cache was built this run
  growth           {measure: value at the largest size / value at 1M}
                   (view_* and segment_3_tags_* are the store's own figures, from view_bench.py)
  sync             {N: sync_bench's JSON} with --sync
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The searches that match no one: their first rows are the cliff a plan that reads rows falls off.
NO_MATCH = ("hostile_text", "no_match_latin", "no_match_zh_4chars", "one_letter_q")
MEASURES = (
    "first_frame_s", "filter_ms_median", "filter_ms_p90", "select_all_ms", "peak_rss_mb",
    "view_first_rows_ms_median", "view_first_rows_ms_p90", "view_first_rows_ms_max",
    "no_match_first_rows_ms", "two_tags_or_count_ms", "segment_count_ms", "untagged_count_ms",
    "view_row_ids_ms_max", "segment_3_tags_first_rows_ms", "segment_3_tags_count_ms", "view_select_all_ms_max",
)


def cache_path(cache_dir: Path, followers: int, seed: int) -> Path:
    return cache_dir / f"view-{followers}-{seed}.sqlite"


def ensure_cache(path: Path, followers: int, seed: int) -> float | None:
    """Seconds spent building the cache, None when one of this size was reused."""
    sys.path.insert(0, str(HERE))
    from view_bench import build_cache

    from wxtui.store import Store

    if path.exists():
        store = Store.open(path)  # also brings an older cache's schema up to date
        try:
            if store.follower_count() == followers:
                return None
        finally:
            store.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    return round(build_cache(path, followers, seed), 1)


class BenchFailed(Exception):
    pass


def run_json(args: list[str]) -> dict:
    """Run a bench in its own process; its last line of output is its JSON."""
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=HERE.parent)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchFailed(f"{Path(args[0]).name} failed: {last}")
    text = result.stdout.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return json.loads(text.splitlines()[-1])


def measure_size(path: Path, followers: int, seed: int, ui: bool) -> dict:
    views = run_json([str(HERE / "view_bench.py"), "--followers", str(followers), "--cache", str(path),
                      "--seed", str(seed)])
    filters = views["filters"]
    first = [f["first_rows_ms"] for f in filters.values()]
    out = {
        "view_first_rows_ms_median": round(statistics.median(first), 2),
        "view_first_rows_ms_p90": round(statistics.quantiles(first, n=10)[-1], 2),
        "view_first_rows_ms_max": max(first),
        "no_match_first_rows_ms": max(filters[name]["first_rows_ms"] for name in NO_MATCH if name in filters),
        "two_tags_or_count_ms": filters["any_of_two_tags"]["count_ms"],
        "segment_count_ms": filters["segment"]["count_ms"] if "segment" in filters else None,
        "untagged_count_ms": filters["untagged"]["count_ms"],
        "view_row_ids_ms_max": max(f["row_ids_ms"] for f in filters.values()),
        # The saved segment of three tags, a scene and dates: first rows and its exact count.
        "segment_3_tags_first_rows_ms": filters.get("segment_3_tags_scene_dates", {}).get("first_rows_ms"),
        "segment_3_tags_count_ms": filters.get("segment_3_tags_scene_dates", {}).get("count_ms"),
        # `a` on any filter as the store answers it (the app's select_all_ms adds the redraw).
        "view_select_all_ms_max": max((f["select_all_ms"] for f in filters.values() if "select_all_ms" in f),
                                      default=None),
        "page_by_id_ms": views["page_by_id_ms"],
        "filters": filters,
    }
    if ui:
        try:
            app = run_json([str(HERE / "ui_bench.py"), "--followers", str(followers), "--cache", str(path),
                            "--seed", str(seed)])
        except BenchFailed as exc:  # e.g. a keystroke that took longer than ui_bench waits (60 s)
            out["ui_error"] = str(exc)
            return out
        for key in ("first_frame_s", "filter_ms_median", "filter_ms_p90", "filter_full_ms_median",
                    "page_down_ms", "select_all_ms", "select_all_matching", "peak_rss_mb"):
            out[key] = app.get(key)
    return out


def growth(sizes: dict[int, dict]) -> dict:
    """Each measure at the largest size over the same measure at 1M (the issue's yardstick)."""
    base = sizes.get(1_000_000)
    largest = sizes[max(sizes)]
    if base is None or largest is base:
        return {}
    out = {}
    for key in MEASURES:
        low, high = base.get(key), largest.get(key)
        if isinstance(low, (int, float)) and isinstance(high, (int, float)) and low > 0:
            out[key] = round(high / low, 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,3000000",
                        help="comma-separated follower counts (default 100k, 1M, 3M)")
    parser.add_argument("--max", type=int, help="also this larger size, e.g. 10000000")
    parser.add_argument("--sync", action="store_true", help="also a full sync at 1M and the largest size")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "wxtui-bench",
                        help="where the caches are built once and reused (outside the repository)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-ui", action="store_true", help="the views only (no app process)")
    args = parser.parse_args(argv)
    sizes = sorted({int(n) for n in args.sizes.split(",") if n} | ({args.max} if args.max else set()))
    started = time.perf_counter()
    result: dict = {"sizes": {}}
    for followers in sizes:
        path = cache_path(args.cache_dir.expanduser(), followers, args.seed)
        build_s = ensure_cache(path, followers, args.seed)
        try:
            measured = measure_size(path, followers, args.seed, ui=not args.skip_ui)
        except BenchFailed as exc:
            measured = {"error": str(exc)}
        measured["build_s"] = build_s
        measured["cache_mb"] = round(sum(os.path.getsize(p) for p in path.parent.glob(path.name + "*")) / 2**20, 1)
        result["sizes"][followers] = measured
    result["growth"] = growth(result["sizes"])
    if args.sync:
        result["sync"] = {}
        for n in sorted({1_000_000, max(sizes)}):
            try:
                result["sync"][n] = run_json([str(HERE / "sync_bench.py"), "--followers", str(n), "--latency-ms",
                                              "30", "--concurrency", "8", "--seed", str(args.seed)])
            except BenchFailed as exc:
                result["sync"][n] = {"error": str(exc)}
    result["bench_s"] = round(time.perf_counter() - started, 1)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
