"""Khipu notification API 3.0 webhook signatures (reference §6.1).

Header `x-khipu-signature: t=<unix ms>,s=<base64 HMAC-SHA256(secret, t + "." + raw body)>`.
The key is the collection account's `secret`, never the API key. We sign and check the
exact bytes on the wire: re-serialising the JSON would change them (PHP escapes `/`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from marketred.integrations.khipu.errors import KhipuSignatureError

HEADER = "x-khipu-signature"
DEFAULT_TOLERANCE_SECONDS = 300


def compute(secret: str, t_ms: int | str, raw_body: bytes) -> str:
    """The base64 signature `s` for a timestamp and body."""
    message = str(t_ms).encode() + b"." + raw_body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def sign(secret: str, t_ms: int, raw_body: bytes) -> str:
    """The full header value `t=<ms>,s=<base64>`."""
    return f"t={t_ms},s={compute(secret, t_ms, raw_body)}"


def parse_header(header: str) -> tuple[str, str]:
    """Return (t, s); split on `,` then on the first `=` like the official plugins."""
    parts: dict[str, str] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts[key.strip()] = value.strip()
    t, s = parts.get("t", ""), parts.get("s", "")
    if not t or not s or not t.isdigit():
        raise KhipuSignatureError("malformed x-khipu-signature header")
    return t, s


def verify(
    secret: str,
    header: str | None,
    raw_body: bytes,
    now: datetime | float,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Return True for a valid, fresh signature; raise KhipuSignatureError otherwise.

    `now` is an aware datetime or Unix seconds. Timestamps further than the tolerance
    from now (either way) are refused so a captured request cannot be replayed later.
    """
    if not header:
        raise KhipuSignatureError("missing x-khipu-signature header")
    t, s = parse_header(header)
    now_s = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(now_s - int(t) / 1000) > tolerance_seconds:
        raise KhipuSignatureError("x-khipu-signature timestamp outside the tolerance window")
    expected = compute(secret, t, raw_body)
    if not hmac.compare_digest(expected.encode(), s.encode()):
        raise KhipuSignatureError("x-khipu-signature does not match the body")
    return True
