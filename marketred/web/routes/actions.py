"""Form actions: the POST handlers that change a quote or a payout through its workflow.

They all have one shape: who is signed in, the CSRF-checked form, the command called with
the form's nonce as its idempotency key (a double submit is one update), and a 303 back
to a page with a notice (`?aviso=`) saying what happened, or why not — the workflow's
refusal (`Conflict`) is "ya-no-es-posible". `ActionForm` bundles the first part (one
dependency per role: `BuyerForm`, `VendorForm`, `OperatorForm`) and `ActionForm.run` the
rest, so a handler only says what to check, what to call and which notice to show."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response
from temporalio.client import Client

from marketred.http.deps import SessionDep, TemporalDep
from marketred.schemas.accounts import Principal
from marketred.schemas.quotes import QuoteOut
from marketred.services.errors import Conflict, DomainError, InvalidInput
from marketred.web.routes.common import FormData, WebBuyer, WebOperator, WebVendor, see_other
from marketred.web.routes.forms import request_key

T = TypeVar("T")

REFUSED = "ya-no-es-posible"


def notice(page: str, code: str) -> Response:
    """303 to `page` showing the notice `code` (web/routes/notices.py)."""
    return see_other(f"{page}?aviso={code}")


def cancelled(quote: QuoteOut) -> str:
    """The notice after a cancel: with the payment given back, or not."""
    return "reembolsada" if quote.status == "REFUNDED" else "cancelada"


def refunded(quote: QuoteOut) -> str:
    """The notice after a refund: done, or held by Khipu for an operator."""
    return "reembolso-retenido" if quote.status == "REFUND_HELD" else "reembolso-hecho"


@dataclass(frozen=True)
class ActionForm:
    """A signed-in principal's CSRF-checked form, with what its action needs."""

    who: Principal
    session: AsyncSession
    temporal: Client
    form: dict[str, str]

    @property
    def key(self) -> str | None:
        """The form's idempotency key (its nonce; forms.request_key)."""
        return request_key(self.form)

    def on_quote(
        self, command: Callable[..., Awaitable[T]], quote_id: uuid.UUID, *body: object
    ) -> Callable[[str | None], Awaitable[T]]:
        """A quote command (`quotes.cancel_quote`, …) as `run` calls it: with the session,
        the Temporal client, who acts, the quote, its body if any, and the key."""
        return lambda key: command(self.session, self.temporal, self.who, quote_id, *body, key=key)

    def text(self, name: str, low: int, high: int) -> str | None:
        """The field, trimmed, if its length is within [low, high]; else None."""
        value = self.form.get(name, "").strip()
        return value if low <= len(value) <= high else None

    async def run(
        self,
        page: str,
        command: Callable[[str | None], Awaitable[T]],
        done: str | Callable[[T], str],
        *,
        invalid: str | None = None,
        refused: str = REFUSED,
        refusals: tuple[type[DomainError], ...] = (Conflict,),
    ) -> Response:
        """Call `command(key)`; back to `page` with `done` (or `done(result)`), with
        `refused` when it raises one of `refusals`, with `invalid` on InvalidInput when
        given (otherwise InvalidInput is the route's error page, as any domain error)."""
        try:
            result = await command(self.key)
        except InvalidInput:
            if invalid is None:
                raise
            return notice(page, invalid)
        except refusals:
            return notice(page, refused)
        return notice(page, done(result) if callable(done) else done)


async def _buyer_form(
    who: WebBuyer, session: SessionDep, temporal: TemporalDep, form: FormData
) -> ActionForm:
    return ActionForm(who, session, temporal, form)


async def _vendor_form(
    who: WebVendor, session: SessionDep, temporal: TemporalDep, form: FormData
) -> ActionForm:
    return ActionForm(who, session, temporal, form)


async def _operator_form(
    who: WebOperator, session: SessionDep, temporal: TemporalDep, form: FormData
) -> ActionForm:
    return ActionForm(who, session, temporal, form)


# scope="function", as SessionDep: the session commits before the redirect goes out.
BuyerForm = Annotated[ActionForm, Depends(_buyer_form, scope="function")]
VendorForm = Annotated[ActionForm, Depends(_vendor_form, scope="function")]
OperatorForm = Annotated[ActionForm, Depends(_operator_form, scope="function")]
