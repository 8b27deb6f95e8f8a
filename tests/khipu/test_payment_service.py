"""Payment service against the Khipu sandbox and the real database.

Create once per quote (also across Khipu 500s, timeouts and a worker dying between the
Khipu create and our commit), read-back verdicts, delete at the window's end, refund
recorded once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketred.activities import payments as payment_activity
from marketred.integrations.khipu import KhipuClient, KhipuServerError, KhipuTimeout
from marketred.schemas.payments import PaymentCheck, PaymentLink, RefundInput
from marketred.services.payments import quote_payment as payments
from marketred.services.payments import refunds as payment_refunds
from marketred.store.models import Payment, Quote
from tests.support.khipu import API_KEY, RECEIVER_ID
from tests.support.polling import eventually
from tests.support.ports import free_port
from tests.support.servers import serve

from .payment_support import (
    check_input,
    create_input,
    make_quote,
    postpayment_calls,
    sandbox_payments_for,
)

pytestmark = pytest.mark.db

# Nobody listens here: the sandbox's webhook deliveries fail fast and are not the point.
PUBLIC_URL = f"http://127.0.0.1:{free_port()}"


@pytest.fixture
async def quote(db: AsyncSession) -> Quote:
    return await make_quote(db)


@pytest.fixture
async def socket_sandbox() -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, KhipuClient]]:
    from marketred.sandbox.khipu import create_app

    port = free_port()
    app = create_app(
        api_key=API_KEY,
        secret="s",
        receiver_id=RECEIVER_ID,
        public_url=f"http://127.0.0.1:{port}",
        state_path=None,
    )
    async with serve(app, port) as url, httpx.AsyncClient(base_url=url) as http:
        yield app, http, KhipuClient(url, API_KEY, http, timeout=0.3, retry_backoff=0.01)
        await app.state.sandbox.stop()


async def rows_for(db: AsyncSession, quote: Quote) -> list[Payment]:
    stmt = select(Payment).where(Payment.quote_id == quote.id)
    return list(await db.scalars(stmt.execution_options(populate_existing=True)))


async def create(
    sessions: async_sessionmaker[AsyncSession], khipu: KhipuClient, quote: Quote
) -> PaymentLink:
    return await payment_activity.create_payment(
        sessions, khipu, public_url=PUBLIC_URL, inp=create_input(quote)
    )


async def pay(http: httpx.AsyncClient, payment_id: str, outcome: str = "normal") -> None:
    r = await http.post(f"/_sandbox/payments/{payment_id}/pay", json={"outcome": outcome})
    assert r.status_code == 200, r.text


async def create_and_pay(
    sessions: async_sessionmaker[AsyncSession],
    khipu: KhipuClient,
    http: httpx.AsyncClient,
    quote: Quote,
) -> PaymentLink:
    """The quote's payment, created and paid by the payer at the sandbox."""
    link = await create(sessions, khipu, quote)
    await pay(http, link.khipu_payment_id)
    return link


async def at_khipu_payment(http: httpx.AsyncClient, pid: str) -> dict[str, Any]:
    """The payment as the sandbox holds it (refunds, status detail)."""
    found: dict[str, Any] = (await http.get(f"/_sandbox/payments/{pid}")).json()
    return found


# --- create ------------------------------------------------------------------------------


async def test_create_records_the_payment_and_returns_the_same_link_again(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    khipu: KhipuClient,
    http: httpx.AsyncClient,
    quote: Quote,
) -> None:
    first = await create(session_factory, khipu, quote)
    again = await create(session_factory, khipu, quote)

    assert again == first
    assert first.payment_url.startswith("http://khipu.test/")
    assert len(await postpayment_calls(http)) == 1
    [row] = await rows_for(db, quote)
    assert (row.khipu_payment_id, row.payment_url) == (first.khipu_payment_id, first.payment_url)
    assert (row.status, row.amount, row.transaction_id) == ("pending", 45_990, quote.workflow_id)
    [at_khipu] = await sandbox_payments_for(http, quote.workflow_id)
    assert at_khipu["payment_id"] == first.khipu_payment_id
    assert at_khipu["custom"] == str(quote.id)
    assert at_khipu["notify_url"] == f"{PUBLIC_URL}/webhooks/khipu"


async def test_khipu_500_on_create_leaves_the_row_and_the_retry_creates_one_payment(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    khipu: KhipuClient,
    http: httpx.AsyncClient,
    quote: Quote,
) -> None:
    await http.post("/_sandbox/faults", json={"operation": "postPayment", "mode": "error"})

    with pytest.raises(KhipuServerError):
        await create(session_factory, khipu, quote)
    [row] = await rows_for(db, quote)
    assert row.status == "creating"
    assert row.khipu_payment_id is None
    assert "500" in (row.last_error or "")

    link = await create(session_factory, khipu, quote)
    assert await create(session_factory, khipu, quote) == link
    [row] = await rows_for(db, quote)
    assert row.khipu_payment_id == link.khipu_payment_id
    assert row.last_error is None
    at_khipu = await sandbox_payments_for(http, quote.workflow_id)
    assert [p["payment_id"] for p in at_khipu] == [link.khipu_payment_id]


