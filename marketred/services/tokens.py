"""Short-lived signed bearer tokens (JWT, HS256) for the API."""

from __future__ import annotations

import time
import uuid

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from marketred.services.errors import Unauthorized

_ISSUER = "marketred"


def issue_access_token(secret: str, user_id: uuid.UUID, minutes: int) -> str:
    now = int(time.time())
    claims = {"sub": str(user_id), "iss": _ISSUER, "iat": now, "exp": now + minutes * 60}
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(secret.encode()))


def read_access_token(secret: str, token: str) -> uuid.UUID:
    try:
        decoded = jwt.decode(token, OctKey.import_key(secret.encode()), algorithms=["HS256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": _ISSUER}, exp={"essential": True}
        ).validate(decoded.claims)
        return uuid.UUID(str(decoded.claims["sub"]))
    except (JoseError, ValueError, KeyError) as exc:
        raise Unauthorized("the access token is invalid or expired") from exc
