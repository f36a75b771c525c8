"""How a WeChat call is wrapped: the access token in the query, the outcome in `errcode`."""

from __future__ import annotations

from wxtui.core.transport import Envelope
from wxtui.families.wechat.errors import BadResponseError, TransportError, api_error, describe


class WeChatEnvelope(Envelope):
    transport_error = TransportError
    bad_response = BadResponseError
    renewal = "token"
    # Tokens refused to one call that no call had used successfully: more than this, and the
    # credentials are taken not to work (a token that worked and was later refused was rotated,
    # which may happen any number of times).
    unproven_renewals = 3

    def __init__(self) -> None:
        self.tokens = None  # the client's TokenManager; None for token-less calls

    async def credential(self, with_token: bool):
        return await self.tokens.get() if with_token else None

    async def renew(self, refused) -> None:
        await self.tokens.invalidate(refused)

    def worked(self, credential) -> None:
        self.tokens.worked(credential)

    def has_worked(self, credential) -> bool:
        return self.tokens.has_worked(credential)

    def outcome(self, payload: dict, path: str) -> tuple[bool, int, str]:
        errcode = payload.get("errcode", 0) if isinstance(payload, dict) else 0
        return not errcode, errcode, str(payload.get("errmsg", "")) if errcode else ""

    def category(self, code: int):
        return describe(code).category

    def error(self, code: int, message: str, path: str, payload: dict):
        return api_error(code, message, path)
