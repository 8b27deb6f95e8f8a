import pytest

from tests.support.api import bearer, register_user

pytestmark = pytest.mark.db


async def test_register_then_token_then_me(client):
    user = await register_user(client, email="Ana.Perez@Example.cl")
    assert user["email"] == "ana.perez@example.cl"
    assert user["role"] == "buyer"
    headers = await bearer(client, "ana.perez@example.cl", user["password"])
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["email"] == "ana.perez@example.cl"


async def test_wrong_password_is_401_problem_json(client):
    user = await register_user(client)
    r = await client.post(
        "/api/v1/auth/token", data={"username": user["email"], "password": "wrong password!"}
    )
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 401
    assert r.json()["title"] == "Unauthorized"


async def test_malformed_body_is_422_naming_the_field(client):
    r = await client.post("/api/v1/auth/register", json={"email": "not-an-email", "password": "x"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"email", "password"}
    r = await client.post("/api/v1/auth/token", data={"username": "a@b.cl"})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["password"]


async def test_unknown_field_is_refused(client):
    r = await client.post(
        "/api/v1/auth/register",
        json={"email": "x@example.cl", "password": "long enough pw", "role": "operator"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "role"


async def test_duplicate_registration_is_409(client):
    user = await register_user(client)
    r = await client.post(
        "/api/v1/auth/register", json={"email": user["email"], "password": "another long pw"}
    )
    assert r.status_code == 409


async def test_missing_or_forged_token_is_401(client):
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    r = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer forged.token.x"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


async def test_unknown_route_is_problem_json(client):
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
