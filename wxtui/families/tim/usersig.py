"""UserSig version 2: the admin signature every Tencent Cloud IM REST call carries.

The algorithm (docs: tim-api.md): HMAC-SHA256 over four `TLS.*` lines, keyed with the UTF-8
bytes of the secret key string; the digest in standard base64 is `TLS.sig`; a JSON object of the
fields is zlib-compressed (a zlib stream), base64-encoded, and made URL-safe by replacing `+` with
`*`, `/` with `-` and `=` with `_`.

`generate_usersig` signs; `verify_usersig` is what the server does (the emulator uses it).
`UserSigSigner` keeps one signature per client and signs a new one shortly before it expires.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import inspect
import json
import time
import zlib
from dataclasses import dataclass
from typing import Awaitable, Callable

from wxtui.families.tim import limits
from wxtui.core.errors import ValidationError
from wxtui.core.secret_str import SecretStr

# A callable giving the secret key when a signature is made (a keyring lookup, possibly async).
KeyProvider = Callable[[], "str | Awaitable[str]"]

_TO_URL = str.maketrans("+/=", "*-_")
_FROM_URL = str.maketrans("*-_", "+/=")


def content_to_sign(sdkappid: int, identifier: str, now: int, expire: int) -> str:
    return (f"TLS.identifier:{identifier}\n"
            f"TLS.sdkappid:{sdkappid}\n"
            f"TLS.time:{now}\n"
            f"TLS.expire:{expire}\n")


def hmac_sig(key: str, sdkappid: int, identifier: str, now: int, expire: int) -> str:
    """`TLS.sig`: base64 of HMAC-SHA256 keyed with the key string's UTF-8 bytes (not hex-decoded)."""
    digest = hmac.new(str(key).encode("utf-8"), content_to_sign(sdkappid, identifier, now, expire).encode("utf-8"),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def generate_usersig(sdkappid: int, key: str, identifier: str, *, expire: int = limits.USERSIG_EXPIRE_S,
                     now: int | float | None = None) -> SecretStr:
    """A UserSig for `identifier`, valid `expire` seconds from `now` (default: the current time)."""
    if isinstance(sdkappid, bool) or not isinstance(sdkappid, int) or sdkappid <= 0:
        raise ValidationError(f"An SDKAppID is a positive number, not {sdkappid!r}")
    if not isinstance(identifier, str) or not identifier:
        raise ValidationError("The admin identifier cannot be empty")
    if not key:
        raise ValidationError("No secret key is available for this app (IM console > Applications > Basic information)")
    if isinstance(expire, bool) or not isinstance(expire, int) or expire <= 0:
        raise ValidationError(f"A UserSig lifetime is a positive number of seconds, not {expire!r}")
    now = int(time.time() if now is None else now)
    fields = {
        "TLS.ver": limits.USERSIG_VERSION,
        "TLS.identifier": identifier,
        "TLS.sdkappid": sdkappid,
        "TLS.expire": expire,
        "TLS.time": now,
        "TLS.sig": hmac_sig(key, sdkappid, identifier, now, expire),
    }
    compressed = zlib.compress(json.dumps(fields).encode("utf-8"))
    return SecretStr(base64.b64encode(compressed).decode("ascii").translate(_TO_URL))


# ---- verification (the server's side) ------------------------------------------------------


class UserSigError(ValueError):
    """A UserSig the server refuses; `code` is the ErrorCode it answers with."""

    code = 70003


class MalformedUserSig(UserSigError):
    code = 70003


class UserSigWrongKey(UserSigError):
    code = 70009


class UserSigIdentifierMismatch(UserSigError):
    code = 70013


class UserSigSdkappidMismatch(UserSigError):
    code = 70014


class UserSigExpiredError(UserSigError):
    code = 70001


@dataclass(frozen=True, slots=True)
class UserSigFields:
    version: str
    identifier: str
    sdkappid: int
    time: int
    expire: int
    sig: str

    @property
    def expires_at(self) -> int:
        return self.time + self.expire

    def __repr__(self) -> str:  # the HMAC is not a secret, but it is a credential's part: keep it off screens
        return (f"UserSigFields(identifier={self.identifier!r}, sdkappid={self.sdkappid}, time={self.time}, "
                f"expire={self.expire})")


def decode_usersig(usersig: str) -> UserSigFields:
    """The fields inside a UserSig, without checking the signature; MalformedUserSig if unreadable."""
    if not isinstance(usersig, str) or not usersig:
        raise MalformedUserSig("empty UserSig")
    try:
        raw = zlib.decompress(base64.b64decode(str(usersig).translate(_FROM_URL), validate=True))
        fields = json.loads(raw)
    except (binascii.Error, zlib.error, ValueError, UnicodeDecodeError):
        raise MalformedUserSig("the UserSig is not a base64 zlib JSON object") from None
    if not isinstance(fields, dict):
        raise MalformedUserSig("the UserSig is not a JSON object")
    try:
        decoded = UserSigFields(fields["TLS.ver"], fields["TLS.identifier"], fields["TLS.sdkappid"],
                                fields["TLS.time"], fields["TLS.expire"], fields["TLS.sig"])
    except KeyError as exc:
        raise MalformedUserSig(f"the UserSig has no {exc.args[0]}") from None
    numbers = (decoded.sdkappid, decoded.time, decoded.expire)
    if (decoded.version != limits.USERSIG_VERSION or not isinstance(decoded.identifier, str)
            or not isinstance(decoded.sig, str)
            or any(isinstance(n, bool) or not isinstance(n, int) for n in numbers)):
        raise MalformedUserSig("the UserSig's fields have the wrong types or version")
    return decoded


def verify_usersig(usersig: str, *, sdkappid: int, key: str, identifier: str | None = None,
                   now: float | None = None) -> UserSigFields:
    """Check a UserSig as the server does: readable, signed with `key`, for this app and
    identifier, not expired. Raises the UserSigError whose `code` the server answers."""
    fields = decode_usersig(usersig)
    expected = hmac_sig(key, fields.sdkappid, fields.identifier, fields.time, fields.expire)
    if not hmac.compare_digest(expected.encode("ascii"), fields.sig.encode("utf-8", "replace")):
        raise UserSigWrongKey("the UserSig does not verify with this key")
    if fields.sdkappid != sdkappid:
        raise UserSigSdkappidMismatch("the UserSig was signed for another SDKAppID")
    if identifier is not None and fields.identifier != identifier:
        raise UserSigIdentifierMismatch("the UserSig was signed for another identifier")
    if (time.time() if now is None else now) >= fields.expires_at:
        raise UserSigExpiredError("the UserSig expired")
    return fields


# ---- the client's signature ----------------------------------------------------------------


class UserSigSigner:
    """One UserSig for a client, reused until `renew_margin_s` before it expires.

    The key is a string (kept as SecretStr) or a provider called only when a signature is made.
    """

    def __init__(self, sdkappid: int, identifier: str, key: str | KeyProvider, *,
                 expire_s: int = limits.USERSIG_EXPIRE_S, renew_margin_s: int = limits.USERSIG_RENEW_MARGIN_S,
                 clock: Callable[[], float] = time.time):
        if renew_margin_s >= expire_s:
            raise ValueError("the renew margin must be shorter than the UserSig's life")
        self.sdkappid = sdkappid
        self.identifier = identifier
        self._key = key if callable(key) else SecretStr(key)
        self.expire_s = expire_s
        self.renew_margin_s = renew_margin_s
        self._clock = clock
        self._usersig: SecretStr | None = None
        self._expires_at = 0.0
        self.generated = 0  # signatures made so far

    def __repr__(self) -> str:
        return f"UserSigSigner(sdkappid={self.sdkappid}, identifier={self.identifier!r})"

    async def _key_value(self) -> str:
        value = self._key() if callable(self._key) else self._key
        if inspect.isawaitable(value):
            value = await value
        return value

    async def current(self) -> SecretStr:
        """The signature to send now (a new one when the current is close to expiry)."""
        if self._usersig is None or self._clock() >= self._expires_at - self.renew_margin_s:
            await self._sign()
        assert self._usersig is not None
        return self._usersig

    async def renew(self, failed: str | None = None) -> None:
        """The server refused `failed` as expired: sign anew, unless another call already did."""
        if failed is not None and self._usersig is not None and self._usersig != failed:
            return
        await self._sign()

    async def _sign(self) -> None:
        now = int(self._clock())
        self._usersig = generate_usersig(self.sdkappid, SecretStr(await self._key_value()), self.identifier,
                                         expire=self.expire_s, now=now)
        self._expires_at = now + self.expire_s
        self.generated += 1
