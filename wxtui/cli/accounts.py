"""`wxtui account add|list|remove|default|test`: accounts from a shell or a script."""

from __future__ import annotations

import argparse
import sys

from wxtui.cli import argtypes, exit_status
from wxtui.core.config import ConfigError, load_config, new_profile
from wxtui.core.errors import WxtuiError
from wxtui.core.outside_text import echo, echo_lines, visible_json, warn
from wxtui.family import DEFAULT_FAMILY, FAMILIES, all_families, family


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "account", help="add, list, remove and test accounts",
        **exit_status.with_exit_status(
            description="Account profiles live in the config file; AppSecrets live in the OS keyring."))
    sub = parser.add_subparsers(dest="account_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="add an account (or replace one with --replace)",
                         **exit_status.with_exit_status(
                             description="Add an account. The AppSecret is asked for when stdin is a "
                                         "terminal, or read from stdin with --secret-stdin, and stored in "
                                         "the OS keyring. On a server without a keyring, give a "
                                         "--secret-command or set WXTUI_SECRET_<APPID> instead, and add "
                                         "the account with --no-secret. When the keyring refuses the "
                                         "AppSecret, the account is saved without it and the exit "
                                         "status is 1."))
    add.add_argument("name", help="a short name for the account, e.g. acme")
    add.add_argument("--kind", choices=sorted(FAMILIES), default=DEFAULT_FAMILY,
                     help="the API family: wechat (an Official Account, the default) or tim (a Tencent "
                          "Cloud IM app: --sdkappid, --identifier, --region; its secret key goes to the keyring)")
    _family_options(add)
    add.add_argument("--host", action="append", dest="hosts", metavar="URL",
                     help="API host, repeat for failover order (default: the family's own hosts)")
    add.add_argument("--secret-command", metavar="CMD",
                     help="a command printing the AppSecret (or secret key), used when the keyring has none")
    add.add_argument("--concurrency", type=argtypes.int_arg(1, 1000, "the calls in flight"), default=None,
                     help="calls in flight (default 8)")
    add.add_argument("--default", action="store_true", help="make it the default account")
    add.add_argument("--replace", action="store_true", help="replace an account of the same name")
    secret = add.add_mutually_exclusive_group()
    secret.add_argument("--secret-stdin", action="store_true",
                        help="read the AppSecret from stdin (for scripts) and store it in the keyring")
    secret.add_argument("--no-secret", action="store_true", help="do not ask for the AppSecret")
    add.add_argument("--test", action="store_true", help="make a test call afterwards")
    add.set_defaults(func=cmd_add)

    lst = sub.add_parser("list", help="list the accounts and where their secrets are")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    lst.set_defaults(func=cmd_list)

    rm = sub.add_parser("remove", help="remove an account and its keyring entry")
    rm.add_argument("name")
    rm.add_argument("--keep-secret", action="store_true", help="leave the AppSecret in the keyring")
    rm.set_defaults(func=cmd_remove)

    default = sub.add_parser("default", help="make an account the default one")
    default.add_argument("name")
    default.set_defaults(func=cmd_default)

    test = sub.add_parser("test", help="make a real call (tags/get) and explain what goes wrong",
                          **exit_status.with_exit_status())
    test.add_argument("name", nargs="?", help="the account (default: the default account)")
    test.set_defaults(func=cmd_test)


def _family_options(parser: argparse.ArgumentParser) -> None:
    """Each family's declared profile options, as flags (named after the family that takes them)."""
    for each in all_families():
        for option in each.options:
            parser.add_argument(option.flag, dest=option.name, type=option.type, metavar=option.metavar,
                                choices=option.choices, default=None,
                                help=f"{each.key}: {option.help}")


def _profile_fields(args: argparse.Namespace) -> tuple[str, dict]:
    """The account key and the profile fields of `account add`, checked against its family's
    options: a flag of another family is refused, not ignored."""
    chosen = family(args.kind)
    own = {option.name for option in chosen.options}
    for other in all_families():
        for option in other.options:
            if option.name not in own and getattr(args, option.name, None) is not None:
                raise ConfigError(f"{option.flag} is an option of {other.key} accounts, not of {chosen.key} "
                                  f"ones (--kind {other.key})")
    fields = {name: getattr(args, name) for name in own if getattr(args, name) is not None}
    for option in chosen.options:
        if option.default is not None:
            fields.setdefault(option.name, option.default)
    fields.update(kind=chosen.key, hosts=args.hosts, secret_command=args.secret_command)
    if args.concurrency is not None:
        fields["concurrency"] = args.concurrency
    chosen.complete_fields(fields)
    appid = fields.pop("appid", None) or chosen.account_key(fields)
    if not appid:
        key_option = chosen.options[0]
        raise ConfigError(f"{key_option.flag} is needed ({key_option.help})")
    return appid, {k: v for k, v in fields.items() if v is not None}


