"""`wxtui log`: what was run on the account, from its job journal: every job with who ran it
and when, and every API call it made with its errcode and the platform's request id (rid).

Exit status (wxtui.cli.exit_status): 0 shown, 2 bad input (a --since that is not a time, an unknown
--job).
"""

from __future__ import annotations

import argparse
import time

from wxtui.cli import argtypes, exit_status


def register(subparsers) -> None:
    from wxtui.cli.jobs import _account_options

    parser = subparsers.add_parser(
        "log", help="the audit log: every job and every API call it made",
        **exit_status.with_exit_status(
            description="Every job (who ran it, from which host, when, on how many targets) and every API "
                        "call it made (errcode, WeChat's rid, targets, when), newest job first."))
    _account_options(parser)
    parser.add_argument("--since", metavar="WHEN", type=argtypes.bounded_text(40, "--since"),
                        help="only jobs active since WHEN: a day (2024-06-01), a UTC time (2024-06-01 12:00) "
                             "or an age (90m, 2h, 7d)")
    parser.add_argument("--job", metavar="ID", type=argtypes.job_id, help="only this job")
    parser.add_argument("--search", metavar="TEXT", type=argtypes.bounded_text(200, "--search"), default="",
                        help="only jobs whose title, state, user, host, errcodes, messages or rids contain TEXT")
    parser.add_argument("--json", action="store_true", help="as JSON (one object per job, with its calls)")
    parser.add_argument("--no-calls", action="store_true", help="jobs only, without their calls")
    parser.set_defaults(func=cmd_log)


def cmd_log(args: argparse.Namespace) -> int:
    import asyncio

    from wxtui.jobs.audit import parse_since
    from wxtui.cli.jobs_run import UsageError, headless_profile
    from wxtui.core.outside_text import warn
    from wxtui.core.errors import WxtuiError

    try:
        since = None
        if args.since:
            try:
                since = parse_since(args.since)
            except ValueError as exc:
                raise UsageError(f"--since: {exc}") from None
        return asyncio.run(_log(args, headless_profile(args), since))
    except (UsageError, WxtuiError) as exc:
        warn(exc)
        return exit_status.NOT_DONE


async def _log(args, profile, since: float | None) -> int:
    from wxtui.jobs.audit import AuditLog
    from wxtui.cli.jobs_run import UsageError, _account
    from wxtui.core.outside_text import echo, visible_json

    async with _account(args, profile) as jobs:
        entries = AuditLog(jobs.journal).jobs(since=since, job_id=args.job, search=args.search)
    if args.job is not None and not entries and not args.search and since is None:
        raise UsageError(f"no job {args.job} (see: wxtui log)")
    if args.json:
        print(visible_json([e.as_dict() for e in entries], indent=2))
        return exit_status.OK
    if not entries:
        echo("No jobs in the log" + (" for that" if since or args.search or args.job else "") + ".")
        return exit_status.OK
    for entry in entries:
        for line in job_lines(entry, calls=not args.no_calls):
            echo(line)
    return exit_status.OK


def _when(ts: float | None, *, with_day: bool = True) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S" if with_day else "%H:%M:%S", time.localtime(ts))


def job_lines(entry, *, calls: bool = True) -> list[str]:
    """A job as the log shows it: a heading line, then one line per call."""
    span = f"{_when(entry.created_at)}"
    if entry.finished_at:
        span += f" → {_when(entry.finished_at, with_day=False)}"
    undo = f" (undoes #{entry.undo_of})" if entry.undo_of else ""
    reason = f" ({entry.reason})" if entry.reason else ""
    lines = [f"#{entry.id} {entry.title}{undo}",
             f"  {entry.state}{reason} · {entry.targets:,} targets · {len(entry.calls):,} calls"
             f" ({entry.failed_calls:,} failed) · by {entry.run_by or '?'} on {entry.run_on or '?'} · {span}"]
    if calls:
        for c in entry.calls:
            errcode = "-" if c.errcode is None else str(c.errcode)
            rid = f" rid {c.rid}" if c.rid else ""
            split = f" (half of call {c.split_from})" if c.split_from else ""
            message = f" {c.message}" if c.message and c.errcode is not None else ""
            lines.append(f"    call {c.id:<6} {c.op:<14} {c.targets:>4} targets  {c.state:<9} errcode {errcode:<6}"
                         f" retried {c.retries + c.attempts} {_when(c.sent_at, with_day=False)}→{_when(c.ended_at, with_day=False)}"
                         f"{rid}{split}{message}")
    return lines