async def test_timed_out_create_shows_the_buyer_one_payment(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    socket_sandbox: tuple[FastAPI, httpx.AsyncClient, KhipuClient],
    quote: Quote,
) -> None:
    """Khipu got the create but answered too late: the retry creates again (Khipu has
    no idempotency key nor search), and only the retried payment is ever shown."""
    _app, http, khipu = socket_sandbox
    fault = {"operation": "postPayment", "mode": "hang", "seconds": 0.8}
    await http.post("/_sandbox/faults", json=fault)

    with pytest.raises(KhipuTimeout):
        await create(session_factory, khipu, quote)
    # Khipu finishes the timed-out create after we gave up: an orphan nobody saw.
    orphans = await eventually(lambda: sandbox_payments_for(http, quote.workflow_id))
    [row] = await rows_for(db, quote)
    assert (row.status, row.khipu_payment_id, row.payment_url) == ("creating", None, None)

    link = await create(session_factory, khipu, quote)
    assert await create(session_factory, khipu, quote) == link

    assert len(await postpayment_calls(http)) == 2
    [row] = await rows_for(db, quote)
    assert row.khipu_payment_id == link.khipu_payment_id
    [orphan] = orphans
    assert link.khipu_payment_id != orphan["payment_id"]
    at_khipu = await sandbox_payments_for(http, quote.workflow_id)
    assert {p["payment_id"] for p in at_khipu} == {orphan["payment_id"], link.khipu_payment_id}
    # The orphan expires with the payment window, like the payment shown to the buyer.
    assert len({p["expires_date"] for p in at_khipu}) == 1


class WorkerDiesAfterKhipuAnswers(BaseException):
    """Stands for the worker process being killed (not an Exception: nothing catches it)."""


class DyingKhipu(KhipuClient):
    async def create_payment(self, request):  # type: ignore[no-untyped-def]
        await super().create_payment(request)
        raise WorkerDiesAfterKhipuAnswers


async def test_worker_killed_between_khipu_create_and_commit_still_one_payment_shown(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    http: httpx.AsyncClient,
    khipu: KhipuClient,
    quote: Quote,
) -> None:
    dying = DyingKhipu("http://khipu.test", API_KEY, http)
    with pytest.raises(WorkerDiesAfterKhipuAnswers):
        await create(session_factory, dying, quote)
    [row] = await rows_for(db, quote)
    assert (row.status, row.khipu_payment_id, row.payment_url) == ("creating", None, None)

    link = await create(session_factory, khipu, quote)
    assert await create(session_factory, khipu, quote) == link
    [row] = await rows_for(db, quote)
    assert row.payment_url == link.payment_url
    assert len(await sandbox_payments_for(http, quote.workflow_id)) == 2  # one never shown


# --- check -------------------------------------------------------------------------------


async def check(
    db: AsyncSession, khipu: KhipuClient, quote: Quote, pid: str, **kw: object
) -> PaymentCheck:
    receiver_id = kw.pop("receiver_id", RECEIVER_ID)
    assert isinstance(receiver_id, int)
    result = await payments.check_payment(
        db, khipu, receiver_id=receiver_id, inp=check_input(quote, pid, **kw)
    )
    await db.flush()
    return result


async def test_check_pending_then_paid(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    khipu: KhipuClient,
    http: httpx.AsyncClient,
    quote: Quote,
) -> None:
    link = await create(session_factory, khipu, quote)
    pending = await check(db, khipu, quote, link.khipu_payment_id)
    assert (pending.verdict, pending.status) == ("pending", "pending")

    await pay(http, link.khipu_payment_id)
    paid = await check(db, khipu, quote, link.khipu_payment_id)
    assert (paid.verdict, paid.status, paid.status_detail) == ("paid", "done", "normal")
    assert paid.conciliation_date is not None
    [row] = await rows_for(db, quote)
    assert (row.status, row.status_detail) == ("paid", "normal")
    assert row.paid_at == paid.conciliation_date


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"amount": 45_000}, "amount is $45.990, expected $45.000"),
        ({"currency": "USD"}, "currency is 'CLP', expected 'USD'"),
        ({"receiver_id": 111}, f"receiver id is {RECEIVER_ID}, expected 111"),
        ({"workflow_id": "quote-other"}, "expected 'quote-other'"),
    ],
)
async def test_paid_payment_that_is_not_ours_is_a_mismatch(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    khipu: KhipuClient,
    http: httpx.AsyncClient,
    quote: Quote,
    override: dict[str, object],
    reason: str,
) -> None:
    link = await create_and_pay(session_factory, khipu, http, quote)
    result = await check(db, khipu, quote, link.khipu_payment_id, **override)
    assert result.verdict == "mismatch"
    assert reason in (result.reason or "")
    [row] = await rows_for(db, quote)
    assert row.status == "held"
    assert row.paid_at is None


