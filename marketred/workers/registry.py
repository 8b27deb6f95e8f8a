"""The workflows and activities this worker runs. Each area adds its own here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from marketred.workers.deps import WorkerDeps


def workflows() -> Sequence[type]:
    from marketred.workflows.indexer import IndexProductWorkflow
    from marketred.workflows.payout import PayoutWorkflow, VendorPayoutWorkflow
    from marketred.workflows.quote_workflow import QuoteWorkflow

    return [IndexProductWorkflow, QuoteWorkflow, PayoutWorkflow, VendorPayoutWorkflow]


def activities(deps: WorkerDeps) -> Sequence[Callable[..., Any]]:
    from marketred.activities.indexer import IndexerActivities
    from marketred.integrations.directory import DirectoryIndexerClient

    indexer = IndexerActivities(
        sessions=deps.sessions,
        indexer=DirectoryIndexerClient(
            deps.http, deps.settings.directory_indexer_url, deps.settings.indexer_secret
        ),
        public_url=deps.settings.public_url,
    )
    from marketred.activities.notifications import NotificationActivities
    from marketred.activities.payments import PaymentActivities
    from marketred.activities.quote_publish import PublishActivities
    from marketred.activities.quotes import QuoteActivities

    quote_acts = QuoteActivities(deps.sessions)
    mail_acts = NotificationActivities(deps.sessions, deps.settings)
    publish_acts = PublishActivities(deps.sessions, deps.settings)
    pay_acts = PaymentActivities(
        deps.sessions,
        deps.khipu,
        public_url=deps.settings.public_url,
        receiver_id=deps.settings.khipu_receiver_id,
    )
    return [
        indexer.push_product,
        publish_acts.publish_quote,
        quote_acts.project_quote,
        quote_acts.reserve_stock,
        mail_acts.send_quote_notification,
        pay_acts.create_khipu_payment,
        pay_acts.check_khipu_payment,
        pay_acts.poll_khipu_payment,
        pay_acts.delete_khipu_payment,
        pay_acts.refund_khipu_payment,
        *ledger_and_payout_activities(deps),
    ]


def ledger_and_payout_activities(deps: WorkerDeps) -> Sequence[Callable[..., Any]]:
    from marketred.activities.ledger import LedgerActivities
    from marketred.activities.payouts import PayoutActivities
    from marketred.integrations.mail import Mailer

    ledger_acts = LedgerActivities(deps.sessions)
    payout_acts = PayoutActivities(
        deps.sessions, deps.settings, Mailer(deps.settings.smtp_url, deps.settings.mail_from)
    )
    return [
        ledger_acts.post_sale_to_ledger,
        ledger_acts.post_refund_to_ledger,
        payout_acts.list_vendors_to_pay,
        payout_acts.create_vendor_payout,
        payout_acts.record_payout_approval,
        payout_acts.record_payout_rejection,
        payout_acts.transfer_payout,
        payout_acts.mark_payout_paid,
        payout_acts.mark_payout_failed,
        payout_acts.hold_payout,
        payout_acts.send_payout_statement,
    ]
