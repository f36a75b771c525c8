"""Commands only Tencent Cloud IM accounts have: `wxtui tim-import` (the service cannot list an
app's accounts: they come from the user) and `wxtui tim-sync` (the same as `wxtui sync` on such an
account). The bulk-action verbs are every family's (wxtui.cli.jobs)."""

from __future__ import annotations

import argparse
import sys

from wxtui.cli import exit_status
from wxtui.cli.argtypes import account_name
from wxtui.cli.jobs import EXIT_FAILED, EXIT_NOT_SENT, EXIT_OK
from wxtui.core.errors import UsageError, WxtuiError
from wxtui.core.outside_text import echo, warn


def register(subparsers) -> None:
    imp = subparsers.add_parser(
        "tim-import", help="Tencent Cloud IM: import accounts (their ids) into the cache",
        **exit_status.with_exit_status(
            description="Check accounts with account_check and cache those that exist, with their "
                        "tags. Tencent Cloud IM cannot list an app's accounts: they come from you."))
    imp.add_argument("--account", metavar="NAME", type=account_name,
                     help="the account (of kind tim; default: the default one)")
    src = imp.add_mutually_exclusive_group(required=True)
    src.add_argument("--file", metavar="PATH", help="account ids, one per line (# comments ignored)")
    src.add_argument("--stdin", action="store_true", help="account ids on standard input")
    imp.set_defaults(func=cmd_import)
    sync = subparsers.add_parser("tim-sync", help="Tencent Cloud IM: read the tags of every cached account",
                                 **exit_status.with_exit_status())
    sync.add_argument("--account", metavar="NAME", type=account_name,
                      help="the account (of kind tim; default: the default one)")
    sync.set_defaults(func=cmd_sync)


def _require_profile(name: str | None):
    from wxtui.cli.jobs_run import headless_profile
    from wxtui.families.tim.operations import FAMILY

    try:
        profile = headless_profile(argparse.Namespace(account=name, demo=False))
    except UsageError as exc:
        raise UsageError(f"{exc}; a Tencent Cloud IM account is added with: wxtui account add NAME "
                         "--kind tim --sdkappid N --identifier ADMIN") from None
    if profile.kind != FAMILY:
        raise UsageError(f"{profile.name} is not a Tencent Cloud IM account "
                         "(wxtui account add NAME --kind tim --sdkappid N --identifier ADMIN)")
    return profile


def _progress(label: str):
    def show(done: int, total: int) -> None:
        print(f"\r{label}: {done:,}/{total:,} accounts", end="" if done < total else "\n", file=sys.stderr)
    return show


def cmd_import(args: argparse.Namespace) -> int:
    import asyncio

    from wxtui.families.tim.sync import read_accounts

    try:
        profile = _require_profile(args.account)
        from wxtui.core.listfile import ListFileError, read_lines

        try:
            accounts, invalid = read_accounts(read_lines(args.file or None))
        except ListFileError as exc:
            raise UsageError(str(exc)) from None
        if not accounts:
            raise UsageError("no account ids were given")
        return asyncio.run(_import(profile, accounts))
    except (OSError, UsageError, WxtuiError) as exc:
        warn(exc)
        return EXIT_NOT_SENT


async def _import(profile, accounts, **session_kwargs) -> int:
    from wxtui.families.tim.session import open_tim_session
    from wxtui.families.tim.sync import import_accounts

    async with open_tim_session(profile, **session_kwargs) as session:
        result = await import_accounts(session.client, session.store, accounts,
                                       progress=_progress("account_check"))
    echo(f"{len(result.imported):,} accounts imported into the cache")
    for label, items in (("not in the app (70107)", result.not_imported),
                         ("could not be checked", [f"{a}: {m}" for a, m in result.unchecked.items()])):
        if items:
            echo(f"{len(items):,} {label}:")
            for item in items[:50]:
                echo(f"  {item}")
    return EXIT_FAILED if result.not_imported or result.unchecked else EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    import asyncio

    try:
        return asyncio.run(_sync(_require_profile(args.account)))
    except (UsageError, WxtuiError) as exc:
        warn(exc)
        return EXIT_NOT_SENT


async def _sync(profile, **session_kwargs) -> int:
    from wxtui.families.tim.session import open_tim_session
    from wxtui.families.tim.sync import known_accounts, learn_tags

    async with open_tim_session(profile, **session_kwargs) as session:
        accounts = known_accounts(session.store)
        failed = await learn_tags(session.client, session.store, accounts, progress=_progress("im_get_tag"))
    echo(f"tags of {len(accounts) - len(failed):,} accounts read")
    for account, message in list(failed.items())[:50]:
        echo(f"  {message}")
    return EXIT_FAILED if failed else EXIT_OK
