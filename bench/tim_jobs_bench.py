"""Remove all tags from 100,000 Tencent Cloud IM accounts through the bulk-action engine.

    /work/venv/bin/python bench/tim_jobs_bench.py [--accounts 100000] [--concurrency 8] [--latency-ms 0]

Runs `wxtui tim-emulator` in a subprocess (as bench/tim_bench.py does), imports the accounts into a
fresh cache (account_check + im_get_tag: the TIM sync), plans remove_all_tags with each account's
tags taken from the cache (what an undo puts back), and runs the job on the scheduler with a
TimClient at its default 100 calls per second. Prints one JSON object:
  calls        im_remove_all_tags calls of the job (1,000 for 100,000 accounts)
  job_s        time the engine took, against bound_s = calls / 100 (the service's rate)
  import_s     time of the import (2 calls per 100 accounts), plan_s the plan from the cache
  plus the engine's retries and failures, the emulator's 600xx answers, and the accounts still
  tagged afterwards in the emulator and in the cache (0 expected for both).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from tim_bench import start_emulator  # noqa: E402

from wxtui.jobs.journal import Journal  # noqa: E402
from wxtui.jobs.scheduler import Scheduler  # noqa: E402
from wxtui.families.tim.operations import TimOperations, remove_all_calls  # noqa: E402
from wxtui.store import Store  # noqa: E402
from wxtui.families.tim import limits  # noqa: E402
from wxtui.families.tim.cache import cached_tags_of  # noqa: E402
from wxtui.families.tim.client import TimClient  # noqa: E402
from wxtui.families.tim.emulator.demo import account_name  # noqa: E402
from wxtui.families.tim.sync import import_accounts  # noqa: E402


async def run(accounts: int, concurrency: int, latency_ms: float) -> dict:
    proc, printed = start_emulator(accounts, latency_ms)
    url = printed["Base URL"]
    folder = tempfile.TemporaryDirectory()
    store = Store.open(Path(folder.name) / "tim.sqlite")
    try:
        names = [account_name(i) for i in range(accounts)]
        async with httpx.AsyncClient(base_url=url) as admin, \
                TimClient(int(printed["SDKAppID"]), printed["Identifier"], printed["SecretKey"],
                          hosts=[url], max_in_flight=concurrency) as tim:
            before = (await admin.get("/_emulator/state")).json()["app"]["tagged_accounts"]
            start = time.perf_counter()
            imported = await import_accounts(tim, store, names)
            import_s = time.perf_counter() - start
            start = time.perf_counter()
            calls = remove_all_calls(names, cached_tags_of(store, names))
            plan_s = time.perf_counter() - start
            journal = Journal(store)
            job = journal.create_job(family="tim", kind="clear-tags", title="remove all tags", intent={},
                                     calls=calls)
            scheduler = Scheduler(TimOperations(), tim, journal, cache=store, concurrency=concurrency,
                                  event_interval=1.0)
            start = time.perf_counter()
            event = await scheduler.run(job)
            job_s = time.perf_counter() - start
            await scheduler.aclose()
            state = (await admin.get("/_emulator/state")).json()["app"]
            emulated = (await admin.get("/_emulator/stats")).json()
        cached_tagged = store.reader().execute("SELECT count(*) FROM followers WHERE tag_count > 0").fetchone()[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        store.close()
        folder.cleanup()
    return {
        "accounts": accounts,
        "imported": len(imported.imported),
        "import_s": round(import_s, 2),
        "plan_s": round(plan_s, 2),
        "calls": len(calls),
        "job_state": event.state,
        "job_s": round(job_s, 2),
        "bound_s": round(len(calls) / limits.CALLS_PER_SECOND, 2),
        "calls_per_s": round(len(calls) / job_s, 1),
        "engine_retries": event.retries,
        "failures": event.failures_count,
        "emulator_600xx_all_run": emulated["rate_limited"],
        "tagged_accounts_before": before,
        "tagged_accounts_after": state["tagged_accounts"],
        "cache_tagged_after": cached_tagged,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.accounts, args.concurrency, args.latency_ms))))


if __name__ == "__main__":
    main()
