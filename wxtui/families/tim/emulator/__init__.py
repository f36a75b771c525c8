"""A faithful, in-memory emulator of Tencent Cloud IM's user-tag REST calls (an ASGI app).

    from wxtui.families.tim.emulator import TimEmulator
    emu = TimEmulator.demo(accounts=10_000, seed=1)
    async with emu.client() as tim:          # a TimClient served in-process
        await tim.get_tags(["user000001"])

The names below load on first use, so `wxtui --help` (which registers the emulator's command
from this package) does not pay for Starlette.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import TimEmulator, TimStats
    from .state import TimState

_WHERE = {"TimEmulator": ".app", "TimStats": ".app", "TimState": ".state"}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
