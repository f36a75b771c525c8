"""Commands only Tencent Cloud IM accounts have: `wxtui tim-import` (the service cannot list an
app's accounts: they come from the user) and `wxtui tim-sync` (the same as `wxtui sync` on such an
account). The bulk-action verbs are every family's (wxtui.cli.jobs)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from wxtui.cli.exits import EXIT_FAILED, EXIT_NOT_SENT, EXIT_OK
from wxtui.core.errors import UsageError, WxtuiError


def _err(message: str) -> None:
    print(f"wxtui: {message}", file=sys.stderr)


def register(subparsers) -> None:
    imp = subparsers.add_parser(
        "tim-import", help="Tencent Cloud IM: import accounts (their ids) into the cache",
        description="Check accounts with account_check and cache those that exist, with their tags. "
                    "Tencent Cloud IM cannot list an app's accounts: they come from you.")
    imp.add_argument("--account", metavar="NAME", help="the account (of kind tim; default: the default one)")
    src = imp.add_mutually_exclusive_group(required=True)
    src.add_argument("--file", metavar="PATH", help="account ids, one per line (# comments ignored)")
    src.add_argument("--stdin", action="store_true", help="account ids on standard input")
    imp.set_defaults(func=cmd_import)
    sync = subparsers.add_parser("tim-sync", help="Tencent Cloud IM: read the tags of every cached account")
    sync.add_argument("--account", metavar="NAME", help="the account (of kind tim; default: the default one)")
    sync.set_defaults(func=cmd_sync)


def _require_profile(name: str | None):
    from wxtui.core.session import configured_profile
    from wxtui.families.tim.operations import FAMILY

    profile = configured_profile(name)
    if profile is None or profile.kind != FAMILY:
        raise UsageError(f"{name or 'the default account'} is not a Tencent Cloud IM account "
                         "(wxtui account add NAME --kind tim --sdkappid N --identifier ADMIN)")
    return profile


def _progress(label: str):
    def show(done: int, total: int) -> None:
        print(f"\r{label}: {done:,}/{total:,} accounts", end="" if done < total else "\n", file=sys.stderr)
    return show


def cmd_import(args: argparse.Namespace) -> int:
    from wxtui.families.tim.sync import read_accounts

    try:
        profile = _require_profile(args.account)
        if args.file:
            with open(args.file, encoding="utf-8") as f:
                accounts, invalid = read_accounts(f)
        else:
            accounts, invalid = read_accounts(sys.stdin)
        if not accounts:
            raise UsageError("no account ids were given")
        return asyncio.run(_import(profile, accounts))
    except (OSError, UsageError, WxtuiError) as exc:
        _err(str(exc))
        return EXIT_NOT_SENT


async def _import(profile, accounts, **session_kwargs) -> int:
    from wxtui.families.tim.session import open_tim_session
    from wxtui.families.tim.sync import import_accounts

    async with open_tim_session(profile, **session_kwargs) as session:
        result = await import_accounts(session.client, session.store, accounts,
                                       progress=_progress("account_check"))
    print(f"{len(result.imported):,} accounts imported into the cache")
    for label, items in (("not in the app (70107)", result.not_imported),
                         ("could not be checked", [f"{a}: {m}" for a, m in result.unchecked.items()])):
        if items:
            print(f"{len(items):,} {label}:")
            for item in items[:50]:
                print(f"  {item}")
    return EXIT_FAILED if result.not_imported or result.unchecked else EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_sync(_require_profile(args.account)))
    except (UsageError, WxtuiError) as exc:
        _err(str(exc))
        return EXIT_NOT_SENT


async def _sync(profile, **session_kwargs) -> int:
    from wxtui.families.tim.session import open_tim_session
    from wxtui.families.tim.sync import known_accounts, learn_tags

    async with open_tim_session(profile, **session_kwargs) as session:
        accounts = known_accounts(session.store)
        failed = await learn_tags(session.client, session.store, accounts, progress=_progress("im_get_tag"))
    print(f"tags of {len(accounts) - len(failed):,} accounts read")
    for account, message in list(failed.items())[:50]:
        print(f"  {message}")
    return EXIT_FAILED if failed else EXIT_OK
