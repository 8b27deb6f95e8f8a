"""Khipu v3 instant payments: typed async client, models, webhook signatures."""

from marketred.integrations.khipu.client import KhipuClient
from marketred.integrations.khipu.errors import (
    FieldError,
    KhipuAuthError,
    KhipuError,
    KhipuNotFound,
    KhipuServerError,
    KhipuSignatureError,
    KhipuTimeout,
    KhipuUnavailable,
    KhipuValidationError,
)
from marketred.integrations.khipu.models import (
    Bank,
    BankList,
    Payment,
    PaymentCreated,
    PaymentCreateRequest,
    PaymentNotification,
    PaymentStatus,
    PaymentStatusDetail,
    RefundRequest,
    SuccessMessage,
)
from marketred.integrations.khipu.quote_payment import quote_payment_request

__all__ = [
    "Bank",
    "BankList",
    "FieldError",
    "KhipuAuthError",
    "KhipuClient",
    "KhipuError",
    "KhipuNotFound",
    "KhipuServerError",
    "KhipuSignatureError",
    "KhipuTimeout",
    "KhipuUnavailable",
    "KhipuValidationError",
    "Payment",
    "PaymentCreateRequest",
    "PaymentCreated",
    "PaymentNotification",
    "PaymentStatus",
    "PaymentStatusDetail",
    "RefundRequest",
    "SuccessMessage",
    "quote_payment_request",
]
