"""`wxtui sync`: pull an account into its cache from the command line, with a progress bar.

The account's family does the pulling (WeChat: followers, tags and the blacklist; Tencent Cloud
IM: the tags of every account the cache holds).

Exit status: 0 done, 1 failed, 2 no usable account, 75 paused by the daily quota (run it again
later: it resumes), 130 interrupted (it resumes too).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from wxtui.cli.argtypes import positive_int
from wxtui.family import DEFAULT_FAMILY, FAMILIES

EXIT_FAILED = 1
EXIT_NO_ACCOUNT = 2
EXIT_PAUSED = 75  # EX_TEMPFAIL: try again later
EXIT_INTERRUPTED = 130


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sync", help="pull followers, tags and the blacklist into the local cache",
        description="Pull an account's followers, tags and blacklist into its local cache. An "
                    "interrupted or quota-paused sync resumes where it stopped. Without --account, "
                    "the default account; the built-in demo when none is configured.")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--account", metavar="NAME", help="the account's name (see: wxtui account list)")
    who.add_argument("--demo", action="store_true", help="sync the built-in demo (an in-process emulator)")
    parser.add_argument("--family", choices=sorted(FAMILIES), default=None,
                        help=f"with --demo: the API family of the demo (default {DEFAULT_FAMILY})")
    parser.add_argument("--followers", type=positive_int, default=None, metavar="N",
                        help="demo followers (default: as `wxtui demo`)")
    parser.add_argument("--concurrency", type=positive_int, default=None, metavar="N",
                        help="calls in flight at most (default: the account's setting)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, only the summary")
    parser.set_defaults(func=cmd_sync)


def cmd_sync(args: argparse.Namespace) -> int:
    from rich.console import Console

    err = Console(stderr=True)
    try:
        return asyncio.run(_sync(args, err))
    except KeyboardInterrupt:
        err.print("Sync interrupted. Everything written so far is kept: run `wxtui sync` again to resume.")
        return EXIT_INTERRUPTED


async def _sync(args: argparse.Namespace, err) -> int:
    from wxtui.core.errors import WxtuiError
    from wxtui.core.session import DEMO_FOLLOWERS, NoAccountError, open_session
    from wxtui.core.syncing import DONE, PAUSED

    try:
        opening = open_session(args.account, demo=args.demo, family=args.family,
                               followers=args.followers or DEMO_FOLLOWERS, max_in_flight=args.concurrency)
        session = await opening.__aenter__()
    except (NoAccountError, WxtuiError, ValueError, OSError) as exc:
        err.print(f"[bold red]Cannot open the account:[/] {exc}", markup=True, highlight=False)
        return EXIT_NO_ACCOUNT
    try:
        label = f"{session.label} ({'demo' if session.is_demo else session.short_appid})"
        with _Progress(err, label, enabled=not args.quiet) as progress:
            result = await session.family.sync(session.client, session.store, on_event=progress.update)
    finally:
        await opening.__aexit__(None, None, None)
    if result.status == DONE:
        changes = f"{result.added:,} new, {result.removed:,} gone; " if result.added or result.removed else ""
        print(f"Synced {label}: {result.message}; {changes}{result.calls:,} calls in {result.elapsed_s:.1f} s.")
        return 0
    err.print(result.message, highlight=False, markup=False)
    return EXIT_PAUSED if result.status == PAUSED else EXIT_FAILED


class _Progress:
    """A rich progress bar fed by SyncEvents."""

    def __init__(self, console, label: str, enabled: bool):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.enabled = enabled
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>9}"), TextColumn("{task.fields[calls]:>12}"), TimeRemainingColumn(),
            console=console, transient=False, disable=not enabled,
        )
        self.label = label
        self.task = None

    def __enter__(self) -> "_Progress":
        self.progress.__enter__()
        self.task = self.progress.add_task(f"{self.label}: starting", total=None, rate="", calls="")
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def update(self, event) -> None:
        self.progress.update(
            self.task, description=f"{self.label}: {event.phase}", completed=event.done, total=event.total,
            rate=f"{event.rate:,.0f}/s" if event.rate else "", calls=f"{event.calls:,} calls",
        )
