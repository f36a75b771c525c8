"""Account profiles and settings, kept in a TOML file under the platform config directory.

    default_account = "acme"

    [keymap]                              # the app's key remaps, for every account
    tag = "t"

    [accounts.acme]
    kind = "wechat"                       # the API family (wxtui.family): wechat | tim
    appid = "wx0123456789abcdef"
    hosts = ["https://api.weixin.qq.com", "https://api2.weixin.qq.com"]
    token_source = "stable"               # stable | classic | command | url | authorizer
    secret_command = "pass show wechat/acme"   # optional: prints the AppSecret
    concurrency = 8

    [accounts.chat]
    kind = "tim"
    sdkappid = 1400000001
    identifier = "administrator"
    region = "china"

The keys of a profile beyond the shared ones (kind, concurrency, secret_command) are its family's
options, and the family validates them (wxtui.family.Family.validate_profile). An account's own
[accounts.NAME.keymap] table is read still, and applies to that account alone.

The AppSecret never appears here: it lives in the OS keyring (see wxtui.core.secrets). Keys wxtui does
not know are kept as they are, so a newer version's settings survive an older one's save. The file
is written atomically (temporary file, then rename) and readable only by the user.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from wxtui.core import paths
from wxtui.core.errors import WxtuiError
from wxtui.family import FAMILIES, family_for

KINDS = tuple(FAMILIES)  # the API families this version handles
TOKEN_SOURCES = ("stable", "classic", "command", "url", "authorizer")
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 32

TOKEN_SOURCE_HELP = {
    "stable": "stable token (cgi-bin/stable_token): safe beside other systems using the account",
    "classic": "classic token (cgi-bin/token): every fetch invalidates the token of any other "
               "system (a production backend) using the same account",
    "command": "a command prints the access token (e.g. a company's central token service)",
    "url": "a URL answers the access token (e.g. a company's central token service)",
    "authorizer": "a third-party platform's authorizer_access_token, renewed by a command",
}
CLASSIC_WARNING = (
    "The classic token source calls cgi-bin/token: every token it fetches kills the token of any "
    "other system using this account (a production server, a CRM) five minutes later. Use it only "
    "if nothing else calls this account's API."
)

_APPID_RE = re.compile(r"^wx[0-9A-Za-z]{16}$")
# Keys that would put a credential in the config file: refused, with a pointer to the keyring.
_CREDENTIAL_KEYS = frozenset({"secret", "appsecret", "app_secret", "access_token", "token",
                              "authorizer_access_token", "password", "secret_key", "usersig"})
_PROFILE_FIELDS = ("kind", "appid", "hosts", "token_source", "token_command", "token_url",
                   "refresh_command", "secret_command", "secret_env", "concurrency", "keymap",
                   "sdkappid", "identifier", "region", "verify_percent", "verify_max_calls")


class ConfigError(WxtuiError):
    """The config file or a profile is not usable; str() says what and where."""


@dataclass
class Profile:
    """One account as configured. Credentials are not part of it."""

    name: str
    appid: str
    kind: str = "wechat"
    hosts: list[str] = field(default_factory=list)  # empty: the family's own hosts
    token_source: str = "stable"
    token_command: str | list[str] | None = None  # token_source "command": prints the token
    token_url: str | None = None  # token_source "url": answers the token
    refresh_command: str | list[str] | None = None  # token_source "authorizer": renews the token
    secret_command: str | list[str] | None = None  # prints the AppSecret (a password manager)
    secret_env: str | None = None  # the variable holding the AppSecret; default WXTUI_SECRET_<APPID>
    concurrency: int = DEFAULT_CONCURRENCY
    keymap: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know
    # kind "tim": the app, its admin account and its data centre; appid is then "tim<sdkappid>"
    # (the key of its secret key in the keyring and of its cache).
    sdkappid: int | None = None
    identifier: str | None = None
    region: str | None = None
    # Verification after a job: the share of its targets read back (0: off) and the most read
    # calls it may make; None: the defaults (1%, at least 10 targets, at most 100 calls).
    verify_percent: float | None = None
    verify_max_calls: int | None = None

    @property
    def family(self):
        """The account's API family (wxtui.family.Family)."""
        return family_for(self)

    @property
    def needs_secret(self) -> bool:
        """Whether a secret from the keyring is used (the family says: a WeChat account only for
        the stable and classic token sources; a Tencent Cloud IM account always signs with one)."""
        return self.family.needs_secret(self)

    @property
    def secret_env_name(self) -> str:
        return self.secret_env or secret_env_for(self.appid)

    def validate(self) -> "Profile":
        """The profile itself, or ConfigError naming the first thing wrong with it."""
        where = f"account {self.name!r}"
        check_name(self.name)
        check_verify_settings(self.verify_percent, self.verify_max_calls, where)
        if self.kind not in KINDS:
            raise ConfigError(f"{where}: kind {self.kind!r} is not supported by this version "
                              f"(known: {', '.join(KINDS)})")
        self.family.validate_profile(self)
        for key in ("token_command", "refresh_command", "secret_command"):
            value = getattr(self, key)
            if value is not None:
                command_argv(value, f"{where}: {key}")
        check_hosts(self.hosts if self.hosts is not None else [], where)
        if (isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int)
                or not 1 <= self.concurrency <= MAX_CONCURRENCY):
            raise ConfigError(f"{where}: concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, "
                              f"not {self.concurrency!r}")
        if not isinstance(self.keymap, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.keymap.items()):
            raise ConfigError(f"{where}: keymap must map action names to keys, as text")
        return self

    def to_toml(self) -> dict[str, Any]:
        table: dict[str, Any] = dict(self.extra)
        derived = self.family.derived_fields()  # the family's defaults and keys, not written
        for key in _PROFILE_FIELDS:
            value = getattr(self, key)
            if value is None or (key in ("keymap", "hosts") and not value) or key in derived:
                continue
            table[key] = list(value) if isinstance(value, list) else value
        return table

    @classmethod
    def from_toml(cls, name: str, table: dict[str, Any]) -> tuple["Profile", list[str]]:
        """A profile from its TOML table, and warnings about keys that were ignored."""
        if not isinstance(table, dict):
            raise ConfigError(f"[accounts.{name}] must be a table")
        warnings: list[str] = []
        known: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in table.items():
            if key.lower() in _CREDENTIAL_KEYS:
                warnings.append(
                    f"account {name!r}: the key {key!r} in the config file is ignored: credentials "
                    f"belong in the keyring (wxtui account add {name} --appid ... --secret-stdin --replace); "
                    "delete that line from the file (until then wxtui will not rewrite it)")
                extra[key] = value
            elif key in _PROFILE_FIELDS:
                known[key] = value
            elif key == "host":  # a single host, as a convenience
                known.setdefault("hosts", [value])
            else:
                extra[key] = value
        if isinstance(known.get("hosts"), str):
            known["hosts"] = [known["hosts"]]
        kind = known.get("kind", cls.kind)
        if kind in FAMILIES:
            from wxtui.family import family

            family(kind).complete_fields(known)
        if "appid" not in known:
            raise ConfigError(f"account {name!r}: appid is missing")
        profile = cls(name=name, extra=extra, **known)
        if isinstance(profile.hosts, list):
            profile.hosts = [h.rstrip("/") if isinstance(h, str) else h for h in profile.hosts]
        return profile.validate(), warnings


