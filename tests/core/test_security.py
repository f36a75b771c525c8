"""No AppSecret and no access token anywhere: files, logs, screens, errors.

A full flow on the emulator (add the account, sync into the cache, tag, blacklist, a refused
token, an error), with logging at DEBUG into a file, then a scan of everything that was written or
shown for the secret and every token the client used: zero hits.
"""

from __future__ import annotations

import io
import logging
import os
import stat
import sys
import traceback

import httpx
import pytest
from rich.console import Console
from rich.traceback import Traceback

from conftest import FAST_RETRY
from wxtui.core import paths
from wxtui.families.wechat.accounts import build_client
from wxtui.core.accounts import run_account_test
from wxtui.cli.main import main
from wxtui.core.config import load_config
from wxtui.cli.doctor import run_doctor
from wxtui.families.wechat.errors import BadOpenidError


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the emulator and remembers every access token and secret sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner
        self.tokens: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("access_token")
        if token:
            self.tokens.add(token)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def needles(secret: str, tokens: set[str]) -> dict[str, str]:
    """What must never appear: the values, and long prefixes (a shortened repr is still a leak)."""
    found = {"secret": secret, "secret prefix": secret[:12]}
    for i, token in enumerate(sorted(tokens)):
        found[f"token {i}"] = token
        found[f"token {i} prefix"] = token[:16]
    return found


def scan(texts: dict[str, bytes], forbidden: dict[str, str]) -> list[str]:
    hits = []
    for where, blob in texts.items():
        for what, value in forbidden.items():
            if value.encode() in blob:
                hits.append(f"{what} in {where}")
    return hits


def files_under(root) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def debug_log_file():
    """Everything logged at DEBUG (httpx logs each request URL) into the app's log folder."""
    path = paths.log_dir() / "wxtui.log"
    paths.create_private_file(path)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    root.setLevel(previous)
    handler.close()


def render_traceback(exc: BaseException, width: int = 140) -> tuple[str, str]:
    """A traceback as the crash screen shows it (rich, with locals): plain text and SVG."""
    console = Console(record=True, width=width, file=io.StringIO(), color_system="truecolor")
    console.print(Traceback.from_exception(type(exc), exc, exc.__traceback__, show_locals=True,
                                           locals_max_string=80, width=width))
    return console.export_text(clear=False), console.export_svg(title="wxtui error")


async def sync_into_store(client, store) -> int:
    """The account into its cache, as `wxtui sync` does it."""
    from wxtui.families.wechat.sync import Sync

    result = await Sync(client, store).run()
    assert result.ok, result.message
    return result.followers


async def failing_call(call, *args) -> BaseException:
    """The error a client call raises, logged with its traceback the way the app logs a failure.

    Caught here, so the traceback holds the client's frames and not the test's (whose locals
    hold the secret on purpose)."""
    try:
        await call(*args)
    except Exception as exc:
        logging.getLogger("wxtui.test").exception("the call failed")
        return exc
    raise AssertionError("the call should have failed")


