"""How many calls may be on the wire: additive increase, multiplicative decrease (as TCP does).

The service says "slow down" with 45011 (per-minute limit) and -1 (busy): the limit halves, at
most once per round trip (the calls already out were sent before the service spoke); each success
adds 1/limit, so a full round of successes adds one, up to the maximum.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

MIN_COOLDOWN_S = 0.05


class AdaptiveLimit:
    def __init__(self, maximum: int, clock: Callable[[], float] = time.monotonic):
        self.maximum = max(1, maximum)
        self._limit = float(self.maximum)
        self._clock = clock
        self._last_decrease = -1e9
        self.on_wire = 0
        self._free = asyncio.Condition()

    @property
    def value(self) -> int:
        return int(self._limit)

    async def acquire(self) -> None:
        async with self._free:
            await self._free.wait_for(lambda: self.on_wire < int(self._limit))
            self.on_wire += 1

    async def release(self) -> None:
        async with self._free:
            self.on_wire -= 1
            self._free.notify()

    def slow_down(self, round_trip_s: float) -> None:
        now = self._clock()
        if now - self._last_decrease >= max(round_trip_s, MIN_COOLDOWN_S):
            self._limit = max(1.0, self._limit / 2)
            self._last_decrease = now

    def speed_up(self) -> None:
        if self._limit < self.maximum:
            self._limit = min(float(self.maximum), self._limit + 1 / self._limit)
