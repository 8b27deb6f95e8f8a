"""Short-lived signed bearer tokens (JWT, HS256) for the API.

Besides `iat` (whole seconds) a token carries `iat_us`, its issue instant in
microseconds: a user's `tokens_valid_after` (services/accounts/credentials.py) must tell a token
minted just before a password change from one minted just after it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from marketred.services.errors import Unauthorized

_ISSUER = "marketred"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class AccessToken:
    user_id: uuid.UUID
    issued_at: datetime


def issue_access_token(secret: str, user_id: uuid.UUID, minutes: int) -> str:
    now_us = time.time_ns() // 1000
    now = now_us // 1_000_000
    claims = {
        "sub": str(user_id),
        "iss": _ISSUER,
        "iat": now,
        "iat_us": now_us,
        "exp": now + minutes * 60,
    }
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(secret.encode()))


def read_access_token(secret: str, token: str) -> AccessToken:
    try:
        decoded = jwt.decode(token, OctKey.import_key(secret.encode()), algorithms=["HS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": _ISSUER}, exp={"essential": True}
        ).validate(decoded.claims)
        issued_us = int(decoded.claims.get("iat_us") or int(decoded.claims["iat"]) * 1_000_000)
        return AccessToken(
            user_id=uuid.UUID(str(decoded.claims["sub"])),
            issued_at=_EPOCH + timedelta(microseconds=issued_us),
        )
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise Unauthorized("the access token is invalid or expired") from exc
