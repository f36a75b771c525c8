"""What every API family's errors share: the categories the engine acts on, the table entry a
family describes a code with, the exceptions by category, and redaction.

A family brings its table of codes (`lookup`) and its own subclasses; code that handles errors by
category (the bulk-action engine, the sync, the UI) handles every family alike. Exceptions never
carry an access token, a signature or a secret: they hold the API path, never the URL, and every
text passes through `redact`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Category(str, Enum):
    RETRY = "retry"  # transient: back off and try again
    TOKEN = "token"  # refetch the token once, then retry once
    QUOTA = "quota"  # daily quota gone: pause until it resets
    MINUTE = "minute"  # per-minute limit: wait for the next minute
    BAD_OPENID = "bad-openid"  # one openid poisons the whole call: bisect
    FATAL = "fatal"  # retrying will not help; tell the user


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    errcode: int
    name: str
    errmsg: str  # what the platform says (the emulator answers with it)
    category: Category
    message: str  # what the user is told
    hint: str = ""


_RID_RE = re.compile(r"rid:\s*([0-9a-fA-F-]+)")
# Tokens and secrets in URLs, query strings, JSON bodies and free text.
_REDACT_RE = re.compile(
    r"((?:access_token|secret|appsecret|authorizer_access_token|usersig)[\"']?\s*[=:]\s*[\"']?)([^&\"'\s,}]+)",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Replace every access token, secret or signature in text by '***'."""
    return _REDACT_RE.sub(r"\1***", text)


def rid_of(errmsg: str) -> str:
    m = _RID_RE.search(errmsg or "")
    return m.group(1) if m else ""


def unknown_code(code: int, service: str = "The API") -> ErrorInfo:
    """The entry of a code a family's table does not know: fatal, said as the service said it."""
    return ErrorInfo(code, "unknown", "", Category.FATAL, f"{service} error {code}", "")


class WxtuiError(Exception):
    """Base of every error wxtui raises on purpose; str() is a message fit for the user."""


class ValidationError(WxtuiError, ValueError):
    """Input refused before anything was sent."""


class CredentialsUnavailable(WxtuiError):
    """The account's credentials cannot be had (no secret from any source): no call can be made
    until the user supplies them."""


class UsageError(WxtuiError):
    """Bad input on the command line: said plainly, and nothing is sent."""


class TransportError(WxtuiError):
    """The API could not be reached (after retries and failover)."""

    service = "the API"  # a family's subclass names its own

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = redact(reason)
        super().__init__(f"Could not reach {self.service} for {path}: {self.reason}")


class BadResponseError(WxtuiError):
    """The server answered something that is not the API's JSON."""

    service = "the API"

    def __init__(self, path: str, detail: str):
        self.path = path
        self.detail = redact(detail)
        super().__init__(f"{self.service} answered {path} with something unexpected: {self.detail}")


class ApiError(WxtuiError):
    """A business error: the service answered with a non-zero code."""

    # A family's subclass brings its own table and the name of its code field.
    lookup = staticmethod(unknown_code)
    code_label = "code"

    def __init__(self, errcode: int, errmsg: str = "", path: str = ""):
        self.errcode = errcode
        self.errmsg = redact(errmsg or "")
        self.rid = rid_of(self.errmsg)
        self.path = path
        self.info = self.lookup(errcode)
        super().__init__(self.user_message())

    @property
    def category(self) -> Category:
        return self.info.category

    def hint(self) -> str:
        return self.info.hint

    def user_message(self) -> str:
        text = f"{self.info.message} ({self.code_label} {self.errcode}"
        if self.path:
            text += f" on {self.path}"
        text += ")"
        hint = self.hint()
        if hint:
            text += f": {hint}"
        if self.rid:
            text += f" [rid: {self.rid}]"
        return text

    def __reduce__(self):
        return (type(self), (self.errcode, self.errmsg, self.path))


class TokenError(ApiError):
    """The credential (access token, signature) was refused: renew it once, then retry once."""


class QuotaExceeded(ApiError):
    """The daily quota is spent: pause until it resets."""


class MinuteLimit(ApiError):
    """Too many calls this minute: wait for the next one."""


class RetryableError(ApiError):
    """Transient: back off and try again."""


class BadOpenidError(ApiError):
    """One member id poisons the whole call: bisect to find it."""
