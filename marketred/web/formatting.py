"""Jinja filters: CLP amounts, Santiago times, countdowns, statuses in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from markupsafe import Markup, escape

from marketred.schemas.money import format_clp
from marketred.schemas.rut import format_rut
from marketred.web.i18n import BABEL_LOCALES, current_language, gettext, ngettext

SANTIAGO = ZoneInfo("America/Santiago")


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


# Labels for quote statuses; the keys are the workflow's own status names.
STATUS_LABELS = {
    "REQUESTED": N_("Esperando respuesta"),
    "ACCEPTED": N_("Aceptada, por pagar"),
    "PAID": N_("Pagada"),
    "SHIPPED": N_("Despachada"),
    "DELIVERED": N_("Entregada"),
    "COMPLETED": N_("Completada"),
    "REJECTED": N_("Rechazada"),
    "EXPIRED": N_("Expirada"),
    "PAYMENT_EXPIRED": N_("Plazo de pago vencido"),
    "CANCELLED": N_("Cancelada"),
    "REFUNDED": N_("Reembolsada"),
    "REFUND_HELD": N_("Reembolso retenido"),
    "RETURN_REQUESTED": N_("Devolución solicitada"),
    "RETURN_DISPUTED": N_("Devolución en disputa"),
    "PENDING_APPROVAL": N_("Por aprobar"),
    "APPROVED": N_("Aprobado"),
    "PAYING": N_("En pago"),
    "SUBMITTED": N_("En nómina, por confirmar"),
    "HELD": N_("Retenido"),
    "FAILED": N_("Fallido"),
}

# Why a payout waits for a person (services/payouts/transfers.py).
HOLD_LABELS = {
    "missing_bank_details": N_("Sin datos bancarios"),
    "transfer_uncertain": N_("Transferencia sin confirmar"),
    "transfer_failed": N_("La transferencia falló y no se puede confirmar"),
}

# What a quote waits for, as the workflow says it (workflows/quote*.py `_waiting_for`).
WAITING_LABELS = {
    "the vendor to accept or reject": N_("que la tienda acepte o rechace"),
    "the buyer to pay": N_("que el comprador pague"),
    "an operator (payment held)": N_("una persona de operaciones (pago retenido)"),
    "the vendor to ship": N_("que la tienda despache"),
    "the vendor to ship (overdue: the buyer may cancel with refund)": N_(
        "que la tienda despache (atrasada: el comprador puede cancelar con reembolso)"
    ),
    "the buyer to confirm delivery": N_("que el comprador confirme la entrega"),
    "the ledger": N_("el registro contable"),
}

# Account types as Chilean banks name them (schemas/banking.py ACCOUNT_TYPES).
ACCOUNT_TYPE_LABELS = {
    "corriente": N_("Cuenta Corriente"),
    "vista": N_("Cuenta Vista"),
    "ahorro": N_("Cuenta de Ahorro"),
}

# A payout line: a sale, or a refund taken back after the sale was paid out.
PAYOUT_ITEM_LABELS = {
    "sale": N_("Venta"),
    "clawback": N_("Reverso por reembolso"),
}

# What each workflow step is called on a timeline (the workflow's own messages are
# operator-facing English; only the words people typed are shown beside these labels).
EVENT_LABELS = {
    "requested": N_("Solicitud enviada a la tienda"),
    "reminder_sent": N_("Recordatorio enviado a la tienda"),
    "accepted": N_("La tienda aceptó y fijó el precio final"),
    "payment_reminder_sent": N_("Recordatorio de pago enviado al comprador"),
    "rejected": N_("La tienda rechazó la cotización"),
    "expired": N_("La tienda no respondió a tiempo"),
    "payment_started": N_("Pago iniciado en Khipu"),
    "paid": N_("Pago confirmado"),
    "payment_held": N_("Pago retenido para revisión"),
    "payment_recheck": N_("Pago verificado de nuevo con Khipu: sigue retenido"),
    "payment_released": N_("Retención del pago liberada por operación"),
    "payment_expired": N_("Venció el plazo de pago"),
    "shipped": N_("Pedido despachado"),
    "ship_overdue": N_("La tienda no despachó a tiempo"),
    "delivered": N_("Entrega confirmada"),
    "completed": N_("Venta completada"),
    "cancelling": N_("Cancelación en curso"),
    "cancelled": N_("Cotización cancelada"),
    "refunded": N_("Pago reembolsado"),
    "late_payment_refunded": N_("Pago tardío reembolsado"),
    "deadline_extended": N_("Plazo extendido"),
    "operator_retry": N_("Operaciones reintentó el paso pendiente"),
}
# Steps whose message is what a person wrote (note, reason, carrier and tracking).
EVENTS_WITH_PEOPLES_WORDS = frozenset(
    {"requested", "accepted", "rejected", "cancelled", "cancelling", "shipped", "deadline_extended"}
)

# Which tone a status badge takes: the colour never carries the meaning alone.
STATUS_TONES = {
    "REQUESTED": "wait",
    "ACCEPTED": "action",
    "PAID": "ok",
    "SHIPPED": "ok",
    "DELIVERED": "ok",
    "COMPLETED": "ok",
    "REJECTED": "bad",
    "EXPIRED": "bad",
    "PAYMENT_EXPIRED": "bad",
    "CANCELLED": "bad",
    "REFUNDED": "bad",
    "REFUND_HELD": "action",
    "RETURN_REQUESTED": "action",
    "RETURN_DISPUTED": "action",
}


def clp(amount: int | None) -> str:
    return "" if amount is None else format_clp(int(amount))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def santiago(moment: datetime | None, pattern: str = "d MMM y, HH:mm") -> str:
    """A UTC instant as Santiago wall time, in the reader's language."""
    if moment is None:
        return ""
    return format_datetime(
        _aware(moment),
        pattern,
        tzinfo=SANTIAGO,
        locale=BABEL_LOCALES[current_language()],
    )


