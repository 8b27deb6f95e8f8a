"""Payment activities: business failures are non-retryable, uncertain ones retry."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from marketred.activities.payments import PaymentActivities
from marketred.integrations.khipu import KhipuClient, KhipuServerError
from marketred.schemas.payments import RefundInput
from tests.support.khipu import RECEIVER_ID
from tests.support.ports import free_port

from .payment_support import check_input, create_input, make_quote

pytestmark = pytest.mark.db


def activities(sessions: async_sessionmaker[AsyncSession], khipu: KhipuClient) -> PaymentActivities:
    return PaymentActivities(
        sessions, khipu, public_url=f"http://127.0.0.1:{free_port()}", receiver_id=RECEIVER_ID
    )


async def test_activities_create_check_and_refuse_a_refund_of_an_unpaid_payment(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    khipu: KhipuClient,
    http: httpx.AsyncClient,
) -> None:
    quote = await make_quote(db)
    acts = activities(session_factory, khipu)
    env = ActivityEnvironment()

    link = await env.run(acts.create_khipu_payment, create_input(quote))
    assert await env.run(acts.create_khipu_payment, create_input(quote)) == link
    check = await env.run(acts.check_khipu_payment, check_input(quote, link.khipu_payment_id))
    assert check.verdict == "pending"

    refund = RefundInput(
        quote_id=quote.id,
        workflow_id=quote.workflow_id,
        khipu_payment_id=link.khipu_payment_id,
        amount=quote.total,
        reason="operator cancel",
    )
    with pytest.raises(ApplicationError) as refused:
        await env.run(acts.refund_khipu_payment, refund)
    assert refused.value.non_retryable
    assert refused.value.type == "PaymentRefused"

    await env.run(acts.delete_khipu_payment, check_input(quote, link.khipu_payment_id))
    gone = await env.run(acts.check_khipu_payment, check_input(quote, link.khipu_payment_id))
    assert gone.verdict == "gone"
    calls = [c["operation"] for c in (await http.get("/_sandbox/calls")).json()]
    assert calls.count("postPayment") == 1


async def test_khipu_500_on_create_is_left_to_temporal_retries(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    khipu: KhipuClient,
    http: httpx.AsyncClient,
) -> None:
    quote = await make_quote(db)
    acts = activities(session_factory, khipu)
    await http.post("/_sandbox/faults", json={"operation": "postPayment", "mode": "error"})
    with pytest.raises(KhipuServerError):  # not an ApplicationError: retryable
        await ActivityEnvironment().run(acts.create_khipu_payment, create_input(quote))
    link = await ActivityEnvironment().run(acts.create_khipu_payment, create_input(quote))
    payments = (await http.get("/_sandbox/payments")).json()
    assert [p["payment_id"] for p in payments] == [link.khipu_payment_id]
