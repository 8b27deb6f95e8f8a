"""POST /webhooks/khipu: signature on the raw bytes, events stored once, one signal.

The app gets a real Temporal client (time-skipping server); the quote's workflow is a
stand-in that records the `payment_notified` signals it receives.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from marketred.integrations.khipu import signature
from marketred.schemas.payments import PaymentNotified
from marketred.settings import Settings
from marketred.store.models import PaymentEvent, Quote
from tests.support.api import app_client
from tests.support.temporal import unique_task_queue

from .payment_support import make_payment_row, make_quote, notification_body, signed_headers
from .signal_recorder import PaymentSignalRecorder

pytestmark = pytest.mark.db

KHIPU_ID = "zfxnocsow6mz"


@pytest.fixture
async def hook_client(
    settings: Settings,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    http_client: httpx.AsyncClient,
    time_skipping_env: WorkflowEnvironment,
) -> AsyncIterator[httpx.AsyncClient]:
    temporal = time_skipping_env.client
    async with app_client(settings, engine, session_factory, http_client, temporal) as c:
        yield c


@pytest.fixture
async def quote(db: AsyncSession) -> Quote:
    quote = await make_quote(db)
    await make_payment_row(db, quote, f"kp{uuid.uuid4().hex[:10]}")
    return quote


@pytest.fixture
async def recorder(
    time_skipping_env: WorkflowEnvironment, quote: Quote
) -> AsyncIterator[WorkflowHandle[PaymentSignalRecorder, None]]:
    """The quote's workflow (id = the Khipu transaction id), recording signals."""
    client = time_skipping_env.client
    queue = unique_task_queue()
    async with Worker(client, task_queue=queue, workflows=[PaymentSignalRecorder]):
        handle = await client.start_workflow(
            PaymentSignalRecorder.run, id=quote.workflow_id, task_queue=queue
        )
        yield handle
        await handle.signal(PaymentSignalRecorder.finish)
        await handle.result()


async def khipu_id_of(db: AsyncSession, quote: Quote) -> str:
    from marketred.services.payments.quote_payment import payment_of_quote

    payment = await payment_of_quote(db, quote.id)
    assert payment is not None
    assert payment.khipu_payment_id is not None
    return payment.khipu_payment_id


async def events(db: AsyncSession, khipu_payment_id: str) -> list[PaymentEvent]:
    stmt = select(PaymentEvent).where(PaymentEvent.khipu_payment_id == khipu_payment_id)
    return list(await db.scalars(stmt.execution_options(populate_existing=True)))


async def notices(handle: WorkflowHandle[PaymentSignalRecorder, None]) -> list[PaymentNotified]:
    return await handle.query(PaymentSignalRecorder.notices)


async def post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/webhooks/khipu", content=body, headers=headers)


async def post_signed(client: httpx.AsyncClient, settings: Settings, body: bytes) -> httpx.Response:
    """`body` as Khipu sends it: signed now with the account's webhook secret."""
    return await post(client, body, signed_headers(settings.khipu_webhook_secret, body))


async def notice_for(db: AsyncSession, quote: Quote) -> tuple[str, bytes]:
    """The Khipu payment id of the quote's payment and Khipu's notification body for it."""
    pid = await khipu_id_of(db, quote)
    return pid, notification_body(pid, quote.workflow_id)


async def test_valid_notification_is_stored_and_signals_the_quote_workflow(
    hook_client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    quote: Quote,
    recorder: WorkflowHandle[PaymentSignalRecorder, None],
) -> None:
    pid, body = await notice_for(db, quote)

    r = await post_signed(hook_client, settings, body)

    assert r.status_code == 200, r.text
    assert r.json() == {"status": "received"}
    [event] = await events(db, pid)
    assert (event.outcome, event.quote_id) == ("received", quote.id)
    assert event.raw_body.encode() == body  # the exact bytes, PHP escapes included
    assert event.payload["transaction_id"] == quote.workflow_id
    assert [n.model_dump() for n in await notices(recorder)] == [
        {"khipu_payment_id": pid, "event_id": event.id}
    ]


async def test_replayed_and_resent_notifications_are_recognised_and_signal_once(
    hook_client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    quote: Quote,
    recorder: WorkflowHandle[PaymentSignalRecorder, None],
) -> None:
    pid, body = await notice_for(db, quote)
    headers = signed_headers(settings.khipu_webhook_secret, body)

    first = await post(hook_client, body, headers)
    replayed = await post(hook_client, body, headers)  # same bytes, same signature
    later = datetime.now(UTC) + timedelta(seconds=30)  # Khipu's retry: re-signed
    resent = await post(
        hook_client, body, signed_headers(settings.khipu_webhook_secret, body, at=later)
    )

    assert [r.status_code for r in (first, replayed, resent)] == [200, 200, 200]
    assert [r.json()["status"] for r in (first, replayed, resent)] == [
        "received",
        "duplicate",
        "duplicate",
    ]
    assert len(await events(db, pid)) == 1
    assert len(await notices(recorder)) == 1


def tampered(body: bytes) -> bytes:
    return body.replace(b'"amount":"45990.0000"', b'"amount":"1.0000"')


