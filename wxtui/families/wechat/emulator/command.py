"""`wxtui emulator`: serve a demo account over HTTP for the app, scripts or any WeChat SDK."""

from __future__ import annotations

import argparse
import sys

from wxtui.cli import argtypes
from wxtui.emulation.commands import (
    _non_negative,
    add_fault_arguments,
    apply_fault_arguments,
    listen_or_report,
    serve_until_interrupted,
)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "emulator",
        help="serve an emulated WeChat Official Account API on this machine",
        description="Serve an emulated WeChat Official Account API with a demo account. Point "
                    "wxtui or any WeChat SDK at the printed base URL instead of "
                    "https://api.weixin.qq.com and use the printed AppID and AppSecret. "
                    "The admin API is under /_emulator/ (state, stats, faults, clock/advance).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=argtypes.port, default=8080, help="port (default: 8080; 0 picks a free one)")
    p.add_argument("--followers", type=_non_negative(int), default=100_000, help="demo followers (default: 100000)")
    p.add_argument("--seed", type=argtypes.seed, default=1, help="seed of the demo data and of the faults (default: 1)")
    add_fault_arguments(p, latency_ms=30.0, busy="-1", minute_flag="--fault-minute", minute="45011",
                        http_5xx="HTTP 503", clock="token expiry, quota days")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from wxtui.families.wechat.emulator.app import Emulator
    from wxtui.emulation.server import base_url

    print(f"Building {args.followers:,} followers (seed {args.seed})...", file=sys.stderr)
    emu = Emulator.demo(followers=args.followers, seed=args.seed, latency_ms=args.latency_ms)
    apply_fault_arguments(emu, args)
    sock = listen_or_report("emulator", args.host, args.port)
    if sock is None:
        return 1
    acct = emu.account
    url = base_url(sock)
    # The only place the emulator ever prints a secret: the one it accepts, so the user can use it.
    print(f"Account:   {acct.name}")
    print(f"AppID:     {acct.appid}")
    print(f"AppSecret: {acct.secret}")
    print(f"Base URL:  {url}   (instead of https://api.weixin.qq.com)")
    print(f"Admin API: {url}/_emulator/state")
    return serve_until_interrupted(emu, sock)
