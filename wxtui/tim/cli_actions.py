"""Command line of Tencent Cloud IM accounts: `wxtui tim-import`, `wxtui tim-sync`, and the
`tag|untag|clear-tags` verbs (wxtui.jobs.cli_run hands them here for an account of kind "tim")."""

from __future__ import annotations

import argparse
import asyncio
import sys

from wxtui import exit_status
from wxtui.argtypes import account_name
from wxtui.jobs.commands import EXIT_FAILED, EXIT_NOT_SENT, EXIT_OK
from wxtui.outside_text import echo, visible, warn
from wxtui.wechat.errors import WxtuiError


class UsageError(Exception):
    """Bad input on the command line: said, and nothing is sent."""


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


def tim_profile(name: str | None):
    """The profile named (or the default one) when it is of kind tim, else None."""
    from wxtui.config import load_config

    config = load_config()
    profile = config.account(name) if name is not None else config.default_account()
    return profile if profile is not None and profile.kind == "tim" else None


def _require_profile(name: str | None):
    from wxtui.jobs.cli_run import UsageError as CommandUsageError, headless_profile

    try:
        profile = headless_profile(argparse.Namespace(account=name, demo=False))
    except CommandUsageError as exc:
        raise UsageError(f"{exc}; a Tencent Cloud IM account is added with: wxtui account add NAME "
                         "--kind tim --sdkappid N --identifier ADMIN") from None
    if profile.kind != "tim":
        raise UsageError(f"{profile.name} is not a Tencent Cloud IM account "
                         "(wxtui account add NAME --kind tim --sdkappid N --identifier ADMIN)")
    return profile


def _progress(label: str):
    def show(done: int, total: int) -> None:
        print(f"\r{label}: {done:,}/{total:,} accounts", end="" if done < total else "\n", file=sys.stderr)
    return show


def cmd_import(args: argparse.Namespace) -> int:
    from wxtui.tim.sync import read_accounts

    try:
        profile = _require_profile(args.account)
        from wxtui.listfile import ListFileError, read_lines

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
    from wxtui.tim.session import open_tim_session
    from wxtui.tim.sync import import_accounts

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
    try:
        return asyncio.run(_sync(_require_profile(args.account)))
    except (UsageError, WxtuiError) as exc:
        warn(exc)
        return EXIT_NOT_SENT


async def _sync(profile, **session_kwargs) -> int:
    from wxtui.tim.session import open_tim_session
    from wxtui.tim.sync import known_accounts, learn_tags

    async with open_tim_session(profile, **session_kwargs) as session:
        accounts = known_accounts(session.store)
        failed = await learn_tags(session.client, session.store, accounts, progress=_progress("im_get_tag"))
    echo(f"tags of {len(accounts) - len(failed):,} accounts read")
    for account, message in list(failed.items())[:50]:
        echo(f"  {message}")
    return EXIT_FAILED if failed else EXIT_OK


# -- tag | untag | clear-tags -------------------------------------------------------------------

def run_tim_action(args: argparse.Namespace, profile, accounts: list[str] | None, **session_kwargs) -> int:
    try:
        return asyncio.run(_action(args, profile, accounts, **session_kwargs))
    except (UsageError, WxtuiError) as exc:
        warn(exc)
        return EXIT_NOT_SENT


def _who(args, store, accounts: list[str] | None) -> list[str]:
    from wxtui.tim.cache import cached_tag_ids
    from wxtui.tim.sync import known_accounts

    if accounts is not None:
        return accounts
    if getattr(args, "everyone", False):
        return known_accounts(store)
    with_tags = getattr(args, "with_tag", None) or []
    if with_tags:
        ids = set(cached_tag_ids(store, with_tags, create=False).values())
        return [a for a, tags in store.tag_ids_of(known_accounts(store)).items() if ids & set(tags)]
    raise UsageError("say which accounts: --file, --stdin, --everyone or --with-tag "
                     "(other filters are for WeChat accounts)")


async def _action(args, profile, accounts, **session_kwargs) -> int:
    from wxtui.jobs.cli_run import _confirm_and_run
    from wxtui.jobs.service import JobService
    from wxtui.jobs.tim_ops import TimOperations
    from wxtui.tim.actions import plan_tim
    from wxtui.tim.session import open_tim_session

    if args.verb not in ("tag", "untag", "clear-tags"):
        raise UsageError(f"{args.verb} is for WeChat accounts: Tencent Cloud IM has no blacklist")
    async with open_tim_session(profile, **session_kwargs) as session:
        jobs = JobService(session.client, session.store, operations=TimOperations(),
                          concurrency=getattr(args, "concurrency", None))
        try:
            tags = [args.tag] if getattr(args, "tag", None) else []
            plan = plan_tim(session.store, args.verb, _who(args, session.store, accounts), tags)
            return await _confirm_and_run(jobs, plan, args)
        finally:
            await jobs.aclose()


def run_tim_listed(args: argparse.Namespace, profile, **session_kwargs) -> int:
    """The verbs' entry for a TIM account: account ids from --file/--stdin (any non-empty id)."""
    from wxtui.tim.sync import read_accounts

    try:
        accounts = None
        from wxtui.listfile import ListFileError, read_lines

        if getattr(args, "file", None) or getattr(args, "stdin", False):
            try:
                accounts, _invalid = read_accounts(read_lines(getattr(args, "file", None) or None))
            except ListFileError as exc:
                raise UsageError(str(exc)) from None
        if accounts is not None and not accounts:
            raise UsageError("no account id was given")
    except OSError as exc:
        warn(f"cannot read {visible(args.file)}: {exc.strerror}")
        return EXIT_NOT_SENT
    except UsageError as exc:
        warn(exc)
        return EXIT_NOT_SENT
    return run_tim_action(args, profile, accounts, **session_kwargs)
