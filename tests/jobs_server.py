"""The emulator served on loopback in a process of its own, counting each openid sent to
batchtagging per tag, for tests that kill the program running a job (the emulator's state must
survive the kill).

    python tests/jobs_server.py --followers 20000 --latency-ms 20 --tags 3

prints one JSON line {"url", "appid", "secret", "tags": {name: id}} and serves until killed.
GET /_test/counts?tagid=N answers {openid: times sent}; GET /_test/members?tagid=N the members.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from urllib.parse import parse_qs

import uvicorn

from wxtui.families.wechat.emulator import Emulator
from wxtui.emulation.server import base_url, bind

TAGGING = "/cgi-bin/tags/members/batchtagging"


class CountingApp:
    def __init__(self, emu: Emulator):
        self.emu = emu
        self.counts: defaultdict[int, Counter[str]] = defaultdict(Counter)

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith("/_test/"):
            tagid = int(parse_qs(scope["query_string"].decode())["tagid"][0])
            if path == "/_test/counts":
                payload = dict(self.counts[tagid])
            else:
                payload = sorted(self.emu.account.tag_members(tagid))
            return await _answer(send, payload)
        if path == TAGGING:
            body = await _body(receive)
            try:
                request = json.loads(body)
                self.counts[int(request["tagid"])].update(request["openid_list"])
            except (ValueError, KeyError, TypeError):
                pass
            replayed = False

            async def replay():
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            return await self.emu.app(scope, replay, send)
        return await self.emu.app(scope, receive, send)


async def _body(receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _answer(send, payload) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--followers", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--tags", type=int, default=3, help="empty tags to create: 'kill 0', 'kill 1', ...")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    emu = Emulator.demo(followers=args.followers, seed=args.seed, latency_ms=args.latency_ms)
    acct = emu.account
    tags = {f"kill {i}": acct.create_tag(f"kill {i}") for i in range(args.tags)}
    sock = bind("127.0.0.1", 0)
    print(json.dumps({"url": base_url(sock), "appid": acct.appid, "secret": acct.secret, "tags": tags}),
          flush=True)
    config = uvicorn.Config(CountingApp(emu), log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
