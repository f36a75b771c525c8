"""Every token source against the emulator, including a central token service that rotates."""

from __future__ import annotations

import json
import sys

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from conftest import FAST_RETRY
from wxtui.families.wechat.accounts import build_client, token_env_for
from wxtui.core.config import new_profile
from wxtui.families.wechat import limits
from wxtui.families.wechat.errors import TokenError
from wxtui.families.wechat.token_sources import TokenSourceError, parse_token_answer

PY = sys.executable


class CentralTokenService:
    """A company's token service: the only holder of the AppSecret, it hands the current token to
    every program using the account and rotates it (stable_token with force_refresh)."""

    def __init__(self, emu):
        self.emu = emu
        self.token = ""
        self.served = 0
        self.status = 200
        self.app = Starlette(routes=[Route("/wechat/{appid}/token", self.answer)])

    async def _stable(self, force: bool) -> str:
        acct = self.emu.account
        async with httpx.AsyncClient(transport=self.emu.transport(), base_url=limits.DEFAULT_HOST) as http:
            r = await http.post("/cgi-bin/stable_token", json={
                "grant_type": "client_credential", "appid": acct.appid, "secret": acct.secret,
                "force_refresh": force})
        return r.json()["access_token"]

    async def start(self) -> None:
        self.token = await self._stable(False)

    async def rotate(self) -> None:
        self.token = await self._stable(True)  # kills the previous token at once

    async def answer(self, request):
        if self.status != 200:
            return PlainTextResponse("down", status_code=self.status)
        if request.path_params["appid"] != self.emu.account.appid:
            return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
        self.served += 1
        return JSONResponse({"access_token": self.token, "expires_in": 7000})

    def transport(self):
        return httpx.ASGITransport(app=self.app)


def token_file_command(path) -> list[str]:
    """A command printing the token kept in a file (the file is what the 'service' rotates)."""
    return [PY, "-c", f"import sys; sys.stdout.write(open({str(path)!r}).read())"]


async def mint_stable(emu, force: bool = False) -> str:
    service = CentralTokenService(emu)
    return await service._stable(force)


# -- stable and classic ---------------------------------------------------------------------------


async def test_stable_source_is_the_default_and_leaves_other_tokens_alive(emu):
    profile = new_profile("acme", emu.account.appid)
    assert profile.token_source == "stable"
    other_system = await mint_stable(emu)  # a production backend of the same account
    async with build_client(profile, transport=emu.transport(), secret=emu.account.secret, retry=FAST_RETRY) as c:
        assert len(await c.get_tags()) > 0
        assert await c.access_token() == other_system  # the same stable token, nothing rotated
        assert c.stats.token_fetches == 1
    assert emu.stats.calls["/cgi-bin/token"] == 0


async def test_classic_source_works_and_kills_the_previous_classic_token(emu):
    profile = new_profile("acme", emu.account.appid, token_source="classic")
    async with httpx.AsyncClient(transport=emu.transport(), base_url=limits.DEFAULT_HOST) as http:
        r = await http.get("/cgi-bin/token", params={"grant_type": "client_credential",
                                                     "appid": emu.account.appid, "secret": emu.account.secret})
        production_token = r.json()["access_token"]
        async with build_client(profile, transport=emu.transport(), secret=emu.account.secret,
                                retry=FAST_RETRY) as c:
            assert len(await c.get_tags()) > 0
        emu.clock.advance(limits.TOKEN_GRACE_S + 1)
        r = await http.get("/cgi-bin/tags/get", params={"access_token": production_token})
    assert r.json()["errcode"] == 40001  # what the warning is about
    assert emu.stats.calls["/cgi-bin/token"] == 2


def test_classic_source_logs_the_warning(emu, caplog):
    profile = new_profile("acme", emu.account.appid, token_source="classic")
    with caplog.at_level("WARNING", logger="wxtui.families.wechat.accounts"):
        build_client(profile, secret="x" * 32)
    assert "kills the token of any other system" in caplog.text


async def test_the_secret_is_resolved_lazily_at_the_first_fetch(emu, memory_keyring):
    profile = new_profile("acme", emu.account.appid)
    client = build_client(profile, transport=emu.transport(), retry=FAST_RETRY)
    # Built before the secret exists anywhere: nothing was looked up yet.
    memory_keyring.entries[("wxtui", emu.account.appid)] = emu.account.secret
    async with client:
        assert len(await client.get_tags()) > 0


# -- central service: URL and command -------------------------------------------------------------


async def test_url_source_follows_a_central_service_that_rotates_the_token(emu):
    service = CentralTokenService(emu)
    await service.start()
    profile = new_profile("acme", emu.account.appid, token_source="url",
                          token_url="https://tokens.corp.example/wechat/{appid}/token")
    assert not profile.needs_secret
    async with build_client(profile, transport=emu.transport(), token_transport=service.transport(),
                            retry=FAST_RETRY) as c:
        first = await c.get_tags()
        assert service.served == 1
        await service.rotate()
        second = await c.get_tags()  # 40001 with the old token, then the new one from the service
        assert [t.id for t in second] == [t.id for t in first]
        assert service.served == 2 and c.stats.token_fetches == 2
        assert await c.access_token() == service.token
    assert emu.stats.errcodes["/cgi-bin/tags/get"][40001] == 1
    assert emu.stats.calls["/cgi-bin/stable_token"] == 2  # only the service fetched tokens


