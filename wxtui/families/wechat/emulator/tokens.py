"""Access tokens: the classic token, the stable token, expiry and invalidation."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from wxtui.families.wechat import limits

from wxtui.emulation.faults import Clock
from wxtui.emulation.failure import ApiFailure
from .state import Account

_PRUNE_ABOVE = 20_000  # records kept before expired ones are forgotten
_FORGET_AFTER_S = 86_400  # an expired token answers 42001 this long, then 40001


@dataclass(slots=True)
class _Record:
    account: Account
    expires_at: float  # after this: 42001
    dies_at: float = float("inf")  # after this (replaced, invalidated): 40001


class TokenIssuer:
    """Mints and checks tokens on the emulator clock. Tokens are valid on every host."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self._records: dict[str, _Record] = {}
        self._classic: dict[str, str] = {}  # appid -> latest classic token
        self._stable: dict[str, str] = {}  # appid -> current stable token
        self._forced: dict[str, list[tuple[int, float]]] = {}  # appid -> (china day, time) of force_refreshes

    def _mint(self, account: Account, now: float) -> str:
        if len(self._records) > _PRUNE_ABOVE:
            self._records = {t: r for t, r in self._records.items() if r.expires_at > now - _FORGET_AFTER_S}
        token = secrets.token_urlsafe(96)
        self._records[token] = _Record(account, now + limits.TOKEN_LIFETIME_S)
        return token

    def classic(self, account: Account) -> dict:
        """cgi-bin/token: always a new token; the previous one dies TOKEN_GRACE_S later."""
        now = self.clock.now()
        previous = self._records.get(self._classic.get(account.appid, ""))
        if previous is not None:
            previous.dies_at = min(previous.dies_at, now + limits.TOKEN_GRACE_S)
        token = self._classic[account.appid] = self._mint(account, now)
        return {"access_token": token, "expires_in": limits.TOKEN_LIFETIME_S}

    def stable(self, account: Account, force_refresh: bool) -> dict:
        """cgi-bin/stable_token: the same token until TOKEN_GRACE_S before its expiry."""
        now = self.clock.now()
        current = self._stable.get(account.appid, "")
        record = self._records.get(current)
        if force_refresh:
            today = self.clock.china_day()
            forced = [f for f in self._forced.get(account.appid, []) if f[0] == today]
            if len(forced) >= limits.FORCE_REFRESH_PER_DAY:
                raise ApiFailure(45009)
            if forced and now - forced[-1][1] < limits.FORCE_REFRESH_MIN_INTERVAL_S:
                raise ApiFailure(45011)
            self._forced[account.appid] = forced + [(today, now)]
            self._records.pop(current, None)  # a forced refresh kills the previous token at once
        elif record is not None and now < record.expires_at - limits.TOKEN_GRACE_S and now < record.dies_at:
            return {"access_token": current, "expires_in": round(record.expires_at - now)}
        token = self._stable[account.appid] = self._mint(account, now)
        return {"access_token": token, "expires_in": limits.TOKEN_LIFETIME_S}

    def check(self, token: str | None) -> Account:
        """The account a token belongs to; 41001 missing, 40001 unknown or replaced, 42001 expired."""
        if not token:
            raise ApiFailure(41001)
        record = self._records.get(token)
        if record is None:
            raise ApiFailure(40001)
        now = self.clock.now()
        if now >= record.dies_at:
            raise ApiFailure(40001)
        if now >= record.expires_at:
            raise ApiFailure(42001)
        return record.account

    def invalidate_all(self) -> None:
        self._records.clear()
