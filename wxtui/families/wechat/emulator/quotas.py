"""Per-account daily quotas of each API, and the monthly allowance of clear_quota."""

from __future__ import annotations

from collections import Counter

from wxtui.families.wechat import limits

from wxtui.emulation.failure import ApiFailure
from wxtui.emulation.faults import Clock


class Quotas:
    """Calls counted per API path and per China day (reset at midnight UTC+8 on the emulator clock)."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self._limits: dict[str, int] = dict(limits.DEFAULT_DAILY_QUOTAS)
        self._used: Counter[str] = Counter()
        self._day = clock.china_day()
        self._clears: Counter[tuple[int, int]] = Counter()  # (year, month) -> clear_quota calls

    def _roll_day(self) -> None:
        day = self.clock.china_day()
        if day != self._day:
            self._day = day
            self._used.clear()

    def charge(self, path: str) -> None:
        """Count one call of a metered API, or 45009 when its daily quota is used up."""
        limit = self._limits.get(path)
        if limit is None:
            return
        self._roll_day()
        used = self._used[path]
        if used >= limit:
            raise ApiFailure(45009)
        self._used[path] = used + 1

    def get(self, path: object) -> dict:
        """quota/get's answer for a path ("/cgi-bin/..."); 76021 for a path without a quota."""
        if not isinstance(path, str):
            raise ApiFailure(76021)
        if not path.startswith("/"):
            path = "/" + path
        if path not in self._limits:
            raise ApiFailure(76021)
        self._roll_day()
        limit, used = self._limits[path], self._used[path]
        return {"daily_limit": limit, "used": used, "remain": max(0, limit - used)}

    def set_limit(self, path: str, daily_limit: int) -> None:
        self._limits[path] = int(daily_limit)

    def clear(self) -> None:
        """clear_quota: every counter back to 0, at most CLEAR_QUOTA_PER_MONTH times a month (48006)."""
        month = self.clock.china_month()
        if self._clears[month] >= limits.CLEAR_QUOTA_PER_MONTH:
            raise ApiFailure(48006)
        self._clears[month] += 1
        self._used.clear()
