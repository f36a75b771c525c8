"""Measure the IM client's pace: remove all tags from 100,000 accounts (1,000 calls of 100).

    /work/venv/bin/python bench/tim_bench.py [--accounts 100000] [--in-flight 8] [--latency-ms 0]

Runs `wxtui tim-emulator` (uvicorn on 127.0.0.1) in a subprocess and a TimClient against it with
its default rate limit of 100 calls per second. Prints one JSON object:
  calls      calls of im_remove_all_tags the client made (1,000 for 100,000 accounts)
  wall_s     time from the first call to the last answer
  bound_s    the floor the service's 100 calls/s sets: calls / 100
  plus what confirms the run: round trips and retries of the client, 600xx answers of the
  emulator, accounts still carrying tags afterwards (0 expected), the time spent waiting at the
  client's limiter.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import time

import httpx

from wxtui.families.tim import limits
from wxtui.families.tim.client import TimClient, batches
from wxtui.families.tim.emulator.demo import account_name


def start_emulator(accounts: int, latency_ms: float) -> tuple[subprocess.Popen, dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wxtui", "tim-emulator", "--port", "0", "--accounts", str(accounts),
         "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    printed: dict[str, str] = {}
    for line in proc.stdout:
        m = re.match(r"(\w[\w ]*):\s+(\S+)", line)
        if m:
            printed[m.group(1)] = m.group(2)
        if line.startswith("Press Ctrl-C"):
            return proc, printed
    raise RuntimeError(f"the emulator stopped before serving (exit {proc.wait()})")


async def run(accounts: int, in_flight: int, latency_ms: float) -> dict:
    proc, printed = start_emulator(accounts, latency_ms)
    url = printed["Base URL"]
    try:
        names = [account_name(i) for i in range(accounts)]
        async with httpx.AsyncClient(base_url=url) as admin:
            before = (await admin.get("/_emulator/state")).json()["app"]["tagged_accounts"]
            async with TimClient(int(printed["SDKAppID"]), printed["Identifier"], printed["SecretKey"],
                                 hosts=[url], max_in_flight=in_flight) as tim:
                start = time.perf_counter()
                results = await asyncio.gather(*(tim.remove_all_tags(batch) for batch in batches(names)))
                wall = time.perf_counter() - start
                stats = tim.stats
                waited = tim.transport.limiter.waited_s
            state = (await admin.get("/_emulator/state")).json()["app"]
            emulated = (await admin.get("/_emulator/stats")).json()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    calls = len(results)
    return {
        "calls": calls,
        "wall_s": round(wall, 2),
        "bound_s": round(calls / limits.CALLS_PER_SECOND, 2),
        "calls_per_s": round(calls / wall, 1),
        "round_trips": stats.calls,
        "retries": stats.retries,
        "accounts_failed": sum(len(r.failed) for r in results),
        "emulator_600xx": emulated["rate_limited"],
        "tagged_accounts_before": before,
        "tagged_accounts_after": state["tagged_accounts"],
        "limiter_wait_s": round(waited, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.accounts, args.in_flight, args.latency_ms))))


if __name__ == "__main__":
    main()
