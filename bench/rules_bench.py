"""How long a rule's run takes to plan on a big cache: the segment/tag difference and the
family's plan of its job (no call is sent).

    python bench/rules_bench.py [--followers 200000] [--cache PATH] [--seed 1]

The cache is built as bench/view_bench.py builds it (and reused while its size matches). Two
rules are planned: a regional segment (12% of followers) keeping VIP on its followers with its
leavers losing it, and a segment of three tags, a scene and dates keeping Newsletter. Prints
JSON: {"followers", "rules": {NAME: {"difference_ms", "plan_ms", "tag", "untag", "calls"}}},
each figure the median of three runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from view_bench import build_cache  # noqa: E402

from wxtui.families.wechat.family import FAMILY as WECHAT  # noqa: E402
from wxtui.jobs.rules import RuleRunner  # noqa: E402
from wxtui.jobs.service import JobService  # noqa: E402
from wxtui.store import Store  # noqa: E402
from wxtui.store.query import parse  # noqa: E402
from wxtui.store.rules import Rules  # noqa: E402
from wxtui.store.segments import Segments  # noqa: E402

RUNS = 3
SEGMENTS = {
    "regional, leavers lose it": ("tag:广东", "VIP", True),
    "3 tags + scene + dates": ("tag:会员|老客户|北京 scene:qr_code|search followed:2020-01-01..2026-12-31",
                              "Newsletter", False),
}


async def measure(store) -> dict:
    jobs = JobService(None, store, family=WECHAT)  # no client: nothing can be sent
    runner = RuleRunner(jobs)
    names = store.tag_names()
    by_name = {n: t for t, n in names.items()}
    out = {}
    for label, (query, tag, leavers) in SEGMENTS.items():
        Segments(store).save(label, parse(query, names).filter)
        rule, _ = Rules(store).add(label, by_name[tag], remove_leavers=leavers)
        differences, plans = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            add, remove = runner._difference(rule)
            differences.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            planned = await runner.plan(rule)
            plans.append((time.perf_counter() - started) * 1000)
        out[label] = {"difference_ms": round(statistics.median(differences), 1),
                      "plan_ms": round(statistics.median(plans), 1), "tag": len(add), "untag": len(remove),
                      "calls": len(planned.plan.calls) if planned.plan else 0}
        Rules(store).delete(rule.id)
    await jobs.aclose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=200_000)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    path = args.cache or Path(tempfile.gettempdir()) / f"wxtui-rules-bench-{args.followers}.sqlite"
    build_s = None
    with Store.open(path) as store:
        have = store.follower_count()
    if have != args.followers:
        build_s = build_cache(path, args.followers, args.seed)
    with Store.open(path) as store:
        result = asyncio.run(measure(store))
    print(json.dumps({"followers": args.followers, "build_s": build_s, "rules": result}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
