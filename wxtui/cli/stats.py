"""`wxtui stats [--days 90] [--json|--csv]`: new, cancelled and cumulative followers per day, as
WeChat's statistics (datacube) say them; days already in the cache are not asked for again.

Exit status (wxtui.cli.exit_status): 0 done, 1 WeChat refused, 2 no usable account.
"""

from __future__ import annotations

import argparse
import sys

from wxtui.cli import argtypes, exit_status
from wxtui.cli.argtypes import account_name

MAX_DAYS = 4000  # back to 2014-12-01, where WeChat's statistics start


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "stats", help="new, cancelled and total followers per day (WeChat's statistics)",
        **exit_status.with_exit_status(
            description="New, cancelled and cumulative followers per day, from WeChat's statistics "
                        "(datacube getusersummary and getusercumulate, up to yesterday, China time). "
                        "Fetched days are kept in the account's cache; only missing days are asked for."))
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--account", metavar="NAME", type=account_name, help="the account's name")
    who.add_argument("--demo", action="store_true", help="the built-in demo (an in-process emulator)")
    parser.add_argument("--days", type=argtypes.int_arg(1, MAX_DAYS, "a number of days"), default=90,
                        metavar="N", help="the last N days (default: 90)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON array")
    out.add_argument("--csv", action="store_true", help="CSV with a header line")
    parser.set_defaults(func=cmd_stats)


def cmd_stats(args: argparse.Namespace) -> int:
    import asyncio

    return asyncio.run(_stats(args))


async def _stats(args: argparse.Namespace) -> int:
    import csv
    import json

    from wxtui.cli.jobs_run import headless_profile
    from wxtui.core.errors import UsageError, WxtuiError
    from wxtui.core.outside_text import echo, warn
    from wxtui.core.session import NoAccountError, open_session

    try:
        profile = headless_profile(args)
        opening = open_session(None if profile is None else profile.name, demo=args.demo)
        session = await opening.__aenter__()
    except (UsageError, NoAccountError, WxtuiError, ValueError, OSError) as exc:
        warn(f"Cannot open the account: {exc}")
        return exit_status.NOT_DONE
    try:
        result = await session.family.daily_statistics(session.client, session.store, args.days)
        if result is None:
            warn(f"wxtui stats: a {session.family.title} has no daily follower statistics")
            return exit_status.NOT_DONE
    except WxtuiError as exc:
        warn(f"wxtui stats: {exc}")
        return exit_status.FAILED
    finally:
        await opening.__aexit__(None, None, None)
    rows = [d.to_dict() for d in result.days]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=["day", "new", "cancelled", "net", "cumulative"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        echo(f"{'DAY':<10}  {'NEW':>7}  {'CANCELLED':>9}  {'NET':>7}  {'TOTAL':>9}")
        for r in rows:
            total = "" if r["cumulative"] is None else f"{r['cumulative']:,}"
            echo(f"{r['day']:<10}  {r['new']:>7,}  {r['cancelled']:>9,}  {r['net']:>+7,}  {total:>9}")
        if rows:
            new, cancelled = sum(r["new"] for r in rows), sum(r["cancelled"] for r in rows)
            echo(f"{len(rows)} days: {new:,} new, {cancelled:,} cancelled, {new - cancelled:+,} net "
                 f"({result.fetched:,} days fetched in {result.calls:,} calls, the rest from the cache)")
    return exit_status.OK