MAX_VERIFY_CALLS = 10_000


def check_verify_settings(percent: Any, max_calls: Any, where: str) -> None:
    if percent is not None and (isinstance(percent, bool) or not isinstance(percent, (int, float))
                                or not 0 <= percent <= 100):
        raise ConfigError(f"{where}: verify_percent must be a number from 0 (off) to 100, not {percent!r}")
    if max_calls is not None and (isinstance(max_calls, bool) or not isinstance(max_calls, int)
                                  or not 1 <= max_calls <= MAX_VERIFY_CALLS):
        raise ConfigError(f"{where}: verify_max_calls must be a whole number from 1 to "
                          f"{MAX_VERIFY_CALLS:,}, not {max_calls!r}")


def is_credential_key(key: str) -> bool:
    return key.lower() in _CREDENTIAL_KEYS


def secret_env_for(appid: str) -> str:
    return "WXTUI_SECRET_" + appid.upper()


def check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("An account needs a name")
    if name != name.strip() or len(name) > 64 or any(not c.isprintable() for c in name):
        raise ConfigError(f"The account name {name!r} must be printable, at most 64 characters, "
                          "without leading or trailing spaces")
    return name


def check_appid(appid: str, where: str = "account") -> str:
    if not isinstance(appid, str) or not _APPID_RE.match(appid):
        raise ConfigError(f"{where}: {appid!r} is not an AppID (\"wx\" followed by 16 letters or digits, "
                          "shown under Settings and Development > Basic Configuration)")
    return appid


def check_hosts(hosts: Any, where: str) -> list[str]:
    if not isinstance(hosts, list):
        raise ConfigError(f"{where}: hosts must be a list of URLs, e.g. "
                          f"[\"https://api.weixin.qq.com\"], not {hosts!r}")
    for host in hosts:
        check_host(host, where)
    return hosts


