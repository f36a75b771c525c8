"""`wxtui doctor`: is everything in place to work with an account from this machine?

It reports the keyring backend, where the config, the caches and the logs are (and their sizes),
and for each account checked: where its secret comes from, whether each API host answers, whether
a token can be fetched from here (40164: this machine's IP is not on the whitelist, and which IP
to add), whether the account may use the user-management calls (48001: not verified), and the
quota left on the main calls. The exit status is 0 when nothing failed, 1 otherwise, 2 when there
is no account to check (or the one named is not there).

`wxtui doctor --repair` moves a damaged cache file aside (with a timestamp, never deleted) and
puts a new one in its place holding the job journal recovered from it (see wxtui.store.repair).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from wxtui import exit_status, paths
from wxtui.argtypes import seconds
from wxtui.config import CLASSIC_WARNING, Config, ConfigError, Profile, load_config
from wxtui.outside_text import echo, visible, warn
from wxtui.wechat.errors import ApiError, WxtuiError

OK, WARN, FAIL, INFO = "ok", "warn", "FAIL", "info"
MAIN_CALLS = (
    "/cgi-bin/user/get",
    "/cgi-bin/user/info/batchget",
    "/cgi-bin/tags/members/batchtagging",
    "/cgi-bin/tags/members/batchuntagging",
    "/cgi-bin/tags/members/batchblacklist",
)
LOW_QUOTA_SHARE = 0.1


@dataclass
class Check:
    status: str  # OK, WARN, FAIL or INFO
    label: str
    detail: str
    hint: str = ""


@dataclass
class Section:
    title: str
    checks: list[Check] = field(default_factory=list)

    def add(self, status: str, label: str, detail: str, hint: str = "") -> Check:
        check = Check(status, label, detail, hint)
        self.checks.append(check)
        return check


@dataclass
class Report:
    sections: list[Section] = field(default_factory=list)

    @property
    def failures(self) -> list[Check]:
        return [c for s in self.sections for c in s.checks if c.status == FAIL]

    @property
    def ok(self) -> bool:
        return not self.failures

    def find(self, label: str) -> list[Check]:
        return [c for s in self.sections for c in s.checks if c.label == label]

    def render(self) -> str:
        lines = []
        for section in self.sections:
            lines.append(visible(section.title))
            for c in section.checks:
                lines.append(f"  {c.status:<5} {c.label:<11} {visible(c.detail)}")
                if c.hint:
                    lines.extend(f"  {'':<5} {'':<11} {visible(line)}" for line in c.hint.splitlines())
        problems = len(self.failures)
        lines.append("Everything is fine." if not problems else
                     f"{problems} problem{'s' if problems > 1 else ''} found.")
        return "\n".join(lines)


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


def _dir_check(section: Section, label: str, path: Path) -> None:
    if not path.is_dir():
        section.add(INFO, label, f"{path} (not created yet)")
        return
    files = [f for f in path.rglob("*") if f.is_file()]
    size = sum(f.stat().st_size for f in files)
    section.add(INFO, label, f"{path} ({len(files)} files, {human_size(size)})")


def check_machine(config: Config | None, config_error: str = "", *, keyring_timeout: float = 3.0) -> list[Section]:
    from wxtui import secrets

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
    _dir_check(files, "demo", paths.data_dir() / "demo")  # the kept demos (wxtui.kept_demo)
    from wxtui.net import describe_transport

    network = Section("Network")
    network.add(OK, "http", describe_transport())
    return [keyring, files, network]


# -- an account -----------------------------------------------------------------------------------


def _explain(section: Section, label: str, exc: BaseException) -> None:
    if isinstance(exc, ApiError):
        section.add(FAIL, label, f"{exc.info.message} (errcode {exc.errcode} on {exc.path})", exc.hint())
    else:
        section.add(FAIL, label, str(exc))


async def _reach(host: str, transport, timeout: float) -> tuple[bool, str]:
    import httpx

    from wxtui.net import default_transport

    started = time.perf_counter()
    try:
        # Through the transport the API clients use, so that what works here works for them.
        async with httpx.AsyncClient(transport=transport if transport is not None else default_transport(),
                                     timeout=timeout, follow_redirects=False) as http:
            # An API call without a token answers errcode 41001 at no cost, through the same
            # front end as every other call.
            response = await http.get(host + "/cgi-bin/tags/get")
    except httpx.TimeoutException:
        return False, f"no answer within {timeout:g} s"
    except httpx.HTTPError as exc:
        return False, f"unreachable ({type(exc).__name__})"
    ms = (time.perf_counter() - started) * 1000
    if response.status_code >= 500:
        return False, f"answers HTTP {response.status_code} ({ms:.0f} ms)"
    return True, f"reachable ({ms:.0f} ms)"


async def check_account(profile: Profile, *, transport=None, token_transport=None,
                        secret: str | None = None, timeout: float = 10.0,
                        allow_prompt: bool = False) -> Section:
    """Every check of one account; the client's calls go through `transport` when given."""
    from wxtui import secrets
    from wxtui.accounts import build_client
    from wxtui.wechat.transport import RetryPolicy

    section = Section(f"Account {profile.name} ({profile.appid})")
    source_detail = f"{profile.token_source}: " + {
        "stable": "cgi-bin/stable_token", "classic": "cgi-bin/token",
        "command": "from a command", "url": "from a URL", "authorizer": "authorizer_access_token",
    }[profile.token_source]
    if profile.token_source == "classic":
        section.add(WARN, "token", source_detail, CLASSIC_WARNING)
    else:
        section.add(OK, "token", source_detail)

    if profile.needs_secret and secret is None:
        try:
            resolved = await asyncio.to_thread(secrets.resolve_secret, profile, allow_prompt=allow_prompt)
        except secrets.SecretUnavailable as exc:
            first, rest = str(exc).split("\n", 1)
            section.add(FAIL, "secret", first, rest)
            return section
        secret = resolved.value
        section.add(OK, "secret", f"from {resolved.source}")
    elif secret is not None:
        section.add(OK, "secret", "given")

    reachable = 0
    for host in profile.hosts:
        ok, detail = await _reach(host, transport, timeout)
        reachable += ok
        section.add(OK if ok else WARN, "host", f"{host} {detail}")
    if not reachable:
        section.add(FAIL, "network", "no API host answers", "check the network, a proxy (HTTPS_PROXY) or the hosts")
        return section

    retry = RetryPolicy(max_retries=1, base_delay=0.2, max_delay=1.0, transport_retries=1,
                        minute_waits=0, timeout_s=timeout)
    try:
        client = build_client(profile, transport=transport, token_transport=token_transport,
                              secret=secret, retry=retry)
    except WxtuiError as exc:
        section.add(FAIL, "profile", str(exc))
        return section
    async with client:
        try:
            await client.access_token()
        except ApiError as exc:
            _explain(section, "whitelist" if exc.errcode in (40164, 61004) else "credentials", exc)
            return section
        except WxtuiError as exc:
            _explain(section, "credentials", exc)
            return section
        section.add(OK, "whitelist", "a token was fetched from this machine")
        try:
            tags = await client.get_tags()
        except ApiError as exc:
            _explain(section, "verified" if exc.errcode == 48001 else "api", exc)
        except WxtuiError as exc:
            _explain(section, "api", exc)
        else:
            section.add(OK, "verified", f"user-management calls allowed ({len(tags)} tags)")
        token_path = {"stable": "/cgi-bin/stable_token", "classic": "/cgi-bin/token"}.get(profile.token_source)
        for path in MAIN_CALLS + ((token_path,) if token_path else ()):
            await _quota(section, client, path)
    return section


