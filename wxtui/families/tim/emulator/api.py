"""The v4 calls the IM emulator answers: body parsing and answer shapes. Rules live in state.py.

Both tag families behave alike: an account that is not imported is named in an `ErrorList`
(ErrorCode 70107) of an answer that is otherwise `OK`. The timpush pages document this; the
all_member_push (im_*) pages document no per-account error at all, and the contract
(tim-api.md) tells clients to treat an ErrorList as a partial success in either family, so the
emulator answers the im_* calls the same way rather than failing a whole call for one account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from wxtui.emulation.failure import ApiFailure
from wxtui.families.tim import limits

from .state import AccountError, TimState

PUSH_ADMIN_REQUIRED = 90009
LOGIN_ADMIN_REQUIRED = 70403
JSON_PARSE = 90001
TOO_MANY_ACCOUNTS = 90018
TAG_TOO_LONG = 90020
TOO_MANY_TAGS = 90032
INVALID_PARAMETER = 70402

Handler = Callable[[TimState, dict], dict]


def ok(**fields) -> dict:
    return {"ActionStatus": "OK", "ErrorInfo": "", "ErrorCode": 0, **fields}


def _with_errors(answer: dict, failed: dict[str, AccountError]) -> dict:
    if failed:
        answer["ErrorList"] = [{"To_Account": a, "ErrorCode": code, "ErrorInfo": info}
                               for a, (code, info) in failed.items()]
    return answer


def _accounts(body: dict) -> list[str]:
    accounts = body.get("To_Account")
    if not isinstance(accounts, list) or not accounts or not all(isinstance(a, str) and a for a in accounts):
        raise ApiFailure(JSON_PARSE, "To_Account must be a non-empty array of UserIDs")
    if len(accounts) > limits.MAX_ACCOUNTS_PER_CALL:
        raise ApiFailure(TOO_MANY_ACCOUNTS)
    return accounts


def _user_tags(body: dict, most_tags: int | None) -> list[tuple[str, list[str]]]:
    items = body.get("UserTags")
    if not isinstance(items, list) or not items:
        raise ApiFailure(JSON_PARSE, "UserTags must be a non-empty array")
    if len(items) > limits.MAX_ACCOUNTS_PER_CALL:
        raise ApiFailure(TOO_MANY_ACCOUNTS)
    parsed: list[tuple[str, list[str]]] = []
    for item in items:
        account = item.get("To_Account") if isinstance(item, dict) else None
        tags = item.get("Tags") if isinstance(item, dict) else None
        if not isinstance(account, str) or not account or not isinstance(tags, list) or not tags:
            raise ApiFailure(JSON_PARSE, "each UserTags entry needs To_Account and a non-empty Tags array")
        if not all(isinstance(t, str) and t for t in tags):
            raise ApiFailure(JSON_PARSE, "a tag must be a non-empty string")
        if any(limits.tag_bytes(t) > limits.MAX_TAG_BYTES for t in tags):
            raise ApiFailure(TAG_TOO_LONG)
        if most_tags is not None and len(set(tags)) > most_tags:
            raise ApiFailure(TOO_MANY_TAGS, f"more than {most_tags} tags for {account} in one call")
        parsed.append((account, tags))
    return parsed


def get_tag(state: TimState, body: dict) -> dict:
    tags, failed = state.get(_accounts(body))
    return _with_errors(ok(UserTags=[{"To_Account": a, "Tags": t} for a, t in tags.items()]), failed)


def add_tag(state: TimState, body: dict) -> dict:
    replace = body.get("Replace", 0)
    if replace not in (0, 1):
        raise ApiFailure(JSON_PARSE, "Replace must be 0 or 1")
    most = limits.MAX_TAGS_PER_ACCOUNT if replace else limits.MAX_TAGS_PER_ACCOUNT_PER_CALL
    return _with_errors(ok(), state.add(_user_tags(body, most), replace=bool(replace)))


def add_tag_im(state: TimState, body: dict) -> dict:
    if "Replace" in body:  # only the timpush family documents Replace
        raise ApiFailure(JSON_PARSE, "unknown field Replace")
    return add_tag(state, body)


def remove_tag(state: TimState, body: dict) -> dict:
    return _with_errors(ok(), state.remove(_user_tags(body, None)))


def clear_all_tags(state: TimState, body: dict) -> dict:
    return _with_errors(ok(), state.clear(_accounts(body)))


def account_check(state: TimState, body: dict) -> dict:
    items = body.get("CheckItem")
    if not isinstance(items, list) or not items:
        raise ApiFailure(INVALID_PARAMETER, "CheckItem must be a non-empty array")
    if len(items) > limits.MAX_ACCOUNTS_PER_CALL:
        raise ApiFailure(INVALID_PARAMETER, f"CheckItem holds more than {limits.MAX_ACCOUNTS_PER_CALL} UserIDs")
    accounts = [i.get("UserID") if isinstance(i, dict) else None for i in items]
    if not all(isinstance(a, str) and a for a in accounts):
        raise ApiFailure(INVALID_PARAMETER, "each CheckItem needs a UserID")
    return ok(ResultItem=[{"UserID": a, "ResultCode": 0, "ResultInfo": "",
                           "AccountStatus": "Imported" if imported else "NotImported"}
                          for a, imported in state.check(accounts)])


@dataclass(frozen=True, slots=True)
class Endpoint:
    handler: Handler
    admin_code: int  # what a non-admin identifier gets
    parse_code: int  # what a body that is not a JSON object gets


def _push(handler: Handler) -> Endpoint:
    return Endpoint(handler, PUSH_ADMIN_REQUIRED, JSON_PARSE)


ENDPOINTS: dict[str, Endpoint] = {
    "/v4/all_member_push/im_get_tag": _push(get_tag),
    "/v4/all_member_push/im_add_tag": _push(add_tag_im),
    "/v4/all_member_push/im_remove_tag": _push(remove_tag),
    "/v4/all_member_push/im_remove_all_tags": _push(clear_all_tags),
    "/v4/timpush/get_tag": _push(get_tag),
    "/v4/timpush/add_tag": _push(add_tag),
    "/v4/timpush/remove_tag": _push(remove_tag),
    "/v4/timpush/clear_all_tags": _push(clear_all_tags),
    "/v4/im_open_login_svc/account_check": Endpoint(account_check, LOGIN_ADMIN_REQUIRED, INVALID_PARAMETER),
}
