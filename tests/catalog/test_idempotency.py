"""The generic Idempotency-Key helper other creating POSTs reuse."""

import asyncio

import pytest

from marketred.services.errors import InvalidInput
from marketred.services.operations import idempotency
from marketred.store.session import create_session_factory
from tests.support.factories import make_user

pytestmark = pytest.mark.db

SCOPE = "POST /api/v1/test"


async def test_first_use_then_replay_then_different_body(db):
    user = await make_user(db, "buyer")
    started = await idempotency.begin(db, user.id, SCOPE, "k1", {"a": 1, "b": [1, 2]})
    assert isinstance(started, idempotency.IdempotencyRecord)
    await idempotency.complete(db, started, 201, {"id": "x1"}, "x1")
    replay = await idempotency.begin(db, user.id, SCOPE, "k1", {"b": [1, 2], "a": 1})
    assert replay == idempotency.StoredResponse(status=201, body={"id": "x1"}, resource_id="x1")
    with pytest.raises(InvalidInput) as err:
        await idempotency.begin(db, user.id, SCOPE, "k1", {"a": 2})
    assert err.value.errors[0][0] == "Idempotency-Key"
    # Keys are per user and per scope.
    other = await make_user(db, "buyer")
    assert isinstance(
        await idempotency.begin(db, other.id, SCOPE, "k1", {"a": 2}), idempotency.IdempotencyRecord
    )
    assert isinstance(
        await idempotency.begin(db, user.id, "POST /other", "k1", {"a": 2}),
        idempotency.IdempotencyRecord,
    )


@pytest.mark.parametrize("key", ["", "   ", "x" * 201])
async def test_bad_keys_are_refused(db, key):
    user = await make_user(db, "buyer")
    with pytest.raises(InvalidInput):
        await idempotency.begin(db, user.id, SCOPE, key, {})


async def test_concurrent_requests_with_one_key_create_once(engine):
    sessions = create_session_factory(engine)
    async with sessions() as s:
        user = await make_user(s, "buyer")
        await s.commit()
    created: list[str] = []

    async def request(n: int) -> idempotency.StoredResponse | None:
        async with sessions() as s, s.begin():
            started = await idempotency.begin(s, user.id, SCOPE, "same", {"n": 1})
            if isinstance(started, idempotency.StoredResponse):
                return started
            await asyncio.sleep(0.2)  # the second request arrives while this one works
            created.append(f"r{n}")
            await idempotency.complete(s, started, 201, {"id": f"r{n}"}, f"r{n}")
            return None

    results = await asyncio.gather(request(1), request(2))
    assert len(created) == 1
    replayed = [r for r in results if r is not None]
    assert len(replayed) == 1
    assert replayed[0].body == {"id": created[0]}