@pytest.mark.parametrize("outcome", ["rejected-by-payer", "marked-as-abuse"])
async def test_declined_payment_is_rejected(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    khipu: KhipuClient,
    http: httpx.AsyncClient,
    quote: Quote,
    outcome: str,
) -> None:
    link = await create(session_factory, khipu, quote)
    await pay(http, link.khipu_payment_id, outcome)
    result = await check(db, khipu, quote, link.khipu_payment_id)
    assert (result.verdict, result.status_detail) == ("rejected", outcome)
    assert (await rows_for(db, quote))[0].status == "rejected"


async def test_marked_paid_by_receiver_counts_as_paid(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    khipu: KhipuClient,
    http: httpx.AsyncClient,
    quote: Quote,
) -> None:
    link = await create(session_factory, khipu, quote)
    await pay(http, link.khipu_payment_id, "marked-paid-by-receiver")
    assert (await check(db, khipu, quote, link.khipu_payment_id)).verdict == "paid"


# --- delete ------------------------------------------------------------------------------


async def test_delete_pending_payment_then_it_is_gone(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    khipu: KhipuClient,
    quote: Quote,
) -> None:
    link = await create(session_factory, khipu, quote)
    inp = check_input(quote, link.khipu_payment_id)
    await payments.delete_payment(db, khipu, inp)
    await payments.delete_payment(db, khipu, inp)  # already gone: fine
    assert (await rows_for(db, quote))[0].status == "deleted"
    result = await check(db, khipu, quote, link.khipu_payment_id)
    assert result.verdict == "gone"


async def test_delete_of_a_paid_payment_changes_nothing(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    khipu: KhipuClient,
    http: httpx.AsyncClient,
    quote: Quote,
) -> None:
    link = await create_and_pay(session_factory, khipu, http, quote)
    await check(db, khipu, quote, link.khipu_payment_id)
    await payments.delete_payment(db, khipu, check_input(quote, link.khipu_payment_id))
    assert (await rows_for(db, quote))[0].status == "paid"
    assert (await check(db, khipu, quote, link.khipu_payment_id)).verdict == "paid"


# --- refund ------------------------------------------------------------------------------


def refund_input(quote: Quote, pid: str) -> RefundInput:
    return RefundInput(
        quote_id=quote.id,
        workflow_id=quote.workflow_id,
        khipu_payment_id=pid,
        amount=quote.total,
        reason="operator cancel",
    )


async def test_full_refund_is_recorded_once(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    khipu: KhipuClient,
    http: httpx.AsyncClient,
    quote: Quote,
) -> None:
    link = await create_and_pay(session_factory, khipu, http, quote)
    first = await payment_activity.refund_payment(
        session_factory, khipu, refund_input(quote, link.khipu_payment_id)
    )
    again = await payment_activity.refund_payment(
        session_factory, khipu, refund_input(quote, link.khipu_payment_id)
    )

    assert (first.refunded_amount, first.already_refunded) == (45_990, False)
    assert (again.refunded_amount, again.already_refunded) == (45_990, True)
    [row] = await rows_for(db, quote)
    assert (row.status, row.refunded_amount) == ("refunded", 45_990)
    assert row.refunded_at is not None
    at_khipu = await at_khipu_payment(http, link.khipu_payment_id)
    assert len(at_khipu["refunds"]) == 1
    assert at_khipu["status_detail"] == "reversed"
    assert (await check(db, khipu, quote, link.khipu_payment_id)).verdict == "refunded"


async def test_refund_of_an_unpaid_payment_is_refused(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    khipu: KhipuClient,
    quote: Quote,
) -> None:
    link = await create(session_factory, khipu, quote)
    with pytest.raises(payments.PaymentRefused):
        await payment_activity.refund_payment(
            session_factory, khipu, refund_input(quote, link.khipu_payment_id)
        )
    [row] = await rows_for(db, quote)
    assert (row.refunded_amount, row.refunded_at) == (0, None)


