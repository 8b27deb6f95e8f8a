"""A quote creation that fails after its workflow started ends that workflow at once:
the request rolls back, so no quote row will ever come for it to project."""

from __future__ import annotations

from typing import Any, cast

import pytest
from temporalio.client import Client

from marketred.schemas.quotes import CreateQuote
from marketred.services import accounts, carts, quotes_creation
from tests.support.factories import make_product, make_user, make_vendor

pytestmark = pytest.mark.db


class _Handle:
    def __init__(self, calls: list[tuple[str, Any]], workflow_id: str) -> None:
        self.calls, self.workflow_id = calls, workflow_id

    async def terminate(self, reason: str) -> None:
        self.calls.append(("terminate", self.workflow_id))
        assert reason


class _Temporal:
    """Records the workflow calls the quote service makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def start_workflow(self, *args: Any, id: str, **_: Any) -> None:  # noqa: A002
        assert args[0] == quotes_creation.WORKFLOW_TYPE
        self.calls.append(("start", id))

    def get_workflow_handle(self, workflow_id: str) -> _Handle:
        return _Handle(self.calls, workflow_id)


async def test_a_failure_after_the_start_terminates_the_started_workflow(db, settings, monkeypatch):
    vendor = await make_vendor(db)
    _, variants = await make_product(db, vendor)
    buyer = await make_user(db, "buyer")
    await carts.set_quantity(db, buyer.id, vendor.slug, variants[0].id, 1)

    async def broken(*_: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(carts, "empty_cart", broken)
    temporal = _Temporal()
    body = CreateQuote(vendor=vendor.slug, note="", contact={})
    with pytest.raises(RuntimeError, match="went away"):
        await quotes_creation.create_quote(
            db, cast(Client, temporal), settings, accounts.principal_of(buyer), body
        )
    started = [wid for call, wid in temporal.calls if call == "start"]
    assert len(started) == 1
    assert temporal.calls == [("start", started[0]), ("terminate", started[0])]
