"""Measure verification after a job against the in-process emulator.

    .venv/bin/python bench/verify_bench.py [--followers 100000] [--targets 50000]
                                           [--latency-ms 30] [--drop 0.01]

A tag job onto `targets` followers runs with the emulator dropping `drop` of each call's effect,
then the job is verified twice: with the default settings (1% of its targets, at least 10, at
most 100 read calls) and with 100% (capped at 100 calls of 100 followers). Prints one JSON
object: the job's calls and time, and for each verification its sample, mismatches, read calls
and wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from jobs_support import job_service  # noqa: E402
from wxtui.families.wechat.emulator import Emulator  # noqa: E402
from wxtui.jobs.intents import Followers, TagFollowers  # noqa: E402
from wxtui.jobs.verify import VerifySettings  # noqa: E402

BATCHGET = "/cgi-bin/user/info/batchget"
VIP = 106


async def measure(args) -> dict:
    emu = Emulator.demo(followers=args.followers, seed=5)
    emu.faults.latency_ms = args.latency_ms
    out: dict = {"followers": args.followers, "latency_ms": args.latency_ms, "drop_effect": args.drop}
    with tempfile.TemporaryDirectory() as folder:
        async with job_service(emu, Path(folder) / "cache.sqlite") as jobs:
            openids = random.Random(1).sample(emu.account.follower_openids(), args.targets)
            emu.faults.update(drop_effect=args.drop)
            started = time.perf_counter()
            event = await jobs.run(jobs.submit(await jobs.plan(TagFollowers(VIP, Followers.of(openids)))))
            out["job"] = {"calls": event.calls_done, "changed": event.targets_done,
                          "wall_s": round(time.perf_counter() - started, 2)}
            emu.faults.update(drop_effect=0)
            for name, settings in (("default", VerifySettings()), ("all", VerifySettings(percent=100))):
                before = emu.stats.calls[BATCHGET]
                started = time.perf_counter()
                found = await jobs.verify(event.job_id, settings)
                out[name] = {"sampled": found.sampled, "checked": found.checked,
                             "mismatched": len({m.target for m in found.mismatches}),
                             "read_calls": emu.stats.calls[BATCHGET] - before,
                             "wall_s": round(time.perf_counter() - started, 2)}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--followers", type=int, default=100_000)
    p.add_argument("--targets", type=int, default=50_000)
    p.add_argument("--latency-ms", type=float, default=30.0)
    p.add_argument("--drop", type=float, default=0.01)
    print(json.dumps(asyncio.run(measure(p.parse_args())), indent=2))


if __name__ == "__main__":
    main()
