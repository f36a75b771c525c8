"""Tencent Cloud IM as a wxtui family: user tags on an app's accounts, by account id.

The service cannot list an app's accounts nor who carries a tag: the cache learns accounts from
an import (account_check) and their tags from im_get_tag, and a sync reads the tags of every
account the cache holds. It has no blacklist, no remarks, no daily quota (a rate instead).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, AsyncIterator, Iterable

from wxtui.family import Capabilities, Column, Family, Nouns, ProfileOption


def account_key(sdkappid: int) -> str:
    """The key a Tencent Cloud IM app goes by where wxtui keys accounts (cache, keyring)."""
    return f"tim{sdkappid}"


class TimFamily(Family):
    key = "tim"
    title = "Tencent Cloud IM app"
    secret_name = "secret key"
    nouns = Nouns("user", "users", "account id", "account ids", "Tencent Cloud IM")
    capabilities = Capabilities(free_tags=True)  # tags only, free text on each account
    max_tag_bytes = 50  # wxtui.families.tim.limits.MAX_TAG_BYTES

    @property
    def options(self) -> tuple[ProfileOption, ...]:
        from wxtui.cli.argtypes import int_arg
        from wxtui.families.tim.limits import DEFAULT_REGION, REGIONS

        return (
            ProfileOption("sdkappid", "the app's SDKAppID", type=int_arg(1, 2**32 - 1, "an SDKAppID"), metavar="N"),
            ProfileOption("identifier", "an app admin account (e.g. administrator)", metavar="ADMIN"),
            ProfileOption("region", f"the data centre (default {DEFAULT_REGION})", choices=tuple(REGIONS),
                          default=DEFAULT_REGION),
        )

    # -- profiles ---------------------------------------------------------------------------

    def complete_fields(self, fields: dict[str, Any]) -> None:
        from wxtui.families.tim.limits import DEFAULT_REGION

        fields.setdefault("region", DEFAULT_REGION)
        fields.pop("token_source", None)
        if isinstance(fields.get("sdkappid"), int):
            fields.setdefault("appid", account_key(fields["sdkappid"]))

    def account_key(self, fields: dict[str, Any]) -> str | None:
        sdkappid = fields.get("sdkappid")
        return account_key(sdkappid) if isinstance(sdkappid, int) else None

    def derived_fields(self) -> frozenset[str]:
        return frozenset({"appid", "token_source"})

    def validate_profile(self, profile):
        from wxtui.core.config import ConfigError
        from wxtui.families.tim.limits import REGIONS

        where = f"account {profile.name!r}"
        if isinstance(profile.sdkappid, bool) or not isinstance(profile.sdkappid, int) or profile.sdkappid <= 0:
            raise ConfigError(f"{where}: sdkappid must be the app's SDKAppID (a positive number), "
                              f"not {profile.sdkappid!r}")
        if profile.appid != account_key(profile.sdkappid):
            raise ConfigError(f"{where}: appid of a Tencent Cloud IM account is {account_key(profile.sdkappid)!r}")
        if not isinstance(profile.identifier, str) or not profile.identifier.strip():
            raise ConfigError(f"{where}: identifier (an app admin account) is missing")
        if profile.region not in REGIONS:
            raise ConfigError(f"{where}: region {profile.region!r} is not one of {', '.join(REGIONS)}")
        return profile

    def needs_secret(self, profile) -> bool:
        return True  # every call is signed with the app's secret key

    # -- sessions and the engine ------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def open_session(self, profile, *, demo=None, store_path=None,
                           max_in_flight: int | None = None) -> AsyncIterator:
        from wxtui.families.tim.session import open_tim_session

        kwargs = {"max_in_flight": max_in_flight} if max_in_flight else {}
        async with open_tim_session(profile, emulator=demo, store_path=store_path, family=self,
                                    **kwargs) as session:
            if demo is not None and session.store.follower_count() == 0:
                # The service cannot list an app's accounts: the demo's cache starts with the
                # emulator's (their tags come with the first sync), as an import would leave it.
                from wxtui.families.tim.cache import remember_accounts

                remember_accounts(session.store, {account: [] for account in demo.state.accounts()})
            yield session

    def operations(self):
        from wxtui.families.tim.operations import TimOperations

        return TimOperations()

    def planner(self, store, client, **options):
        from wxtui.families.tim.planner import TimPlanner

        return TimPlanner(store, client, **options)

    async def sync(self, client, store, on_event=None):
        """im_get_tag over every cached account (the service cannot list them)."""
        import asyncio

        from wxtui.core.syncing import DONE, FAILED, SyncEvent, SyncResult
        from wxtui.families.tim.sync import known_accounts, learn_tags

        started = time.monotonic()
        accounts = await asyncio.to_thread(known_accounts, store)

        def progress(done: int, total: int) -> None:
            if on_event is not None:
                elapsed = max(time.monotonic() - started, 1e-6)
                rate = done / elapsed
                eta = (total - done) / rate if rate and total > done else None
                on_event(SyncEvent("tags", done, total, client.stats.calls, rate, eta))

        failed = await learn_tags(client, store, accounts, progress=progress)
        tags = len(await asyncio.to_thread(store.tag_names))
        store.set_meta("sync.finished_at", str(time.time()))
        message = f"tags of {len(accounts) - len(failed):,} accounts read"
        if failed:
            message += f"; {len(failed):,} could not be read: {next(iter(failed.values()))}"
        return SyncResult(FAILED if failed else DONE, len(accounts), tags=tags, calls=client.stats.calls,
                          elapsed_s=time.monotonic() - started, message=message)

    async def read_member_card(self, client, store, journal, member_id: str):
        from wxtui.families.tim.member_card import read_account_card

        return await read_account_card(client, store, journal, member_id)

    def parse_ids(self, lines: Iterable[str]):
        from wxtui.families.tim.client import check_account
        from wxtui.core.errors import ValidationError

        ids: list[str] = []
        junk: list[tuple[int, str]] = []
        for number, raw in enumerate(lines, start=1):
            line = raw.strip().lstrip("\ufeff")
            if not line or line.startswith("#"):
                continue
            try:
                ids.append(check_account(line, "import"))
            except ValidationError:
                junk.append((number, raw.rstrip("\r\n")))
        return list(dict.fromkeys(ids)), junk

    def id_help(self) -> str:
        return "not an account id"

    def describe_code(self, code: int):
        from wxtui.families.tim.errors import describe

        return describe(code)

    async def quota(self, client) -> dict[str, dict]:
        return {}  # a rate (100 calls a second), not a daily quota

    # -- around the account -----------------------------------------------------------------

    async def account_test(self, profile, *, secret=None, secret_source: str = "given", transport=None,
                           **_ignored):
        from wxtui.core import secrets
        from wxtui.core.accounts import AccountTest
        from wxtui.families.tim.session import build_tim_client, check_tim_account

        try:
            if secret is None:
                resolved = await secrets.aresolve_secret(profile)
                secret, secret_source = resolved.value, resolved.source
        except secrets.SecretUnavailable as exc:
            first, _, rest = str(exc).partition("\n")
            return AccountTest(False, first, rest)
        key = secret.reveal() if hasattr(secret, "reveal") else secret
        async with build_tim_client(profile, secret=key, transport=transport) as client:
            ok, message = await check_tim_account(client)
        return AccountTest(ok, message, secret_source=secret_source, token_source="UserSig signed here")

    async def doctor(self, profile, *, transport=None, secret=None, timeout: float = 10.0,
                     allow_prompt: bool = False, **_ignored):
        """The secret key's source, and one account_check of the admin identifier."""
        import asyncio

        from wxtui.core import secrets
        from wxtui.core.diagnosis import FAIL, OK, Section
        from wxtui.core.transport import RetryPolicy
        from wxtui.families.tim.session import build_tim_client, check_tim_account

        section = Section(f"Account {profile.name} (Tencent Cloud IM {profile.sdkappid}, {profile.region})")
        section.add(OK, "signature", f"UserSig signed here for {profile.identifier}")
        if secret is None:
            try:
                resolved = await asyncio.to_thread(secrets.resolve_secret, profile, allow_prompt=allow_prompt)
            except secrets.SecretUnavailable as exc:
                first, _, rest = str(exc).partition("\n")
                section.add(FAIL, "secret", first, rest)
                return section
            secret = resolved.value
            section.add(OK, "secret", f"from {resolved.source}")
        else:
            section.add(OK, "secret", "given")
        key = secret.reveal() if hasattr(secret, "reveal") else secret
        retry = RetryPolicy(max_retries=1, base_delay=0.2, max_delay=1.0, transport_retries=1,
                            minute_waits=0, timeout_s=timeout)
        async with build_tim_client(profile, secret=key, transport=transport, retry=retry) as client:
            ok, message = await check_tim_account(client)
        section.add(OK if ok else FAIL, "account", message)
        return section

    def demo_emulator(self, *, members: int | None = None, seed: int = 1, slow: bool = False):
        from wxtui.core.session import slow_faults
        from wxtui.families.tim.emulator import TimEmulator

        emulator = TimEmulator.demo(accounts=10_000 if members is None else members, seed=seed)
        if slow:
            slow_faults(emulator)
        return emulator

    def demo_profile(self, *, members: int = 1000, seed: int = 1):
        """A profile of a demo app, the transport reaching its emulator, and its secret key."""
        from wxtui.core.config import new_profile

        emulator = self.demo_emulator(members=members, seed=seed)
        emulator.state.import_accounts([emulator.identifier])  # an app's admin is one of its accounts
        profile = new_profile("demo", account_key(emulator.sdkappid), kind="tim", sdkappid=emulator.sdkappid,
                              identifier=emulator.identifier, region=emulator.state.region)
        return profile, emulator.transport(), emulator.secret_key

    def columns(self) -> tuple[Column, ...]:
        return (Column("openid", "account id", 32), Column("tags", "tags", 0))

    def register_commands(self, subparsers) -> None:
        from wxtui.families.tim import cli
        from wxtui.families.tim.emulator import command

        cli.register(subparsers)
        command.register(subparsers)


FAMILY = TimFamily()
