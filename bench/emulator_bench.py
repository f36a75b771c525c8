"""Measure the emulator: calls/s in-process and over loopback, and the cost of 1M followers.

    /work/venv/bin/python bench/emulator_bench.py [--calls 4000] [--seconds 3]

Prints one JSON object:
  inprocess_calls_per_s   a tagging job's mix (tag 50, untag 50, tags/get) through httpx +
                          ASGITransport, one client, in sequence
  inprocess_sync_calls_per_s   a sync's heaviest call, user/info/batchget of 100 (23 KB answers)
  loopback_calls_per_s    the tagging mix against `wxtui emulator` (uvicorn, 127.0.0.1) in a
                          subprocess, keyed by concurrency "1", "8", "32"
  build_1m_s, build_1m_rss_mb   building a 1,000,000-follower demo account in a fresh process
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time

import httpx

BASE = "https://api.weixin.qq.com"
TAGGING_MIX = ("batchtagging", "batchuntagging", "tags/get")
SYNC_MIX = ("batchget",)


async def _token(http: httpx.AsyncClient, appid: str, secret: str) -> str:
    r = await http.post("/cgi-bin/stable_token",
                        json={"grant_type": "client_credential", "appid": appid, "secret": secret})
    return r.json()["access_token"]


async def _call(http: httpx.AsyncClient, token: str, kind: str, openids: list[str], tagid: int) -> None:
    q = {"access_token": token}
    if kind == "tags/get":
        r = await http.get("/cgi-bin/tags/get", params=q)
    elif kind == "batchget":
        r = await http.post("/cgi-bin/user/info/batchget", params=q,
                            json={"user_list": [{"openid": o, "lang": "zh_CN"} for o in openids[:100]]})
    else:
        r = await http.post(f"/cgi-bin/tags/members/{kind}", params=q,
                            json={"openid_list": openids[:50], "tagid": tagid})
    answer = r.json()
    if answer.get("errcode", 0) != 0:
        raise RuntimeError(f"{kind}: {answer}")


async def _run_mix(http: httpx.AsyncClient, token: str, openids: list[str], mix: tuple[str, ...], *,
                   workers: int, calls: int, seconds: float) -> float:
    """Calls per second of `workers` concurrent loops over the mix, each on its own openids."""
    done = 0
    deadline = time.perf_counter() + seconds
    slice_len = len(openids) // workers

    async def loop(w: int) -> None:
        nonlocal done
        mine = openids[w * slice_len : (w + 1) * slice_len]
        k = 0
        while done < calls and time.perf_counter() < deadline:
            start = (k // len(mix) * 100) % max(1, len(mine) - 100)
            await _call(http, token, mix[k % len(mix)], mine[start : start + 100], 106)
            done += 1
            k += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(w) for w in range(workers)))
    return done / (time.perf_counter() - started)


async def inprocess(calls: int) -> dict[str, int]:
    from wxtui.families.wechat.emulator import Emulator

    emu = Emulator.demo(followers=100_000, seed=1, latency_ms=0)
    acct = emu.account
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE) as http:
        token = await _token(http, acct.appid, acct.secret)
        openids = acct.follower_openids()
        await _run_mix(http, token, openids, TAGGING_MIX, workers=1, calls=200, seconds=5)  # warm up
        run = {name: await _run_mix(http, token, openids, mix, workers=1, calls=calls, seconds=60)
               for name, mix in (("inprocess_calls_per_s", TAGGING_MIX), ("inprocess_sync_calls_per_s", SYNC_MIX))}
    return {name: round(rate) for name, rate in run.items()}


async def loopback(calls: int, seconds: float) -> dict[str, float]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wxtui", "emulator", "--port", "0", "--followers", "20000", "--latency-ms", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        seen: dict[str, str] = {}
        while "Base URL" not in seen:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("wxtui emulator stopped before serving")
            key, _, value = line.partition(":")
            seen[key.strip()] = value.strip()
        url = seen["Base URL"].split()[0]
        results = {}
        for workers in (1, 8, 32):
            pool = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
            async with httpx.AsyncClient(base_url=url, limits=pool) as http:
                token = await _token(http, seen["AppID"], seen["AppSecret"])
                openids = (await http.get("/cgi-bin/user/get", params={"access_token": token})).json()["data"]["openid"]
                results[str(workers)] = round(await _run_mix(http, token, openids, TAGGING_MIX, workers=workers,
                                                             calls=calls, seconds=seconds))
        return results
    finally:
        proc.terminate()
        proc.wait(timeout=10)


_BUILD_1M = """
import json, time, psutil
from wxtui.families.wechat.emulator import Emulator
process = psutil.Process()
before = process.memory_info().rss
started = time.perf_counter()
emu = Emulator.demo(followers=1_000_000, seed=1)
elapsed = time.perf_counter() - started
grown = process.memory_info().rss - before
biggest = max(count for tagid, (name, count) in emu.account.tags().items())
print(json.dumps({"build_1m_s": round(elapsed, 2), "build_1m_rss_mb": round(grown / 2**20),
                  "build_1m_biggest_tag": biggest}))
"""


def build_1m() -> dict:
    out = subprocess.run([sys.executable, "-c", _BUILD_1M], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=4000, help="calls per measurement (default: 4000)")
    parser.add_argument("--seconds", type=float, default=3.0, help="time bound per loopback measurement")
    args = parser.parse_args()
    result = asyncio.run(inprocess(args.calls))
    result["loopback_calls_per_s"] = asyncio.run(loopback(args.calls, args.seconds))
    result.update(build_1m())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
