"""The simulator's payment record and how it is shown on the wire.

A record holds what the merchant sent plus the state the payer moves. `api_view` is the
GET /v3/payments/{id} body; `webhook_body` is the notification API 3.0 body, written
byte for byte the way Khipu's PHP `json_encode` writes it (reference §6.1).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

DEMO_BANK_ID = "Bawdf"
DEMO_BANK_NAME = "DemoBank"
DEMO_PAYER_RUT = "44.444.444-4"
DEMO_PAYER_EMAIL = "test@khipu.com"
DEMO_ACCOUNT_NUMBER = "000000000000444444444"


class Refund(BaseModel):
    amount: Decimal
    at: datetime


class SandboxPayment(BaseModel):
    payment_id: str
    created_at: datetime
    notification_token: str
    amount: Decimal
    currency: str
    subject: str
    expires_date: datetime
    fields: dict[str, Any] = Field(default_factory=dict)  # the optional create fields, as sent
    status: str = "pending"
    status_detail: str = "pending"
    conciliation_date: datetime | None = None
    conciliate_at: datetime | None = None  # when a verifying payment becomes done
    pending_outcome: str = "normal"
    deleted: bool = False
    refunds: list[Refund] = Field(default_factory=list)

    def opt(self, name: str) -> Any:
        return self.fields.get(name)

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal(0))

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.refunded

    @property
    def paid_normally(self) -> bool:
        return self.status == "done" and self.status_detail == "normal"


def money(value: Decimal) -> int | float:
    """JSON number for GET bodies: whole amounts as integers."""
    return int(value) if value == value.to_integral_value() else float(value)


def iso_ms(value: datetime) -> str:
    """`2024-04-18T13:56:54.859Z`, the form Khipu uses for conciliation dates."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def rut_style(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def urls(public_url: str, payment_id: str) -> dict[str, str]:
    return {
        "payment_url": f"{public_url}/payment/info/{payment_id}",
        "simplified_transfer_url": f"{public_url}/payment/simplified/{payment_id}",
        "transfer_url": f"{public_url}/payment/manual/{payment_id}",
        "app_url": f"khipu:///pos/{payment_id}",
    }


def payer_fields(p: SandboxPayment, public_url: str, receiver_id: int) -> dict[str, Any]:
    """Bank and payer data: DemoBank's once done through a payment method, else blank."""
    if p.status != "done" or p.status_detail in ("rejected-by-payer", "marked-as-abuse"):
        return {
            "receipt_url": "",
            "bank": "",
            "bank_id": "",
            "payer_name": "",
            "payer_email": p.opt("payer_email"),
            "personal_identifier": "",
            "bank_account_number": "",
        }
    return {
        "receipt_url": f"{public_url}/payment/receipt/{p.payment_id}",
        "bank": DEMO_BANK_NAME,
        "bank_id": DEMO_BANK_ID,
        "payer_name": f"Cobrador de desarrollo #{rut_style(receiver_id)}",
        "payer_email": p.opt("payer_email") or DEMO_PAYER_EMAIL,
        "personal_identifier": DEMO_PAYER_RUT,
        "bank_account_number": DEMO_ACCOUNT_NUMBER,
    }


def api_view(p: SandboxPayment, public_url: str, receiver_id: int) -> dict[str, Any]:
    """GET /v3/payments/{id}. Dates and e-mail that do not apply yet are null."""
    done = p.status == "done"
    view: dict[str, Any] = {
        "payment_id": p.payment_id,
        **urls(public_url, p.payment_id),
        "ready_for_terminal": False,
        "notification_token": p.notification_token,
        "receiver_id": receiver_id,
        "conciliation_date": iso_ms(p.conciliation_date) if p.conciliation_date else None,
        "subject": p.subject,
        "amount": money(p.amount),
        "currency": p.currency,
        "status": p.status,
        "status_detail": p.status_detail,
        "body": p.opt("body") or "",
        "picture_url": p.opt("picture_url") or "",
        "return_url": p.opt("return_url") or "",
        "cancel_url": p.opt("cancel_url") or "",
        "notify_url": p.opt("notify_url") or "",
        "notify_api_version": p.opt("notify_api_version") or "",
        "expires_date": p.expires_date.isoformat(),
        "attachment_urls": [],
        **payer_fields(p, public_url, receiver_id),
        "out_of_date_conciliation": bool(
            p.conciliation_date and p.conciliation_date > p.expires_date
        ),
        "transaction_id": p.opt("transaction_id") or "",
        "custom": p.opt("custom") or "",
        "responsible_user_email": p.opt("responsible_user_email") or "",
        "send_reminders": bool(p.opt("send_reminders")),
        "send_email": bool(p.opt("send_email")),
        "payment_method": "simplified_transfer" if done else "not_available",
        "funds_source": "",
        "discount": 0,
    }
    return view


def webhook_body(p: SandboxPayment, public_url: str, receiver_id: int) -> bytes:
    """Notification 3.0 body: §6.1 key order, 4-decimal string amounts, `\\/` slashes."""
    payer = payer_fields(p, public_url, receiver_id)
    data: dict[str, Any] = {
        "payment_id": p.payment_id,
        "receiver_id": receiver_id,
        "subject": p.subject,
        "amount": f"{p.amount:.4f}",
        "discount": f"{Decimal(0):.4f}",
        "currency": p.currency,
        "receipt_url": payer["receipt_url"],
        "bank": payer["bank"],
        "bank_id": payer["bank_id"],
        "payer_name": payer["payer_name"],
        "payer_email": payer["payer_email"] or "",
        "personal_identifier": payer["personal_identifier"],
        "bank_account_number": payer["bank_account_number"],
        "out_of_date_conciliation": bool(
            p.conciliation_date and p.conciliation_date > p.expires_date
        ),
        "transaction_id": p.opt("transaction_id") or "",
    }
    # Plugins read `custom` and `body` from the notification when they were set.
    for optional in ("custom", "body"):
        if p.opt(optional):
            data[optional] = p.opt(optional)
    data["responsible_user_email"] = p.opt("responsible_user_email") or ""
    data["payment_method"] = "simplified_transfer"
    data["conciliation_date"] = iso_ms(p.conciliation_date) if p.conciliation_date else ""
    return php_json(data)


def php_json(data: dict[str, Any]) -> bytes:
    """PHP json_encode defaults: compact, \\uXXXX for non-ASCII, and `/` escaped as `\\/`."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    # A "/" can only occur inside JSON strings, so escaping every one is exact.
    return text.replace("/", "\\/").encode("ascii")