async def test_url_source_errors_are_explained(emu):
    service = CentralTokenService(emu)
    await service.start()
    profile = new_profile("acme", "wx0000000000000000", token_source="url",
                          token_url="https://svc:hunter2@tokens.corp.example/wechat/{appid}/token?key=hunter3")
    async with build_client(profile, transport=emu.transport(), token_transport=service.transport(),
                            retry=FAST_RETRY) as c:
        with pytest.raises(TokenSourceError) as info:
            await c.get_tags()
    assert "passed on WeChat's refusal" in str(info.value) and "40013" in str(info.value)
    assert "hunter2" not in str(info.value) and "hunter3" not in str(info.value)
    assert "https://tokens.corp.example/wechat/" in str(info.value)
    service.status = 502
    profile = new_profile("acme", emu.account.appid, token_source="url",
                          token_url="https://tokens.corp.example/wechat/{appid}/token")
    async with build_client(profile, transport=emu.transport(), token_transport=service.transport(),
                            retry=FAST_RETRY) as c:
        with pytest.raises(TokenSourceError, match="answered HTTP 502"):
            await c.get_tags()


async def test_command_source_follows_rotation_through_a_file(emu, tmp_path):
    token_file = tmp_path / "token.json"
    token_file.write_text(json.dumps({"access_token": await mint_stable(emu), "expires_in": 7200}))
    profile = new_profile("acme", emu.account.appid, token_source="command",
                          token_command=token_file_command(token_file))
    async with build_client(profile, transport=emu.transport(), retry=FAST_RETRY) as c:
        await c.get_tags()
        token_file.write_text(await mint_stable(emu, force=True) + "\n")  # plain text works too
        await c.get_tags()
        assert c.stats.token_fetches == 2
    assert emu.stats.errcodes["/cgi-bin/tags/get"][40001] == 1


async def test_command_source_failures_are_clear(emu, tmp_path):
    script = tmp_path / "t.py"
    script.write_text("import sys\nprint('service says no', file=sys.stderr)\nsys.exit(2)\n")
    profile = new_profile("acme", emu.account.appid, token_source="command", token_command=[PY, str(script)])
    async with build_client(profile, transport=emu.transport(), retry=FAST_RETRY) as c:
        with pytest.raises(TokenSourceError, match="exited with status 2: service says no"):
            await c.get_tags()
    profile = new_profile("acme", emu.account.appid, token_source="command",
                          token_command="no-such-token-command-here")
    async with build_client(profile, transport=emu.transport(), retry=FAST_RETRY) as c:
        with pytest.raises(TokenSourceError, match="was not found"):
            await c.get_tags()


async def test_a_command_that_keeps_handing_out_a_dead_token_fails_after_one_refetch(emu, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(await mint_stable(emu))
    await mint_stable(emu, force=True)  # the file's token is dead and the service never notices
    profile = new_profile("acme", emu.account.appid, token_source="command",
                          token_command=token_file_command(token_file))
    async with build_client(profile, transport=emu.transport(), retry=FAST_RETRY) as c:
        with pytest.raises(TokenError):
            await c.get_tags()
        assert c.stats.token_fetches == 2  # refetched once, never looped


# -- third-party authorizer token -----------------------------------------------------------------


async def test_authorizer_token_from_the_environment_then_the_refresh_command(emu, tmp_path, monkeypatch):
    appid = emu.account.appid
    monkeypatch.setenv(token_env_for(appid), await mint_stable(emu))
    refreshed = tmp_path / "renewed"
    profile = new_profile("acme", appid, token_source="authorizer",
                          refresh_command=token_file_command(refreshed))
    async with build_client(profile, transport=emu.transport(), retry=FAST_RETRY) as c:
        await c.get_tags()
        assert not refreshed.exists()  # the handed-over token was enough
        refreshed.write_text(json.dumps({"authorizer_access_token": await mint_stable(emu, force=True),
                                         "expires_in": 7200}))
        await c.get_tags()
        assert c.stats.token_fetches == 2


async def test_authorizer_token_without_refresh_command_says_so_when_refused(emu, monkeypatch):
    appid = emu.account.appid
    monkeypatch.setenv(token_env_for(appid), "dead-token-" + "x" * 20)
    profile = new_profile("acme", appid, token_source="authorizer")
    async with build_client(profile, transport=emu.transport(), retry=FAST_RETRY) as c:
        with pytest.raises(TokenSourceError, match="no refresh_command"):
            await c.get_tags()


def test_authorizer_needs_a_token_or_a_refresh_command(emu):
    from wxtui.core.config import ConfigError

    profile = new_profile("acme", emu.account.appid, token_source="authorizer")
    with pytest.raises(ConfigError, match="refresh_command"):
        build_client(profile)


# -- parsing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, expires", [
    (b'{"access_token": "abc", "expires_in": 300}', 300),
    (b'{"access_token": "abc", "expires_in": "300"}', 300),
    (b"abc\n", 7200),
    (b"  abc  \nsecond line ignored\n", 7200),
])
def test_token_answers_that_are_understood(raw, expires):
    value, expires_in = parse_token_answer(raw, "test")
    assert (value, expires_in) == ("abc", expires)
    assert repr(value) == "'***'"


@pytest.mark.parametrize("raw, message", [
    (b"", "empty answer"),
    (b"{not json", "cannot be parsed"),
    (b'{"token": "abc"}', "without access_token"),
    (b'{"access_token": "abc", "expires_in": -5}', "positive number"),
    (b'{"errcode": 40164, "errmsg": "invalid ip 1.2.3.4, not in whitelist"}', "whitelist"),
    ("a b".encode(), "not an access token"),
    (b"x" * 600, "not an access token"),
])
def test_token_answers_that_are_refused(raw, message):
    with pytest.raises(TokenSourceError, match=message):
        parse_token_answer(raw, "test")
