"""`wxtui tim-emulator`: serve an emulated Tencent Cloud IM app (user tags) over HTTP."""

from __future__ import annotations

import argparse
import gc
import sys

from wxtui.cli import argtypes
from wxtui.cli.argtypes import positive_int
from wxtui.emulation.commands import (
    _non_negative,
    add_fault_arguments,
    apply_fault_arguments,
    listen_or_report,
    serve_until_interrupted,
)


def register(subparsers) -> None:
    from wxtui.families.tim.limits import CALLS_PER_SECOND, DEFAULT_REGION, REGIONS

    p = subparsers.add_parser(
        "tim-emulator",
        help="serve an emulated Tencent Cloud IM app (user tags) on this machine",
        description="Serve an emulated Tencent Cloud IM REST API (the user-tag calls of "
                    "v4/all_member_push and v4/timpush, and v4/im_open_login_svc/account_check) "
                    "with a demo app. Point a client at the printed base URL instead of "
                    "https://console.tim.qq.com and sign with the printed SDKAppID, admin "
                    "identifier and secret key. The admin API is under /_emulator/ (state, stats, "
                    "faults, clock/advance, accounts/import, accounts/delete, account, rate).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=argtypes.port, default=8081,
                   help="port (default: 8081; 0 picks a free one)")
    p.add_argument("--accounts", type=_non_negative(int), default=100_000,
                   help="demo accounts user000000... (default: 100000)")
    p.add_argument("--seed", type=argtypes.seed, default=1, help="seed of the demo data, credentials and faults (default: 1)")
    p.add_argument("--region", choices=sorted(REGIONS), default=DEFAULT_REGION,
                   help="the data centre the app lives in; other regions' host names answer 70016")
    p.add_argument("--calls-per-second", type=positive_int, default=CALLS_PER_SECOND,
                   help=f"rate limit per command before answering 60018 (default: {CALLS_PER_SECOND})")
    add_fault_arguments(p, latency_ms=0.0, busy="91000", minute_flag="--fault-rate-limit",
                        minute="60018 regardless of the rate", http_5xx="HTTP 502",
                        clock="UserSig expiry, the rate window")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from wxtui.emulation.server import base_url
    from wxtui.families.tim.emulator import TimEmulator

    print(f"Building {args.accounts:,} accounts (seed {args.seed})...", file=sys.stderr)
    emu = TimEmulator.demo(accounts=args.accounts, seed=args.seed, latency_ms=args.latency_ms, region=args.region)
    emu.calls_per_second = args.calls_per_second
    apply_fault_arguments(emu, args)
    # The demo state is a few hundred thousand long-lived objects: left to the collector, every
    # full collection would stall the server for tens of milliseconds and bunch its answers.
    gc.collect()
    gc.freeze()
    sock = listen_or_report("tim-emulator", args.host, args.port)
    if sock is None:
        return 1
    url = base_url(sock)
    # The only place the emulator prints its secret key: the one it accepts, so the user can sign.
    print(f"App:        {emu.state.name} ({emu.state.region})")
    print(f"SDKAppID:   {emu.sdkappid}")
    print(f"Identifier: {emu.identifier}")
    print(f"SecretKey:  {emu.secret_key}")
    print(f"Accounts:   {emu.state.account_count():,} (user000000 ...)")
    print(f"Base URL:   {url}   (instead of https://console.tim.qq.com)")
    print(f"Admin API:  {url}/_emulator/state")
    return serve_until_interrupted(emu, sock)
