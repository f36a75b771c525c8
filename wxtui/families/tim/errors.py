"""Every Tencent Cloud IM ErrorCode wxtui knows, in one table, and the exceptions the client raises.

The table uses the shared `ErrorInfo` and `Category`, and the exceptions subclass the shared
ones by category (wxtui.core.errors: `ApiError`, `TokenError`, `RetryableError`,
`BadOpenidError`, `TransportError`, `BadResponseError`), so code that handles errors by category
(the bulk-action engine, the UI) handles every family alike. Nothing here ever holds a UserSig or a secret key: exceptions carry
the API path, never the URL, and every text passes through `redact`.
"""

from __future__ import annotations

from wxtui.core.errors import (
    ApiError,
    BadOpenidError,
    BadResponseError,
    Category,
    ErrorInfo,
    MinuteLimit,
    QuotaExceeded,
    RetryableError,
    TokenError,
    TransportError,
)

SERVICE = "Tencent Cloud IM"

_C = Category
_BUG = "this is a wxtui bug; please report it"
_WRONG_REGION = ("wrong region/domain: pick the data centre the app was created in (China, Singapore, "
                 "Seoul, Frankfurt, Silicon Valley, Jakarta), or check the SDKAppID")
_RATE = ("Tencent Cloud IM asks to slow down (100 calls per second)",
         "wxtui backs off and retries by itself")

_TABLE: tuple[ErrorInfo, ...] = (
    ErrorInfo(90001, "json_parse_failed", "Failed to parse the JSON format", _C.FATAL,
              "The request body was refused as malformed", _BUG),
    ErrorInfo(90009, "admin_required", "The request requires the app admin's permissions", _C.FATAL,
              "The identifier is not an app admin",
              "use an admin account of this app (IM console > Account Management > App admins)"),
    ErrorInfo(90018, "too_many_accounts", "The number of accounts requested exceeds the limit", _C.FATAL,
              "More than 100 accounts in one call", "calls are chunked to 100 accounts; " + _BUG),
    ErrorInfo(90020, "tag_too_long", "The tag length exceeds the limit (50 bytes)", _C.FATAL,
              "A tag is longer than 50 bytes of UTF-8", "a Chinese character takes 3 bytes: at most 16 of them"),
    ErrorInfo(90032, "too_many_tags", "The number of tags exceeds the limit", _C.FATAL,
              "Too many tags",
              "at most 10 tags per account in one call, 100 tags on one account and 1,000 distinct tags "
              "in the app: remove tags that are no longer used"),
    ErrorInfo(91000, "internal_error", "An internal service error occurs. Please try again", _C.RETRY,
              "Tencent Cloud IM had an internal error", "wxtui retries by itself"),
    ErrorInfo(60007, "rest_rate_limit", "REST API call frequency exceeds the limit", _C.RETRY, *_RATE),
    ErrorInfo(60011, "app_rate_limit", "SDKAppID request frequency exceeds the limit", _C.RETRY, *_RATE),
    ErrorInfo(60018, "too_frequent", "Requests are too frequent, please try again later", _C.RETRY, *_RATE),
    ErrorInfo(60019, "too_frequent_app", "Requests are too frequent, please try again later", _C.RETRY, *_RATE),
    ErrorInfo(70001, "usersig_expired", "UserSig expired", _C.TOKEN,
              "The UserSig expired", "wxtui signs a new one by itself; if this repeats, check this machine's clock"),
    ErrorInfo(70003, "usersig_invalid", "UserSig verification failed", _C.FATAL,
              "The UserSig was refused as invalid",
              "check the SDKAppID and the secret key (IM console > Applications > Basic information)"),
    ErrorInfo(70009, "usersig_wrong_key", "UserSig verification failed: signed with another key", _C.FATAL,
              "The UserSig does not verify with this app's key",
              "the secret key belongs to another SDKAppID, or was reset: copy it again from the IM console"),
    ErrorInfo(70013, "usersig_identifier_mismatch", "The UserID in the request does not match the UserSig",
              _C.FATAL, "The UserSig was signed for another identifier", _BUG),
    ErrorInfo(70014, "usersig_sdkappid_mismatch", "The SDKAppID in the request does not match the UserSig",
              _C.FATAL, "The UserSig was signed for another SDKAppID", _BUG),
    ErrorInfo(70016, "key_not_found", "The key of this SDKAppID does not exist", _C.FATAL,
              "This data centre does not know the app's key", _WRONG_REGION),
    ErrorInfo(70020, "sdkappid_not_found", "The SDKAppID was not found", _C.FATAL,
              "This data centre does not know the SDKAppID", _WRONG_REGION),
    ErrorInfo(70107, "account_not_imported", "The requested UserID does not exist", _C.BAD_OPENID,
              "The account is not imported into the app",
              "import it first (IM console or account_import), or leave it out"),
    ErrorInfo(70169, "server_timeout", "Internal server timeout, please try again", _C.RETRY,
              "Tencent Cloud IM timed out", "wxtui retries by itself"),
    ErrorInfo(70402, "invalid_parameter", "Invalid parameter", _C.FATAL,
              "A parameter of the request was refused", _BUG),
    ErrorInfo(70403, "admin_required_login", "The request requires the app admin's permissions", _C.FATAL,
              "The identifier is not an app admin",
              "use an admin account of this app (IM console > Account Management > App admins)"),
    ErrorInfo(70500, "internal_error_login", "Internal server error, please try again", _C.RETRY,
              "Tencent Cloud IM had an internal error", "wxtui retries by itself"),
)

