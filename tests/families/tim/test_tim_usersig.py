"""UserSig v2: a fixed vector built from the documented steps, round trips, and what the server refuses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib

import pytest

from wxtui.families.tim.usersig import (
    MalformedUserSig,
    UserSigExpiredError,
    UserSigIdentifierMismatch,
    UserSigSdkappidMismatch,
    UserSigSigner,
    UserSigWrongKey,
    decode_usersig,
    generate_usersig,
    verify_usersig,
)
from wxtui.core.errors import ValidationError

SDKAPPID = 1400000000
KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
IDENTIFIER = "administrator"
NOW = 1700000000
EXPIRE = 86400
# HMAC-SHA256 of the four TLS lines keyed with the key's UTF-8 bytes, in standard base64.
# Cross-checked outside Python: printf '<lines>' | openssl dgst -sha256 -hmac "$KEY" -binary | base64
EXPECTED_TLS_SIG = "yLAe+w7WUeUuqbV9h/TX78u21oTGi+i9Zp1u3PpnY60="
# The JSON inside the signature, byte for byte (the reference SDK's json.dumps layout and order).
EXPECTED_JSON = ('{"TLS.ver": "2.0", "TLS.identifier": "administrator", "TLS.sdkappid": 1400000000, '
                 '"TLS.expire": 86400, "TLS.time": 1700000000, "TLS.sig": "' + EXPECTED_TLS_SIG + '"}')


def test_fixed_vector_follows_the_documented_steps():
    # Step 1-2, by hand.
    text = (f"TLS.identifier:{IDENTIFIER}\nTLS.sdkappid:{SDKAPPID}\n"
            f"TLS.time:{NOW}\nTLS.expire:{EXPIRE}\n")
    digest = hmac.new(KEY.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    assert base64.b64encode(digest).decode() == EXPECTED_TLS_SIG
    # Steps 3-4, by hand: zlib stream, standard base64, then + -> *, / -> -, = -> _.
    stream = zlib.compress(EXPECTED_JSON.encode("utf-8"))
    expected = base64.b64encode(stream).decode().replace("+", "*").replace("/", "-").replace("=", "_")

    usersig = generate_usersig(SDKAPPID, KEY, IDENTIFIER, expire=EXPIRE, now=NOW)

    assert str(usersig) == expected
    assert not set("+/=") & set(str(usersig))
    raw = base64.b64decode(str(usersig).replace("*", "+").replace("-", "/").replace("_", "="))
    assert raw[:1] == b"\x78"  # a zlib stream header, not raw deflate or gzip
    assert zlib.decompress(raw).decode() == EXPECTED_JSON


def test_the_key_is_used_as_text_not_hex_decoded():
    hex_keyed = hmac.new(bytes.fromhex(KEY), b"x", hashlib.sha256).digest()
    fields = decode_usersig(generate_usersig(SDKAPPID, KEY, IDENTIFIER, expire=EXPIRE, now=NOW))
    assert fields.sig == EXPECTED_TLS_SIG
    assert base64.b64encode(hex_keyed).decode() != fields.sig


def test_decode_and_reverify_round_trip():
    usersig = generate_usersig(SDKAPPID, KEY, "ops-admin", expire=3600, now=NOW)
    fields = verify_usersig(usersig, sdkappid=SDKAPPID, key=KEY, identifier="ops-admin", now=NOW + 10)
    assert (fields.identifier, fields.sdkappid, fields.time, fields.expire) == ("ops-admin", SDKAPPID, NOW, 3600)
    assert fields.expires_at == NOW + 3600
    assert fields.version == "2.0"


@pytest.mark.parametrize("mutate, error, code", [
    (lambda s: s[:-8], MalformedUserSig, 70003),
    (lambda s: "not a signature", MalformedUserSig, 70003),
    (lambda s: "", MalformedUserSig, 70003),
])
def test_unreadable_signatures_are_malformed(mutate, error, code):
    usersig = mutate(str(generate_usersig(SDKAPPID, KEY, IDENTIFIER, now=NOW)))
    with pytest.raises(error) as info:
        verify_usersig(usersig, sdkappid=SDKAPPID, key=KEY, identifier=IDENTIFIER, now=NOW)
    assert info.value.code == code


def test_server_refusals_carry_their_codes():
    good = generate_usersig(SDKAPPID, KEY, IDENTIFIER, expire=100, now=NOW)
    cases = [
        (dict(key="0" * 64), UserSigWrongKey, 70009),
        (dict(sdkappid=SDKAPPID + 1), UserSigSdkappidMismatch, 70014),
        (dict(identifier="someone-else"), UserSigIdentifierMismatch, 70013),
        (dict(now=NOW + 100), UserSigExpiredError, 70001),
    ]
    for change, error, code in cases:
        kwargs = dict(sdkappid=SDKAPPID, key=KEY, identifier=IDENTIFIER, now=NOW + 99) | change
        with pytest.raises(error) as info:
            verify_usersig(good, **kwargs)
        assert info.value.code == code


def test_a_forged_field_breaks_the_signature():
    fields = json.loads(zlib.decompress(base64.b64decode(
        str(generate_usersig(SDKAPPID, KEY, IDENTIFIER, expire=100, now=NOW)).translate(str.maketrans("*-_", "+/=")))))
    fields["TLS.expire"] = 10 ** 9  # try to extend its life
    forged = base64.b64encode(zlib.compress(json.dumps(fields).encode())).decode().translate(str.maketrans("+/=", "*-_"))
    with pytest.raises(UserSigWrongKey):
        verify_usersig(forged, sdkappid=SDKAPPID, key=KEY, identifier=IDENTIFIER, now=NOW + 1000)


def test_bad_inputs_are_refused_clearly():
    with pytest.raises(ValidationError, match="SDKAppID"):
        generate_usersig(0, KEY, IDENTIFIER)
    with pytest.raises(ValidationError, match="identifier"):
        generate_usersig(SDKAPPID, KEY, "")
    with pytest.raises(ValidationError, match="secret key"):
        generate_usersig(SDKAPPID, "", IDENTIFIER)


def test_usersig_and_its_fields_never_show_in_a_repr():
    usersig = generate_usersig(SDKAPPID, KEY, IDENTIFIER, now=NOW)
    assert repr(usersig) == "'***'"
    assert repr(usersig[:20]) == "'***'"
    assert EXPECTED_TLS_SIG[:10] not in repr(decode_usersig(generate_usersig(SDKAPPID, KEY, IDENTIFIER,
                                                                              expire=EXPIRE, now=NOW)))


async def test_signer_reuses_its_signature_until_close_to_expiry():
    now = [float(NOW)]
    signer = UserSigSigner(SDKAPPID, IDENTIFIER, KEY, expire_s=7200, renew_margin_s=600, clock=lambda: now[0])
    first = await signer.current()
    now[0] += 6000
    assert await signer.current() == first
    now[0] += 700  # inside the renew margin
    second = await signer.current()
    assert second != first
    assert decode_usersig(second).time == NOW + 6700
    assert signer.generated == 2
    assert KEY not in repr(signer)


async def test_signer_renews_once_for_many_failures_of_the_same_signature():
    now = [float(NOW)]
    signer = UserSigSigner(SDKAPPID, IDENTIFIER, KEY, clock=lambda: now[0])
    failed = await signer.current()
    now[0] += 5
    await signer.renew(failed)
    await signer.renew(failed)  # a second call failing with the old one: already renewed
    assert signer.generated == 2
    assert await signer.current() != failed


async def test_signer_takes_an_async_key_provider():
    calls = []

    async def provider():
        calls.append(1)
        return KEY

    signer = UserSigSigner(SDKAPPID, IDENTIFIER, provider, clock=lambda: NOW)
    usersig = await signer.current()
    await signer.current()
    verify_usersig(usersig, sdkappid=SDKAPPID, key=KEY, identifier=IDENTIFIER, now=NOW)
    assert len(calls) == 1
