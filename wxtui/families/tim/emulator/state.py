"""One emulated Tencent Cloud IM app: its imported accounts, their tags, and the tag rules.

Every rule lives here and raises `ApiFailure` for a whole call or returns per-account failures;
the HTTP layer only parses requests and shapes answers. An account's tags are an insertion-ordered
dict (get_tag answers them in the order they were added); `_holders` counts the accounts carrying
each tag, which is what the 1,000-distinct-tags rule needs.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from wxtui.emulation.failure import ApiFailure
from wxtui.families.tim import limits

NOT_IMPORTED = 70107
TOO_MANY_TAGS = 90032

# (code, ErrorInfo) of one account's failure inside an otherwise successful call.
AccountError = tuple[int, str]


class TimState:
    """The state of one app. Public methods are the emulator's Python API (tests use them)."""

    def __init__(self, *, sdkappid: int, key: str, admins: Iterable[str] = ("administrator",),
                 name: str = "Demo IM app", region: str = limits.DEFAULT_REGION):
        if region not in limits.REGIONS:
            raise ValueError(f"unknown region {region!r}")
        self.sdkappid = sdkappid
        self.key = key
        self.admins = set(admins)
        self.name = name
        self.region = region
        self._imported: set[str] = set()
        self._tags: dict[str, dict[str, None]] = {}  # only accounts that carry tags
        self._holders: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"TimState(name={self.name!r}, sdkappid={self.sdkappid}, accounts={len(self._imported)})"

    @property
    def admin(self) -> str:
        return min(self.admins)

    # ---- accounts --------------------------------------------------------------------------

    def import_accounts(self, accounts: Iterable[str]) -> None:
        self._imported.update(accounts)

    def delete_accounts(self, accounts: Iterable[str]) -> None:
        """Accounts deleted from the app lose their tags and answer 70107 from then on."""
        for account in accounts:
            self._drop_tags(account, list(self._tags.get(account, ())))
            self._imported.discard(account)

    def is_imported(self, account: str) -> bool:
        return account in self._imported

    def account_count(self) -> int:
        return len(self._imported)

    def accounts(self) -> list[str]:
        return sorted(self._imported)

    # ---- reading ---------------------------------------------------------------------------

    def tags_of(self, account: str) -> list[str]:
        return list(self._tags.get(account, ()))

    def tag_counts(self) -> dict[str, int]:
        """tag -> accounts carrying it."""
        return dict(self._holders)

    def distinct_tags(self) -> int:
        return len(self._holders)

    def tagged_accounts(self) -> int:
        return len(self._tags)

    # ---- the calls -------------------------------------------------------------------------

    def get(self, accounts: list[str]) -> tuple[dict[str, list[str]], dict[str, AccountError]]:
        tags: dict[str, list[str]] = {}
        failed: dict[str, AccountError] = {}
        for account in accounts:
            if account in self._imported:
                tags[account] = self.tags_of(account)
            else:
                failed[account] = _not_imported()
        return tags, failed

    def add(self, user_tags: list[tuple[str, list[str]]], *, replace: bool = False) -> dict[str, AccountError]:
        """Add (or with replace, set) tags. Checked in full before anything changes: the app's
        1,000 distinct tags fail the whole call; 100 tags on one account fail that account."""
        failed: dict[str, AccountError] = {}
        plan: dict[str, dict[str, None]] = {}  # account -> its tags after the call
        for account, tags in user_tags:
            if account not in self._imported:
                failed[account] = _not_imported()
                continue
            before = plan.get(account, self._tags.get(account, {}))
            after = dict.fromkeys(tags) if replace else {**before, **dict.fromkeys(tags)}
            if len(after) > limits.MAX_TAGS_PER_ACCOUNT:
                failed[account] = (TOO_MANY_TAGS, f"the account would carry more than "
                                                  f"{limits.MAX_TAGS_PER_ACCOUNT} tags")
                continue
            plan[account] = after
        holders = Counter(self._holders)
        for account, after in plan.items():
            for tag in self._tags.get(account, ()):
                holders[tag] -= 1
            holders.update(after.keys())
        if sum(1 for n in holders.values() if n > 0) > limits.MAX_DISTINCT_TAGS_PER_APP:
            raise ApiFailure(TOO_MANY_TAGS, f"the app would hold more than "
                                            f"{limits.MAX_DISTINCT_TAGS_PER_APP:,} distinct tags")
        for account, after in plan.items():
            self._set_tags(account, after)
        return failed

    def remove(self, user_tags: list[tuple[str, list[str]]]) -> dict[str, AccountError]:
        failed: dict[str, AccountError] = {}
        for account, tags in user_tags:
            if account not in self._imported:
                failed[account] = _not_imported()
            else:
                self._drop_tags(account, tags)
        return failed

    def clear(self, accounts: list[str]) -> dict[str, AccountError]:
        failed: dict[str, AccountError] = {}
        for account in accounts:
            if account not in self._imported:
                failed[account] = _not_imported()
            else:
                self._drop_tags(account, list(self._tags.get(account, ())))
        return failed

    def check(self, accounts: list[str]) -> list[tuple[str, bool]]:
        return [(a, a in self._imported) for a in accounts]

    # ---- bulk (the demo builder) -----------------------------------------------------------

    def tag_accounts(self, accounts: Iterable[str], tag: str) -> None:
        """Put one tag on many imported accounts without the per-call rules (demo data)."""
        for account in accounts:
            current = self._tags.setdefault(account, {})
            if tag not in current:
                current[tag] = None
                self._holders[tag] += 1

    # ---- internals -------------------------------------------------------------------------

    def _set_tags(self, account: str, after: dict[str, None]) -> None:
        before = self._tags.get(account, {})
        gone = [t for t in before if t not in after]
        new = [t for t in after if t not in before]
        self._holders.subtract(gone)
        self._holders.update(new)
        for tag in gone:
            if self._holders[tag] <= 0:
                del self._holders[tag]
        if after:
            self._tags[account] = dict(after)
        else:
            self._tags.pop(account, None)

    def _drop_tags(self, account: str, tags: Iterable[str]) -> None:
        current = self._tags.get(account)
        if not current:
            return
        for tag in tags:
            if tag in current:
                del current[tag]
                self._holders[tag] -= 1
                if self._holders[tag] <= 0:
                    del self._holders[tag]
        if not current:
            del self._tags[account]

    def snapshot(self) -> dict:
        return {"accounts": self.accounts(), "tags": {a: list(t) for a, t in sorted(self._tags.items())}}

    def summary(self) -> dict:
        top = self._holders.most_common(10)
        return {"name": self.name, "sdkappid": self.sdkappid, "admins": sorted(self.admins),
                "region": self.region, "accounts": len(self._imported), "tagged_accounts": len(self._tags),
                "distinct_tags": len(self._holders), "top_tags": dict(top)}


def _not_imported() -> AccountError:
    return (NOT_IMPORTED, "the account is not imported")