def check_host(url: str, where: str, *, what: str = "host") -> str:
    from urllib.parse import urlsplit

    if isinstance(url, str) and any(c.isspace() for c in url):
        raise ConfigError(f"{where}: {what} {url!r} holds a space or a line break; write the URL "
                          "alone, e.g. \"https://api.weixin.qq.com\"")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"{where}: {what} {url!r} is not an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError(f"{where}: {what} {url!r} would send credentials unencrypted; use https "
                          "(plain http is accepted only on loopback, for the emulator)")
    return url


def command_argv(command: str | list[str], where: str = "command") -> list[str]:
    """A configured command as an argument list (a string is split like a shell would, without
    running a shell: use `sh -c '...'` for pipes)."""
    if isinstance(command, list) and command and all(isinstance(a, str) for a in command):
        return list(command)
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise ConfigError(f"{where}: cannot parse {command!r}: {exc}") from None
        if argv:
            return argv
    raise ConfigError(f"{where}: expected a command line or a list of arguments, got {command!r}")


@dataclass
class Config:
    accounts: dict[str, Profile] = field(default_factory=dict)
    default_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # top-level keys this version does not know
    # Profiles of an API family this version does not handle (a newer version's): kept verbatim.
    foreign: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    keymap: dict[str, str] = field(default_factory=dict)  # [keymap]: the app's remaps, every account

    def account(self, name: str | None = None) -> Profile | None:
        """The named profile (or the default one when name is None); None when there is none."""
        if name is None:
            return self.default_account()
        return self.accounts.get(name)

    def require(self, name: str | None = None) -> Profile:
        """Like account(), but a ConfigError that says what exists instead of None."""
        profile = self.account(name)
        if profile is not None:
            return profile
        if not self.accounts:
            raise ConfigError("No account is configured yet: wxtui account add NAME --appid wx... "
                              "(or try the demo: wxtui demo)")
        if name in self.foreign:
            raise ConfigError(f"Account {name!r} is of kind {self.foreign[name].get('kind')!r}, which this "
                              "version of wxtui does not handle")
        known = ", ".join(sorted(self.accounts))
        if name is None:
            raise ConfigError(f"No default account is set; name one of: {known} "
                              "(--account NAME, or once for all: wxtui account default NAME)")
        raise ConfigError(f"No account named {name!r}; configured: {known}")

    def default_account(self) -> Profile | None:
        """The default profile; the only one when there is exactly one and none is named.

        A default_account naming no configured account is a ConfigError that names the accounts:
        acting on another account than the one the file names would be a guess.
        """
        if self.default_name is None:
            return next(iter(self.accounts.values())) if len(self.accounts) == 1 else None
        if self.default_name in self.accounts:
            return self.accounts[self.default_name]
        where = f"{self.path}: " if self.path else ""
        if self.default_name in self.foreign:
            raise ConfigError(f"{where}default_account {self.default_name!r} is of kind "
                              f"{self.foreign[self.default_name].get('kind')!r}, which this version "
                              "does not handle; choose another: wxtui account default NAME")
        known = ", ".join(sorted(self.accounts)) or "none yet (wxtui account add NAME --appid wx...)"
        raise ConfigError(f"{where}default_account {self.default_name!r} names no account; configured: "
                          f"{known}. Choose one: wxtui account default NAME (or give --account NAME)")

    def add(self, profile: Profile, *, replace_existing: bool = False, make_default: bool = False) -> None:
        profile.validate()
        if profile.name in self.foreign:
            raise ConfigError(f"The name {profile.name!r} is taken by an account of kind "
                              f"{self.foreign[profile.name].get('kind')!r}")
        if profile.name in self.accounts and not replace_existing:
            raise ConfigError(f"An account named {profile.name!r} exists already (replace it with --replace)")
        self.accounts[profile.name] = profile
        if make_default or self.default_name not in self.accounts:
            self.default_name = profile.name

    def remove(self, name: str) -> Profile:
        profile = self.require(name)
        del self.accounts[name]
        if self.default_name == name:
            self.default_name = next(iter(self.accounts), None)
        return profile

    def set_default(self, name: str) -> None:
        self.default_name = self.require(name).name

    def profiles_for(self, appid: str) -> list[Profile]:
        return [p for p in self.accounts.values() if p.appid == appid]

    def to_toml(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.extra)
        if self.default_name:
            data["default_account"] = self.default_name
        if self.keymap:
            data["keymap"] = dict(self.keymap)
        data["accounts"] = {**self.foreign, **{name: p.to_toml() for name, p in self.accounts.items()}}
        return data

    def save(self, path: Path | None = None) -> Path:
        return save_config(self, path)


