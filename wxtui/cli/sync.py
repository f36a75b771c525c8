"""`wxtui sync`: pull an account into its cache from the command line, with a progress bar.

The account's family does the pulling (WeChat: followers, tags and the blacklist; Tencent Cloud
IM: the tags of every account the cache holds).

Exit status (wxtui.cli.exit_status): 0 done, 1 failed, 2 no usable account, 3 paused by the daily
quota (run it again later: it resumes), 130 interrupted (it resumes too).
"""

from __future__ import annotations

import argparse

from wxtui.cli import argtypes, exit_status
from wxtui.cli.argtypes import account_name, positive_int
from wxtui.core.outside_text import as_text, echo, outside_text_column, visible_lines
from wxtui.family import DEFAULT_FAMILY, FAMILIES

EXIT_FAILED = exit_status.FAILED
EXIT_NO_ACCOUNT = exit_status.NOT_DONE
EXIT_PAUSED = exit_status.RESUMABLE  # the same status as a job the quota paused
EXIT_INTERRUPTED = exit_status.INTERRUPTED


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sync", help="pull followers, tags and the blacklist into the local cache",
        **exit_status.with_exit_status(
            description="Pull an account's followers, tags and blacklist into its local cache. An "
                        "interrupted or quota-paused sync resumes where it stopped. Without --account, "
                        "the default account; the built-in demo only with --demo."))
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--account", metavar="NAME", type=account_name,
                     help="the account's name (see: wxtui account list)")
    who.add_argument("--demo", action="store_true", help="sync the built-in demo (an in-process emulator)")
    parser.add_argument("--family", choices=sorted(FAMILIES), default=None,
                        help=f"with --demo: the API family of the demo (default {DEFAULT_FAMILY})")
    parser.add_argument("--followers", type=argtypes.demo_followers, default=None, metavar="N",
                        help="demo followers (default: as `wxtui demo`)")
    parser.add_argument("--concurrency", type=positive_int, default=None, metavar="N",
                        help="calls in flight at most (default: the account's setting)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, only the summary")
    parser.add_argument("--no-rules", action="store_true",
                        help="do not run the automatic rules after the sync (see: wxtui rules)")
    parser.set_defaults(func=cmd_sync)


def cmd_sync(args: argparse.Namespace) -> int:
    import asyncio

    from rich.console import Console

    err = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)
    try:
        return asyncio.run(_sync(args, err))
    except KeyboardInterrupt:
        err.print("Sync interrupted. Everything written so far is kept: run `wxtui sync` again to resume.")
        return EXIT_INTERRUPTED


async def _sync(args: argparse.Namespace, err) -> int:
    from rich.text import Text

    from wxtui.cli.jobs_run import headless_profile
    from wxtui.core.errors import UsageError, WxtuiError
    from wxtui.core.session import DEMO_FOLLOWERS, NoAccountError, open_session
    from wxtui.core.syncing import DONE, PAUSED

    try:
        profile = headless_profile(args)
        opening = open_session(None if profile is None else profile.name, demo=args.demo, family=args.family,
                               followers=args.followers or DEMO_FOLLOWERS, max_in_flight=args.concurrency)
        session = await opening.__aenter__()
    except (UsageError, NoAccountError, WxtuiError, ValueError, OSError) as exc:
        err.print(Text.assemble(("Cannot open the account:", "bold red"), " ", visible_lines(exc)))
        return EXIT_NO_ACCOUNT
    try:
        label = f"{session.label} ({'demo' if session.is_demo else session.short_appid})"
        with _Progress(err, label, enabled=not args.quiet) as progress:
            result = await session.family.sync(session.client, session.store, on_event=progress.update)
        if result.status == DONE:
            changes = f"{result.added:,} new, {result.removed:,} gone; " if result.added or result.removed else ""
            echo(f"Synced {label}: {result.message}; {changes}{result.calls:,} calls in {result.elapsed_s:.1f} s.")
            # Rules act on what the sync found; a sync that paused or failed left a cache that
            # is not the account's, so they wait for the next one that finishes.
            return 0 if args.no_rules else await _automatic_rules(session, profile, args)
    finally:
        await opening.__aexit__(None, None, None)
    err.print(as_text(result.message))
    return EXIT_PAUSED if result.status == PAUSED else EXIT_FAILED


async def _automatic_rules(session, profile, args) -> int:
    """Run the automatic rules after a finished sync, and say which others wait for a yes."""
    from wxtui.cli.jobs_verify import settings_for
    from wxtui.cli.rules import run_rules
    from wxtui.jobs.service import JobService
    from wxtui.store.rules import Rules

    active = [r for r in Rules(session.store).list() if not r.paused]
    automatic = [r for r in active if r.automatic]
    status = 0
    if automatic:
        n = len(automatic)
        echo(f"Running the automatic rule{'s' if n != 1 else ''} ({n}) after the sync:")
        jobs = JobService(session.client, session.store, family=session.family, concurrency=args.concurrency,
                          verify=settings_for(profile, args))
        try:
            status = await run_rules(jobs, yes=True, automatic_only=True)
        finally:
            await jobs.aclose()
    asking = len(active) - len(automatic)
    if asking:
        echo(f"{asking} rule{'s ask' if asking != 1 else ' asks'} before running: see the plan with "
             "`wxtui rules run`, run with `wxtui rules run --yes`.")
    return status


class _Progress:
    """A rich progress bar fed by SyncEvents."""

    def __init__(self, console, label: str, enabled: bool):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.enabled = enabled
        # The description holds the account's name: outside text, never markup.
        self.progress = Progress(
            outside_text_column(), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>9}", markup=False), TextColumn("{task.fields[calls]:>12}", markup=False),
            TimeRemainingColumn(),
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
        if event.phase == "waiting" and event.message:  # told even with --quiet: it may wait long
            self.progress.console.print(f"{self.label}: {event.message}", markup=False, highlight=False)
        self.progress.update(
            self.task, description=f"{self.label}: {event.phase}", completed=event.done, total=event.total,
            rate=f"{event.rate:,.0f}/s" if event.rate else "", calls=f"{event.calls:,} calls",
        )
