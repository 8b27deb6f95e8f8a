"""The action routes declared with `api/actions.add_action` (quote updates, payout
decisions) publish the OpenAPI operations a hand-written handler gave: the same operation
id, summary and description, the path id, the optional `Idempotency-Key` header, the body
(required, optional or none) and the answer's schema."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from marketred.app import create_app
from marketred.settings import Settings


@pytest.fixture(scope="module")
def openapi(settings: Settings) -> dict[str, Any]:
    app: FastAPI = create_app(settings)
    return app.openapi()


def _post(openapi: dict[str, Any], path: str) -> dict[str, Any]:
    operation: dict[str, Any] = openapi["paths"][path]["post"]
    return operation


def _body_schema(operation: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


def _answer_schema(operation: dict[str, Any]) -> str:
    ref: str = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    return ref


@pytest.mark.parametrize(
    ("path", "operation_id", "summary", "body", "answer"),
    [
        ("/api/v1/quotes/{quote_id}/accept", "accept_quote", "Accept Quote", "AcceptQuote",
         "QuoteOut"),
        ("/api/v1/quotes/{quote_id}/ship", "ship_quote", "Ship Quote", "ShipQuote", "QuoteOut"),
        ("/api/v1/quotes/{quote_id}/deliver", "deliver_quote", "Deliver Quote", None, "QuoteOut"),
        ("/api/v1/quotes/{quote_id}/return-decision", "decide_return", "Decide Return",
         "ReturnDecisionBody", "QuoteOut"),
        ("/api/v1/payouts/{payout_id}/approve", "approve_payout", "Approve Payout", None,
         "PayoutDetail"),
        ("/api/v1/payouts/{payout_id}/confirm-transfer", "confirm_transfer", "Confirm Transfer",
         "ConfirmTransferBody", "PayoutDetail"),
    ],
)  # fmt: skip
def test_an_action_route_is_the_operation_a_handler_gave(
    openapi: dict[str, Any],
    path: str,
    operation_id: str,
    summary: str,
    body: str | None,
    answer: str,
) -> None:
    operation = _post(openapi, path)
    slug = path.strip("/").replace("/", "_").replace("{", "_").replace("}", "_").replace("-", "_")
    assert operation["operationId"] == f"{operation_id}_{slug}_post"
    assert operation["summary"] == summary
    id_name = path.rsplit("{", 1)[1].split("}")[0]
    params = {(p["in"], p["name"]): p["required"] for p in operation["parameters"]}
    assert params == {("path", id_name): True, ("header", "Idempotency-Key"): False}
    if body is None:
        assert "requestBody" not in operation
    else:
        assert operation["requestBody"]["required"] is True
        assert _body_schema(operation) == {"$ref": f"#/components/schemas/{body}"}
    assert _answer_schema(operation) == f"#/components/schemas/{answer}"


def test_cancel_takes_an_optional_body(openapi: dict[str, Any]) -> None:
    operation = _post(openapi, "/api/v1/quotes/{quote_id}/cancel")
    assert operation["operationId"] == "cancel_quote_api_v1_quotes__quote_id__cancel_post"
    assert "required" not in operation["requestBody"]
    refs = [alt.get("$ref") for alt in _body_schema(operation)["anyOf"]]
    assert refs == ["#/components/schemas/CancelQuote", None]


def test_a_docstring_is_the_description(openapi: dict[str, Any]) -> None:
    extend = _post(openapi, "/api/v1/quotes/{quote_id}/extend")
    assert extend["description"] == (
        "Push back the running deadline. The same Idempotency-Key sent twice extends once\n"
        "(stored answer, and the same Temporal update id)."
    )
    assert "description" not in _post(openapi, "/api/v1/quotes/{quote_id}/accept")
    retry = _post(openapi, "/api/v1/payouts/{payout_id}/retry-transfer")
    assert retry["description"] == (
        "Try again a payout HELD because the vendor had no bank account (it has one now)."
    )
