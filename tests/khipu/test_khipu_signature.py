"""Webhook signatures: the documented test vector, and what a receiver must refuse."""

from __future__ import annotations

import json
import time

import pytest

from marketred.integrations.khipu import KhipuSignatureError
from marketred.integrations.khipu import signature as sig
from marketred.sandbox.khipu.records import php_json

VECTOR_SECRET = "1a4cbbbeb8bdb7e1d73572b9cc43ce4ce18f79d9"
VECTOR_T = 1711965600393
VECTOR_S = "GYzpjnXlTKQ+BJY7pZJmrM6DZgWMSJdtOr/dleBKTdg="
VECTOR_BODY = (
    b'{"payment_id":"zfxnocsow6mz","receiver_id":990939,"subject":"TEST_COBRO",'
    b'"amount":"1000.0000","discount":"0.0000","currency":"CLP","receipt_url":'
    b'"https:\\/\\/s3.amazonaws.com\\/staging.notifications.khipu.com\\/'
    b'CPKH-1804240956-zfxnocsow6mz.pdf","bank":"DemoBank","bank_id":"Bawdf",'
    b'"payer_name":"Cobrador de desarrollo #990.939","payer_email":"test@khipu.com",'
    b'"personal_identifier":"44.444.444-4","bank_account_number":"000000000000444444444",'
    b'"out_of_date_conciliation":false,"transaction_id":"15f836bd-e8a7-4d12-b2f1-56403012b555",'
    b'"responsible_user_email":"test@khipu.com","payment_method":"simplified_transfer",'
    b'"conciliation_date":"2024-04-18T13:56:54.859Z"}'
)
VECTOR_HEADER = f"t={VECTOR_T},s={VECTOR_S}"
NEAR_T = VECTOR_T / 1000 + 30


def test_reference_vector_signs_to_documented_value() -> None:
    assert sig.sign(VECTOR_SECRET, VECTOR_T, VECTOR_BODY) == VECTOR_HEADER


def test_reference_vector_verifies_near_its_timestamp() -> None:
    assert sig.verify(VECTOR_SECRET, VECTOR_HEADER, VECTOR_BODY, now=NEAR_T) is True


def test_header_parts_may_come_in_any_order_with_spaces() -> None:
    header = f"s={VECTOR_S}, t={VECTOR_T}"
    assert sig.verify(VECTOR_SECRET, header, VECTOR_BODY, now=NEAR_T)


def test_round_trip_with_current_time() -> None:
    body = b'{"payment_id":"abc123def456"}'
    header = sig.sign("s3cret", int(time.time() * 1000), body)
    assert sig.verify("s3cret", header, body, now=time.time())


def test_tampered_body_is_refused() -> None:
    tampered = VECTOR_BODY.replace(b'"amount":"1000.0000"', b'"amount":"1.0000"')
    with pytest.raises(KhipuSignatureError, match="does not match"):
        sig.verify(VECTOR_SECRET, VECTOR_HEADER, tampered, now=NEAR_T)


def test_reserialised_body_is_refused() -> None:
    # A receiver must check the raw bytes: json round-tripping drops the `\/` escapes.
    reserialised = json.dumps(json.loads(VECTOR_BODY), separators=(",", ":")).encode()
    with pytest.raises(KhipuSignatureError):
        sig.verify(VECTOR_SECRET, VECTOR_HEADER, reserialised, now=NEAR_T)


def test_wrong_secret_is_refused() -> None:
    with pytest.raises(KhipuSignatureError, match="does not match"):
        sig.verify("d6ec59c7-e299-4704-840d-300442546982", VECTOR_HEADER, VECTOR_BODY, NEAR_T)


@pytest.mark.parametrize("offset_seconds", [301, -301, 3600])
def test_timestamp_outside_five_minutes_is_refused(offset_seconds: int) -> None:
    now = VECTOR_T / 1000 + offset_seconds
    with pytest.raises(KhipuSignatureError, match="tolerance"):
        sig.verify(VECTOR_SECRET, VECTOR_HEADER, VECTOR_BODY, now=now)


def test_timestamp_within_tolerance_edge_is_accepted() -> None:
    assert sig.verify(VECTOR_SECRET, VECTOR_HEADER, VECTOR_BODY, now=VECTOR_T / 1000 + 299)


@pytest.mark.parametrize(
    "header", [None, "", "garbage", f"t={VECTOR_T}", f"s={VECTOR_S}", f"t=abc,s={VECTOR_S}"]
)
def test_missing_or_malformed_header_is_refused(header: str | None) -> None:
    with pytest.raises(KhipuSignatureError):
        sig.verify(VECTOR_SECRET, header, VECTOR_BODY, now=NEAR_T)


def test_php_json_writes_the_documented_body_byte_for_byte() -> None:
    # The sandbox encodes webhooks with php_json; the docs' example must come out identical.
    assert php_json(json.loads(VECTOR_BODY)) == VECTOR_BODY


def test_php_json_escapes_non_ascii_like_php() -> None:
    assert php_json({"subject": "Cotización Q-1 — Ñandú"}) == (
        b'{"subject":"Cotizaci\\u00f3n Q-1 \\u2014 \\u00d1and\\u00fa"}'
    )