def _load():
    config = load_config()
    for warning in config.warnings:
        warn(f"warning: {warning}")
    return config


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def cmd_add(args: argparse.Namespace) -> int:
    from wxtui.core import secrets
    from wxtui.core.accounts import add_account

    try:
        config = _load()
        appid, fields = _profile_fields(args)
        profile = new_profile(args.name, appid, **fields)
        if args.name in config.accounts and not args.replace:
            raise ConfigError(f"An account named {args.name!r} exists already (replace it with --replace)")
    except (ConfigError, WxtuiError) as exc:
        warn(str(exc))
        return 2
    secret = None
    keyring_failed = ""
    if profile.needs_secret and not args.no_secret:
        if args.secret_stdin:
            secret = sys.stdin.readline()
            if not secret.strip():
                warn("--secret-stdin: nothing was read from stdin; nothing was changed")
                return 2
        elif _stdin_is_terminal() and not profile.secret_command:
            status = secrets.probe_keyring()
            if status.usable:
                secret = _ask_secret(profile)
            else:
                keyring_failed = status.problem
    try:
        outcome = add_account(config, profile, secret=secret, replace_existing=args.replace,
                              make_default=args.default)
    except (ConfigError, WxtuiError) as exc:
        warn(str(exc))
        return 2
    echo(f"Saved: account {profile.name} ({profile.appid}) in {outcome.config_path}")
    if outcome.secret_stored:
        echo(f"Saved: the AppSecret, in the keyring ({outcome.keyring_backend})")
    for message in outcome.messages:
        warn(message)
    if secret is not None and profile.needs_secret and not outcome.secret_stored:
        warn(f"Not saved: the AppSecret. The account {profile.name} is saved without it and cannot "
             "fetch a token until the AppSecret comes from one of the ways above. (To add an account "
             "without its AppSecret on purpose, use --no-secret.)")
    if keyring_failed:
        warn(f"The AppSecret was not asked for: the keyring cannot be used: {keyring_failed}\n"
             f"{secrets.secret_choices(profile)}")
    elif profile.needs_secret and secret is None and not args.no_secret and not profile.secret_command:
        warn("No AppSecret was given (stdin is not a terminal). Store it with "
             f"`wxtui account add {profile.name} --appid {profile.appid} --secret-stdin --replace`, "
             f"or see `wxtui account test {profile.name}` for the other ways")
    status = 0 if (outcome.secret_stored or secret is None and not keyring_failed) else 1
    if args.test:
        status = max(status, _run_test(profile))
    return status


def _ask_secret(profile) -> str | None:
    import getpass

    try:
        typed = getpass.getpass(f"AppSecret of {profile.name} ({profile.appid}), stored in the keyring "
                                "(empty to skip): ")
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)
        return None
    return typed if typed.strip() else None


def cmd_list(args: argparse.Namespace) -> int:
    from wxtui.core import secrets

    try:
        config = _load()
    except ConfigError as exc:
        warn(str(exc))
        return 2
    status = secrets.probe_keyring() if config.accounts else None
    rows = []
    try:
        default = config.default_account()
    except ConfigError:
        default = None  # the warning above says default_account names no account
    for profile in config.accounts.values():
        rows.append({
            "name": profile.name, "default": profile is default, "kind": profile.kind,
            "appid": profile.appid, "token_source": profile.token_source,
            "hosts": list(profile.hosts), "concurrency": profile.concurrency,
            "secret": _secret_where(profile, status),
        })
    if args.json:
        print(visible_json({"config": str(config.path), "accounts": rows}, indent=2))
        return 0
    if not rows:
        echo("No accounts yet. Add one: wxtui account add NAME --appid wx...  (or try: wxtui demo)")
        return 0
    echo(f"Accounts in {config.path}:")
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        mark = "*" if r["default"] else " "
        echo(f"{mark} {r['name']:<{width}}  {r['appid']}  {r['token_source'] or '':<10}  secret: {r['secret']}")
    if status is not None and not status.usable:
        warn(f"the keyring cannot be used: {status.problem}")
    elif status is not None and status.warning:
        warn(f"warning: the keyring {status.warning}")
    return 0


def _secret_where(profile, status) -> str:
    """Where the secret would come from, without reading a command's or a variable's value."""
    import os

    from wxtui.core import secrets

    if not profile.needs_secret:
        return "not used"
    if status is not None and status.usable and not status.prompts:
        if secrets.has_stored_secret(profile.appid):
            return "keyring"
    if profile.secret_command:
        return "secret_command"
    if os.environ.get(profile.secret_env_name):
        return f"env {profile.secret_env_name}"
    return "missing"


def cmd_remove(args: argparse.Namespace) -> int:
    from wxtui.core.accounts import remove_account

    try:
        config = _load()
        outcome = remove_account(config, args.name, delete_secret=not args.keep_secret)
    except (ConfigError, WxtuiError) as exc:
        warn(str(exc))
        return 2
    echo(f"Account {args.name} removed" + (" with its keyring entry" if outcome.secret_deleted else ""))
    for message in outcome.messages:
        echo_lines(message)
    return 0


def cmd_default(args: argparse.Namespace) -> int:
    try:
        config = _load()
        config.set_default(args.name)
        config.save()
    except (ConfigError, WxtuiError) as exc:
        warn(str(exc))
        return 2
    echo(f"{args.name} is now the default account")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    try:
        profile = _load().require(args.name)
    except ConfigError as exc:
        warn(str(exc))
        return 2
    return _run_test(profile)


def _run_test(profile) -> int:
    import asyncio

    from wxtui.core import secrets
    from wxtui.core.accounts import run_account_test

    kwargs = {}
    if profile.needs_secret:
        try:  # before any call: the one moment a prompt may use the terminal
            resolved = secrets.resolve_secret(profile, allow_prompt=True)
        except secrets.SecretUnavailable as exc:
            warn(str(exc))
            return 1
        kwargs = {"secret": resolved.value, "secret_source": resolved.source}
    result = asyncio.run(run_account_test(profile, **kwargs))
    if result.ok:
        secret_name = profile.family.secret_name
        echo(f"OK: {result.message} (token: {result.token_source}"
             + (f"; {secret_name} from {result.secret_source}" if result.secret_source else "") + ")")
        return 0
    warn(result.message)
    if result.hint:
        warn(result.hint)
    return 1
