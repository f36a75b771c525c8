"""Operation tables whose calls go through the shared API transport (wxtui.core.transport).

What a failed call means for the job follows from its error's category, whichever family raised
it: a member that poisons the call is isolated, a spent daily quota pauses the job until it
resets, a refused credential (or a code the family names job-wide) stops it, a throttle or a
transient error puts the call back for later, anything else fails that call. The retries the
transport makes while a call runs are reported to the scheduler, throttles apart, so it slows
down. A family says only what is its own: its job-wide and poisoning codes, when its quota
resets, and which retries are throttles. Without credentials at all, the job stops.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from wxtui.core.errors import (ApiError, BadOpenidError, BadResponseError, CredentialsUnavailable, MinuteLimit,
                               QuotaExceeded, RetryableError, TokenError, TransportError, ValidationError,
                               redact)
from wxtui.core.transport import RetryEvent, call_observer

from .operations import OperationTable, Outcome, Verdict


class ApiOperations(OperationTable):
    job_wide_codes: frozenset[int] = frozenset()  # no call of the job can succeed after these
    bad_target_codes: frozenset[int] = frozenset()  # some member of the call makes it fail

    def quota_resets_at(self) -> float | None:
        """When a spent daily quota comes back (unix seconds), for a paused job to say."""
        return None

    def is_throttle(self, event: RetryEvent) -> bool:
        """Whether a retry happened because the service asked to slow down."""
        return False

    def classify(self, exc: BaseException) -> Outcome:
        if isinstance(exc, CredentialsUnavailable):  # no secret: no token, no signature, no call
            return Outcome(Verdict.STOP, None, str(exc))
        if isinstance(exc, ApiError):
            code, message = exc.errcode, exc.info.message
            if isinstance(exc, BadOpenidError) or code in self.bad_target_codes:
                return Outcome(Verdict.BAD_TARGET, code, message)
            if isinstance(exc, QuotaExceeded):
                return Outcome(Verdict.PAUSE, code, exc.user_message(), self.quota_resets_at())
            if isinstance(exc, TokenError) or code in self.job_wide_codes:
                return Outcome(Verdict.STOP, code, exc.user_message())
            if isinstance(exc, (MinuteLimit, RetryableError)):
                return Outcome(Verdict.RETRY_LATER, code, message)
            return Outcome(Verdict.CALL_FAILED, code, message)
        if isinstance(exc, (TransportError, BadResponseError)):
            return Outcome(Verdict.RETRY_LATER, None, str(exc))
        if isinstance(exc, ValidationError):
            return Outcome(Verdict.CALL_FAILED, None, str(exc))
        return Outcome(Verdict.CALL_FAILED, None, redact(f"{type(exc).__name__}: {exc}"))

    @contextlib.contextmanager
    def watch_retries(self, on_retry: Callable[[bool, float], None]) -> Iterator[None]:
        def observe(event: RetryEvent) -> None:
            on_retry(self.is_throttle(event), event.delay_s)

        token = call_observer.set(observe)
        try:
            yield
        finally:
            call_observer.reset(token)
