"""Bulk actions from the command line: `wxtui tag|untag|clear-tags|blacklist|unblacklist`,
`wxtui jobs [list|show|resume|undo|cancel|verify]`, `wxtui tags [list|create|rename|delete]`, and one
follower: `wxtui follower show`, `wxtui remark set`.

The same verbs for every API family: the account's family reads the ids, plans and runs, and
refuses what it cannot do (a Tencent Cloud IM app has no blacklist). The members come from
--file (one id per line), --stdin, a named selection, or filter flags over the cache. Every
action shows its plan first (the dry run) and asks before sending
(--yes skips the question). Exit status: 0 all done; 1 something failed (listed); 2 nothing was
sent (bad input, a plan with errors, declined); 3 paused or cancelled (resumable). The table of
every command's exit status is wxtui.cli.exit_status.
"""

from __future__ import annotations

import argparse

from wxtui.cli import argtypes, exit_status
from wxtui.cli.argtypes import account_name, positive_int
from wxtui.family import DEFAULT_FAMILY, FAMILIES

EXIT_OK, EXIT_FAILED, EXIT_NOT_SENT, EXIT_RESUMABLE = (
    exit_status.OK, exit_status.FAILED, exit_status.NOT_DONE, exit_status.RESUMABLE)

ACTIONS = {
    "tag": "put a tag on followers",
    "untag": "take a tag off followers",
    "clear-tags": "remove every tag of followers",
    "blacklist": "put followers on the blacklist",
    "unblacklist": "take followers off the blacklist",
}


def register(subparsers) -> None:
    for verb, summary in ACTIONS.items():
        p = subparsers.add_parser(
            verb, help=summary, **exit_status.with_exit_status(
                description=f"{summary[0].upper()}{summary[1:]} of the account. The plan (calls, time, "
                            "quota, what would fail) is shown before anything is sent."))
        if verb in ("tag", "untag"):
            p.add_argument("--tag", required=True, type=argtypes.bounded_text(200, "a tag name"), metavar="NAME", help="the tag, by name (or id)")
        _followers_options(p)
        _run_options(p)
        _verify_options(p)
        p.set_defaults(func=_cmd_action, verb=verb)

    jobs = subparsers.add_parser("jobs", help="list bulk-action jobs; show, resume, undo or cancel one",
                                 **exit_status.with_exit_status(
                                     description="The account's bulk-action jobs, from its journal."))
    _account_options(jobs)
    jobs.set_defaults(func=_cmd_jobs, jobs_command="list", limit=20)
    sub = jobs.add_subparsers(dest="jobs_command", metavar="COMMAND")
    listing = sub.add_parser("list", help="the latest jobs (the default)", **exit_status.with_exit_status())
    listing.add_argument("--limit", type=positive_int, default=20, help="how many (default 20)")
    for name, text in (("show", "a job's progress, plan and failures"),
                       ("resume", "go on with a paused, cancelled, failed or interrupted job"),
                       ("undo", "run the inverse of a job: what it changed goes back"),
                       ("cancel", "stop a running job after its calls in flight (it stays resumable)"),
                       ("verify", "read a sample of a job's followers back and compare with what it did")):
        p = sub.add_parser(name, help=text,
                           **exit_status.with_exit_status(description=text[0].upper() + text[1:] + "."))
        p.add_argument("job_id", type=argtypes.job_id, metavar="ID")
        if name in ("resume", "undo"):
            _run_options(p, with_account=False, dry_run=name == "undo")
            _verify_options(p)
        if name == "show":
            p.add_argument("--all", action="store_true", help="list every failure (default: the first 50)")
        if name == "verify":
            _verify_options(p, default_help="the account's verify_percent, else 1")
            p.add_argument("--repair", action="store_true",
                           help="plan and run a job giving each mismatch what the job meant: those the "
                                "latest verification found, or with --sample those of a new one")
            _run_options(p, with_account=False, dry_run=False)
    for p in sub.choices.values():
        _account_options(p, suppress=True)
    _register_tags(subparsers)
    _register_follower(subparsers)


