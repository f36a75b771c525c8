"""Shared fixtures: an emulator, a client on it, a private WXTUI_HOME.

Add fixtures here only when several test modules need them.
"""

from __future__ import annotations

import pytest

from wxtui.wechat.transport import RetryPolicy

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
    from wxtui.emulator import Emulator

    return Emulator.demo(followers=300, seed=7)


@pytest.fixture
async def client(emu):
    from wxtui.wechat.client import WeChatClient

    async with WeChatClient.with_secret(
        emu.account.appid, emu.account.secret, transport=emu.transport(), retry=FAST_RETRY, seed=1
    ) as c:
        yield c
