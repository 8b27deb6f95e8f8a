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
    "PENDING_APPROVAL": N_("Por aprobar"),
    "APPROVED": N_("Aprobado"),
    "PAYING": N_("En pago"),
    "FAILED": N_("Fallido"),
}

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


def status_badge(status: str | None) -> Markup:
    tone = STATUS_TONES.get(status or "", "wait")
    return Markup('<span class="badge badge-{tone}" data-status="{status}">{label}</span>').format(
        tone=tone, status=status or "", label=status_label(status)
    )


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
