"""The Family interface: what wxtui needs from an API family, and the registry of families.

A family (WeChat Official Accounts, Tencent Cloud IM) lives in its own package under
wxtui/families/ and hands the rest of wxtui one object that says what its members are called,
what it can do, which profile options it takes, and how to open a session, plan and run bulk
actions, sync, read ids, diagnose a profile and build a demo. The command line, the app and the
engine ask the session's family instead of asking which family it is:

    family = family_for(profile)            # or session.family
    if not family.capabilities.blacklist: ...
    async with family.open_session(profile) as session: ...

Families are found by key in `FAMILIES` and imported on first use, so `wxtui --help` loads none
of them, and nothing here imports a family: the arrows run from the families to this module.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, AsyncContextManager, Callable, Iterable, Sequence

# wxtui.core's Profile, Session and ErrorInfo, named for the reader only: the core reads this
# registry (a profile's kind is a family's key), so importing them here would tie a circle.
Profile = Session = ErrorInfo = Any

# key -> "module:attribute" of the family object (the plugin registry).
FAMILIES: dict[str, str] = {
    "wechat": "wxtui.families.wechat.family:FAMILY",
    "tim": "wxtui.families.tim.family:FAMILY",
}
DEFAULT_FAMILY = "wechat"


@dataclass(frozen=True)
class Nouns:
    """What a family's people and their ids are called, as the screens and messages say it."""

    member: str  # "follower"
    members: str  # "followers"
    member_id: str  # "openid"
    member_ids: str  # "openids"
    service: str  # "WeChat"

    def count(self, n: int) -> str:
        """'1 follower', '12 followers'."""
        return f"{n:,} {self.member if n == 1 else self.members}"


@dataclass(frozen=True)
class Capabilities:
    """What a family's API can do beyond tagging; the verbs and bindings it lacks are hidden."""

    blacklist: bool = False
    rename_tag: bool = False
    delete_tag: bool = False
    quota: bool = False  # a daily quota the API reports (quota/get)
    remarks: bool = False
    statistics: bool = False  # followed date, subscribe scene, language
    free_tags: bool = False  # a tag is text on each member, made by using it (nothing to create first)


@dataclass(frozen=True)
class ProfileOption:
    """One setting of a family's account profile: a key of its [accounts.NAME] table and the
    flag of `wxtui account add` that sets it. The family validates the value."""

    name: str  # the profile's field: "sdkappid"
    help: str
    type: Callable[[str], Any] = str
    metavar: str | None = None
    choices: Sequence[str] | None = None
    default: Any = None  # None: not set unless given

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Column:
    """One column of the member table: a MemberRow attribute, its heading and its width."""

    key: str
    label: str
    width: int