def remaining_text(moment: datetime, now: datetime | None = None) -> str:
    """ "2 d 3 h" / "45 min" left, or "vencido"; the JS refines it every second."""
    seconds = int((_aware(moment) - (now or datetime.now(UTC))).total_seconds())
    if seconds <= 0:
        return gettext("vencido")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = max(1, rest // 60) if not days and not hours else rest // 60
    if days:
        return gettext("quedan %(d)s d %(h)s h", d=days, h=hours)
    if hours:
        return gettext("quedan %(h)s h %(m)s min", h=hours, m=minutes)
    return gettext("quedan %(m)s min", m=minutes)


def countdown(moment: datetime | None) -> Markup:
    """A <time> the countdown script keeps live; the server text is right without JS."""
    if moment is None:
        return Markup("")
    iso = _aware(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")
    return Markup(
        '<time class="countdown" datetime="{iso}" title="{title}" '
        'data-expired="{expired}">{text}</time>'
    ).format(
        iso=iso,
        title=santiago(moment),
        expired=gettext("vencido"),
        text=remaining_text(moment),
    )


def status_label(status: str | None) -> str:
    return gettext(STATUS_LABELS.get(status or "", status or ""))


def waiting_label(what: str | None) -> str:
    return gettext(WAITING_LABELS[what]) if what in WAITING_LABELS else (what or "")


def hold_label(code: str | None) -> str:
    return gettext(HOLD_LABELS[code]) if code in HOLD_LABELS else (code or "")


def account_type_label(code: str) -> str:
    return gettext(ACCOUNT_TYPE_LABELS.get(code, code))


def payout_item_label(kind: str) -> str:
    return gettext(PAYOUT_ITEM_LABELS.get(kind, kind))


def status_badge(status: str | None) -> Markup:
    tone = STATUS_TONES.get(status or "", "wait")
    return Markup('<span class="badge badge-{tone}" data-status="{status}">{label}</span>').format(
        tone=tone, status=status or "", label=status_label(status)
    )


def event_label(kind: str) -> str:
    return gettext(EVENT_LABELS[kind]) if kind in EVENT_LABELS else kind


def event_note(entry: object) -> str:
    kind, message = getattr(entry, "kind", ""), getattr(entry, "message", "")
    return str(message or "") if kind in EVENTS_WITH_PEOPLES_WORDS else ""


def items_count(n: int) -> str:
    return ngettext("%(num)s producto", "%(num)s productos", n)


def options_label(options: dict[str, object] | None) -> str:
    return ", ".join(f"{k}: {v}" for k, v in (options or {}).items())


def rut(value: str | None) -> str:
    """`77123456-9` → `77.123.456-9`, the way Chileans read a RUT."""
    if not value:
        return ""
    try:
        return format_rut(value)
    except ValueError:
        return value


def nl2br(text: str | None) -> Markup:
    return Markup("<br>").join(escape(line) for line in (text or "").splitlines())
