"""Quote pages over ASGI with quotes written the way the workflow's projection writes them:
an expired quote is shown as expired, a requested one counts down, and the operator's
console links each quote to its workflow in the Temporal UI."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from marketred.schemas.quotes import (
    Deadlines,
    QuoteLine,
    QuoteState,
    TimelineEntry,
    quote_number_label,
    workflow_id_for,
)
from marketred.services.quotes.projection import project
from marketred.store.models import Quote
from marketred.store.models import QuoteLine as QuoteLineRow
from marketred.store.repositories import quotes as quotes_repo
from tests.support.factories import make_product, make_user, make_vendor
from tests.support.pages import sign_in

pytestmark = pytest.mark.db


async def _quote(db, buyer, vendor, *, requested_at: datetime, respond_by: datetime):
    product, variants = await make_product(db, vendor, "Chaleco de lana", (34990,))
    quote_id = uuid.uuid4()
    line = QuoteLine(
        position=0,
        variant_id=variants[0].id,
        product_id=product.id,
        product_name=product.name,
        variant_label="talla: M",
        sku=variants[0].sku,
        quantity=1,
        original_unit_price=34990,
        unit_price=34990,
    )
    quote = await quotes_repo.add_quote(
        db,
        Quote(
            id=quote_id,
            workflow_id=workflow_id_for(quote_id),
            buyer_id=buyer.id,
            vendor_id=vendor.id,
            status="REQUESTED",
            version=0,
            subtotal=34990,
            shipping_cost=0,
            total=34990,
            commission_bps=1000,
            respond_by=respond_by,
        ),
        [QuoteLineRow(**line.model_dump())],
    )
    requested = TimelineEntry(
        seq=1, kind="requested", status="REQUESTED", actor="buyer", at=requested_at
    )
    return quote, line, requested


def _state(quote, line, timeline, status, respond_by, **more) -> QuoteState:
    return QuoteState(
        quote_id=quote.id,
        number=quote_number_label(quote.number),
        status=status,
        version=len(timeline),
        vendor_slug="x",
        buyer_id=quote.buyer_id,
        currency="CLP",
        lines=[line],
        subtotal=34990,
        shipping_cost=0,
        total=34990,
        deadlines=Deadlines(respond_by=respond_by),
        timeline=timeline,
        **more,
    )


async def test_an_expired_quote_is_shown_as_expired(client, db, settings):
    buyer, vendor = await make_user(db, "buyer"), await make_vendor(db)
    requested_at = datetime.now(UTC) - timedelta(hours=49)
    respond_by = requested_at + timedelta(hours=48)
    quote, line, requested = await _quote(
        db, buyer, vendor, requested_at=requested_at, respond_by=respond_by
    )
    expired = TimelineEntry(
        seq=2,
        kind="expired",
        status="EXPIRED",
        actor="system",
        message="la tienda no respondió a tiempo",
        at=respond_by,
    )
    await project(db, _state(quote, line, [requested, expired], "EXPIRED", respond_by))
    await sign_in(client, db, settings, buyer)

    listing = await client.get("/cotizaciones")
    assert 'data-status="EXPIRED">Expirada</span>' in listing.text
    page = await client.get(f"/cotizaciones/{quote.id}")
    assert 'data-quote-status="EXPIRED"' in page.text
    assert "La tienda no respondió a tiempo</strong>" in page.text
    assert "Pagar con Khipu" not in page.text
    assert 'time class="countdown"' not in page.text  # nothing left to count down


async def test_a_requested_quote_counts_down_to_the_vendor_deadline(client, db, settings):
    buyer, vendor = await make_user(db, "buyer"), await make_vendor(db)
    respond_by = datetime.now(UTC) + timedelta(hours=47, minutes=30)
    quote, line, requested = await _quote(
        db, buyer, vendor, requested_at=datetime.now(UTC), respond_by=respond_by
    )
    await project(db, _state(quote, line, [requested], "REQUESTED", respond_by))
    await sign_in(client, db, settings, buyer)
    page = await client.get(f"/cotizaciones/{quote.id}")
    iso = respond_by.isoformat().replace("+00:00", "Z")
    assert f'<time class="countdown" datetime="{iso}"' in page.text
    assert "quedan 1 d 23 h" in page.text
    assert "$34.990" in page.text

    staff = await make_user(db, "vendor", vendor)
    await sign_in(client, db, settings, staff)
    dashboard = await client.get("/vendedor")
    assert quote_number_label(quote.number) in dashboard.text
    decision = await client.get(f"/vendedor/cotizaciones/{quote.id}")
    assert 'name="price_0" type="text" inputmode="numeric" value="34990"' in decision.text


async def test_operator_console_links_quotes_to_the_temporal_ui(client, db, settings):
    buyer, vendor = await make_user(db, "buyer"), await make_vendor(db)
    now = datetime.now(UTC)
    quote, line, requested = await _quote(
        db, buyer, vendor, requested_at=now, respond_by=now + timedelta(hours=48)
    )
    await project(db, _state(quote, line, [requested], "REQUESTED", now + timedelta(hours=48)))
    operator = await make_user(db, "operator")
    await sign_in(client, db, settings, operator)
    console = await client.get("/operador", params={"tienda": vendor.slug, "estado": "REQUESTED"})
    link = f"{settings.temporal_ui_url}/namespaces/default/workflows/quote-{quote.id}"
    assert link in console.text
    other = await client.get("/operador", params={"tienda": vendor.slug, "estado": "PAID"})
    assert link not in other.text
    detail = await client.get(f"/operador/cotizaciones/{quote.id}")
    assert "Cancelar cotización" in detail.text
    assert "data-temporal-link" in detail.text


async def test_a_paid_quote_past_its_ship_by_date_offers_cancel_with_refund(client, db, settings):
    buyer, vendor = await make_user(db, "buyer"), await make_vendor(db)
    requested_at = datetime.now(UTC) - timedelta(days=7)
    quote, line, requested = await _quote(
        db, buyer, vendor, requested_at=requested_at, respond_by=requested_at
    )
    paid = TimelineEntry(
        seq=2, kind="paid", status="PAID", actor="buyer", at=requested_at + timedelta(hours=2)
    )
    await project(db, _state(quote, line, [requested, paid], "PAID", None))
    await sign_in(client, db, settings, buyer)
    page = await client.get(f"/cotizaciones/{quote.id}")
    assert 'data-quote-status="PAID"' in page.text
    assert "Cancelar y pedir reembolso" not in page.text, "the vendor still has time to ship"

    overdue = TimelineEntry(
        seq=3,
        kind="ship_overdue",
        status="PAID",
        actor="system",
        at=requested_at + timedelta(days=5, hours=2),
    )
    # The workflow's state says so (the projection mirrors it; pages no longer read the
    # timeline for it).
    overdue_state = _state(
        quote,
        line,
        [requested, paid, overdue],
        "PAID",
        None,
        ship_overdue=True,
        waiting_for="the vendor to ship (overdue: the buyer may cancel with refund)",
    )
    await project(db, overdue_state)
    page = await client.get(f"/cotizaciones/{quote.id}")
    assert "data-ship-overdue" in page.text
    assert "que la tienda despache (atrasada" in page.text
    assert "La tienda no despachó a tiempo" in page.text
    assert "recibir de vuelta $34.990 a través de Khipu" in page.text
    assert f'action="/cotizaciones/{quote.id}/cancelar"' in page.text


async def test_operator_finds_a_quote_by_number_and_a_buyers_quotes_from_their_account(
    client, db, settings
):
    vendor = await make_vendor(db)
    ana, other = await make_user(db, "buyer"), await make_user(db, "buyer")
    now = datetime.now(UTC)
    found = {}
    for who in (ana, other):
        quote, line, requested = await _quote(
            db, who, vendor, requested_at=now, respond_by=now + timedelta(hours=48)
        )
        await project(db, _state(quote, line, [requested], "REQUESTED", now + timedelta(hours=48)))
        found[who.email] = quote
    await sign_in(client, db, settings, await make_user(db, "operator"))
    anas, others = found[ana.email], found[other.email]

    page = await client.get("/operador", params={"numero": f"q{anas.number}"})
    assert f'data-quote="{anas.id}"' in page.text
    assert f'data-quote="{others.id}"' not in page.text
    assert f'value="q{anas.number}"' in page.text  # the filter stays filled in

    page = await client.get("/operador", params={"numero": "Q-12a"})
    assert "Escribe un número de cotización" in page.text
    assert 'aria-invalid="true"' in page.text
    assert "data-quote=" not in page.text  # a typo finds nothing, not everything

    accounts = await client.get("/operador/cuentas", params={"q": ana.email})
    link = f"/operador?comprador={ana.email.replace('@', '%40')}"
    assert link in accounts.text
    page = await client.get(link)
    assert f'data-quote="{anas.id}"' in page.text
    assert f'data-quote="{others.id}"' not in page.text


async def test_held_refunds_and_returns_show_their_forms_to_whoever_decides(client, db, settings):
    buyer, vendor = await make_user(db, "buyer"), await make_vendor(db)
    at = datetime.now(UTC) - timedelta(days=3)
    quote, line, requested = await _quote(db, buyer, vendor, requested_at=at, respond_by=at)

    def entry(seq: int, kind: str, status: str, message: str = "") -> TimelineEntry:
        return TimelineEntry(
            seq=seq, kind=kind, status=status, actor="system", message=message, at=at
        )

    completed = [requested, entry(2, "completed", "COMPLETED")]
    await project(db, _state(quote, line, completed, "COMPLETED", None))
    await sign_in(client, db, settings, buyer)
    page = await client.get(f"/cotizaciones/{quote.id}")
    assert "data-return-request" in page.text
    assert f'action="/cotizaciones/{quote.id}/devolucion"' in page.text
    assert 'name="nonce"' in page.text

    asked = [*completed, entry(3, "return_requested", "RETURN_REQUESTED", "Llegó roto")]
    await project(db, _state(quote, line, asked, "RETURN_REQUESTED", None))
    page = await client.get(f"/cotizaciones/{quote.id}")
    assert "data-return-pending" in page.text
    staff = await make_user(db, "vendor", vendor)
    await sign_in(client, db, settings, staff)
    decision = await client.get(f"/vendedor/cotizaciones/{quote.id}")
    assert "El comprador pidió una devolución" in decision.text
    assert "Llegó roto" in decision.text
    assert f'action="/vendedor/cotizaciones/{quote.id}/devolucion"' in decision.text

    held = [*asked, entry(4, "refund_held", "REFUND_HELD", "El pago ya fue rendido")]
    state = _state(quote, line, held, "REFUND_HELD", None)
    state.hold_reason = "refund of $34.990 not made: El pago ya fue rendido"
    await project(db, state)
    operator = await make_user(db, "operator")
    await sign_in(client, db, settings, operator)
    detail = await client.get(f"/operador/cotizaciones/{quote.id}")
    assert "data-refund-held" in detail.text
    assert "El pago ya fue rendido" in detail.text
    assert f'action="/operador/cotizaciones/{quote.id}/reintentar-reembolso"' in detail.text
    assert f'action="/operador/cotizaciones/{quote.id}/registrar-reembolso"' in detail.text
    assert "Cancelar cotización" not in detail.text
    listing = await client.get("/operador/retenidas")
    assert quote_number_label(quote.number) in listing.text
