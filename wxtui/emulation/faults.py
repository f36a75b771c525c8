"""The emulator's knobs (faults), its clock and its call statistics."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from typing import Any, Callable

CHINA_UTC_OFFSET_S = 8 * 3600


class Clock:
    """Emulated time in unix seconds: starts at the real time, can run fast and be advanced.

    Token expiry, quota days and tag propagation read this clock; latency is real time.
    """

    def __init__(self, start: float | None = None, speed: float = 1.0):
        self._base = time.time() if start is None else float(start)
        self._t0 = time.monotonic()
        self._speed = float(speed)

    def now(self) -> float:
        return self._base + (time.monotonic() - self._t0) * self._speed

    def advance(self, seconds: float) -> None:
        self._base += float(seconds)

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if value < 0:
            raise ValueError("clock speed must be >= 0")
        # Re-anchor so that changing the speed does not jump the clock.
        self._base, self._t0 = self.now(), time.monotonic()
        self._speed = float(value)

    def china_day(self) -> int:
        """Days since the epoch in China time: quotas reset when this changes."""
        return int((self.now() + CHINA_UTC_OFFSET_S) // 86400)

    def china_month(self) -> tuple[int, int]:
        t = time.gmtime(self.now() + CHINA_UTC_OFFSET_S)
        return t.tm_year, t.tm_mon


_PROBABILITIES = ("p_busy", "p_minute", "p_5xx", "p_slow", "p_garbage", "drop_effect")


@dataclass
class Faults:
    """Misbehaviour injected into API calls (never into token calls or the admin API).

    Mutable: tests, the admin API and the CLI change it while the emulator runs. Every random
    draw comes from one generator seeded by `seed`, so a sequential run is reproducible.
    """

    latency_ms: float = 0.0  # an answer leaves this long after its request arrived (see left_of)
    jitter_ms: float = 0.0  # extra latency drawn uniformly in [0, jitter_ms]
    p_busy: float = 0.0  # errcode -1
    p_minute: float = 0.0  # errcode 45011
    p_5xx: float = 0.0  # HTTP 503
    p_slow: float = 0.0  # answer only after slow_s
    slow_s: float = 30.0
    # The next this many calls answer only after slow_s, whatever p_slow says: a client that
    # gives up sooner loses the answer of a call the platform has made.
    slow_next: int = 0
    p_garbage: float = 0.0  # HTTP 200 with a body that is not JSON
    down_hosts: set[str] = field(default_factory=set)  # Host names answering 503
    invalidate_token_every: int = 0  # every N-th API call invalidates all tokens first
    tag_propagation_s: float = 0.0  # a tag younger than this answers 45159
    # Share of a bulk call's targets whose change is silently not made, the call answering ok
    # all the same: the kind of bug only reading the platform back can catch.
    drop_effect: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        self.down_hosts = set(self.down_hosts)
        self.rng = random.Random(self.seed)

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)

    def update(self, **changes) -> None:
        """Set knobs by name, checking names and values (used by the admin API and the CLI)."""
        known = {f.name: f for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault knob {name!r}; known: {', '.join(sorted(known))}")
            if name == "down_hosts":
                value = {value} if isinstance(value, str) else set(value or ())
            elif name in ("invalidate_token_every", "seed", "slow_next"):
                value = int(value)
            else:
                value = float(value)
                if value < 0:
                    raise ValueError(f"{name} must be >= 0")
                if name in _PROBABILITIES and value > 1:
                    raise ValueError(f"{name} is a probability between 0 and 1")
            if name == "seed":
                self.reseed(value)
            else:
                setattr(self, name, value)

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["down_hosts"] = sorted(self.down_hosts)
        return d

    def hit(self, probability: float) -> bool:
        return probability > 0 and self.rng.random() < probability

    def kept(self, targets: list) -> list:
        """The targets of a bulk call whose change is made (all of them unless drop_effect)."""
        if self.drop_effect <= 0:
            return targets
        return [t for t in targets if not self.hit(self.drop_effect)]

    def delay_s(self) -> float:
        ms = self.latency_ms
        if self.jitter_ms > 0:
            ms += self.rng.uniform(0, self.jitter_ms)
        return ms / 1000.0

    def is_down(self, host: str) -> bool:
        if not self.down_hosts:
            return False
        return host in self.down_hosts or host.rsplit(":", 1)[0] in self.down_hosts


class Stats:
    """Calls and errcodes per API path, and how many 45169 were answered."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.calls: Counter[str] = Counter()
        self.errcodes: defaultdict[str, Counter[int]] = defaultdict(Counter)
        self.http_5xx: Counter[str] = Counter()
        self.garbage = 0

    @property
    def openid_much_req(self) -> int:
        return sum(c[45169] for c in self.errcodes.values())

    def total_calls(self) -> int:
        return sum(self.calls.values())

    def to_dict(self) -> dict:
        return {
            "calls": dict(self.calls),
            "errcodes": {p: {str(k): v for k, v in c.items()} for p, c in self.errcodes.items()},
            "http_5xx": dict(self.http_5xx),
            "garbage": self.garbage,
            "openid_much_req": self.openid_much_req,
        }


async def sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


def now() -> float:
    """The event loop's time: when a request arrived, to answer it a latency after that."""
    return asyncio.get_running_loop().time()


def left_of(delay: float, arrived: float) -> float:
    """What is left of a call's latency once the emulator has done its work. The latency counts
    from the request's arrival: the emulator's own work (reading the body, the call, the JSON)
    happens inside it, as a real server's does, rather than adding to it."""
    return max(0.0, arrived + delay - now()) if delay > 0 else 0.0


async def injected_fault(faults: Faults, stats: Stats, path: str, host: str, *,
                         unavailable: Callable[[], Any], garbage: Callable[[], Any]) -> tuple[Any, float, float]:
    """The faults every emulator injects before it reads a call, in one order (so a seed draws
    the same faults in both): a host that is down, an HTTP 5xx, a body that is not JSON, a slow
    answer. Returns (an answer to give now, or None; when the call arrived; its delay)."""
    stats.calls[path] += 1
    if faults.is_down(host):
        stats.http_5xx[path] += 1
        return unavailable(), 0.0, 0.0
    arrived = now()
    delay = faults.delay_s()
    if faults.hit(faults.p_5xx):
        stats.http_5xx[path] += 1
        await sleep(left_of(delay, arrived))
        return unavailable(), arrived, delay
    if faults.hit(faults.p_garbage):
        stats.garbage += 1
        await sleep(left_of(delay, arrived))
        return garbage(), arrived, delay
    if faults.slow_next > 0:
        faults.slow_next -= 1
        delay = faults.slow_s
    elif faults.hit(faults.p_slow):
        delay = faults.slow_s
    return None, arrived, delay
