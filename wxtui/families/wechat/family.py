"""WeChat Official Accounts as a wxtui family: followers by openid, tags, the blacklist, quotas."""

from __future__ import annotations

import contextlib
import re
from typing import Any, AsyncIterator, Iterable

from wxtui.family import Capabilities, Column, Family, Nouns, ProfileOption


class WeChatFamily(Family):
    key = "wechat"
    title = "WeChat Official Account"
    secret_name = "AppSecret"
    nouns = Nouns("follower", "followers", "openid", "openids", "WeChat")
    capabilities = Capabilities(blacklist=True, rename_tag=True, delete_tag=True, quota=True,
                                remarks=True, statistics=True)
    reserved_tags = frozenset({0, 1, 2})  # wxtui.families.wechat.limits.RESERVED_TAG_IDS
    star_tag = 2
    max_tags = 100

    @property
    def options(self) -> tuple[ProfileOption, ...]:
        from wxtui.core.config import TOKEN_SOURCES

        return (
            ProfileOption("appid", "the AppID (wx followed by 16 characters)"),
            ProfileOption("token_source", "where access tokens come from (default: stable; classic "
                          "invalidates the token of any other system using the account)",
                          choices=TOKEN_SOURCES),
            ProfileOption("token_command", "token source 'command': prints the token", metavar="CMD"),
            ProfileOption("token_url", "token source 'url': answers the token ({appid} is replaced)",
                          metavar="URL"),
            ProfileOption("refresh_command", "token source 'authorizer': prints a renewed "
                          "authorizer_access_token", metavar="CMD"),
            ProfileOption("secret_env", "the variable holding the AppSecret (default WXTUI_SECRET_<APPID>)",
                          metavar="VAR"),
        )

    # -- profiles ---------------------------------------------------------------------------

    def complete_fields(self, fields: dict[str, Any]) -> None:
        """Nothing is derived: a WeChat profile names its AppID."""

    def validate_profile(self, profile):
        from wxtui.core.config import TOKEN_SOURCES, ConfigError, check_appid, check_host
        from wxtui.families.wechat import limits

        where = f"account {profile.name!r}"
        check_appid(profile.appid, where)
        if not profile.hosts:
            profile.hosts = [limits.DEFAULT_HOST, limits.BACKUP_HOST]
        if profile.token_source not in TOKEN_SOURCES:
            raise ConfigError(f"{where}: token_source {profile.token_source!r} is not one of "
                              f"{', '.join(TOKEN_SOURCES)}")
        if profile.token_source == "command" and not profile.token_command:
            raise ConfigError(f"{where}: token_source \"command\" needs token_command")
        if profile.token_source == "url":
            if not profile.token_url:
                raise ConfigError(f"{where}: token_source \"url\" needs token_url")
            check_host(profile.token_url, where, what="token_url")
        if profile.secret_env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", profile.secret_env):
            raise ConfigError(f"{where}: secret_env {profile.secret_env!r} is not a variable name")
        for key in ("sdkappid", "identifier", "region"):
            if getattr(profile, key) is not None:
                raise ConfigError(f"{where}: {key} is an option of Tencent Cloud IM accounts (kind \"tim\")")
        return profile

    def needs_secret(self, profile) -> bool:
        return profile.token_source in ("stable", "classic")

    # -- sessions and the engine ------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def open_session(self, profile, *, demo=None, store_path=None,
                           max_in_flight: int | None = None) -> AsyncIterator:
        from wxtui.core import paths
        from wxtui.core.session import Session, demo_store_path, open_store
        from wxtui.families.wechat.accounts import build_client
        from wxtui.families.wechat.client import WeChatClient

        kwargs = {"max_in_flight": max_in_flight} if max_in_flight else {}
        if demo is not None:
            acct = demo.account
            client = WeChatClient.with_secret(acct.appid, acct.secret, transport=demo.transport(), **kwargs)
            label, key = acct.name, acct.appid
            store = open_store(store_path or demo_store_path(key), fresh=store_path is None)
        else:
            client = build_client(profile, **kwargs)
            label, key = profile.name, profile.appid
            store = open_store(store_path or paths.cache_db(key), fresh=False)
        try:
            yield Session(label, key, client, store, emulator=demo, profile=profile, family=self)
        finally:
            await client.aclose()
            store.close()

    def operations(self):
        from wxtui.families.wechat.operations import WeChatOperations

        return WeChatOperations()

    def planner(self, store, client, **options):
        from wxtui.families.wechat.planner import Planner

        return Planner(store, client, **options)

    async def sync(self, client, store, on_event=None):
        from wxtui.families.wechat.sync import Sync

        return await Sync(client, store, on_event=on_event).run()

    async def read_member_card(self, client, store, journal, member_id: str):
        from wxtui.families.wechat.member_card import read_follower

        return await read_follower(client, store, journal, member_id)

    def open_kept_demo(self, members: int, seed: int, *, fresh: bool = False):
        from wxtui.families.wechat.kept_demo import open_kept_demo

        return open_kept_demo(members, seed, fresh=fresh)

    def parse_ids(self, lines: Iterable[str]):
        from wxtui.families.wechat.planner import openid_lines

        return openid_lines(lines)

    def id_help(self) -> str:
        return "not an openid (28 characters of A-Z a-z 0-9 _ -)"

    def describe_code(self, code: int):
        from wxtui.families.wechat.errors import describe

        return describe(code)

    async def quota(self, client) -> dict[str, dict]:
        path = "/cgi-bin/tags/members/batchtagging"
        quota = await client.get_quota(path)
        return {path: {"daily_limit": quota.daily_limit, "remain": quota.remain, "needed": 0}}

    # -- around the account -----------------------------------------------------------------

    async def account_test(self, profile, **kwargs):
        from wxtui.families.wechat.accounts import account_test

        return await account_test(profile, **kwargs)

    async def doctor(self, profile, **kwargs):
        from wxtui.families.wechat.doctor import check_account

        return await check_account(profile, **kwargs)

    def demo_emulator(self, *, members: int | None = None, seed: int = 1, slow: bool = False):
        from wxtui.core.session import DEMO_FOLLOWERS, slow_faults
        from wxtui.families.wechat.emulator import Emulator

        emulator = Emulator.demo(followers=DEMO_FOLLOWERS if members is None else members, seed=seed)
        if slow:
            slow_faults(emulator)
        return emulator

    def demo_profile(self, *, members: int = 1000, seed: int = 1):
        """A profile of a demo account, the transport reaching its emulator, and its secret."""
        from wxtui.core.config import new_profile

        emulator = self.demo_emulator(members=members, seed=seed)
        acct = emulator.account
        return new_profile("demo", acct.appid), emulator.transport(), acct.secret

    def columns(self) -> tuple[Column, ...]:
        return (Column("openid", "openid", 28), Column("remark", "remark", 0), Column("tags", "tags", 0),
                Column("followed", "followed", 10), Column("scene", "scene", 12))

    def register_commands(self, subparsers) -> None:
        from wxtui.families.wechat.emulator import command

        command.register(subparsers)


FAMILY = WeChatFamily()