def _register_tags(subparsers) -> None:
    tags = subparsers.add_parser("tags", help="list the tags with their counts; create, rename or delete one",
                                 **exit_status.with_exit_status(
                                     description="The account's tags. Creating, renaming and deleting are "
                                                 "jobs like the bulk actions: planned, confirmed, journaled, "
                                                 "undoable."))
    _account_options(tags)
    tags.add_argument("--json", action="store_true", help="the list as JSON")
    tags.set_defaults(func=_cmd_tags, tags_command="list")
    sub = tags.add_subparsers(dest="tags_command", metavar="COMMAND")
    listing = sub.add_parser("list", help="every tag with its followers (the default)",
                             **exit_status.with_exit_status())
    listing.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="as JSON")
    create = sub.add_parser("create", help="create a tag", **exit_status.with_exit_status())
    create.add_argument("name", metavar="NAME")
    rename = sub.add_parser("rename", help="rename a tag", **exit_status.with_exit_status())
    rename.add_argument("old", metavar="OLD", help="the tag, by name (or id)")
    rename.add_argument("name", metavar="NEW")
    delete = sub.add_parser("delete", help="delete a tag (one of more than 100,000 followers is drained first)",
                            **exit_status.with_exit_status())
    delete.add_argument("old", metavar="NAME", help="the tag, by name (or id)")
    for p in (create, rename, delete):
        _run_options(p, with_account=False)
    for p in sub.choices.values():
        _account_options(p, suppress=True)


def _register_follower(subparsers) -> None:
    follower = subparsers.add_parser("follower", help="one follower: remark, tags (read live), blacklist, jobs",
                                     **exit_status.with_exit_status(
                                         description="One follower as WeChat and the journal know them."))
    sub = follower.add_subparsers(dest="follower_command", metavar="COMMAND", required=True)
    show = sub.add_parser("show", help="the follower's card: tags asked of WeChat, the jobs that touched them",
                          **exit_status.with_exit_status())
    show.add_argument("openid", metavar="OPENID")
    show.add_argument("--json", action="store_true", help="as JSON")
    _account_options(show)
    show.set_defaults(func=_cmd_follower_show)
    remark = subparsers.add_parser("remark", help="set a follower's remark", **exit_status.with_exit_status(
        description="A follower's remark (under 30 bytes of UTF-8), as a job: planned, confirmed, "
                    "journaled, undoable."))
    rsub = remark.add_subparsers(dest="remark_command", metavar="COMMAND", required=True)
    setting = rsub.add_parser("set", help="set the remark (an empty TEXT clears it)",
                              **exit_status.with_exit_status())
    setting.add_argument("openid", metavar="OPENID")
    setting.add_argument("text", metavar="TEXT")
    _run_options(setting)
    setting.set_defaults(func=_cmd_remark_set)


def _account_options(parser: argparse.ArgumentParser, suppress: bool = False) -> None:
    # Accepted before or after the subcommand; SUPPRESS keeps a subparser from resetting them.
    default = argparse.SUPPRESS if suppress else None
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--account", metavar="NAME", default=default, type=account_name,
                     help="the account (default: the default account)")
    who.add_argument("--demo", action="store_true", default=argparse.SUPPRESS if suppress else False,
                     help="act on the built-in demo emulator (its state lives only in this command)")
    parser.add_argument("--demo-followers", type=argtypes.demo_followers, default=argparse.SUPPRESS if suppress else 10_000,
                        metavar="N", help="followers of the demo (default 10,000)")
    parser.add_argument("--family", choices=sorted(FAMILIES), default=argparse.SUPPRESS if suppress else None,
                        help=f"with --demo: the API family of the demo (default {DEFAULT_FAMILY})")