MAX_CONFIG_BYTES = 1_000_000


def _read_config_bytes(path: Path) -> bytes:
    """The file's bytes; a FIFO, a device or a huge file is refused instead of read (one would
    block, another fill memory)."""
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{path} is not a regular file; move it away (nothing was changed)")
        if st.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path} is {st.st_size:,} bytes, too large for a config; move it away "
                              "(nothing was changed)")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(MAX_CONFIG_BYTES + 1)
    finally:
        os.close(fd)


def load_config(path: Path | None = None) -> Config:
    """The config at `path` (default: the platform's config file); empty if there is none yet.

    A file that cannot be parsed raises ConfigError and is left untouched.
    """
    path = Path(path) if path is not None else paths.config_file()
    try:
        raw = _read_config_bytes(path)
    except FileNotFoundError:
        return Config(path=path)
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror or exc}") from None
    import tomllib  # here, not at the top: `wxtui --help` reads no config

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix or move it, nothing was changed") from None
    return _config_from(data, path)


def _config_from(data: dict[str, Any], path: Path) -> Config:
    config = Config(path=path)
    accounts = data.get("accounts", {})
    if not isinstance(accounts, dict):
        raise ConfigError(f"{path}: [accounts] must be a table of account profiles")
    for name, table in accounts.items():
        kind = table.get("kind", "wechat") if isinstance(table, dict) else "wechat"
        if kind not in KINDS:
            config.foreign[name] = table
            config.warnings.append(f"account {name!r} is of kind {kind!r}, which this version does not "
                                   "handle; it is kept as it is")
            continue
        try:
            profile, warnings = Profile.from_toml(name, table)
        except TypeError as exc:  # an unexpected value type reached the dataclass
            raise ConfigError(f"{path}: account {name!r}: {exc}") from None
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        config.accounts[name] = profile
        config.warnings.extend(warnings)
    default = data.get("default_account")
    if default is not None and not isinstance(default, str):
        raise ConfigError(f"{path}: default_account must be an account name")
    if default is not None and default not in config.accounts:
        config.warnings.append(f"default_account {default!r} names no configured account "
                               "(choose one: wxtui account default NAME)")
    config.default_name = default
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in keymap.items()):
        raise ConfigError(f"{path}: [keymap] must map action names to keys, as text")
    config.keymap = keymap
    config.extra = {k: v for k, v in data.items() if k not in ("accounts", "default_account", "keymap")}
    return config


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write the config atomically with mode 0600: readers see the old file or the new one."""
    import tomli_w

    path = Path(path) if path is not None else (config.path or paths.config_file())
    for profile in config.accounts.values():
        profile.validate()
        stray = sorted(k for k in profile.extra if k.lower() in _CREDENTIAL_KEYS)
        if stray:
            # Rewriting the file would copy the credential again; dropping it would lose it.
            raise ConfigError(
                f"Not saving {path}: account {profile.name!r} holds {', '.join(stray)} in the file. "
                f"Store the AppSecret in the keyring (wxtui account add {profile.name} --appid "
                f"{profile.appid} --secret-stdin --replace), delete that line, then try again")
    text = tomli_w.dumps(config.to_toml())
    try:
        atomic_write_private(path, text.encode("utf-8"))
    except OSError as exc:
        if exc.errno == 28:  # ENOSPC
            raise ConfigError(f"Cannot write the config: the disk holding {path.parent} is full. Nothing "
                              "was changed. Free some space and try again.") from None
        home = os.environ.get("WXTUI_HOME")
        raise ConfigError(
            f"Cannot write the config in the folder {path.parent} ({exc.strerror or exc}). Nothing was "
            f"changed. Make that folder writable by you{f' (WXTUI_HOME is {home})' if home else ''}, "
            "or set WXTUI_HOME to a writable folder.") from None
    config.path = path
    return path


def atomic_write_private(path: Path, data: bytes) -> None:
    """Replace `path` with `data` (mode 0600) in one rename; on failure the old file stays."""
    import tempfile

    paths.ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes it 0600 already; be explicit where we can
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def new_profile(name: str, appid: str, **fields: Any) -> Profile:
    """A validated profile (defaults for everything not given)."""
    if isinstance(fields.get("hosts"), str):
        fields["hosts"] = [fields["hosts"]]
    if fields.get("hosts") is None:
        fields.pop("hosts", None)
    else:
        fields["hosts"] = [h.rstrip("/") for h in fields["hosts"]]
    return Profile(name=name, appid=appid, **fields).validate()


def with_changes(profile: Profile, **changes: Any) -> Profile:
    return replace(profile, **changes).validate()
