"""A full sync of a demo account served by the emulator in another process, over loopback HTTP.

    python bench/sync_bench.py --followers 1000000 --latency-ms 30 [--concurrency 8]
        [--transport aiohttp --transport httpcore ...]

The emulator runs in its own process (uvicorn on 127.0.0.1), so the figures of this process
are the client's alone: HTTP, JSON, the sync and the cache writes. Prints JSON:
  wall_s                      the sync, from the first call to the swapped-in cache
  calls                       HTTP round trips of the sync (retries and the token included)
  bound_s                     calls x latency / concurrency: the floor any sync has at this latency
  wall_over_bound             wall_s / bound_s
  phase_s                     wall time of each phase of the sync (finishing: the swap)
  client_cpu_us_per_follower  CPU time of this process (every thread) during the sync, per follower
  db_mb                       the cache file (and its WAL) after the sync
  peak_rss_mb                 this process's peak resident memory
  emulator_cpu_s              CPU time of the emulator's process (it shares the machine's cores)
  client_only_*               the same figures for the bare client (2,000 batchget calls of 100,
                              nothing stored) on the same emulator, measured first: the machine's floor

With more than one --transport, each is measured in a process of its own (so that its peak RSS
is its own) against the same emulator, one after the other, and the figures are printed by
transport. The transports: `default` (what the API clients choose: wxtui.core.net's aiohttp, or
httpx's own under a proxy), `aiohttp` (wxtui.core.net's, on httpx-aiohttp), `httpcore` (httpx's
own), `pyreqwest` (pyreqwest's httpx transport, for comparison: not a dependency, install it
first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def serve(followers: int, latency_ms: float, seed: int) -> None:
    """The child process: build the account, print how to reach it, serve until killed."""
    from wxtui.families.wechat import limits
    from wxtui.families.wechat.emulator import Emulator
    from wxtui.emulation.server import base_url, bind
    from wxtui.emulation.server import serve as run_server

    emu = Emulator.demo(followers=followers, seed=seed, latency_ms=latency_ms)
    sock = bind("127.0.0.1", 0)
    acct = emu.account
    # user/get's daily quota (500 pages of 10,000) covers 5M followers: a larger account syncs
    # over two days on the platform (the sync pauses at the quota and resumes). The bench
    # measures one sync's throughput, so its account may list everyone in a day.
    pages = -(-followers // limits.PAGE_SIZE) + 10
    if pages > limits.DEFAULT_DAILY_QUOTAS["/cgi-bin/user/get"]:
        acct.set_quota("/cgi-bin/user/get", pages)
    print(json.dumps({"url": base_url(sock), "appid": acct.appid, "secret": acct.secret}), flush=True)
    run_server(emu, sock)


TRANSPORTS = ("default", "httpcore", "aiohttp", "pyreqwest")


def make_transport(name: str, concurrency: int):
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    if name == "default":
        return None  # the API transport's own choice
    if name == "httpcore":
        return httpx.AsyncHTTPTransport(limits=limits)
    if name == "aiohttp":
        from wxtui.core.net import ApiHttpTransport

        return ApiHttpTransport(limits=limits)
    if name == "pyreqwest":
        from pyreqwest.client import ClientBuilder
        from pyreqwest.compatibility.httpx import HttpxTransport

        return HttpxTransport(ClientBuilder().max_connections(concurrency).build())
    raise SystemExit(f"unknown transport {name!r}")


async def run_sync(url: str, appid: str, secret: str, cache: Path, concurrency: int,
                   transport: str = "default") -> dict:
    from wxtui.store import Store
    from wxtui.families.wechat.sync import Sync
    from wxtui.families.wechat.client import WeChatClient

    store = Store.open(cache)
    try:
        async with WeChatClient.with_secret(appid, secret, hosts=[url], max_in_flight=concurrency,
                                            transport=make_transport(transport, concurrency)) as client:
            baseline = await client_baseline(client, concurrency)
            phases: dict[str, float] = {}  # phase -> when it began (perf_counter)

            def on_event(event) -> None:
                phases.setdefault(event.phase, time.perf_counter())

            cpu, wall = time.process_time(), time.perf_counter()
            result = await Sync(client, store, concurrency=concurrency, on_event=on_event).run()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        store.close()
    if not result.ok:
        raise SystemExit(f"the sync did not finish: {result.message}")
    starts = sorted(phases.items(), key=lambda kv: kv[1])
    phase_s = {name: round(end - begin, 2) for (name, begin), (_, end) in zip(starts, starts[1:])}
    return {"followers": result.followers, "wall_s": wall, "calls": result.calls, "cpu_s": cpu,
            "phase_s": phase_s, **baseline}


BASELINE_CALLS = 2_000


async def client_baseline(client, concurrency: int) -> dict:
    """The client alone, on the same emulator: batchget calls of 100 with nothing else to do.
    What it reaches is the ceiling of any sync on this machine (HTTP and JSON on both sides)."""
    # BASELINE_CALLS calls of 100 (the first page's openids, round again): a few hundred calls
    # measure the ramp-up more than the pace.
    openids = (await client.followers_page()).openids
    per_page = max(1, len(openids) // 100)
    chunks = [openids[(i % per_page) * 100 : (i % per_page) * 100 + 100] for i in range(BASELINE_CALLS)]
    slots = asyncio.Semaphore(concurrency)

    async def one(chunk):
        async with slots:
            await client.user_info_batch(chunk)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(c) for c in chunks))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"baseline_calls": len(chunks), "baseline_wall_s": wall, "baseline_cpu_s": cpu}


def _cpu_of(pid: int) -> float | None:
    try:
        import psutil
    except ImportError:
        return None
    times = psutil.Process(pid).cpu_times()
    return round(times.user + times.system, 1)


def measure(endpoint: dict, args) -> dict:
    """One sync (and the bare client before it) in this process, with args.transport[0]."""
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "bench.sqlite"
        got = asyncio.run(run_sync(endpoint["url"], endpoint["appid"], endpoint["secret"], cache,
                                   args.concurrency, args.transport[0]))
        db_bytes = sum(p.stat().st_size for p in Path(tmp).iterdir())
    bound = got["calls"] * args.latency_ms / 1000 / args.concurrency
    return {
        "transport": args.transport[0],
        "followers": got["followers"],
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "wall_s": round(got["wall_s"], 2),
        "calls": got["calls"],
        "bound_s": round(bound, 2),
        "wall_over_bound": round(got["wall_s"] / bound, 3) if bound else None,
        "client_cpu_us_per_follower": round(got["cpu_s"] / max(got["followers"], 1) * 1e6, 2),
        "phase_s": got["phase_s"],  # wall time of each phase: tags, followers, blacklist, finishing
        "db_mb": round(db_bytes / 2**20, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        # The client alone (batchget, nothing stored): its wall over its own bound, and its CPU
        # per follower; the sync cannot do better than these on this machine.
        "client_only_wall_over_bound": round(
            got["baseline_wall_s"] / (got["baseline_calls"] * args.latency_ms / 1000 / args.concurrency), 3)
        if args.latency_ms else None,
        "client_only_cpu_us_per_follower": round(got["baseline_cpu_s"] / (got["baseline_calls"] * 100) * 1e6, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--transport", action="append", choices=TRANSPORTS,
                        help="the HTTP transport under httpx (repeat to compare; default: default)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--against", help=argparse.SUPPRESS)  # a measuring child: the emulator's endpoint
    args = parser.parse_args(argv)
    args.transport = args.transport or ["default"]
    if args.serve:
        serve(args.followers, args.latency_ms, args.seed)
        return 0
    if args.against:
        print(json.dumps(measure(json.loads(args.against), args)))
        return 0
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--followers", str(args.followers),
         "--latency-ms", str(args.latency_ms), "--seed", str(args.seed)],
        stdout=subprocess.PIPE, text=True)
    try:
        endpoint = json.loads(child.stdout.readline())
        if len(args.transport) == 1:
            results = [measure(endpoint, args)]
        else:
            results = []
            for name in args.transport:
                run = subprocess.run(
                    [sys.executable, __file__, "--against", json.dumps(endpoint), "--transport", name,
                     "--latency-ms", str(args.latency_ms), "--concurrency", str(args.concurrency)],
                    stdout=subprocess.PIPE, text=True, check=True)
                results.append(json.loads(run.stdout))
                print(f"measured {name}", file=sys.stderr, flush=True)
        server_cpu = _cpu_of(child.pid)
    finally:
        child.terminate()
        child.wait()
    for result in results:
        # The other process, building its demo account included (and serving every transport).
        result["emulator_cpu_s"] = server_cpu
    print(json.dumps(results[0] if len(results) == 1 else results, indent=1))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
