"""Measure bulk actions against the emulator served on loopback with 50 ms of latency.

    /work/venv/bin/python bench/jobs_bench.py [--latency-ms 50] [--concurrency 8] [--no-sequential]

Two accounts live in one emulator process (uvicorn on 127.0.0.1): 100,000 followers, and 20,000
followers carrying the same five tags each. Caches are synced with the latency switched off;
then, at the given latency:
  tag_100k        a fresh tag onto all 100,000 followers through the job engine (planned from
                  the cache, journaled, concurrency 8): calls must be exactly 2,000 (+ retries)
                  and wall_s within 1.15 x bound_s = calls x latency / concurrency
  clear_tags_20k  clear all tags of the 20,000 followers (5 x 20,000 / 50 = 2,000 untag calls),
                  with the 45169 errors the emulator answered (must be 0)
Each reports the time estimated at plan time (estimate_at_plan_s) and, once a tenth of the calls
were in, the elapsed time plus the job's ETA (estimate_at_10pct_s, and its error against wall_s:
aim within 25%), the mean share of the concurrency on the wire while it ran (wire_occupancy: 1.0
means no slot ever waited for the engine); client_only_wall_over_bound: the same number of calls,
of the same shape, sent right after through the bare API client (WeChatClient, `concurrency` at
once, no engine, no journal, no cache) on the same emulator: the floor this machine gives any
engine, measured beside it (tag_100k's go to a third tag; clear_tags_20k's put the five tags
back); and, in the same run, sequential_wall_s: the same calls sent one after another by a plain
synchronous loop (what SDK users write). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

FIVE_TAGS = ("Bench A", "Bench B", "Bench C", "Bench D", "Bench E")


# -- the emulator process -----------------------------------------------------------------------

def serve(latency_ms: float) -> None:
    """Child process: build both accounts, print their credentials as JSON, serve until killed."""
    from wxtui.families.wechat.emulator import Emulator
    from wxtui.emulation.server import base_url, bind
    from wxtui.emulation.server import serve as run_server

    emu = Emulator(seed=7)
    emu.faults.latency_ms = latency_ms
    big = emu.add_account("Bench 100k", followers=100_000, seed=7)
    small = emu.add_account("Bench 20k", followers=20_000, seed=8)
    five = []
    for name in FIVE_TAGS:
        five.append(small.create_tag(name))
    for openid in small.follower_openids():
        small.set_tags(openid, five)
    sock = bind("127.0.0.1", 0)
    accounts = {a.name: {"appid": a.appid, "secret": a.secret} for a in (big, small)}
    print(json.dumps({"url": base_url(sock), "accounts": accounts}), flush=True)
    run_server(emu, sock)


# -- measuring ----------------------------------------------------------------------------------

class Bench:
    def __init__(self, url: str, latency_ms: float, concurrency: int, workdir: Path):
        self.url = url
        self.latency_ms = latency_ms
        self.concurrency = concurrency
        self.workdir = workdir
        self.admin = httpx.Client(base_url=url, timeout=60)

    def faults(self, **knobs) -> None:
        self.admin.post("/_emulator/faults", json=knobs).raise_for_status()

    def stats(self) -> dict:
        return self.admin.get("/_emulator/stats").json()

    def reset_stats(self) -> None:
        self.admin.post("/_emulator/stats/reset").raise_for_status()

    async def open(self, account: dict, name: str):
        from wxtui.families.wechat.family import FAMILY as WECHAT
        from wxtui.jobs.service import JobService
        from wxtui.store import Store
        from wxtui.families.wechat.sync import Sync
        from wxtui.families.wechat.client import WeChatClient

        client = WeChatClient.with_secret(account["appid"], account["secret"], hosts=[self.url],
                                          max_in_flight=self.concurrency)
        store = Store.open(self.workdir / f"{name}.sqlite")
        self.faults(latency_ms=0)
        result = await Sync(client, store).run()
        self.faults(latency_ms=self.latency_ms)
        if not result.ok:
            raise RuntimeError(f"sync failed: {result.message}")
        return client, store, JobService(client, store, family=WECHAT, concurrency=self.concurrency, event_interval=0.5)

    async def timed_job(self, jobs, plan, path: str) -> dict:
        self.reset_stats()
        job_id = jobs.submit(plan)
        at_tenth: list[float] = []

        def estimate_at_ten_percent(event) -> None:
            # What the panel's ETA promised once a tenth was done: time so far plus the ETA.
            if not at_tenth and event.fraction >= 0.1 and event.eta_s is not None:
                at_tenth.append(time.perf_counter() - started + event.eta_s)

        unsubscribe = jobs.subscribe(estimate_at_ten_percent, job_id)
        on_wire: list[int] = []
        sampling = asyncio.create_task(self.sample_wire(jobs.scheduler, on_wire))
        started = time.perf_counter()
        event = await jobs.run(job_id)
        wall = time.perf_counter() - started
        sampling.cancel()
        unsubscribe()
        stats = self.stats()
        if event.state != "done" or event.failures_count:
            raise RuntimeError(f"the job ended {event.state} with {event.failures_count} failures: {event.message}")
        calls = stats["calls"].get(path, 0)
        bound = len(plan.calls) * self.latency_ms / 1000 / self.concurrency
        return {"calls": calls, "planned_calls": len(plan.calls), "retries": event.retries,
                "wall_s": round(wall, 2),
                "estimate_at_plan_s": round(plan.estimated_s, 2),
                "estimate_at_10pct_s": round(at_tenth[0], 2) if at_tenth else None,
                "estimate_at_10pct_error": round(at_tenth[0] / wall - 1, 3) if at_tenth else None,
                "bound_s": round(bound, 2),
                "wall_over_bound": round(wall / bound, 3),
                "errors_45169": stats["openid_much_req"],
                "wire_occupancy": round(sum(on_wire) / len(on_wire) / self.concurrency, 3) if on_wire else None}

    async def client_only(self, client, calls: list[tuple[str, int, list[str]]]) -> float:
        """calls (op, tagid, openids) through the bare client, `concurrency` at once: their wall
        over their bound."""
        slots = asyncio.Semaphore(self.concurrency)

        async def one(op: str, tagid: int, openids: list[str]) -> None:
            async with slots:
                await (client.batch_tag if op == "tag" else client.batch_untag)(tagid, openids)

        started = time.perf_counter()
        await asyncio.gather(*(one(*call) for call in calls))
        wall = time.perf_counter() - started
        return round(wall / (len(calls) * self.latency_ms / 1000 / self.concurrency), 3)

    @staticmethod
    async def sample_wire(scheduler, samples: list[int]) -> None:
        """The calls on the wire every 5 ms while the job runs."""
        while True:
            samples.append(scheduler.in_flight)
            await asyncio.sleep(0.005)

    def sequential(self, account: dict, plan) -> float:
        """The plan's calls, one after another, as a plain synchronous SDK loop sends them."""
        with httpx.Client(base_url=self.url, timeout=30) as http:
            token = http.post("/cgi-bin/stable_token", json={
                "grant_type": "client_credential", "appid": account["appid"], "secret": account["secret"]}).json()["access_token"]
            started = time.perf_counter()
            for call in plan.calls:
                path = "batchtagging" if call.op == "tag" else "batchuntagging"
                answer = http.post(f"/cgi-bin/tags/members/{path}", params={"access_token": token},
                                   json={"openid_list": list(call.targets), "tagid": call.params["tagid"]}).json()
                if answer.get("errcode", 0):
                    raise RuntimeError(f"sequential loop: {answer}")
            return round(time.perf_counter() - started, 2)


