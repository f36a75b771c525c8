"""Adding, removing and testing accounts: the logic behind `wxtui account ...` and the app's
account screens. Nothing here prints or prompts; results carry the messages to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wxtui.core import paths
from wxtui.core.config import CLASSIC_WARNING, Config, Profile


@dataclass
class AddOutcome:
    profile: Profile
    config_path: Path
    secret_stored: bool = False
    keyring_backend: str = ""
    messages: list[str] = field(default_factory=list)  # warnings and next steps, for the user


def add_account(config: Config, profile: Profile, *, secret: str | None = None,
                replace_existing: bool = False, make_default: bool = False) -> AddOutcome:
    """Add (or replace) a profile, store its secret in the keyring, save the config.

    The profile is saved even when the keyring cannot take the secret: the outcome then says
    so and lists the other ways to supply it (the secret is kept for this process only).
    """
    from wxtui.core import secrets

    if secret is not None:
        secrets.check_secret(secret)  # refuse a malformed secret before anything changes
    previous = config.accounts.get(profile.name)
    if previous is not None and replace_existing:
        _carry_over(previous, profile)
    config.add(profile, replace_existing=replace_existing, make_default=make_default)
    outcome = AddOutcome(profile, config.save())
    if profile.token_source == "classic":
        outcome.messages.append("Warning: " + CLASSIC_WARNING)
    if secret is None:
        return outcome
    if not profile.needs_secret:
        outcome.messages.append(f"The {profile.token_source} token source does not use the AppSecret; "
                                "it was not stored")
        return outcome
    try:
        status = secrets.store_secret(profile.appid, secret)
    except secrets.KeyringUnavailable as exc:
        secrets.remember_for_session(profile.appid, secret)
        outcome.messages.append(f"The AppSecret was NOT stored: {str(exc).splitlines()[0]}\n"
                                f"{secrets.secret_choices(profile)}")
        return outcome
    outcome.secret_stored = True
    outcome.keyring_backend = status.backend
    if status.warning:
        outcome.messages.append(f"Warning: the keyring {status.warning}")
    return outcome


def _carry_over(previous: Profile, profile: Profile) -> None:
    """What a replacement cannot say on a command line (the keymap, newer settings) is kept."""
    from wxtui.core.config import is_credential_key

    if not profile.keymap:
        profile.keymap = dict(previous.keymap)
    for key, value in previous.extra.items():
        if not is_credential_key(key):
            profile.extra.setdefault(key, value)


@dataclass
class RemoveOutcome:
    profile: Profile
    secret_deleted: bool = False
    messages: list[str] = field(default_factory=list)


def remove_account(config: Config, name: str, *, delete_secret: bool = True) -> RemoveOutcome:
    """Remove a profile and, unless another profile uses the same AppID, its keyring entry.

    The account's cache stays where it is (the outcome says where): deleting data is a separate,
    explicit decision.
    """
    from wxtui.core import secrets

    profile = config.remove(name)
    config.save()
    outcome = RemoveOutcome(profile)
    if delete_secret and not config.profiles_for(profile.appid):
        try:
            outcome.secret_deleted = secrets.delete_secret(profile.appid)
        except secrets.KeyringUnavailable as exc:
            outcome.messages.append(f"The keyring entry could not be checked: {str(exc).splitlines()[0]}")
    elif delete_secret:
        others = ", ".join(p.name for p in config.profiles_for(profile.appid))
        outcome.messages.append(f"The AppSecret stays in the keyring: {others} uses the same AppID")
    cache = paths.cache_db(profile.appid)
    if cache.exists():
        outcome.messages.append(f"The account's cache remains at {cache}")
    return outcome


@dataclass
class AccountTest:
    ok: bool
    message: str  # one line for the user: what happened
    hint: str = ""  # what to do about it
    errcode: int | None = None
    tags: int | None = None
    token_source: str = ""
    secret_source: str = ""  # where the AppSecret came from ("keyring", "env ...", ...)


async def run_account_test(profile: Profile, *, transport=None, token_transport=None,
                           secret: str | None = None, secret_source: str = "given",
                           **client_kwargs: Any) -> AccountTest:
    """One real call with the account's credentials (its family says which), explained when it
    fails. Without `secret`, the secret is resolved as a client would (never prompting)."""
    from wxtui.family import family_for

    return await family_for(profile).account_test(
        profile, transport=transport, token_transport=token_transport, secret=secret,
        secret_source=secret_source, **client_kwargs)
