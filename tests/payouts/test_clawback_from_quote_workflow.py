"""The refund saga end to end from the quote workflow (issue 13): a quote completed by its
QuoteWorkflow (the workflow's real ledger activity posts the sale), paid out to the vendor
(payout run, approval over the API, the sandbox provider pays); then an operator's partial
refund through the workflow's `refund` update (Khipu faked, ledger real, under the
workflow's refund id); the next payout run takes it back as a clawback line and the
statement mail shows it. Dev server: payouts cannot run on the time-skipping server."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from marketred.activities.ledger import LedgerActivities
from marketred.sandbox.mailcatcher import list_caught
from marketred.schemas.ledger import PostSaleInput
from marketred.schemas.payments import PaymentNotified
from marketred.schemas.payouts import quote_number
from marketred.schemas.quotes import (
    AcceptInput,
    ConfirmDeliveryInput,
    MarkShippedInput,
    OperatorRefundInput,
    StartPaymentInput,
)
from marketred.store.models import LedgerEntry
from marketred.store.session import transaction
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.payouts.helpers import make_paid_quote, make_seller
from tests.quotes.fakes import FakeWorld, quote_input, start_quote
from tests.quotes.workflow_helpers import wait_until
from tests.support.factories import auth_headers, make_user
from tests.support.payouts import PayoutStack, run_and_pay
from tests.support.temporal import unique_task_queue

pytestmark = pytest.mark.db

LEDGER = {"post_sale_to_ledger", "post_refund_to_ledger"}


async def test_a_partial_refund_through_the_quote_workflow_is_clawed_back_on_the_next_payout(
    payout_api: tuple[httpx.AsyncClient, PayoutStack],
) -> None:
    http, stack = payout_api
    ledger = LedgerActivities(stack.sessions)
    async with transaction(stack.sessions) as db:
        vendor, _staff, buyer = await make_seller(db, commission_bps=1000)
        # The quote's rows as the API and the payment activities leave them.
        sold = await make_paid_quote(db, vendor, buyer, 50_000, status="PAID")
        operator = await make_user(db, "operator")
    as_operator = auth_headers(stack.settings, operator)

    world = FakeWorld()
    fakes = [
        a
        for a in world.activities()
        if a.__temporal_activity_definition.name not in LEDGER  # type: ignore[attr-defined]
    ]
    queue = unique_task_queue()
    async with Worker(
        stack.client,
        task_queue=queue,
        workflows=[QuoteWorkflow],
        activities=[*fakes, ledger.post_sale_to_ledger, ledger.post_refund_to_ledger],
    ):
        inp = quote_input().model_copy(update={"quote_id": sold.id})
        handle = await start_quote(stack.client, queue, inp)
        # 22 500 of lines + 27 500 shipping: the 50 000 the buyer paid.
        await handle.execute_update(QuoteWorkflow.accept, AcceptInput(shipping_cost=27_500))
        await handle.execute_update(QuoteWorkflow.start_payment, StartPaymentInput())
        world.verdict = "paid"
        await handle.signal(
            QuoteWorkflow.payment_notified,
            PaymentNotified(khipu_payment_id=f"kp-{sold.id.hex[:8]}"),
        )
        await wait_until(handle, lambda s: s.status == "PAID")
        await handle.execute_update(
            QuoteWorkflow.mark_shipped, MarkShippedInput(carrier="Starken", tracking="ST1")
        )
        await handle.execute_update(QuoteWorkflow.confirm_delivery, ConfirmDeliveryInput())
        await wait_until(handle, lambda s: s.status == "COMPLETED", timeout=60)

        first = await run_and_pay(http, stack, as_operator, str(vendor.id))
        assert (first["gross"], first["commission"], first["net"]) == (50_000, 5_000, 45_000)

        # After the payout, the operator refunds two units through the workflow.
        refunded = await handle.execute_update(
            QuoteWorkflow.refund, OperatorRefundInput(amount=12_000, reason="dos unidades")
        )
        assert (refunded.status, refunded.refunded_amount) == ("COMPLETED", 12_000)
        [asked] = world.refunds
        assert (asked.amount, asked.refund_id is not None) == (12_000, True)
        await handle.terminate("test over")

    async with transaction(stack.sessions) as db:
        later = await make_paid_quote(db, vendor, buyer, 30_000)
        keys = list(
            await db.scalars(select(LedgerEntry.key).where(LedgerEntry.quote_id == sold.id))
        )
    assert sum(f":refund:{asked.refund_id}:" in k for k in keys) > 0
    await ActivityEnvironment().run(ledger.post_sale_to_ledger, PostSaleInput(quote_id=later.id))
    second = await run_and_pay(http, stack, as_operator, str(vendor.id))
    assert (second["gross"], second["commission"], second["net"]) == (18_000, 1_800, 16_200)
    lines = {(i["quote_number"], i["kind"]): i for i in second["items"]}  # type: ignore[attr-defined]
    clawback = lines[(quote_number(sold.number), "clawback")]
    assert (clawback["gross"], clawback["net"]) == (-12_000, -10_800)
    key = f"payout-{second['id']}:statement"
    [mail] = [m for m in list_caught(stack.mail_folder) if (m.key or "").strip() == key]
    assert "Reverso por reembolso" in mail.text
    assert "$16.200" in mail.text
