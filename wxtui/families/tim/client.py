"""The async Tencent Cloud IM client for user tags: one typed method per call.

    async with TimClient(1400000000, "administrator", key) as tim:
        tags = await tim.get_tags(["user000001", "user000002"])      # UserTags (a dict)
        change = await tim.add_tags({"user000001": ["vip", "北京"]})  # TagChange
        change.succeeded, change.failed                               # per account

Every method validates its input before anything is sent (100 accounts per call, 10 tags per
account per add, tags of 1..50 bytes, no empty lists), so a mistake costs no call and gets a
clear ValidationError. A partial answer (`OK` with an `ErrorList`) never raises: the result
names the failed accounts. Retries, the UserSig, failover and the rate limit live in
transport.py. Both families of the API are supported: `family="im"` (v4/all_member_push/im_*,
the default) and `family="timpush"` (v4/timpush/*); they take and answer the same shapes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

import httpx

from wxtui.families.tim import limits
from wxtui.families.tim.errors import TimBadResponseError
from wxtui.families.tim.results import AccountCheck, AccountFailure, TagChange, UserTags, failures_from
from wxtui.families.tim.transport import TimTransport
from wxtui.families.tim.usersig import KeyProvider, UserSigSigner
from wxtui.core.errors import ValidationError, redact
from wxtui.core.transport import ApiClient, RetryPolicy

ACCOUNT_CHECK_PATH = "/v4/im_open_login_svc/account_check"
NOT_ANSWERED = -1  # the code of an account the answer did not mention


@dataclass(frozen=True, slots=True)
class Family:
    key: str
    service: str
    get: str
    add: str
    remove: str
    clear: str

    def path(self, command: str) -> str:
        return f"/v4/{self.service}/{command}"


FAMILIES: dict[str, Family] = {
    "im": Family("im", "all_member_push", "im_get_tag", "im_add_tag", "im_remove_tag", "im_remove_all_tags"),
    "timpush": Family("timpush", "timpush", "get_tag", "add_tag", "remove_tag", "clear_all_tags"),
}


# ---- validation ----------------------------------------------------------------------------


def check_account(account: object, call: str) -> str:
    if not isinstance(account, str) or not account.strip():
        raise ValidationError(f"{call}: not an account (UserID): {account!r}")
    return account


def check_accounts(accounts: Iterable[str], call: str,
                   most: int = limits.MAX_ACCOUNTS_PER_CALL) -> list[str]:
    """The accounts as they will be sent: checked, duplicates dropped, order kept."""
    if isinstance(accounts, str):
        raise ValidationError(f"{call}: expected a list of accounts, got one string {accounts!r}")
    items = list(dict.fromkeys(check_account(a, call) for a in accounts))
    if not items:
        raise ValidationError(f"{call}: no accounts given")
    if len(items) > most:
        raise ValidationError(f"{call} takes at most {most} accounts per call, got {len(items)}")
    return items


def check_tag(tag: object) -> str:
    if not isinstance(tag, str) or not tag.strip():
        raise ValidationError(f"Not a tag: {tag!r} (a tag is a non-empty text)")
    size = limits.tag_bytes(tag)
    if size > limits.MAX_TAG_BYTES:
        raise ValidationError(f"The tag {tag!r} is {size} bytes of UTF-8; Tencent Cloud IM allows "
                              f"{limits.MAX_TAG_BYTES} (a Chinese character takes 3 bytes)")
    return tag


def check_user_tags(user_tags: Mapping[str, Iterable[str]], call: str, most_tags: int) -> dict[str, list[str]]:
    """account -> tags as they will be sent: checked, duplicate tags dropped, order kept."""
    if not isinstance(user_tags, Mapping):
        raise ValidationError(f"{call}: expected a mapping of account -> tags")
    accounts = check_accounts(user_tags.keys(), call)
    checked: dict[str, list[str]] = {}
    for account in accounts:
        tags = user_tags[account]
        if isinstance(tags, str):
            raise ValidationError(f"{call}: the tags of {account} must be a list, not one string {tags!r}")
        tags = list(dict.fromkeys(check_tag(t) for t in tags))
        if not tags:
            raise ValidationError(f"{call}: no tags given for {account}")
        if len(tags) > most_tags:
            raise ValidationError(f"{call} takes at most {most_tags} tags per account per call; "
                                  f"{account} has {len(tags)} (split them: see split_user_tags)")
        checked[account] = tags
    return checked


def batches(items: Iterable[str], size: int = limits.MAX_ACCOUNTS_PER_CALL) -> list[list[str]]:
    """Accounts in calls of at most `size` (duplicates dropped, order kept)."""
    unique = list(dict.fromkeys(items))
    return [unique[i:i + size] for i in range(0, len(unique), size)]


def split_user_tags(user_tags: Mapping[str, Iterable[str]], *, max_accounts: int = limits.MAX_ACCOUNTS_PER_CALL,
                    max_tags: int = limits.MAX_TAGS_PER_ACCOUNT_PER_CALL) -> list[dict[str, list[str]]]:
    """account -> tags of any size, as the bodies of calls that each respect the limits
    (an account with 25 tags to add appears in three calls)."""
    rounds: list[dict[str, list[str]]] = []
    for account, tags in user_tags.items():
        tags = list(dict.fromkeys(tags))
        for r, start in enumerate(range(0, len(tags), max_tags)):
            if r == len(rounds):
                rounds.append({})
            rounds[r][account] = tags[start:start + max_tags]
    calls: list[dict[str, list[str]]] = []
    for round_ in rounds:
        accounts = list(round_)
        for i in range(0, len(accounts), max_accounts):
            calls.append({a: round_[a] for a in accounts[i:i + max_accounts]})
    return calls


# ---- the client ----------------------------------------------------------------------------


class TimClient(ApiClient):
    """Typed calls over one shared httpx.AsyncClient. Use as `async with TimClient(...)`."""

    def __init__(
        self,
        sdkappid: int,
        identifier: str,
        key: str | KeyProvider,
        *,
        region: str = limits.DEFAULT_REGION,
        hosts: list[str] | tuple[str, ...] | None = None,
        family: str = "im",
        transport: httpx.AsyncBaseTransport | None = None,
        max_in_flight: int = 8,
        retry: RetryPolicy = RetryPolicy(),
        rate_limit: float | None = limits.CALLS_PER_SECOND,
        usersig_expire_s: int = limits.USERSIG_EXPIRE_S,
        seed: int | None = None,
        clock: Callable[[], float] = time.time,
        sleep=None,
    ):
        if region not in limits.REGIONS:
            raise ValidationError(f"Unknown region {region!r}; one of: {', '.join(limits.REGIONS)}")
        if family not in FAMILIES:
            raise ValidationError(f"Unknown API family {family!r}; one of: {', '.join(FAMILIES)}")
        if isinstance(sdkappid, str) and sdkappid.isdigit():
            sdkappid = int(sdkappid)
        if isinstance(sdkappid, bool) or not isinstance(sdkappid, int) or sdkappid <= 0:
            raise ValidationError(f"An SDKAppID is a positive number, not {sdkappid!r}")
        if not isinstance(identifier, str) or not identifier:
            raise ValidationError("The admin identifier cannot be empty")
        self.region = limits.REGIONS[region]
        self.family = FAMILIES[family]
        self.signer = UserSigSigner(sdkappid, identifier, key, expire_s=usersig_expire_s, clock=clock)
        kwargs = {"sleep": sleep} if sleep is not None else {}
        self.transport = TimTransport(self.signer, tuple(hosts) if hosts else self.region.hosts,
                                      transport=transport, max_in_flight=max_in_flight, retry=retry,
                                      rate_limit=rate_limit, seed=seed, clock=clock, **kwargs)

    def __repr__(self) -> str:
        return (f"TimClient(sdkappid={self.sdkappid}, identifier={self.identifier!r}, "
                f"family={self.family.key!r}, host={self.transport.host!r})")

    @property
    def sdkappid(self) -> int:
        return self.signer.sdkappid

    @property
    def identifier(self) -> str:
        return self.signer.identifier

    def credentials_made(self) -> int:
        return self.signer.generated  # UserSigs signed

    # -- tags ---------------------------------------------------------------------------------

    async def get_tags(self, accounts: Iterable[str]) -> UserTags:
        """The tags of up to 100 accounts: a dict account -> tags, with `.failed` for the rest."""
        path = self.family.path(self.family.get)
        sent = tuple(check_accounts(accounts, self.family.get))
        payload = await self.transport.post(path, {"To_Account": list(sent)})
        failed = failures_from(payload.get("ErrorList"), sent)
        tags: dict[str, list[str]] = {}
        for item in payload.get("UserTags") or ():
            try:
                account, values = item["To_Account"], item.get("Tags") or []
                if not isinstance(account, str) or not all(isinstance(t, str) for t in values):
                    raise TypeError
            except (KeyError, TypeError, AttributeError):
                raise TimBadResponseError(path, "a UserTags entry without To_Account or with non-text Tags") from None
            tags[account] = list(values)
        for account in sent:
            if account not in tags and account not in failed:
                failed[account] = AccountFailure(account, NOT_ANSWERED, "not in the answer")
        return UserTags(tags, failed, path)

    async def add_tags(self, user_tags: Mapping[str, Iterable[str]]) -> TagChange:
        """Add up to 10 tags to each of up to 100 accounts (tags an account has stay)."""
        body = check_user_tags(user_tags, self.family.add, limits.MAX_TAGS_PER_ACCOUNT_PER_CALL)
        return await self._change(self.family.add, _user_tags_body(body), tuple(body))

    async def remove_tags(self, user_tags: Mapping[str, Iterable[str]]) -> TagChange:
        """Remove tags from up to 100 accounts (a tag the account does not have is no error)."""
        body = check_user_tags(user_tags, self.family.remove, limits.MAX_TAGS_PER_ACCOUNT)
        return await self._change(self.family.remove, _user_tags_body(body), tuple(body))

    async def remove_all_tags(self, accounts: Iterable[str]) -> TagChange:
        """Remove every tag of up to 100 accounts."""
        sent = tuple(check_accounts(accounts, self.family.clear))
        return await self._change(self.family.clear, {"To_Account": list(sent)}, sent)

    async def tag_accounts(self, accounts: Iterable[str], tags: Iterable[str]) -> TagChange:
        """The same tags (at most 10) onto up to 100 accounts: one add call."""
        tags = list(tags)
        return await self.add_tags({a: tags for a in check_accounts(accounts, self.family.add)})

    async def untag_accounts(self, accounts: Iterable[str], tags: Iterable[str]) -> TagChange:
        """The same tags off up to 100 accounts: one remove call."""
        tags = list(tags)
        return await self.remove_tags({a: tags for a in check_accounts(accounts, self.family.remove)})

    async def _change(self, command: str, body: dict, sent: tuple[str, ...]) -> TagChange:
        path = self.family.path(command)
        payload = await self.transport.post(path, body)
        return TagChange(path, sent, failures_from(payload.get("ErrorList"), sent))

    # -- accounts -----------------------------------------------------------------------------

    async def account_check(self, accounts: Iterable[str]) -> AccountCheck:
        """Which of up to 100 accounts are imported into the app: account -> bool."""
        sent = tuple(check_accounts(accounts, "account_check"))
        payload = await self.transport.post(ACCOUNT_CHECK_PATH, {"CheckItem": [{"UserID": a} for a in sent]})
        status: dict[str, bool] = {}
        failed: dict[str, AccountFailure] = {}
        for item in payload.get("ResultItem") or ():
            if not isinstance(item, dict) or not isinstance(item.get("UserID"), str):
                raise TimBadResponseError(ACCOUNT_CHECK_PATH, "a ResultItem without UserID")
            account, code = item["UserID"], item.get("ResultCode", 0)
            if code:
                failed[account] = AccountFailure(account, code if isinstance(code, int) else NOT_ANSWERED,
                                                 redact(str(item.get("ResultInfo") or "")))
                continue
            state = item.get("AccountStatus")
            if state not in ("Imported", "NotImported"):
                raise TimBadResponseError(ACCOUNT_CHECK_PATH, f"AccountStatus {str(state)[:20]!r} of {account}")
            status[account] = state == "Imported"
        for account in sent:
            if account not in status and account not in failed:
                failed[account] = AccountFailure(account, NOT_ANSWERED, "not in the answer")
        return AccountCheck(status, failed)


def _user_tags_body(user_tags: dict[str, list[str]]) -> dict:
    return {"UserTags": [{"To_Account": a, "Tags": tags} for a, tags in user_tags.items()]}