async def test_a_full_flow_leaves_no_secret_and_no_token_anywhere(emu, memory_keyring, debug_log_file,
                                                                  monkeypatch, capsys, private_home, tmp_path):
    from wxtui.store import Store

    appid, secret = emu.account.appid, emu.account.secret
    shown: dict[str, bytes] = {}  # what reached a screen: command output, messages, rendered errors

    # The account, added as a script would.
    monkeypatch.setattr(sys, "stdin", io.StringIO(secret + "\n"))
    assert main(["account", "add", "acme", "--appid", appid, "--secret-stdin"]) == 0
    assert main(["account", "list"]) == 0
    out, err = capsys.readouterr()
    shown["account add/list output"] = (out + err).encode()
    profile = load_config().require("acme")

    recorder = RecordingTransport(emu.transport())
    client = build_client(profile, transport=recorder, retry=FAST_RETRY)
    store = Store.open(paths.cache_db(appid))
    errors: list[BaseException] = []
    async with client:
        synced = await sync_into_store(client, store)
        assert synced == store.follower_count() > 0

        tag = await client.create_tag("安全检查")
        store.apply_tag_created(tag)
        members = emu.account.follower_openids()[:60]
        await client.batch_tag(tag.id, members[:50])
        store.apply_tagged(tag.id, members[:50])
        await client.batch_blacklist(members[50:53])
        store.apply_blacklisted(members[50:53])

        emu.invalidate_tokens()  # the next call is refused, the client fetches a new token
        await client.get_tags()

        errors.append(await failing_call(client.batch_tag, tag.id, members[:10] + ["o" + "x" * 27]))
        assert isinstance(errors[-1], BadOpenidError)

    emu.account.ip_whitelist = {"203.0.113.1"}
    refused = await run_account_test(profile, transport=recorder, retry=FAST_RETRY)
    assert not refused.ok and refused.errcode == 40164
    shown["account test message"] = f"{refused.message}\n{refused.hint}".encode()
    emu.account.ip_whitelist = None
    report = await run_doctor([profile], config=load_config(), transport=recorder, timeout=5)
    shown["doctor report"] = report.render().encode()
    store.close()

    assert len(recorder.tokens) >= 2, "the flow should have used (and rotated) tokens"
    for exc in errors:
        text, svg = render_traceback(exc)
        assert "BadOpenidError" in text and "_attempts" in text and "locals" in text  # the rendering is real
        screenshots = tmp_path / "screenshots"
        screenshots.mkdir(exist_ok=True)
        (screenshots / "error.svg").write_text(svg, "utf-8")
        shown["rich traceback with locals"] = text.encode()
        shown["traceback.format_exception"] = "".join(traceback.format_exception(exc)).encode()
        shown["str and repr of the error"] = f"{exc}\n{exc!r}\n{exc.__dict__!r}".encode()
    shown.update(files_under(tmp_path / "screenshots"))

    written = files_under(private_home)
    cache_files = [p for p in written if p.startswith(str(paths.cache_db(appid)))]
    assert cache_files and b"followers" in written[str(paths.cache_db(appid))]
    assert str(debug_log_file) in written and b"HTTP Request" in written[str(debug_log_file)]
    assert b"the call failed" in written[str(debug_log_file)] and b"Traceback" in written[str(debug_log_file)]

    forbidden = needles(secret, recorder.tokens)
    # The scan can fail: the raw values are found where they are known to be.
    assert scan({"control": ("x" + secret + next(iter(recorder.tokens))).encode()}, forbidden)
    assert scan({**written, **shown}, forbidden) == []
    assert memory_keyring.entries == {("wxtui", appid): secret}  # and it is in the keyring only


def test_config_and_cache_files_are_private(memory_keyring, monkeypatch, capsys):
    from wxtui.store import Store

    monkeypatch.setattr(sys, "stdin", io.StringIO("s" * 32))
    assert main(["account", "add", "acme", "--appid", "wx0123456789abcdef", "--secret-stdin"]) == 0
    store = Store.open(paths.cache_db("wx0123456789abcdef"))
    store.close()
    for path in (paths.config_file(), paths.cache_db("wx0123456789abcdef")):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_a_long_token_stays_hidden_when_rich_shortens_it():
    import secrets as stdlib_secrets

    from wxtui.core.secret_str import SecretStr

    token = SecretStr(stdlib_secrets.token_urlsafe(96))  # 128 characters, as the platform's

    def fails(access_token=token):
        raise RuntimeError("boom")

    try:
        fails()
    except RuntimeError as exc:
        text, _ = render_traceback(exc)
    assert "access_token = '***'" in text
    assert token[:16].reveal() not in text


async def test_the_app_screens_show_no_secret_or_token(emu, memory_keyring):
    """Screenshots of the app on a configured account: after a sync, and after a refused call."""
    import contextlib

    from wxtui.core.config import new_profile
    from wxtui.core.session import Session
    from wxtui.store import Store
    from wxtui.ui.app import WxtuiApp

    appid, secret = emu.account.appid, emu.account.secret
    memory_keyring.entries[("wxtui", appid)] = secret
    profile = new_profile("acme", appid)
    recorder = RecordingTransport(emu.transport())
    client = build_client(profile, transport=recorder, retry=FAST_RETRY)
    store = Store.open(paths.cache_db(appid))
    screenshots: dict[str, bytes] = {}
    async with client:
        await sync_into_store(client, store)

        @contextlib.asynccontextmanager
        async def open_account():
            yield Session(profile.name, appid, client, store, profile=profile, family=profile.family)

        app = WxtuiApp(open_account, sync_on_start=False)
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(50):
                await pilot.pause()
                if app.session is not None:
                    break
            await pilot.pause()
            screenshots["main screen"] = app.export_screenshot().encode()

        @contextlib.asynccontextmanager
        async def refused_account():
            emu.invalidate_tokens()
            emu.account.ip_whitelist = {"203.0.113.1"}
            await client.get_tags()  # refused: 40001, a new token, then 40164
            yield None

        app = WxtuiApp(refused_account, sync_on_start=False)
        async with app.run_test(size=(100, 40), notifications=True) as pilot:
            for _ in range(50):
                await pilot.pause()
                if app._notifications:
                    break
            await pilot.pause()
            screenshots["refused account"] = app.export_screenshot().encode()
    store.close()

    assert "Followers".encode() in screenshots["main screen"]  # the account's screen, with data
    assert b"40164" in screenshots["refused account"]  # the error is on screen, explained
    assert recorder.tokens, "the app's session should have used a token"
    assert scan(screenshots, needles(secret, recorder.tokens)) == []
