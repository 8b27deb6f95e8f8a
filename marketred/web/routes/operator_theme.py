"""Operator console: the site's look (logo, colours, font stack, corner radius); colours
that fail WCAG AA contrast are refused with the ratio (services/directory/theme.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from marketred.http.deps import SessionDep
from marketred.schemas.theme import ThemeIn
from marketred.services.directory import theme
from marketred.services.errors import InvalidInput
from marketred.web.formatting import N_
from marketred.web.i18n import gettext as _
from marketred.web.routes.actions import notice
from marketred.web.routes.common import FormData, FormState, WebOperator, WebRoute
from marketred.web.routes.notices import notice_context
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = "/operador/tema"
# Each field and what to say under it when it is refused (translated where shown).
MESSAGES = {
    "primary": N_("Un color como #b3122e."),
    "secondary": N_("Un color como #8c0e24."),
    "font_stack": N_("Nombres de fuentes separados por comas, sin ; ni llaves."),
    "radius_px": N_("Un número entero de 0 a 24."),
    "logo_url": N_("Una dirección http(s) sin comillas ni paréntesis."),
}


async def _page(
    request: Request, session: SessionDep, form: FormState | None = None, status_code: int = 200
) -> Response:
    current = await theme.current(session)
    if form is None:
        form = FormState(values={**current.model_dump(), "logo_url": current.logo_url or ""})
    row = await theme.last_saved(session)
    return render(
        request,
        "operator/theme.html",
        {"form": form, "row": row, **notice_context(request)},
        status_code=status_code,
    )


@router.get(PAGE)
async def theme_page(request: Request, operator: WebOperator, session: SessionDep) -> Response:
    del operator
    return await _page(request, session)


@router.post(PAGE)
async def save_theme(
    request: Request, operator: WebOperator, session: SessionDep, form: FormData
) -> Response:
    state = FormState(values=form)
    raw = {k: form.get(k, "").strip() for k in MESSAGES}
    try:
        body = ThemeIn.model_validate({**raw, "logo_url": raw["logo_url"] or None})
        await theme.set_by_operator(session, operator, body)
    except ValidationError as exc:
        state.add_invalid(exc, {k: _(v) for k, v in MESSAGES.items()}, "primary")
        return await _page(request, session, state, 422)
    except InvalidInput as exc:
        for field, reason in exc.errors:
            ratio = reason.split(" is ")[1].split(";")[0] if " is " in reason else ""
            state.add(
                field,
                _("Contraste con blanco de %(ratio)s: ilegible (WCAG AA pide 4,5:1).")
                % {"ratio": ratio.replace(".", ",")},
            )
        return await _page(request, session, state, 422)
    return notice(PAGE, "tema-guardado")
