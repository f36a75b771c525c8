"""Finding an account's AppSecret when a token is needed.

Where a secret comes from, in this order (`resolve_secret()`):
  1. this process already has it (found earlier, or typed at a prompt this session);
  2. the keyring;
  3. the profile's `secret_command` (a password manager's CLI, e.g. `pass show wechat/acme`);
  4. an environment variable (`WXTUI_SECRET_<APPID>`, or the profile's `secret_env`);
  5. a prompt (getpass), only when the caller allows it: before the UI, with stdin a terminal.
When all fail, SecretUnavailable says what was tried and what the user can do. Values are
SecretStr (repr '***') and are never logged.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field

from wxtui.core.config import Profile, command_argv
from wxtui.core.errors import CredentialsUnavailable, WxtuiError, redact
from wxtui.core.secret_str import SecretStr

from .keyring_store import (KEYRING_TIMEOUT_S, PROBE_TIMEOUT_S, SERVICE, KeyringUnavailable, check_secret,
                            keyring_setup_help, probe_keyring, read_stored_secret, remember_for_session,
                            session_secret)

log = logging.getLogger("wxtui.core.secrets")

SECRET_COMMAND_TIMEOUT_S = 30.0


class SecretUnavailable(CredentialsUnavailable):
    """No source gave the AppSecret of an account."""

    def __init__(self, profile: Profile, attempts: list[tuple[str, str]]):
        self.profile = profile
        self.attempts = attempts
        super().__init__(no_secret_message(profile, attempts))


# -- resolution -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedSecret:
    value: SecretStr = field(repr=False)
    source: str  # "session", "keyring", "secret_command", "env WXTUI_SECRET_...", "prompt"


def _from_keyring(profile: Profile, timeout: float, allow_prompt: bool) -> tuple[SecretStr | None, str]:
    status = probe_keyring(min(timeout, PROBE_TIMEOUT_S))
    if not status.usable:
        return None, status.problem
    if status.prompts and not allow_prompt:
        return None, f"{status.backend} asks for a password on the terminal (only before the UI starts)"
    try:
        value = read_stored_secret(profile.appid, timeout=timeout, allow_prompt=allow_prompt)
    except KeyringUnavailable as exc:
        return None, str(exc).split("\n", 1)[0]
    if value is None:
        return None, f"no entry for {profile.appid} (service {SERVICE!r})"
    if status.warning:
        log.warning("The AppSecret of %s comes from a plaintext keyring file", profile.appid)
    return value, ""


def _from_command(profile: Profile, timeout: float) -> tuple[SecretStr | None, str]:
    if not profile.secret_command:
        return None, "no secret_command in the profile"
    argv = command_argv(profile.secret_command, "secret_command")
    env = dict(os.environ, WXTUI_APPID=profile.appid, WXTUI_ACCOUNT=profile.name)
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                              env=env, check=False)
    except FileNotFoundError:
        return None, f"{argv[0]!r} was not found"
    except subprocess.TimeoutExpired:
        return None, f"{argv[0]} did not finish within {timeout:g} s"
    except OSError as exc:
        return None, f"{argv[0]} could not run: {exc.strerror or exc}"
    if done.returncode != 0:
        return None, f"{argv[0]} exited with status {done.returncode}{_last_line(done.stderr)}"
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if not lines:
        return None, f"{argv[0]} printed nothing"
    try:
        return check_secret(lines[0]), ""
    except WxtuiError as exc:
        return None, f"{argv[0]} printed something else: {exc}"


def _last_line(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    if not lines:
        return ""
    line = redact(lines[-1].strip())
    return ": " + (line if len(line) <= 160 else line[:157] + "...")


def _from_env(profile: Profile) -> tuple[SecretStr | None, str, str]:
    names = [profile.secret_env_name]
    if not profile.secret_env and ("WXTUI_SECRET_" + profile.appid) not in names:
        names.append("WXTUI_SECRET_" + profile.appid)
    for name in names:
        value = os.environ.get(name)
        if value:
            try:
                return check_secret(value), name, ""
            except WxtuiError as exc:
                return None, name, f"{name} is set but unusable: {exc}"
    return None, names[0], f"{names[0]} is not set"


def _can_prompt() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def resolve_secret(profile: Profile, *, allow_prompt: bool = False,
                   timeout: float = KEYRING_TIMEOUT_S,
                   command_timeout: float = SECRET_COMMAND_TIMEOUT_S) -> ResolvedSecret:
    """The account's AppSecret from the first source that has it (see the module's docstring).

    Blocking: call it before the UI starts or from a worker (aresolve_secret() does). Only with
    `allow_prompt` (and stdin a terminal) does it ask the user; whatever was found is kept for
    the rest of the process.
    """
    remembered = session_secret(profile.appid)
    if remembered is not None:
        return ResolvedSecret(remembered, "session")
    attempts: list[tuple[str, str]] = []
    value, why = _from_keyring(profile, timeout, allow_prompt)
    if value is not None:
        return _found(profile, value, "keyring")
    attempts.append(("keyring", why))
    value, why = _from_command(profile, command_timeout)
    if value is not None:
        return _found(profile, value, "secret_command")
    attempts.append(("secret_command", why))
    value, name, why = _from_env(profile)
    if value is not None:
        return _found(profile, value, f"env {name}")
    attempts.append(("environment", why))
    if allow_prompt and _can_prompt():
        value = _prompt(profile)
        if value is not None:
            return _found(profile, value, "prompt")
        attempts.append(("prompt", "nothing was typed"))
    else:
        attempts.append(("prompt", "stdin is not a terminal" if allow_prompt else
                         "not asked while the UI runs"))
    raise SecretUnavailable(profile, attempts)


def _found(profile: Profile, value: SecretStr, source: str) -> ResolvedSecret:
    remember_for_session(profile.appid, value)
    log.info("AppSecret of %s (%s) from %s", profile.name, profile.appid, source)
    return ResolvedSecret(value, source)


def _prompt(profile: Profile) -> SecretStr | None:
    import getpass

    try:
        typed = getpass.getpass(f"AppSecret of {profile.name} ({profile.appid}), kept for this session only: ")
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)
        return None
    try:
        return check_secret(typed)
    except WxtuiError as exc:
        print(f"wxtui: {exc}", file=sys.stderr)
        return None


async def aresolve_secret(profile: Profile, *, timeout: float = KEYRING_TIMEOUT_S) -> ResolvedSecret:
    """resolve_secret() off the event loop, never prompting (the UI owns the terminal)."""
    remembered = session_secret(profile.appid)
    if remembered is not None:
        return ResolvedSecret(remembered, "session")
    return await asyncio.to_thread(resolve_secret, profile, allow_prompt=False, timeout=timeout)


def no_secret_message(profile: Profile, attempts: list[tuple[str, str]]) -> str:
    tried = "\n".join(f"  - {source}: {why}" for source, why in attempts)
    return (f"No AppSecret for account {profile.name!r} ({profile.appid}). Tried, in order:\n{tried}\n"
            + secret_choices(profile))


def secret_choices(profile: Profile) -> str:
    """The ways to supply an AppSecret when the keyring cannot, as the user is told them."""
    name, appid = profile.name, profile.appid
    return (
        "Choose one:\n"
        f"  1. a command that prints it (a password manager): wxtui account add {name} --appid {appid} "
        f"--secret-command 'pass show wechat/{name}' --replace\n"
        f"  2. an environment variable: export {profile.secret_env_name}=... (from your secret store, "
        "not your shell history)\n"
        "  3. type it for this session only: start wxtui in a terminal; it asks before the UI starts\n"
        f"  4. a keyring: {keyring_setup_help()}"
    )


def secret_sources(profile: Profile) -> list[str]:
    """Where this profile's secret can come from, without looking (for listings)."""
    sources = ["keyring"]
    if profile.secret_command:
        sources.append("secret_command")
    sources.append(f"env {profile.secret_env_name}")
    return sources
