"""`wxtui doctor`: is everything in place to work with an account from this machine?

It reports the keyring backend, where the config, the caches and the logs are (and their sizes),
how API calls reach the network, and for each account checked what its family checks
(wxtui.family.Family.doctor): for WeChat, whether each API host answers, whether a token can be
fetched from here, the whitelist and the quotas; for Tencent Cloud IM, whether the SDKAppID,
region, secret key and admin identifier work together. The exit status is 0 when nothing failed,
1 otherwise, 2 when there is no account to check (or the one named is not there).

`wxtui doctor --repair` moves a damaged cache file aside (with a timestamp, never deleted) and
puts a new one in its place holding the job journal recovered from it (see wxtui.store.repair).
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path

from wxtui.cli import exit_status
from wxtui.cli.argtypes import seconds
from wxtui.core import paths
from wxtui.core.outside_text import echo, warn
from wxtui.core.config import Config, ConfigError, Profile, load_config
from wxtui.core.diagnosis import FAIL, INFO, OK, WARN, Report, Section  # noqa: F401 (the report's words)
from wxtui.family import DEFAULT_FAMILY, FAMILIES

# -- the machine ----------------------------------------------------------------------------------


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


def _file_check(section: Section, label: str, path: Path, *, private: bool) -> None:
    files = [path] + [Path(str(path) + s) for s in ("-wal", "-shm")] if path.suffix == ".sqlite" else [path]
    present = [f for f in files if f.exists()]
    if not present:
        section.add(INFO, label, f"{path} (not created yet)")
        return
    size = sum(f.stat().st_size for f in present)
    mode = stat.S_IMODE(path.stat().st_mode)
    detail = f"{path} ({human_size(size)}, mode {mode:04o})"
    if private and os.name == "posix" and mode & 0o077:
        section.add(WARN, label, detail, f"readable by others: chmod 600 {path}")
    else:
        section.add(OK, label, detail)


def _dir_check(section: Section, label: str, path: Path) -> None:
    if not path.is_dir():
        section.add(INFO, label, f"{path} (not created yet)")
        return
    files = [f for f in path.rglob("*") if f.is_file()]
    size = sum(f.stat().st_size for f in files)
    section.add(INFO, label, f"{path} ({len(files)} files, {human_size(size)})")


def _cache_check(section: Section, path: Path) -> None:
    from wxtui.store.repair import diagnose

    found = diagnose(path)
    if found is None:
        _file_check(section, "cache", path, private=True)
    else:
        section.add(FAIL, "cache", f"{path}: {found.what}",
                    "run `wxtui doctor --repair`" if found.repairable or found.path != path else found.todo)


def cache_files() -> list[Path]:
    """Every account cache on this machine (a name taken by a folder or a link counts too)."""
    folder = paths.data_dir() / "accounts"
    try:
        return sorted(p for p in folder.iterdir() if p.name.endswith(".sqlite"))
    except OSError:
        return []


def run_repair() -> int:
    from wxtui.store.repair import repair

    caches = cache_files()
    if not caches:
        print(f"No account cache in {paths.data_dir() / 'accounts'}: nothing to repair.")
        return 0
    status = 0
    for path in caches:
        report = repair(path)
        print("\n".join(report.lines()))
        if not report.repaired and report.problem != "nothing to repair":
            status = 1
    return status


def check_machine(config: Config | None, config_error: str = "", *, keyring_timeout: float = 3.0) -> list[Section]:
    from wxtui.core import secrets

    keyring = Section("Keyring")
    status = secrets.probe_keyring(keyring_timeout)
    if status.usable and not status.warning:
        keyring.add(OK, "backend", status.describe())
    elif status.usable:
        keyring.add(WARN, "backend", status.backend, status.warning)
    else:
        keyring.add(WARN, "backend", status.describe(),
                    "AppSecrets must come from a secret_command, an environment variable or a prompt.\n"
                    + secrets.keyring_setup_help())
    files = Section("Files")
    config_path = config.path if config is not None and config.path else paths.config_file()
    if config_error:
        files.add(FAIL, "config", config_error)
    else:
        _file_check(files, "config", config_path, private=True)
        for warning in config.warnings if config else ():
            files.add(WARN, "config", warning)
    if config is not None:
        for appid in sorted({p.appid for p in config.accounts.values()}):
            _cache_check(files, paths.cache_db(appid))
    _dir_check(files, "logs", paths.log_dir())
    _dir_check(files, "demo", paths.data_dir() / "demo")  # the kept demos
    from wxtui.core.net import describe_transport

    network = Section("Network")
    network.add(OK, "http", describe_transport())
    return [keyring, files, network]


# -- an account -----------------------------------------------------------------------------------


async def run_doctor(profiles: list[Profile] | None = None, *, config: Config | None = None,
                     config_error: str = "", transport=None, token_transport=None,
                     secrets_by_appid: dict[str, str] | None = None, timeout: float = 10.0,
                     allow_prompt: bool = False) -> Report:
    import asyncio

    report = Report(await asyncio.to_thread(check_machine, config, config_error))
    from wxtui.family import family_for

    for profile in profiles or ():
        secret = (secrets_by_appid or {}).get(profile.appid)
        report.sections.append(await family_for(profile).doctor(
            profile, transport=transport, token_transport=token_transport, secret=secret,
            timeout=timeout, allow_prompt=allow_prompt))
    return report


# -- the command ----------------------------------------------------------------------------------


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check the keyring, the files, the hosts, the whitelist and the quotas",
        **exit_status.with_exit_status(
            description="Check the machine (keyring, files, network) and accounts (for WeChat: secret, "
                        "hosts, IP whitelist, verification, quotas; for Tencent Cloud IM: secret key and "
                        "admin identifier). Exit status 0 when every check passes, 1 when one fails, 2 "
                        "when there is no account to check."))
    parser.add_argument("names", nargs="*", metavar="ACCOUNT", help="accounts to check (default: the default one)")
    parser.add_argument("--all", action="store_true", help="check every account")
    parser.add_argument("--demo", action="store_true", help="check the built-in demo account (an in-process emulator)")
    parser.add_argument("--family", choices=sorted(FAMILIES), default=DEFAULT_FAMILY,
                        help=f"with --demo: the API family of the demo (default {DEFAULT_FAMILY})")
    parser.add_argument("--repair", action="store_true",
                        help="move a damaged account cache aside (kept, with a timestamp), recover its job "
                             "journal into a new one; then run wxtui sync")
    parser.add_argument("--timeout", type=seconds, default=10.0, help="seconds per network call (default 10)")
    parser.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    import asyncio

    if args.repair:
        return run_repair()
    config: Config | None = None
    config_error = ""
    try:
        config = load_config()
    except ConfigError as exc:
        config_error = str(exc)
    profiles: list[Profile] = []
    transport = None
    secrets_by_appid: dict[str, str] = {}
    notes: list[str] = []
    if args.demo:
        from wxtui.family import family

        profile, transport, secret = family(args.family).demo_profile(members=1000, seed=1)
        profiles.append(profile)
        secrets_by_appid[profile.appid] = secret
    elif config is not None:
        try:
            if args.all:
                profiles = list(config.accounts.values())
            elif args.names:
                profiles = [config.require(name) for name in args.names]
            elif config.accounts or config.default_name is not None:
                profiles = [config.require()]
            if not profiles:
                notes.append("No account is configured: wxtui account add NAME --appid wx... "
                             "(or check the demo: wxtui doctor --demo)")
        except ConfigError as exc:
            warn(exc)
            return exit_status.NOT_DONE
    interactive = sys.stdin is not None and sys.stdin.isatty()
    report = asyncio.run(run_doctor(profiles, config=config, config_error=config_error, transport=transport,
                                    secrets_by_appid=secrets_by_appid, timeout=args.timeout,
                                    allow_prompt=interactive))
    for line in report.render().splitlines():
        echo(line)
    for note in notes:
        echo(note)
    if not report.ok:
        return exit_status.FAILED
    return exit_status.NOT_DONE if notes else exit_status.OK
