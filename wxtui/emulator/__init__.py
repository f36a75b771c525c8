"""A faithful, in-memory emulator of the WeChat Official Account API (an ASGI app).

    from wxtui.emulator import Emulator, Faults
    emu = Emulator.demo(followers=10_000, seed=1)
    async with httpx.AsyncClient(transport=emu.transport(), base_url="https://api.weixin.qq.com") as c:
        ...
"""

from .app import Emulator
from .faults import Clock, Faults, Stats
from .failure import ApiFailure
from .state import Account

__all__ = ["Account", "ApiFailure", "Clock", "Emulator", "Faults", "Stats"]
