"""Shared fixtures: an emulator, a client on it, a private WXTUI_HOME.

Add fixtures here only when several test modules need them.
"""

from __future__ import annotations

import pytest

from wxtui.core.transport import RetryPolicy

# Retries in tests: the same rules, shorter waits.
FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01, minute_wait_s=0.001, timeout_s=5.0)


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    """Every test gets its own config/data/log folders; nothing touches the real home."""
    home = tmp_path / "wxtui-home"
    monkeypatch.setenv("WXTUI_HOME", str(home))
    return home


@pytest.fixture
def emu():
    from wxtui.families.wechat.emulator import Emulator

    return Emulator.demo(followers=300, seed=7)


@pytest.fixture
async def client(emu):
    from wxtui.families.wechat.client import WeChatClient

    async with WeChatClient.with_secret(
        emu.account.appid, emu.account.secret, transport=emu.transport(), retry=FAST_RETRY, seed=1
    ) as c:
        yield c


# -- keyrings (wxtui.core.secrets) -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_secret_state():
    """wxtui.core.secrets caches the keyring probe and the secrets found in this process: start clean."""
    import sys

    secrets = sys.modules.get("wxtui.core.secrets")
    if secrets is not None:
        secrets.reset_keyring_probe()
        secrets.forget_session_secret()
    yield


def _install_keyring(backend):
    import keyring

    from wxtui.core import secrets

    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    secrets.reset_keyring_probe()
    secrets.forget_session_secret()
    return previous


def _restore_keyring(previous):
    import keyring

    from wxtui.core import secrets

    keyring.set_keyring(previous)
    secrets.reset_keyring_probe()
    secrets.forget_session_secret()


@pytest.fixture
def memory_keyring():
    """An in-memory keyring backend (a dict: (service, username) -> password), installed for one test."""
    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordDeleteError

    class MemoryKeyring(KeyringBackend):
        priority = 1

        def __init__(self):
            super().__init__()
            self.entries: dict[tuple[str, str], str] = {}

        def get_password(self, service, username):
            return self.entries.get((service, username))

        def set_password(self, service, username, password):
            self.entries[(service, username)] = password

        def delete_password(self, service, username):
            if self.entries.pop((service, username), None) is None:
                raise PasswordDeleteError("no such entry")

    backend = MemoryKeyring()
    previous = _install_keyring(backend)
    yield backend
    _restore_keyring(previous)


@pytest.fixture
def failing_keyring(monkeypatch):
    """The headless server: PYTHON_KEYRING_BACKEND names keyring's fail backend."""
    import keyring.core

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    backend = keyring.core.load_env()
    assert type(backend).__module__ == "keyring.backends.fail"
    previous = _install_keyring(backend)
    yield backend
    _restore_keyring(previous)


@pytest.fixture
def served_emu(emu):
    """The emulator on a loopback port, served from its own thread (the CLI runs asyncio.run)."""
    import asyncio
    import threading

    from wxtui.emulation.server import serving

    box: dict = {}
    started = threading.Event()

    def run():
        async def serve():
            async with serving(emu) as url:
                box["url"] = url
                started.set()
                while not box.get("stop"):
                    await asyncio.sleep(0.02)

        asyncio.run(serve())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10), "the emulator did not start"
    yield box["url"]
    box["stop"] = True
    thread.join(5)
