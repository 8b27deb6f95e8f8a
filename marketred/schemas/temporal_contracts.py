"""Temporal names and the types that travel with them, in one place.

Workflows, services and the worker registry refer to these constants instead of string
literals, so a renamed activity or update cannot drift between caller and callee;
tests/quotes/test_temporal_contracts.py checks that every contract is registered on the
worker and that no caller spells a name by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from marketred.schemas.ledger import PostRefundInput, PostRefundResult, PostSaleInput
from marketred.schemas.payments import (
    CheckPaymentInput,
    CreatePaymentInput,
    PaymentCheck,
    PaymentLink,
    PaymentNotified,
    PollPaymentInput,
    RefundInput,
    RefundResult,
)
from marketred.schemas.quotes import (
    AcceptInput,
    CancelInput,
    ConfirmDeliveryInput,
    DecideReturnInput,
    ExtendDeadlineInput,
    MarkShippedInput,
    NotifyInput,
    NotifyResult,
    OperatorRefundInput,
    ProjectQuoteInput,
    PublishQuoteInput,
    PublishResult,
    QuoteOutcome,
    QuoteState,
    QuoteWorkflowInput,
    RecheckPaymentInput,
    RecordRefundInput,
    RejectInput,
    RequestReturnInput,
    ReserveStockInput,
    ReserveStockResult,
    RetryNowInput,
    RetryRefundInput,
    StartPaymentInput,
    StartPaymentResult,
)

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(frozen=True)
class Activity(Generic[In, Out]):
    name: str
    input: type[In]
    output: type[Out] | None


@dataclass(frozen=True)
class Update(Generic[In, Out]):
    name: str
    input: type[In]
    output: type[Out]


@dataclass(frozen=True)
class Signal(Generic[In]):
    name: str
    input: type[In]


@dataclass(frozen=True)
class Query(Generic[Out]):
    name: str
    output: type[Out]


@dataclass(frozen=True)
class Workflow(Generic[In, Out]):
    name: str
    input: type[In]
    output: type[Out]


# --- QuoteWorkflow ---------------------------------------------------------------------

QUOTE_WORKFLOW = Workflow("QuoteWorkflow", QuoteWorkflowInput, QuoteOutcome)

ACCEPT = Update("accept", AcceptInput, QuoteState)
REJECT = Update("reject", RejectInput, QuoteState)
CANCEL = Update("cancel", CancelInput, QuoteState)
START_PAYMENT = Update("start_payment", StartPaymentInput, StartPaymentResult)
MARK_SHIPPED = Update("mark_shipped", MarkShippedInput, QuoteState)
CONFIRM_DELIVERY = Update("confirm_delivery", ConfirmDeliveryInput, QuoteState)
EXTEND_DEADLINE = Update("extend_deadline", ExtendDeadlineInput, QuoteState)
RECHECK_PAYMENT = Update("recheck_payment", RecheckPaymentInput, QuoteState)
RETRY_NOW = Update("retry_now", RetryNowInput, QuoteState)
RETRY_REFUND = Update("retry_refund", RetryRefundInput, QuoteState)
RECORD_REFUND = Update("record_refund", RecordRefundInput, QuoteState)
REQUEST_RETURN = Update("request_return", RequestReturnInput, QuoteState)
DECIDE_RETURN = Update("decide_return", DecideReturnInput, QuoteState)
REFUND = Update("refund", OperatorRefundInput, QuoteState)

PAYMENT_NOTIFIED = Signal("payment_notified", PaymentNotified)
QUOTE_STATE = Query("state", QuoteState)

QUOTE_UPDATES: tuple[Update[Any, Any], ...] = (
    ACCEPT,
    REJECT,
    CANCEL,
    START_PAYMENT,
    MARK_SHIPPED,
    CONFIRM_DELIVERY,
    EXTEND_DEADLINE,
    RECHECK_PAYMENT,
    RETRY_NOW,
    RETRY_REFUND,
    RECORD_REFUND,
    REQUEST_RETURN,
    DECIDE_RETURN,
    REFUND,
)
QUOTE_SIGNALS: tuple[Signal[Any], ...] = (PAYMENT_NOTIFIED,)
QUOTE_QUERIES: tuple[Query[Any], ...] = (QUOTE_STATE,)

# --- activities the quote workflow runs -------------------------------------------------

# Since patch PUBLISH_IN_ONE one activity per transition projects and mails; the other
# two stay for earlier histories and for mail the publishing activity could not send.
PUBLISH_QUOTE = Activity("publish_quote", PublishQuoteInput, PublishResult)
PROJECT_QUOTE = Activity("project_quote", ProjectQuoteInput, bool)
SEND_QUOTE_NOTIFICATION = Activity("send_quote_notification", NotifyInput, NotifyResult)
CREATE_KHIPU_PAYMENT = Activity("create_khipu_payment", CreatePaymentInput, PaymentLink)
CHECK_KHIPU_PAYMENT = Activity("check_khipu_payment", CheckPaymentInput, PaymentCheck)
POLL_KHIPU_PAYMENT = Activity("poll_khipu_payment", PollPaymentInput, PaymentCheck)
DELETE_KHIPU_PAYMENT: Activity[CheckPaymentInput, None] = Activity(
    "delete_khipu_payment", CheckPaymentInput, None
)
REFUND_KHIPU_PAYMENT = Activity("refund_khipu_payment", RefundInput, RefundResult)
POST_SALE_TO_LEDGER: Activity[PostSaleInput, None] = Activity(
    "post_sale_to_ledger", PostSaleInput, None
)
POST_REFUND_TO_LEDGER = Activity("post_refund_to_ledger", PostRefundInput, PostRefundResult)
RESERVE_STOCK = Activity("reserve_stock", ReserveStockInput, ReserveStockResult)

QUOTE_ACTIVITIES: tuple[Activity[Any, Any], ...] = (
    PUBLISH_QUOTE,
    PROJECT_QUOTE,
    SEND_QUOTE_NOTIFICATION,
    CREATE_KHIPU_PAYMENT,
    CHECK_KHIPU_PAYMENT,
    POLL_KHIPU_PAYMENT,
    DELETE_KHIPU_PAYMENT,
    REFUND_KHIPU_PAYMENT,
    POST_SALE_TO_LEDGER,
    POST_REFUND_TO_LEDGER,
    RESERVE_STOCK,
)
