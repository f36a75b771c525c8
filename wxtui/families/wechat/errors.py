"""Every errcode wxtui knows, in one table, and the exceptions the client raises.

The table is shared by the client (to decide what to do and what to tell the user) and by the
emulator (to answer with the platform's own errmsg). Exceptions never carry an access token or
a secret: they hold the API path, never the URL.
"""

from __future__ import annotations

import re

from wxtui.core import errors as core
from wxtui.core.errors import (Category, CredentialsUnavailable, ErrorInfo, ValidationError, WxtuiError,
                               redact, rid_of)

__all__ = ["ApiError", "BadOpenidError", "BadResponseError", "Category", "CredentialsUnavailable", "ERRORS", "ErrorInfo", "MinuteLimit",
           "QuotaExceeded", "RetryableError", "TokenError", "TransportError", "ValidationError", "WxtuiError",
           "api_error", "describe", "redact", "rid_of"]


_C = Category
_TABLE: tuple[ErrorInfo, ...] = (
    ErrorInfo(-1, "system_busy", "system error", _C.RETRY,
              "WeChat is busy", "wxtui retries by itself; if it persists, try again in a few minutes"),
    ErrorInfo(40001, "invalid_credential", "invalid credential, access_token is invalid or not latest",
              _C.TOKEN, "The access token or the AppSecret was refused",
              "check the AppSecret; if another program calls cgi-bin/token for this account, use the stable token source"),
    ErrorInfo(40002, "invalid_grant_type", "invalid grant_type", _C.FATAL,
              "Invalid grant_type in the token request", "this is a wxtui bug; please report it"),
    ErrorInfo(40003, "invalid_openid", "invalid openid", _C.BAD_OPENID,
              "Not a follower of this account", "the openid is malformed, or the user unfollowed"),
    ErrorInfo(40013, "invalid_appid", "invalid appid", _C.FATAL,
              "The AppID is invalid", "check the AppID in the account profile (wxtui account list)"),
    ErrorInfo(40014, "invalid_access_token", "invalid access_token", _C.TOKEN,
              "The access token is invalid", "wxtui fetches a new one by itself"),
    ErrorInfo(40032, "invalid_openid_list_size", "invalid openid list size", _C.FATAL,
              "Too many (or no) openids in one call", "this is a wxtui bug: calls are chunked; please report it"),
    ErrorInfo(40092, "invalid_remark", "invalid remark", _C.FATAL,
              "The remark was refused", "some accounts accept only about 20 bytes; shorten it"),
    ErrorInfo(40125, "invalid_appsecret", "invalid appsecret", _C.FATAL,
              "The AppSecret is wrong", "reset it in the Official Accounts Platform and store it again: wxtui account add"),
    ErrorInfo(40164, "ip_not_whitelisted", "invalid ip, not in whitelist", _C.FATAL,
              "This machine's IP is not on the account's API IP whitelist",
              "add it under Settings and Development > Basic Configuration > IP whitelist, or run wxtui on a whitelisted server"),
    ErrorInfo(40243, "appsecret_frozen", "AppSecret is frozen", _C.FATAL,
              "The AppSecret is frozen", "unfreeze or reset it in the Official Accounts Platform"),
    ErrorInfo(41001, "access_token_missing", "access_token missing", _C.TOKEN,
              "The access token is missing", "wxtui fetches one by itself"),
    ErrorInfo(41002, "appid_missing", "appid missing", _C.FATAL,
              "The AppID is missing", "set the AppID in the account profile"),
    ErrorInfo(41004, "appsecret_missing", "appsecret missing", _C.FATAL,
              "The AppSecret is missing", "store it with: wxtui account add"),
    ErrorInfo(42001, "access_token_expired", "access_token expired", _C.TOKEN,
              "The access token expired", "wxtui fetches a new one by itself"),
    ErrorInfo(43002, "require_post", "require POST method", _C.FATAL,
              "The call needs POST", "this is a wxtui bug; please report it"),
    ErrorInfo(44002, "empty_post_data", "empty post data", _C.FATAL,
              "The request body was empty", "this is a wxtui bug; please report it"),
    ErrorInfo(45009, "api_daily_quota", "reach max api daily quota limit", _C.QUOTA,
              "The daily quota of this API is used up",
              "jobs pause and resume after midnight China time, or after a confirmed quota reset"),
    ErrorInfo(45011, "api_minute_limit", "api minute-quota reach limit, must slower, retry next minute",
              _C.MINUTE, "Too many calls this minute", "wxtui waits for the next minute and slows down"),
    ErrorInfo(45056, "too_many_tags", "too many tags now, no need to add new", _C.FATAL,
              "The account already has 100 tags", "delete a tag you no longer need first"),
    ErrorInfo(45057, "tag_too_big_to_delete", "can't delete the tag that has too many fans", _C.FATAL,
              "The tag has more than 100,000 followers and cannot be deleted directly",
              "wxtui can drain it first (untag its followers), then delete it"),
    ErrorInfo(45058, "reserved_tag", "can't modify sys tag", _C.FATAL,
              "Tags 0, 1 and 2 (the star group) are reserved", "they cannot be renamed or deleted"),
    ErrorInfo(45059, "too_many_tags_on_user", "has too many tags", _C.FATAL,
              "A follower would carry more than 20 tags", "untag something from those followers first"),
    ErrorInfo(45157, "invalid_tag_name", "invalid tag name", _C.FATAL,
              "The tag name is taken or not allowed", "choose another name"),
    ErrorInfo(45158, "tag_name_too_long", "tag name too long", _C.FATAL,
              "The tag name is longer than 30 bytes", "a Chinese character takes 3 bytes: at most 10 of them"),
    ErrorInfo(45159, "invalid_tag_id", "invalid tag id", _C.RETRY,
              "No such tag", "a tag created a moment ago can take a few seconds to appear; otherwise sync the tags"),
    ErrorInfo(45169, "openid_much_req", "openid much req", _C.RETRY,
              "Concurrent changes to the same follower", "wxtui retries by itself"),
    ErrorInfo(48001, "api_unauthorized", "api unauthorized", _C.FATAL,
              "This account may not use this API",
              "tag, blacklist and follower calls need a verified (认证) subscription or service account"),
    ErrorInfo(48006, "clear_quota_limit", "forbid to clear quota because of reaching the limit", _C.FATAL,
              "The quota was already reset 10 times this month", "wait for next month"),
    ErrorInfo(49003, "openid_not_of_appid", "not match openid with appid", _C.BAD_OPENID,
              "The openid belongs to another account", "openids differ per account; use this account's"),
    ErrorInfo(50001, "user_unauthorized", "user unauthorized", _C.FATAL,
              "The user has not authorised this", "check the account's permissions"),
    ErrorInfo(50002, "user_limited", "user limited", _C.FATAL,
              "The account is limited", "the account may be under penalty; check the Official Accounts Platform"),
    ErrorInfo(61004, "ip_not_whitelisted_61004", "access clientip is not registered", _C.FATAL,
              "This machine's IP is not on the account's API IP whitelist",
              "add it under Settings and Development > Basic Configuration > IP whitelist"),
    ErrorInfo(76021, "unknown_cgi_path", "cgi_path not found, please check", _C.FATAL,
              "No quota is kept for that API path", "check the path"),
)

