"""A faithful, in-memory emulator of the WeChat Official Account API (an ASGI app).

    from wxtui.families.wechat.emulator import Emulator
    emu = Emulator.demo(followers=10_000, seed=1)
    async with httpx.AsyncClient(transport=emu.transport(), base_url="https://api.weixin.qq.com") as c:
        ...

The names below load on first use, so `wxtui --help` (which imports wxtui.emulation.commands)
does not pay for Starlette.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import Emulator
    from wxtui.emulation.failure import ApiFailure
    from wxtui.emulation.faults import Clock, Faults, Stats
    from .state import Account

_WHERE = {"Emulator": ".app", "ApiFailure": "wxtui.emulation.failure", "Clock": "wxtui.emulation.faults",
          "Faults": "wxtui.emulation.faults", "Stats": "wxtui.emulation.faults", "Account": ".state"}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