ERRORS: dict[int, ErrorInfo] = {e.errcode: e for e in _TABLE}
RATE_LIMIT_CODES = frozenset({60007, 60011, 60018, 60019})
WRONG_REGION_CODES = frozenset({70016, 70020})


def describe(code: int) -> ErrorInfo:
    """The table's entry, or a generic fatal one for a code the table does not know."""
    info = ERRORS.get(code)
    if info is None:
        info = ErrorInfo(code, "unknown", "", Category.FATAL, f"{SERVICE} error {code}",
                         "see the Tencent Cloud IM error codes page")
    return info


def is_rate_limit(code: int | None) -> bool:
    """Whether the service asked to slow down (the scheduler adapts its pace on these)."""
    return code in RATE_LIMIT_CODES


class TimApiError(ApiError):
    """A business error: ActionStatus FAIL with a non-zero ErrorCode.

    `accounts` lists the accounts an ErrorList named, when the failed answer carried one.
    """

    lookup = staticmethod(describe)
    code_label = "ErrorCode"

    def __init__(self, errcode: int, errmsg: str = "", path: str = "", accounts: tuple[str, ...] = ()):
        self.accounts = tuple(accounts)
        super().__init__(errcode, errmsg, path)

    def user_message(self) -> str:
        text = super().user_message()
        if self.accounts:
            shown = ", ".join(self.accounts[:5]) + (", ..." if len(self.accounts) > 5 else "")
            text += f" [accounts: {shown}]"
        return text

    def __reduce__(self):
        return (type(self), (self.errcode, self.errmsg, self.path, self.accounts))


class UserSigExpired(TimApiError, TokenError):
    pass


class TimRetryableError(TimApiError, RetryableError):
    pass


class AccountNotImported(TimApiError, BadOpenidError):
    pass


class _TimQuota(TimApiError, QuotaExceeded):  # no TIM code is in this category today
    pass


class _TimMinute(TimApiError, MinuteLimit):  # nor in this one
    pass


_CLASS_BY_CATEGORY: dict[Category, type[TimApiError]] = {
    Category.TOKEN: UserSigExpired,
    Category.RETRY: TimRetryableError,
    Category.BAD_OPENID: AccountNotImported,
    Category.QUOTA: _TimQuota,
    Category.MINUTE: _TimMinute,
    Category.FATAL: TimApiError,
}


def tim_api_error(code: int, errmsg: str = "", path: str = "", accounts=()) -> TimApiError:
    """The exception for an ErrorCode, of the class its category calls for."""
    return _CLASS_BY_CATEGORY[describe(code).category](code, errmsg, path, tuple(accounts))


class TimTransportError(TransportError):
    """Tencent Cloud IM could not be reached (after retries and failover)."""

    service = SERVICE


class TimBadResponseError(BadResponseError):
    """The server answered something that is not the API's JSON envelope."""

    service = SERVICE
