"""Pydantic models of the Khipu v3 bodies (khipu-v3-openapi.json).

Requests are strict: we only ever send what the spec allows. Responses are parsed
leniently because the reference (§3) warns that real answers may omit or null fields
that do not apply yet, and that amounts arrive as numbers or as 4-decimal strings.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

Currency = Literal["CLP", "CLF", "ARS", "PEN", "MXN", "USD", "EUR", "BOB", "COP"]


class PaymentStatus(StrEnum):
    PENDING = "pending"
    VERIFYING = "verifying"
    DONE = "done"


class PaymentStatusDetail(StrEnum):
    PENDING = "pending"
    NORMAL = "normal"
    MARKED_PAID_BY_RECEIVER = "marked-paid-by-receiver"
    REJECTED_BY_PAYER = "rejected-by-payer"
    MARKED_AS_ABUSE = "marked-as-abuse"
    REVERSED = "reversed"


def _blank_to_none(value: Any) -> Any:
    # Khipu may send "" (or null) for values that do not apply yet, e.g. dates before payment.
    if isinstance(value, str) and not value.strip():
        return None
    return value


LenientDatetime = Annotated[datetime | None, BeforeValidator(_blank_to_none)]
# Numbers or strings such as "1000.0000" (webhooks and some GETs use strings).
LenientAmount = Annotated[Decimal | None, BeforeValidator(_blank_to_none)]


class PaymentCreateRequest(BaseModel):
    """Body of POST /v3/payments. Amounts are whole CLP pesos (docs/architecture.md)."""

    model_config = ConfigDict(extra="forbid")

    amount: int = Field(gt=0)
    currency: Currency = "CLP"
    subject: str = Field(min_length=1, max_length=255)
    transaction_id: str | None = Field(default=None, max_length=255)
    custom: str | None = None
    body: str | None = Field(default=None, max_length=5120)
    bank_id: str | None = Field(default=None, max_length=5)
    return_url: str | None = Field(default=None, max_length=1024)
    cancel_url: str | None = Field(default=None, max_length=1024)
    picture_url: str | None = Field(default=None, max_length=1024)
    notify_url: str | None = Field(default=None, max_length=1024)
    contract_url: str | None = Field(default=None, max_length=1024)
    notify_api_version: str | None = Field(default=None, max_length=255)
    expires_date: AwareDatetime | None = None
    send_email: bool | None = None
    payer_name: str | None = Field(default=None, max_length=255)
    payer_email: str | None = Field(default=None, max_length=255)
    send_reminders: bool | None = None
    responsible_user_email: str | None = Field(default=None, max_length=255)
    fixed_payer_personal_identifier: str | None = Field(default=None, max_length=255)
    integrator_fee: str | None = Field(default=None, max_length=16)
    collect_account_uuid: str | None = Field(default=None, max_length=255)
    confirm_timeout_date: AwareDatetime | None = None
    mandatory_payment_method: str | None = Field(default=None, max_length=255)
    psp_client_merchant_name: str | None = Field(default=None, min_length=3, max_length=255)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class PaymentCreated(BaseModel):
    """200 answer of POST /v3/payments."""

    model_config = ConfigDict(extra="ignore")

    payment_id: str
    payment_url: str
    simplified_transfer_url: str | None = None
    transfer_url: str | None = None
    app_url: str | None = None
    ready_for_terminal: bool | None = None


class _PaymentFields(BaseModel):
    """What a payment's read (GET /v3/payments/{id}) and its webhook notification both
    carry, parsed leniently."""

    model_config = ConfigDict(extra="ignore")

    payment_id: str
    receiver_id: int | None = None
    subject: str | None = None
    amount: LenientAmount = None
    discount: LenientAmount = None
    currency: str | None = None
    receipt_url: str | None = None
    bank: str | None = None
    bank_id: str | None = None
    payer_name: str | None = None
    payer_email: str | None = None
    personal_identifier: str | None = None
    bank_account_number: str | None = None
    out_of_date_conciliation: bool | None = None
    transaction_id: str | None = None
    custom: str | None = None
    body: str | None = None
    responsible_user_email: str | None = None
    payment_method: str | None = None
    conciliation_date: LenientDatetime = None


class Payment(_PaymentFields):
    """200 answer of GET /v3/payments/{id}; every field but the id may be absent."""

    payment_url: str | None = None
    simplified_transfer_url: str | None = None
    transfer_url: str | None = None
    app_url: str | None = None
    ready_for_terminal: bool | None = None
    notification_token: str | None = None
    status: str | None = None
    status_detail: str | None = None
    picture_url: str | None = None
    return_url: str | None = None
    cancel_url: str | None = None
    notify_url: str | None = None
    notify_api_version: str | None = None
    expires_date: LenientDatetime = None
    attachment_urls: list[str] | None = None
    send_reminders: bool | None = None
    send_email: bool | None = None
    funds_source: str | None = None

    @property
    def is_paid(self) -> bool:
        """Money arrived: done through a payment method, not declined, not reversed."""
        return self.status == PaymentStatus.DONE and self.status_detail in (
            PaymentStatusDetail.NORMAL,
            PaymentStatusDetail.MARKED_PAID_BY_RECEIVER,
        )

    @property
    def is_declined(self) -> bool:
        return self.status == PaymentStatus.DONE and self.status_detail in (
            PaymentStatusDetail.REJECTED_BY_PAYER,
            PaymentStatusDetail.MARKED_AS_ABUSE,
        )

    @property
    def is_reversed(self) -> bool:
        return self.status_detail == PaymentStatusDetail.REVERSED

    def amount_clp(self) -> int | None:
        """The amount as whole pesos, or None when absent or not a whole number."""
        if self.amount is None or self.amount != self.amount.to_integral_value():
            return None
        return int(self.amount)


class RefundRequest(BaseModel):
    """Body of POST /v3/payments/{id}/refunds; no amount means a full refund."""

    model_config = ConfigDict(extra="forbid")

    amount: int | None = Field(default=None, gt=0)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class SuccessMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: str = ""


class Bank(BaseModel):
    model_config = ConfigDict(extra="ignore")

    bank_id: str
    name: str
    message: str = ""
    min_amount: LenientAmount = None
    type: str | None = None
    parent: str = ""
    logo_url: str | None = None


class BankList(BaseModel):
    model_config = ConfigDict(extra="ignore")

    banks: list[Bank]


class PaymentNotification(_PaymentFields):
    """Body of a notification API 3.0 webhook (reference §6.1), parsed leniently."""