async def _quota(section: Section, client, path: str) -> None:
    try:
        quota = await client.get_quota(path)
    except ApiError as exc:
        if exc.errcode == 76021:
            section.add(INFO, "quota", f"{path}: no quota kept")
        else:
            section.add(WARN, "quota", f"{path}: {exc.info.message} (errcode {exc.errcode})", exc.hint())
        return
    except WxtuiError as exc:
        section.add(WARN, "quota", f"{path}: {exc}")
        return
    detail = f"{path}: {quota.remain:,} of {quota.daily_limit:,} left today"
    if quota.remain <= 0:
        section.add(FAIL, "quota", detail, "used up: calls fail with 45009 until midnight China time")
    elif quota.daily_limit and quota.remain < quota.daily_limit * LOW_QUOTA_SHARE:
        section.add(WARN, "quota", detail)
    else:
        section.add(OK, "quota", detail)


async def run_doctor(profiles: list[Profile] | None = None, *, config: Config | None = None,
                     config_error: str = "", transport=None, token_transport=None,
                     secrets_by_appid: dict[str, str] | None = None, timeout: float = 10.0,
                     allow_prompt: bool = False) -> Report:
    report = Report(await asyncio.to_thread(check_machine, config, config_error))
    for profile in profiles or ():
        secret = (secrets_by_appid or {}).get(profile.appid)
        report.sections.append(await check_account(
            profile, transport=transport, token_transport=token_transport, secret=secret,
            timeout=timeout, allow_prompt=allow_prompt))
    return report


# -- the command ----------------------------------------------------------------------------------


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check the keyring, the files, the hosts, the whitelist and the quotas",
        **exit_status.with_exit_status(
            description="Check the machine (keyring, files, network) and accounts (secret, hosts, "
                        "IP whitelist, verification, quotas). Exit status 0 when every check passes, "
                        "1 when one fails, 2 when there is no account to check."))
    parser.add_argument("names", nargs="*", metavar="ACCOUNT", help="accounts to check (default: the default one)")
    parser.add_argument("--all", action="store_true", help="check every account")
    parser.add_argument("--demo", action="store_true", help="check the built-in demo account (an in-process emulator)")
    parser.add_argument("--repair", action="store_true",
                        help="move a damaged account cache aside (kept, with a timestamp), recover its job "
                             "journal into a new one; then run wxtui sync")
    parser.add_argument("--timeout", type=seconds, default=10.0, help="seconds per network call (default 10)")
    parser.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
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
        from wxtui.config import new_profile
        from wxtui.emulator import Emulator

        emulator = Emulator.demo(followers=1000, seed=1)
        acct = emulator.account
        profiles.append(new_profile("demo", acct.appid))
        transport = emulator.transport()
        secrets_by_appid[acct.appid] = acct.secret
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
