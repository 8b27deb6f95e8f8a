"""The X-Directory-Signature scheme v2 (docs/directory.md), as a pure function: it
covers method, path, timestamp and body, so a captured request replays nowhere else."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from marketred.integrations.directory import SignatureError, path_of, sign, verify

BODY = b'{"name":"Caf\xc3\xa9 Altiplano SpA"}'
PATH = "/api/v1/directory/companies/inf-1001"
T = 1700000000


def test_signature_is_hmac_sha256_of_method_path_timestamp_and_body() -> None:
    message = b"v2\nPUT\n" + PATH.encode() + b"\n1700000000\n" + BODY
    expected = hmac.new(b"s3cret", message, hashlib.sha256).hexdigest()
    assert sign("s3cret", "PUT", PATH, BODY, timestamp=T) == f"t={T},v2={expected}"


def test_valid_signature_within_tolerance_is_accepted() -> None:
    header = sign("s3cret", "PUT", PATH, BODY, timestamp=T)
    assert verify("s3cret", header, "PUT", PATH, BODY, now=T + 299) == T


@pytest.mark.parametrize(
    ("header_secret", "method", "path", "body", "now", "reason"),
    [
        ("other", "PUT", PATH, BODY, T, "does not match"),
        ("s3cret", "PUT", PATH, BODY + b" ", T, "does not match"),
        ("s3cret", "PUT", "/api/v1/directory/companies/inf-2002", BODY, T, "does not match"),
        ("s3cret", "DELETE", PATH, BODY, T, "does not match"),
        ("s3cret", "PUT", PATH, BODY, T + 301, "tolerance"),
        ("s3cret", "PUT", PATH, BODY, T - 301, "tolerance"),
    ],
)
def test_wrong_secret_method_path_body_or_time_are_refused(
    header_secret: str, method: str, path: str, body: bytes, now: int, reason: str
) -> None:
    header = sign(header_secret, "PUT", PATH, BODY, timestamp=T)
    with pytest.raises(SignatureError, match=reason):
        verify("s3cret", header, method, path, body, now=now)


@pytest.mark.parametrize("header", [None, "", "v2=abc", "t=soon,v2=abc", f"t={T}"])
def test_malformed_headers_are_refused(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify("s3cret", header, "PUT", PATH, BODY, now=T)


def test_the_old_body_only_v1_signature_is_refused() -> None:
    v1 = hmac.new(b"s3cret", f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    with pytest.raises(SignatureError, match="v1 is not accepted"):
        verify("s3cret", f"t={T},v1={v1}", "PUT", PATH, BODY, now=T)


def test_any_of_several_v2_values_may_match_during_secret_rotation() -> None:
    good = sign("s3cret", "PUT", PATH, BODY, timestamp=T).split("v2=")[1]
    header = f"t={T},v2={'0' * 64},v2={good}"
    assert verify("s3cret", header, "PUT", PATH, BODY, now=T) == T


def test_path_of_keeps_the_query() -> None:
    assert path_of("http://d.test/indexer/products/1?x=2") == "/indexer/products/1?x=2"
    assert path_of("http://d.test/indexer/products") == "/indexer/products"