async def tag_100k(bench: Bench, account: dict, sequential: bool) -> dict:
    from wxtui.jobs.intents import Followers, TagFollowers
    from wxtui.store.filters import Filter

    client, store, jobs = await bench.open(account, "tag100k")
    try:
        tags = [await client.create_tag(name) for name in ("bench engine", "bench sequential", "bench floor")]
        for tag in tags:
            store.apply_tag_created(tag)
        plan = await jobs.plan(TagFollowers(tags[0].id, Followers(filter=Filter())), check_quota=False)
        result = await bench.timed_job(jobs, plan, "/cgi-bin/tags/members/batchtagging")
        result.pop("errors_45169")
        result["client_only_wall_over_bound"] = await bench.client_only(
            client, [("tag", tags[2].id, list(call.targets)) for call in plan.calls])
        result["sequential_wall_s"] = None
        if sequential:
            plan = await jobs.plan(TagFollowers(tags[1].id, Followers(filter=Filter())), check_quota=False)
            result["sequential_wall_s"] = bench.sequential(account, plan)
        return result
    finally:
        await jobs.aclose()
        await client.aclose()
        store.close()


async def clear_tags_20k(bench: Bench, account: dict, sequential: bool) -> dict:
    from wxtui.jobs.intents import ClearTags, Followers
    from wxtui.store.filters import Filter

    client, store, jobs = await bench.open(account, "clear20k")
    try:
        plan = await jobs.plan(ClearTags(Followers(filter=Filter())), check_quota=False)
        result = await bench.timed_job(jobs, plan, "/cgi-bin/tags/members/batchuntagging")
        # The floor: the same calls the other way round (each puts its tag back), bare.
        result["client_only_wall_over_bound"] = await bench.client_only(
            client, [("tag", call.params["tagid"], list(call.targets)) for call in plan.calls])
        result["sequential_wall_s"] = None
        if sequential:
            # Put every tag back (undo, at no latency), then clear them again with a plain loop.
            bench.faults(latency_ms=0)
            undo = await jobs.run(jobs.submit(jobs.plan_undo(jobs.jobs(1)[0].id)))
            bench.faults(latency_ms=bench.latency_ms)
            if undo.state != "done":
                raise RuntimeError(f"restoring the tags ended {undo.state}")
            result["sequential_wall_s"] = bench.sequential(account, plan)
        return result
    finally:
        await jobs.aclose()
        await client.aclose()
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-sequential", action="store_true", help="skip the sequential loops (~200 s)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.latency_ms)
        return
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--latency-ms", str(args.latency_ms)],
                              stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(server.stdout.readline())
        with tempfile.TemporaryDirectory() as workdir:
            bench = Bench(info["url"], args.latency_ms, args.concurrency, Path(workdir))
            accounts = info["accounts"]
            out = {
                "tag_100k": asyncio.run(tag_100k(bench, accounts["Bench 100k"], not args.no_sequential)),
                "clear_tags_20k": asyncio.run(clear_tags_20k(bench, accounts["Bench 20k"], not args.no_sequential)),
            }
    finally:
        server.kill()
        server.wait()
    for result in out.values():
        result["within_1_15_bound"] = result["wall_s"] <= 1.15 * result["bound_s"]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