class Family:
    """The interface every API family implements (one instance per family, stateless)."""

    key: str = ""
    title: str = ""  # "WeChat Official Account"
    secret_name: str = "secret"  # what the secret in the keyring is called: "AppSecret"
    nouns: Nouns
    capabilities: Capabilities = Capabilities()
    options: tuple[ProfileOption, ...] = ()
    # Tags the service keeps for itself (they cannot be renamed, deleted or put on anyone), the
    # one shown as a star, and how many tags an account may have (None: no limit).
    reserved_tags: frozenset[int] = frozenset()
    star_tag: int | None = None
    max_tags: int | None = None
    max_tag_bytes: int = 30  # a tag name's length limit, in bytes of UTF-8

    # -- profiles ---------------------------------------------------------------------------

    def validate_profile(self, profile: "Profile") -> "Profile":
        """The profile itself when the family can use it, else ConfigError naming what is wrong."""
        raise NotImplementedError

    def complete_fields(self, fields: dict[str, Any]) -> None:
        """Fill in what the family derives from a profile's options (defaults, the key)."""

    def needs_secret(self, profile: "Profile") -> bool:
        """Whether the account's calls need a secret from the keyring."""
        return True

    def account_key(self, profile_fields: dict[str, Any]) -> str | None:
        """The key an account goes by (its cache file, its keyring entry), from its options."""
        return profile_fields.get("appid")

    def derived_fields(self) -> frozenset[str]:
        """Profile fields the family derives from its options, not written to the config file."""
        return frozenset()

    # -- sessions and the engine ------------------------------------------------------------

    def open_session(self, profile: "Profile | None", *, demo: Any = None, store_path=None,
                     max_in_flight: int | None = None) -> AsyncContextManager["Session"]:
        """A ready session on a configured account, or (demo given: an emulator built by
        `demo_emulator`) on that in-process emulator with a fresh cache."""
        raise NotImplementedError

    def operations(self):
        """The family's wxtui.jobs.operations.OperationTable (its calls, outcomes and undo)."""
        raise NotImplementedError

    def planner(self, store, client, **options):
        """An object whose `await plan(intent)` turns a wxtui.jobs.intents intent into a Plan."""
        raise NotImplementedError

    async def sync(self, client, store, on_event: Callable | None = None):
        """Pull the account into the cache, reporting wxtui.core.syncing.SyncEvents to on_event;
        a wxtui.core.syncing.SyncResult."""
        raise NotImplementedError

    async def read_member_card(self, client: Any, store: Any, journal: Any, member_id: str):
        """One member's card (wxtui.core.member_card.FollowerCard): the cache's row, the tags the
        service says the member carries now (the cache corrected when it differs), the jobs that
        touched it; NotAFollower when nobody goes by that id."""
        raise NotImplementedError

    def open_kept_demo(self, members: int, seed: int, *, fresh: bool = False):
        """The app's demo as it was left (emulator state and cache kept between launches), or
        None when the family keeps no demo: its demo is then built anew at every launch."""
        return None

    def parse_ids(self, lines: Iterable[str]) -> tuple[list[str], list[tuple[int, str]]]:
        """Member ids from lines (blank lines and # comments skipped); the lines that are not
        ids, numbered from 1."""
        raise NotImplementedError

    def describe_code(self, code: int) -> "ErrorInfo":
        """The family's table entry for an error code."""
        raise NotImplementedError

    # -- around the account -----------------------------------------------------------------

    async def account_test(self, profile: "Profile", *, secret=None, secret_source: str = "given",
                           transport=None, token_transport=None, **client_kwargs):
        """One real call proving the credentials work (`wxtui account test`): a
        wxtui.core.accounts.AccountTest, explained when it fails."""
        raise NotImplementedError

    def id_help(self) -> str:
        """What a line that is not a member id is told: "not an openid (28 characters ...)"."""
        return f"not {self.nouns.member_id}"

    async def quota(self, client) -> dict[str, dict]:
        """Today's quota of the call bulk actions spend most, as plans report quotas ({} if none)."""
        return {}

    async def doctor(self, profile: "Profile", *, transport=None, token_transport=None, secret=None,
                     timeout: float = 10.0, allow_prompt: bool = False):
        """The account's section of `wxtui doctor` (a wxtui.core.diagnosis.Section); no secret
        is ever shown. `transport` reaches an emulator instead of the service."""
        raise NotImplementedError

    def demo_profile(self, *, members: int = 1000, seed: int = 1):
        """A demo account's profile, the transport reaching its emulator, and its secret."""
        raise NotImplementedError

    def demo_emulator(self, *, members: int | None = None, seed: int = 1, slow: bool = False):
        """An in-process emulator of the family's API holding a demo account."""
        raise NotImplementedError

    def columns(self) -> tuple[Column, ...]:
        """The member table's columns after the selection mark."""
        raise NotImplementedError

    def register_commands(self, subparsers) -> None:
        """Commands only this family has (its emulator, its import): none by default."""


_loaded: dict[str, Family] = {}


class UnknownFamily(ValueError):
    """A profile names a family this version does not know."""


def family(key: str) -> Family:
    """The family registered under `key` (imported on first use)."""
    found = _loaded.get(key)
    if found is None:
        where = FAMILIES.get(key)
        if where is None:
            raise UnknownFamily(f"{key!r} is not an API family this version knows "
                                f"(known: {', '.join(FAMILIES)})")
        module, _, attribute = where.partition(":")
        found = _loaded[key] = getattr(importlib.import_module(module), attribute)
    return found


def family_for(profile: "Profile") -> Family:
    return family(profile.kind)


def all_families() -> list[Family]:
    return [family(key) for key in FAMILIES]
