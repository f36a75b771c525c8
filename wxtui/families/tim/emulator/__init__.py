"""A faithful, in-memory emulator of Tencent Cloud IM's user-tag REST calls (an ASGI app).

    from wxtui.tim.emulator import TimEmulator
    emu = TimEmulator.demo(accounts=10_000, seed=1)
    async with emu.client() as tim:          # a TimClient served in-process
        await tim.get_tags(["user000001"])
"""

from .app import TimEmulator, TimStats
from .state import TimState

__all__ = ["TimEmulator", "TimState", "TimStats"]
