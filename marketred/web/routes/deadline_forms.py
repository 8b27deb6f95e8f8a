"""The "more time" form: the vendor's decision page (once, to answer) and the operator's
quote page (any running deadline). The workflow decides what is allowed; its refusal is
shown beside the hours field."""

from __future__ import annotations

import uuid

from marketred.schemas.quotes import PENDING_DEADLINE, ExtendDeadlineBody
from marketred.services import quotes
from marketred.services.errors import Conflict
from marketred.web.i18n import gettext as _
from marketred.web.routes.actions import ActionForm
from marketred.web.routes.common import FormState
from marketred.web.routes.forms import parse_int

MAX_REASON = 500


async def extend_from_form(act: ActionForm, quote_id: uuid.UUID, deadline: str) -> FormState | None:
    """Extend `deadline` as the form asks; None when done, else the form with its errors."""
    form = act.form
    state = FormState(values=form)
    hours = parse_int(form.get("hours"), 1, 24 * 30)
    if hours is None:
        state.add("hours", _("Indica cuántas horas más, entre 1 y 720."))
    reason = form.get("reason", "").strip()
    if len(reason) > MAX_REASON:
        state.add("reason", _("El motivo es demasiado largo (máximo 500 caracteres)."))
    name = next((n for n in PENDING_DEADLINE.values() if n == deadline), None)
    if name is None:
        state.add("hours", _("Ese plazo ya no está corriendo."))
    if not state.ok or hours is None or name is None:
        return state
    body = ExtendDeadlineBody(deadline=name, hours=hours, reason=reason)
    try:
        await quotes.extend_deadline(
            act.session, act.temporal, act.who, quote_id, body, key=act.key
        )
    except Conflict as exc:
        state.add("hours", exc.reason)
        return state
    return None