def _run_options(parser: argparse.ArgumentParser, *, with_account: bool = True, dry_run: bool = True) -> None:
    if dry_run:
        parser.add_argument("--dry-run", action="store_true", help="show the plan, send nothing")
        parser.add_argument("--json", action="store_true", help="with --dry-run: the plan as JSON")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--concurrency", type=positive_int, metavar="N", help="calls in flight (default: the account's)")
    if with_account:
        _account_options(parser)


def _verify_options(parser: argparse.ArgumentParser, default_help: str = "") -> None:
    flag = "--sample" if default_help else "--verify"
    parser.add_argument(flag, dest="verify_percent", type=argtypes.percent, metavar="PERCENT",
                        help=(f"share of the job's followers read back (default: {default_help})" if default_help
                              else "after the job, read back this share of its followers and compare "
                                   "(default: the account's verify_percent, else 1; 0: off)"))
    parser.add_argument("--verify-max-calls", type=argtypes.int_arg(1, 10_000, "a number of calls"),
                        metavar="N", help="read calls a verification may make (default: 100)")


def _followers_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("followers (one source)")
    g.add_argument("--file", metavar="PATH", help="openids, one per line (# comments and blank lines ignored)")
    g.add_argument("--stdin", action="store_true", help="openids on standard input, one per line")
    g.add_argument("--selection", metavar="NAME", type=argtypes.bounded_text(200, "a selection name"), help="a selection saved in the app")
    g.add_argument("--everyone", action="store_true", help="every follower in the cache")
    g.add_argument("--segment", metavar="NAME", type=argtypes.bounded_text(200, "a segment name"),
                   help="a saved segment (see: wxtui segments list)")
    g.add_argument("--query", metavar="QUERY", type=argtypes.bounded_text(argtypes.MAX_TEXT, "--query"),
                   help="followers matching a query, e.g. 'tag:VIP -tag:Staff followed:2024-01-01..'")
    f = parser.add_argument_group("or a filter over the cache (combined with AND)")
    f.add_argument("--with-tag", action="append", metavar="NAME", type=argtypes.bounded_text(200, "a tag name"), default=[], help="carries this tag (repeat: any of them)")
    f.add_argument("--all-tags", action="store_true", help="with several --with-tag: all of them")
    f.add_argument("--without-tag", action="append", metavar="NAME", type=argtypes.bounded_text(200, "a tag name"), default=[], help="does not carry this tag")
    f.add_argument("--untagged", action="store_true", help="carries no tag")
    b = f.add_mutually_exclusive_group()
    b.add_argument("--blacklisted", action="store_true", default=None, help="on the blacklist")
    b.add_argument("--not-blacklisted", dest="blacklisted", action="store_false", help="not on the blacklist")
    f.add_argument("--text", metavar="TEXT", default="", type=argtypes.bounded_text(argtypes.MAX_TEXT, "--text"), help="remark contains TEXT, or openid starts with it")
    f.add_argument("--scene", action="append", metavar="SCENE", type=argtypes.bounded_text(100, "a scene"), default=[],
                   help="subscribe scene, e.g. ADD_SCENE_QR_CODE or qr_code (repeat: any)")
    f.add_argument("--followed-from", metavar="DATE", help="followed on or after this day (YYYY-MM-DD)")
    f.add_argument("--followed-to", metavar="DATE", help="followed before this day (YYYY-MM-DD)")


def _cmd_action(args: argparse.Namespace) -> int:
    from wxtui.cli.jobs_run import run_action

    return run_action(args)


def _cmd_jobs(args: argparse.Namespace) -> int:
    from wxtui.cli.jobs_run import run_jobs

    return run_jobs(args)


def _cmd_tags(args: argparse.Namespace) -> int:
    from .tags import run_tags

    return run_tags(args)


def _cmd_follower_show(args: argparse.Namespace) -> int:
    from .follower import run_follower_show

    return run_follower_show(args)


def _cmd_remark_set(args: argparse.Namespace) -> int:
    from .follower import run_remark_set

    return run_remark_set(args)
