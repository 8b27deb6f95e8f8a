"""Request validation of the simulator, answered the way Khipu's v2 ValidationError was.

Body: `{"status": 400, "message": ..., "errors": [{"field", "message"}]}` (reference §5).
The checks follow the spec's limits plus the checklist of reference §9.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

CURRENCIES = ("CLP", "CLF", "ARS", "PEN", "MXN", "USD", "EUR", "BOB", "COP")
STRING_LIMITS = {
    "subject": 255,
    "transaction_id": 255,
    "custom": 1073741824,
    "body": 5120,
    "bank_id": 5,
    "return_url": 1024,
    "cancel_url": 1024,
    "picture_url": 1024,
    "notify_url": 1024,
    "contract_url": 1024,
    "notify_api_version": 255,
    "payer_name": 255,
    "payer_email": 255,
    "responsible_user_email": 255,
    "fixed_payer_personal_identifier": 255,
    "integrator_fee": 16,
    "collect_account_uuid": 255,
    "mandatory_payment_method": 255,
    "psp_client_merchant_name": 255,
}
BOOLEANS = ("send_email", "send_reminders")
DATES = ("expires_date", "confirm_timeout_date")
EMAILS = ("payer_email", "responsible_user_email")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REQUIRED = "El campo es obligatorio"


class SandboxApiError(Exception):
    """An error answer of the simulated API."""

    def __init__(
        self, status: int, message: str, errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def invalid(errors: list[dict[str, str]]) -> SandboxApiError:
    return SandboxApiError(400, "Error de validación", errors)


def parse_json_object(raw: bytes, *, allow_empty: bool = False) -> dict[str, Any]:
    """Decode a JSON object body, keeping decimals exact (1000.5 stays Decimal)."""
    if allow_empty and not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_float=Decimal)
    except ValueError as exc:
        raise SandboxApiError(400, "Solicitud mal formada: el cuerpo no es JSON válido") from exc
    if not isinstance(data, dict):
        raise SandboxApiError(400, "Solicitud mal formada: se esperaba un objeto JSON")
    return data


def check_amount(value: Any, currency: str | None) -> str | None:
    """Return an error message, or None when the amount is acceptable."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return "Debe ser un número"
    amount = Decimal(value)
    if amount <= 0:
        return "Debe ser mayor que cero"
    if amount.as_tuple().exponent < -4:  # type: ignore[operator]
        return "Admite como máximo 4 decimales"
    if currency == "CLP" and amount != amount.to_integral_value():
        return "Los montos en CLP deben ser enteros"
    return None


def parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def validate_create(data: dict[str, Any], bank_ids: set[str]) -> None:
    errors: list[dict[str, str]] = []

    def err(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    currency = data.get("currency")
    if currency is None:
        err("currency", REQUIRED)
    elif currency not in CURRENCIES:
        err("currency", f"Moneda no soportada; use una de {', '.join(CURRENCIES)}")
    if "amount" not in data or data["amount"] is None:
        err("amount", REQUIRED)
    else:
        problem = check_amount(data["amount"], currency if isinstance(currency, str) else None)
        if problem:
            err("amount", problem)
    subject = data.get("subject")
    if subject is None or (isinstance(subject, str) and not subject.strip()):
        err("subject", REQUIRED)
    for field, limit in STRING_LIMITS.items():
        value = data.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            err(field, "Debe ser texto")
        elif len(value) > limit:
            err(field, f"Largo máximo {limit} caracteres")
    psp = data.get("psp_client_merchant_name")
    if isinstance(psp, str) and len(psp) < 3:
        err("psp_client_merchant_name", "Largo mínimo 3 caracteres")
    for field in BOOLEANS:
        if data.get(field) is not None and not isinstance(data[field], bool):
            err(field, "Debe ser true o false")
    for field in DATES:
        if data.get(field) is not None and parse_date(data[field]) is None:
            err(field, "Fecha inválida; use ISO-8601 con zona horaria")
    for field in EMAILS:
        value = data.get(field)
        if isinstance(value, str) and value and not EMAIL_RE.match(value):
            err(field, "Correo electrónico inválido")
    if data.get("send_email") is True:
        for field in ("payer_name", "payer_email"):
            if not data.get(field):
                err(field, "Obligatorio cuando send_email es true")
    if data.get("contract_url") and not data.get("fixed_payer_personal_identifier"):
        err("fixed_payer_personal_identifier", "Obligatorio cuando se envía contract_url")
    bank_id = data.get("bank_id")
    if isinstance(bank_id, str) and bank_id and bank_id not in bank_ids:
        err("bank_id", "Banco desconocido")
    if errors:
        raise invalid(errors)


def validate_refund(data: dict[str, Any], currency: str) -> Decimal | None:
    """Return the requested amount, or None for a full refund."""
    if data.get("amount") is None:
        return None
    problem = check_amount(data["amount"], currency)
    if problem:
        raise invalid([{"field": "amount", "message": problem}])
    return Decimal(data["amount"])
