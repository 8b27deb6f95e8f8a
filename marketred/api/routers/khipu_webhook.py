"""POST /webhooks/khipu: Khipu's signed payment notifications (API 3.0).

Verify the signature on the raw bytes, store the event once, nudge the quote's workflow
with `payment_notified`, answer 200. The workflow reads the payment back from Khipu
itself, so nothing slow happens here. A bad or stale signature is 401 and stores
nothing; an unknown payment is stored for operators and answered 200 so Khipu stops
retrying. If the signal cannot be sent the request fails (503) and its transaction is
rolled back, so Khipu's retry is not mistaken for a duplicate.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from temporalio.service import RPCError, RPCStatusCode

from marketred import metrics
from marketred.http.deps import ResourcesDep, SessionDep, SettingsDep
from marketred.integrations.khipu import signature
from marketred.logs import get_logger
from marketred.schemas import temporal_contracts as c
from marketred.schemas.payments import PaymentNotified
from marketred.services.errors import InvalidInput, Unauthorized, Unavailable
from marketred.services.payments import webhooks as payment_webhooks

router = APIRouter(tags=["webhooks"])
log = get_logger(__name__)


@router.post(
    "/webhooks/khipu",
    openapi_extra={"x-policy": "signed:khipu"},
    summary="Khipu payment notification (signed)",
)
async def khipu_notification(
    request: Request, session: SessionDep, settings: SettingsDep, res: ResourcesDep
) -> dict[str, str]:
    raw = await request.body()
    try:
        result = await payment_webhooks.receive(
            session,
            secret=settings.khipu_webhook_secret,
            header=request.headers.get(signature.HEADER),
            raw_body=raw,
            now=datetime.now(UTC),
        )
    except Unauthorized:
        metrics.WEBHOOK_NOTIFICATIONS.labels("bad_signature").inc()
        raise
    except InvalidInput:
        metrics.WEBHOOK_NOTIFICATIONS.labels("invalid_body").inc()
        raise
    metrics.WEBHOOK_NOTIFICATIONS.labels(result.outcome).inc()
    if result.outcome != "received":
        log.info("khipu notification", outcome=result.outcome, payment=result.khipu_payment_id)
        return {"status": result.outcome}
    assert result.workflow_id is not None
    notice = PaymentNotified(khipu_payment_id=result.khipu_payment_id, event_id=result.event_id)
    try:
        client = await res.temporal.get()
        await client.get_workflow_handle(result.workflow_id).signal(c.PAYMENT_NOTIFIED.name, notice)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise Unavailable("cannot reach the quote's workflow; retry later") from exc
        # The workflow has finished: the event stays stored for operators.
        log.warning("khipu notification for a finished workflow", workflow=result.workflow_id)
        return {"status": "workflow_closed"}
    except Exception as exc:
        raise Unavailable("cannot reach the workflow engine; retry later") from exc
    return {"status": "received"}