async def test_timed_out_refund_is_resolved_by_reading_the_payment_back(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    socket_sandbox: tuple[FastAPI, httpx.AsyncClient, KhipuClient],
    quote: Quote,
) -> None:
    _app, http, khipu = socket_sandbox
    link = await create_and_pay(session_factory, khipu, http, quote)
    fault = {"operation": "postPaymentRefundsById", "mode": "hang", "seconds": 0.8}
    await http.post("/_sandbox/faults", json=fault)
    inp = refund_input(quote, link.khipu_payment_id)

    with pytest.raises(KhipuTimeout):
        await payment_activity.refund_payment(session_factory, khipu, inp)
    [row] = await rows_for(db, quote)
    assert row.refunded_at is None
    # Khipu carries the timed-out refund out after we gave up.
    await eventually(lambda: _reversed(http, link.khipu_payment_id))

    # The retry is refused by Khipu (already reversed): recorded as done, not repeated.
    result = await payment_activity.refund_payment(session_factory, khipu, inp)
    assert (result.refunded_amount, result.already_refunded) == (45_990, True)
    [row] = await rows_for(db, quote)
    assert (row.status, row.refunded_amount) == ("refunded", 45_990)
    at_khipu = await at_khipu_payment(http, link.khipu_payment_id)
    assert len(at_khipu["refunds"]) == 1


async def _reversed(http: httpx.AsyncClient, pid: str) -> bool:
    body = await at_khipu_payment(http, pid)
    return bool(body["status_detail"] == "reversed")


# --- partial refunds (returns, operators) -----------------------------------------------


def part(quote: Quote, pid: str, refund_id: str, amount: int) -> RefundInput:
    update = {"amount": amount, "reason": "devolución", "refund_id": refund_id}
    return refund_input(quote, pid).model_copy(update=update)


async def test_partial_refunds_are_made_once_each_by_refund_id(
    session_factory: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    khipu: KhipuClient,
    http: httpx.AsyncClient,
    quote: Quote,
) -> None:
    link = await create_and_pay(session_factory, khipu, http, quote)
    first = await payment_activity.refund_part(
        session_factory, khipu, part(quote, link.khipu_payment_id, "r1", 5_000)
    )
    again = await payment_activity.refund_part(
        session_factory, khipu, part(quote, link.khipu_payment_id, "r1", 5_000)
    )
    other = await payment_activity.refund_part(
        session_factory, khipu, part(quote, link.khipu_payment_id, "r2", 990)
    )
    assert (first.refunded_amount, again.already_refunded, other.refunded_amount) == (
        5_000,
        True,
        990,
    )
    at_khipu = await at_khipu_payment(http, link.khipu_payment_id)
    assert [r["amount"] for r in at_khipu["refunds"]] == [5_000, 990]
    [row] = await rows_for(db, quote)
    assert row.refunded_amount == 5_990


async def test_a_partial_refund_without_an_answer_is_never_sent_again(
    session_factory: async_sessionmaker[AsyncSession],
    socket_sandbox: tuple[FastAPI, httpx.AsyncClient, KhipuClient],
    quote: Quote,
) -> None:
    _app, http, khipu = socket_sandbox
    link = await create_and_pay(session_factory, khipu, http, quote)
    fault = {"operation": "postPaymentRefundsById", "mode": "hang", "seconds": 0.8}
    await http.post("/_sandbox/faults", json=fault)
    inp = part(quote, link.khipu_payment_id, "r-lost", 2_000)
    with pytest.raises(payment_refunds.RefundUncertain):
        await payment_activity.refund_part(session_factory, khipu, inp)
    # Khipu carried it out after we gave up; a second attempt must not refund again.
    await eventually(lambda: _refunds(http, link.khipu_payment_id))
    with pytest.raises(payment_refunds.RefundUncertain):
        await payment_activity.refund_part(session_factory, khipu, inp)
    at_khipu = await at_khipu_payment(http, link.khipu_payment_id)
    assert len(at_khipu["refunds"]) == 1


async def test_a_partial_refund_khipu_refuses_is_refused_and_may_be_asked_again(
    session_factory: async_sessionmaker[AsyncSession],
    khipu: KhipuClient,
    http: httpx.AsyncClient,
    quote: Quote,
) -> None:
    link = await create_and_pay(session_factory, khipu, http, quote)
    await http.post(f"/_sandbox/payments/{link.khipu_payment_id}/settle")
    inp = part(quote, link.khipu_payment_id, "r-rendido", 1_000)
    for _ in range(2):
        with pytest.raises(payments.PaymentRefused, match="rendido"):
            await payment_activity.refund_part(session_factory, khipu, inp)
    at_khipu = await at_khipu_payment(http, link.khipu_payment_id)
    assert at_khipu["refunds"] == []


async def _refunds(http: httpx.AsyncClient, pid: str) -> bool:
    return bool((await at_khipu_payment(http, pid))["refunds"])
