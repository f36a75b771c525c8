"""What the tag calls answer: per-account outcomes, since a call may succeed for some accounts only.

A call answered `OK` with an `ErrorList` succeeded for every account the list does not name. The
results below carry both sides; none raises for a partial answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from wxtui.families.tim.errors import describe
from wxtui.core.errors import Category, ErrorInfo, redact


@dataclass(frozen=True, slots=True)
class AccountFailure:
    """One account an ErrorList (or account_check's ResultItem) named."""

    account: str
    code: int
    info: str = ""  # the server's ErrorInfo, redacted

    @property
    def error(self) -> ErrorInfo:
        return describe(self.code)

    @property
    def category(self) -> Category:
        return self.error.category

    @property
    def message(self) -> str:
        return f"{self.account}: {self.error.message} (ErrorCode {self.code})"

    def to_json(self) -> list:
        return [self.code, self.info]


def failures_from(items: object, sent: tuple[str, ...]) -> dict[str, AccountFailure]:
    """The ErrorList of an answer as failures by account. Entries naming an account that was not
    sent are kept too (the server knows best); entries without an account are dropped."""
    failures: dict[str, AccountFailure] = {}
    if not isinstance(items, list):
        return failures
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("To_Account"), str):
            continue
        code = item.get("ErrorCode")
        code = code if isinstance(code, int) and not isinstance(code, bool) else -1
        account = item["To_Account"]
        failures[account] = AccountFailure(account, code, redact(str(item.get("ErrorInfo") or "")))
    return failures


@dataclass(frozen=True)
class TagChange:
    """The outcome of add_tags / remove_tags / remove_all_tags for the accounts of one call."""

    command: str  # the API path, e.g. /v4/all_member_push/im_add_tag
    accounts: tuple[str, ...]  # as sent (deduplicated, in order)
    failed: Mapping[str, AccountFailure] = field(default_factory=dict)

    @property
    def succeeded(self) -> tuple[str, ...]:
        return tuple(a for a in self.accounts if a not in self.failed)

    @property
    def ok(self) -> bool:
        """Every account succeeded."""
        return not self.failed

    @property
    def partial(self) -> bool:
        return bool(self.failed)

    def as_outputs(self) -> dict:
        """A JSON-able summary for a job journal."""
        return {"succeeded": len(self.succeeded),
                "failed": {a: f.to_json() for a, f in self.failed.items()}}


class UserTags(dict):
    """get_tags: account -> its tags (in the server's order), for every account that succeeded.
    `failed` holds the others; an account present in neither was not answered (treated as failed
    with code -1 by the client)."""

    def __init__(self, tags: Mapping[str, list[str]], failed: Mapping[str, AccountFailure], command: str = ""):
        super().__init__(tags)
        self.failed = dict(failed)
        self.command = command

    def __repr__(self) -> str:
        return f"UserTags({dict.__repr__(self)}, failed={sorted(self.failed)})"


class AccountCheck(dict):
    """account_check: account -> True when imported, False when not. `failed` holds the accounts
    the server could not check (a non-zero ResultCode)."""

    def __init__(self, status: Mapping[str, bool], failed: Mapping[str, AccountFailure]):
        super().__init__(status)
        self.failed = dict(failed)

    @property
    def imported(self) -> list[str]:
        return [a for a, yes in self.items() if yes]

    @property
    def not_imported(self) -> list[str]:
        return [a for a, yes in self.items() if not yes]

    def __repr__(self) -> str:
        return f"AccountCheck({dict.__repr__(self)}, failed={sorted(self.failed)})"