ERRORS: dict[int, ErrorInfo] = {e.errcode: e for e in _TABLE}


def describe(errcode: int) -> ErrorInfo:
    """The table's entry, or a generic fatal one for a code the table does not know."""
    info = ERRORS.get(errcode)
    if info is None:
        info = ErrorInfo(errcode, "unknown", "", Category.FATAL, f"WeChat error {errcode}",
                         "see the official global return codes page")
    return info


_IP_RE = re.compile(r"invalid ip ([0-9a-fA-F.:]+)")


class TransportError(core.TransportError):
    """WeChat could not be reached (after retries and failover)."""

    service = "WeChat"


class BadResponseError(core.BadResponseError):
    """WeChat answered something that is not the API's JSON."""

    service = "WeChat"


class ApiError(core.ApiError):
    """A business error: the platform answered with a non-zero errcode."""

    lookup = staticmethod(describe)
    code_label = "errcode"

    def hint(self) -> str:
        if self.errcode in (40164, 61004):
            m = _IP_RE.search(self.errmsg)
            if m:
                return f"add {m.group(1)} to the API IP whitelist (Settings and Development > Basic Configuration)"
        return self.info.hint


class TokenError(ApiError, core.TokenError):
    pass


class QuotaExceeded(ApiError, core.QuotaExceeded):
    pass


class MinuteLimit(ApiError, core.MinuteLimit):
    pass


class RetryableError(ApiError, core.RetryableError):
    pass


class BadOpenidError(ApiError, core.BadOpenidError):
    pass


_CLASS_BY_CATEGORY: dict[Category, type[ApiError]] = {
    Category.TOKEN: TokenError,
    Category.QUOTA: QuotaExceeded,
    Category.MINUTE: MinuteLimit,
    Category.RETRY: RetryableError,
    Category.BAD_OPENID: BadOpenidError,
    Category.FATAL: ApiError,
}


def api_error(errcode: int, errmsg: str = "", path: str = "") -> ApiError:
    """The exception for an errcode, of the class its category calls for."""
    return _CLASS_BY_CATEGORY[describe(errcode).category](errcode, errmsg, path)
