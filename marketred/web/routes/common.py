"""What every page module shares: the HTML error route class, who is signed in, CSRF on
POST forms, form error helpers and redirects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse

from marketred.http.deps import ResourcesDep, SessionDep, SettingsDep
from marketred.http.principal import (
    LoginRequired,
    OptionalWebPrincipal,
    WebBuyer,
    WebOperator,
    WebPrincipal,
    WebVendor,
)
from marketred.http.resources import Resources
from marketred.services.errors import (
    DomainError,
    InvalidInput,
    NotFound,
    Reason,
    Unauthorized,
    Unavailable,
)
from marketred.settings import Settings
from marketred.web import i18n
from marketred.web.i18n import gettext as _
from marketred.web.security.csrf import verify_csrf
from marketred.web.service_messages import error_text, localize
from marketred.web.templating import render


def sign_in_redirect(request: Request) -> RedirectResponse:
    """To /ingresar, coming back here after. A form POST comes back to the page that held
    the form (its same-site Referer): a GET of the POST address would not exist."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = referer.netloc == request.url.netloc
        target = (
            (referer.path + (f"?{referer.query}" if referer.query else "")) if same_site else "/"
        )
    return RedirectResponse(f"/ingresar?next={quote(target, safe='')}", status_code=303)


def error_page(request: Request, exc: DomainError) -> Response:
    titles = {
        403: _("No tienes acceso a esta página"),
        404: _("No encontramos lo que buscas"),
        409: _("Esta acción ya no es posible"),
        503: _("Servicio no disponible por un momento"),
    }
    return render(
        request,
        "error.html",
        {"title": titles.get(exc.status, _("Algo salió mal")), "detail": error_text(exc)},
        status_code=exc.status,
    )


def outage_page(request: Request, exc: Exception) -> Response | None:
    """The 503 page while PostgreSQL or Temporal is away (counted in the API's outage
    log, http/outages.py); None for any other error."""
    from marketred.http.outages import RETRY_AFTER_S, dependency_away, outage_log

    dependency = dependency_away(exc)
    if dependency is None:
        return None
    outage_log(request.app).refused(dependency, exc)
    if dependency == "temporal":
        away = Unavailable(
            "the workflow engine is not reachable; try again shortly", code="WORKFLOW_UNAVAILABLE"
        )
    else:
        away = Unavailable("")
    page = error_page(request, away)
    page.headers["Retry-After"] = str(RETRY_AFTER_S)
    return page


class WebRoute(APIRoute):
    """Pages answer HTML, not problem+json: a sign-in redirect for 401, an error page for
    any other domain error or a malformed path/query.

    Every state-changing page route passes the CSRF check here, before its handler and
    its dependencies run, whether or not it declares `FormData`: a route that forgets
    the form dependency (it reads nothing from the form) is still protected."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            # The whole request speaks the visitor's language: messages a handler builds
            # with _() before rendering (form errors) must not fall back to Spanish.
            token = i18n.use_language(i18n.request_language(request))
            try:
                await verify_csrf(request)
                return await handler(request)
            except (Unauthorized, LoginRequired):
                return sign_in_redirect(request)
            except DomainError as exc:
                return error_page(request, exc)
            except RequestValidationError:
                return error_page(request, NotFound(Reason("ADDRESS_INVALID", "invalid address")))
            except Exception as exc:
                page = outage_page(request, exc)
                if page is None:
                    raise
                return page
            finally:
                i18n.reset_language(token)

        return page_handler


async def csrf_checked_form(request: Request) -> dict[str, str]:
    """The POSTed form as plain strings, after the CSRF check (403 page if it fails)."""
    await verify_csrf(request)
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


FormData = Annotated[dict[str, str], Depends(csrf_checked_form)]


@dataclass(frozen=True)
class PostedForm:
    """A CSRF-checked form and what its handler works with: one parameter (`Posted`)
    beside the signed-in principal instead of five."""

    request: Request
    session: AsyncSession
    resources: Resources
    settings: Settings
    form: dict[str, str]


async def _posted_form(
    request: Request,
    session: SessionDep,
    resources: ResourcesDep,
    settings: SettingsDep,
    form: FormData,
) -> PostedForm:
    return PostedForm(request, session, resources, settings, form)


# scope="function", as SessionDep: the session commits before the answer goes out.
Posted = Annotated[PostedForm, Depends(_posted_form, scope="function")]


@dataclass
class FormState:
    """What a form re-renders with: the typed values and one message per field."""

    values: Mapping[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        # A service's English message becomes the page's language; ours pass unchanged.
        self.errors.setdefault(name, localize(message))

    @property
    def ok(self) -> bool:
        return not self.errors

    def add_service_errors(self, exc: Exception) -> None:
        """Each field a service refused (InvalidInput.errors) with its message."""
        if isinstance(exc, InvalidInput):
            for name, message in exc.errors:
                self.add(name, message)

    def add_invalid(self, exc: ValidationError, messages: Mapping[str, str], default: str) -> None:
        """Each field pydantic refused, with the page's message for it (translated; a field
        without one: "Revisa este dato."); an error on no field goes on `default`."""
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else default
            self.add(name, messages.get(name, _("Revisa este dato.")))

    async def submit(
        self,
        save: Callable[[], Awaitable[Response]],
        again: Callable[[FormState], Awaitable[Response]],
        refused: Callable[[FormState, Exception], None] = add_service_errors,
        catch: tuple[type[Exception], ...] = (InvalidInput,),
    ) -> Response:
        """The end of a form that re-renders: when it has no errors, `save()` answers
        (a 303); what `save` raises of `catch` goes on the form (`refused`: by default
        each field's message on that field). A form with errors comes back through
        `again(self)` (its page with status 422)."""
        if self.ok:
            try:
                return await save()
            except catch as exc:
                refused(self, exc)
        return await again(self)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: `next` must not turn us into an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return default


__all__ = [
    "FormData",
    "FormState",
    "OptionalWebPrincipal",
    "Posted",
    "PostedForm",
    "WebBuyer",
    "WebOperator",
    "WebPrincipal",
    "WebRoute",
    "WebVendor",
    "safe_next",
    "see_other",
]
