"""How many calls may be on the wire: additive increase, multiplicative decrease (as TCP does).

The service says "slow down" with 45011 (per-minute limit) and -1 (busy): the limit halves, at
most once per round trip (the calls already out were sent before the service spoke); each success
adds 1/limit, so a full round of successes adds one, up to the maximum.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Callable

MIN_COOLDOWN_S = 0.05


class AdaptiveLimit:
    """The slots on the wire. A slot let go is handed straight to the call waiting longest
    (counted on the wire from that moment), so it is never seen free in between and no waiter
    has to wake up, take a lock and look again before it may go."""

    def __init__(self, maximum: int, clock: Callable[[], float] = time.monotonic):
        self.maximum = max(1, maximum)
        self._limit = float(self.maximum)
        self._clock = clock
        self._last_decrease = -1e9
        self.on_wire = 0
        self._waiting: deque[asyncio.Future] = deque()

    @property
    def value(self) -> int:
        return int(self._limit)

    async def acquire(self) -> None:
        if self.on_wire < int(self._limit) and not self._waiting:
            self.on_wire += 1
            return
        handed = asyncio.get_running_loop().create_future()
        self._waiting.append(handed)
        try:
            await handed
        except asyncio.CancelledError:
            if handed.done() and not handed.cancelled():  # the slot came with the cancel: pass it on
                self._let_go()
            elif handed in self._waiting:  # a hand-over may have dropped it already
                self._waiting.remove(handed)
            raise

    async def release(self) -> None:
        self._let_go()

    def _let_go(self) -> None:
        self.on_wire -= 1
        self._hand_over()

    def _hand_over(self) -> None:
        while self._waiting and self.on_wire < int(self._limit):
            handed = self._waiting.popleft()
            if not handed.done():
                self.on_wire += 1
                handed.set_result(None)

    def slow_down(self, round_trip_s: float) -> None:
        now = self._clock()
        if now - self._last_decrease >= max(round_trip_s, MIN_COOLDOWN_S):
            self._limit = max(1.0, self._limit / 2)
            self._last_decrease = now

    def speed_up(self) -> None:
        if self._limit < self.maximum:
            self._limit = min(float(self.maximum), self._limit + 1 / self._limit)
            self._hand_over()