@pytest.mark.parametrize(
    "case",
    ["tampered", "wrong_secret", "stale", "from_the_future", "missing", "malformed", "api_key"],
)
async def test_bad_signature_is_401_and_changes_nothing(
    hook_client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    quote: Quote,
    recorder: WorkflowHandle[PaymentSignalRecorder, None],
    case: str,
) -> None:
    pid, body = await notice_for(db, quote)
    secret = settings.khipu_webhook_secret
    now = datetime.now(UTC)
    sent, headers = body, signed_headers(secret, body)
    if case == "tampered":
        sent = tampered(body)
    elif case == "wrong_secret":
        headers = signed_headers("not-the-secret", body)
    elif case == "stale":
        headers = signed_headers(secret, body, at=now - timedelta(minutes=5, seconds=5))
    elif case == "from_the_future":
        # Well past the 5-minute window: a future stamp comes nearer while the request is
        # in flight (5 min 5 s was accepted once when the check took over 5 s under load);
        # the exact edge is tested on signature.verify with an injected clock.
        headers = signed_headers(secret, body, at=now + timedelta(minutes=10))
    elif case == "missing":
        del headers[signature.HEADER]
    elif case == "malformed":
        headers[signature.HEADER] = "s=" + headers[signature.HEADER].split("s=", 1)[1]
    elif case == "api_key":  # signed with the API key instead of the account secret
        headers = signed_headers(settings.khipu_api_key, body)

    r = await post(hook_client, sent, headers)

    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 401
    assert await events(db, pid) == []
    assert await notices(recorder) == []


async def test_a_signature_just_inside_the_window_is_accepted(
    hook_client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    quote: Quote,
    recorder: WorkflowHandle[PaymentSignalRecorder, None],
) -> None:
    _, body = await notice_for(db, quote)
    # A minute inside: an old stamp ages while the request is in flight (the exact edge
    # is tested on signature.verify with an injected clock).
    at = datetime.now(UTC) - timedelta(minutes=4)
    r = await post(hook_client, body, signed_headers(settings.khipu_webhook_secret, body, at=at))
    assert r.json() == {"status": "received"}
    assert len(await notices(recorder)) == 1


async def test_unknown_payment_is_recorded_for_operators_and_answered_200(
    hook_client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    pid = f"unk{uuid.uuid4().hex[:9]}"
    body = notification_body(pid, f"quote-{uuid.uuid4()}")
    headers = signed_headers(settings.khipu_webhook_secret, body)

    r = await post(hook_client, body, headers)
    again = await post(hook_client, body, headers)

    assert (r.status_code, r.json()) == (200, {"status": "unknown_payment"})
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    [event] = await events(db, pid)
    assert (event.outcome, event.quote_id) == ("unknown_payment", None)


async def test_payment_of_a_quote_that_is_not_its_recorded_payment_is_an_orphan(
    hook_client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    quote: Quote,
    recorder: WorkflowHandle[PaymentSignalRecorder, None],
) -> None:
    """A payment Khipu made for a create we never saw answered: kept for operators."""
    pid = f"orp{uuid.uuid4().hex[:9]}"
    body = notification_body(pid, quote.workflow_id)
    r = await post_signed(hook_client, settings, body)
    assert (r.status_code, r.json()) == (200, {"status": "orphan_payment"})
    [event] = await events(db, pid)
    assert (event.outcome, event.quote_id) == ("orphan_payment", quote.id)
    assert await notices(recorder) == []


async def test_notification_for_a_finished_workflow_is_kept_and_answered_200(
    hook_client: httpx.AsyncClient, db: AsyncSession, settings: Settings, quote: Quote
) -> None:
    pid, body = await notice_for(db, quote)  # no workflow runs under this quote's id
    r = await post_signed(hook_client, settings, body)
    assert (r.status_code, r.json()) == (200, {"status": "workflow_closed"})
    assert len(await events(db, pid)) == 1


async def test_signed_body_that_is_not_a_payment_is_refused_and_not_stored(
    hook_client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    body = b'{"hello":"world"}'
    r = await post_signed(hook_client, settings, body)
    assert r.status_code == 422
    stored = await db.scalars(select(PaymentEvent).where(PaymentEvent.raw_body == body.decode()))
    assert stored.all() == []


def test_reference_vector_verifies() -> None:
    """The documented example (reference §6.1) passes the endpoint's verification."""
    body = (
        b'{"payment_id":"zfxnocsow6mz","receiver_id":990939,"subject":"TEST_COBRO",'
        b'"amount":"1000.0000","discount":"0.0000","currency":"CLP","receipt_url":'
        b'"https:\\/\\/s3.amazonaws.com\\/staging.notifications.khipu.com\\/'
        b'CPKH-1804240956-zfxnocsow6mz.pdf","bank":"DemoBank","bank_id":"Bawdf",'
        b'"payer_name":"Cobrador de desarrollo #990.939","payer_email":"test@khipu.com",'
        b'"personal_identifier":"44.444.444-4","bank_account_number":"000000000000444444444",'
        b'"out_of_date_conciliation":false,"transaction_id":"15f836bd-e8a7-4d12-b2f1-56403012b555",'
        b'"responsible_user_email":"test@khipu.com","payment_method":"simplified_transfer",'
        b'"conciliation_date":"2024-04-18T13:56:54.859Z"}'
    )
    header = "t=1711965600393,s=GYzpjnXlTKQ+BJY7pZJmrM6DZgWMSJdtOr/dleBKTdg="
    at = datetime.fromtimestamp(1711965600.393 + 60, UTC)
    assert signature.verify("1a4cbbbeb8bdb7e1d73572b9cc43ce4ce18f79d9", header, body, at)
