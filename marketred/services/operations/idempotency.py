"""`Idempotency-Key` support for creating POSTs (docs/api.md), reusable by any router.

API:

- `await begin(session, user_id, scope, key, request_body) -> IdempotencyRecord | StoredResponse`
  Call it first, inside the request transaction, before creating anything.
  * First use of (user_id, scope, key): inserts the key row and returns an
    `IdempotencyRecord`; do the work, then call `complete(...)` in the same transaction.
  * Key already completed with the same body: returns the `StoredResponse`
    (`status`, `body`, `resource_id`); answer it as is, create nothing.
  * Same key, different body: raises `InvalidInput` (422, field "Idempotency-Key").
  * Two concurrent requests with one key: the second INSERT waits on the unique index
    until the first commits (then sees its stored response) or rolls back (then it
    becomes the first). A key row left without response in a committed transaction
    raises `Conflict` (409).
  `scope` names the endpoint, e.g. "POST /api/v1/quotes"; `request_body` is any
  JSON-able dict (hashed canonically: key order does not matter).
- `await complete(session, record, status, body, resource_id=None) -> None`
  Stores the response (a JSON-able dict, e.g. `model.model_dump(mode="json")`).
- `validate_key(key)` → the stripped key, or InvalidInput if it is empty or too long.

Routers do not call these: the `Idempotent` dependency (api/idempotent.py) does.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.services.errors import Conflict, InvalidInput
from marketred.store.repositories import idempotency as repo

MAX_KEY_LENGTH = 200
HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class IdempotencyRecord:
    id: uuid.UUID
    user_id: uuid.UUID
    scope: str
    key: str


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]
    resource_id: str | None


def request_hash(request_body: dict[str, Any]) -> str:
    canonical = json.dumps(request_body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            "bad Idempotency-Key", errors=[(HEADER, f"1 to {MAX_KEY_LENGTH} characters")]
        )
    return key


async def begin(
    session: AsyncSession,
    user_id: uuid.UUID,
    scope: str,
    key: str,
    request_body: dict[str, Any],
) -> IdempotencyRecord | StoredResponse:
    key = validate_key(key)
    digest = request_hash(request_body)
    inserted = await repo.insert_key(session, user_id, scope, key, digest)
    if inserted is not None:
        return IdempotencyRecord(id=inserted, user_id=user_id, scope=scope, key=key)
    row = await repo.lock_stored(session, user_id, scope, key)
    if row.request_hash != digest:
        raise InvalidInput(
            "this Idempotency-Key was already used with a different request",
            errors=[(HEADER, "reused with a different body")],
        )
    if row.response_status is None:
        raise Conflict("a request with this Idempotency-Key is still being processed")
    return StoredResponse(
        status=row.response_status, body=row.response_body or {}, resource_id=row.resource_id
    )


async def complete(
    session: AsyncSession,
    record: IdempotencyRecord,
    status: int,
    body: dict[str, Any],
    resource_id: str | None = None,
) -> None:
    await repo.store_response(session, record.id, status, body, resource_id)


def update_id(action: str, target_id: uuid.UUID, key: str | None) -> str | None:
    """A stable Temporal update id for a request that may be sent twice (a replayed
    Idempotency-Key, a double-submitted form's nonce): the same request is then the same
    update, which the workflow runs once and answers both. None lets Temporal pick one."""
    if not key:
        return None
    digest = hashlib.sha256(f"{action}:{target_id}:{key}".encode()).hexdigest()[:32]
    return f"{action}-{digest}"
