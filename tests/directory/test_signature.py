"""The X-Directory-Signature scheme of design.md §6, as a pure function."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from marketred.integrations.directory import SignatureError, sign, verify

BODY = b'{"name":"Caf\xc3\xa9 Altiplano SpA"}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"s3cret", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign("s3cret", BODY, timestamp=1700000000) == f"t=1700000000,v1={expected}"


def test_valid_signature_within_tolerance_is_accepted() -> None:
    header = sign("s3cret", BODY, timestamp=1700000000)
    assert verify("s3cret", header, BODY, now=1700000000 + 299) == 1700000000


@pytest.mark.parametrize(
    ("header_secret", "body", "now", "reason"),
    [
        ("other", BODY, 1700000000, "does not match"),
        ("s3cret", BODY + b" ", 1700000000, "does not match"),
        ("s3cret", BODY, 1700000000 + 301, "tolerance"),
        ("s3cret", BODY, 1700000000 - 301, "tolerance"),
    ],
)
def test_wrong_secret_tampered_body_and_stale_timestamp_are_refused(
    header_secret: str, body: bytes, now: int, reason: str
) -> None:
    header = sign(header_secret, BODY, timestamp=1700000000)
    with pytest.raises(SignatureError, match=reason):
        verify("s3cret", header, body, now=now)


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=soon,v1=abc", "t=1700000000"])
def test_malformed_headers_are_refused(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify("s3cret", header, BODY, now=1700000000)


def test_any_of_several_v1_values_may_match_during_secret_rotation() -> None:
    good = sign("s3cret", BODY, timestamp=1700000000).split("v1=")[1]
    header = f"t=1700000000,v1={'0' * 64},v1={good}"
    assert verify("s3cret", header, BODY, now=1700000000) == 1700000000
