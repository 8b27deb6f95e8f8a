"""The payer's bank page, driven like a browser without JavaScript would."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.support.khipu import API_KEY

AUTH = {"x-api-key": API_KEY}
RETURN = "https://marketred.test/quotes/q1?payment=return"
CANCEL = "https://marketred.test/quotes/q1?payment=cancel"


async def create(http: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {
        "amount": 12990,
        "currency": "CLP",
        "subject": "Cotización Q-000123 — <Ferretería & Co>",
        "return_url": RETURN,
        "cancel_url": CANCEL,
        **fields,
    }
    body = {k: v for k, v in body.items() if v is not None}
    response = await http.post("/v3/payments", headers=AUTH, json=body)
    assert response.status_code == 200
    created: dict[str, Any] = response.json()
    return created


def form_actions(html: str) -> dict[str, str]:
    """Map each button label to the action of the POST form that holds it."""
    forms = re.findall(
        r"<form method='post' action='([^']+)'>.*?<button[^>]*>([^<]+)</button>", html
    )
    return {label: action for action, label in forms}


async def status_of(http: httpx.AsyncClient, pid: str) -> tuple[str, str]:
    body = (await http.get(f"/v3/payments/{pid}", headers=AUTH)).json()
    return body["status"], body["status_detail"]


async def test_page_shows_bank_subject_amount_and_three_buttons(http: httpx.AsyncClient) -> None:
    created = await create(http)
    response = await http.get(created["payment_url"])
    html = response.text
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "DemoBank" in html
    assert "$12.990" in html
    assert "Cotización Q-000123 — &lt;Ferretería &amp; Co&gt;" in html  # escaped
    assert set(form_actions(html)) == {"Pagar", "Rechazar", "Abandonar"}
    # No scripts and nothing loaded from elsewhere.
    assert "<script" not in html
    assert not re.search(r"""(src|href)=['"]?https?://""", html)


async def test_simplified_and_manual_urls_show_the_same_page(http: httpx.AsyncClient) -> None:
    created = await create(http)
    for key in ("simplified_transfer_url", "transfer_url"):
        html = (await http.get(created[key])).text
        assert "$12.990" in html
        assert "Pagar" in html


async def test_pagar_redirects_to_return_url_and_completes(http: httpx.AsyncClient) -> None:
    created = await create(http)
    actions = form_actions((await http.get(created["payment_url"])).text)
    response = await http.post(actions["Pagar"])
    assert response.status_code == 303
    assert response.headers["location"] == RETURN
    assert await status_of(http, created["payment_id"]) == ("done", "normal")
    page = (await http.get(created["payment_url"])).text
    assert "Pago completado" in page
    assert "Pagar</button>" not in page
    receipt = await http.get(f"/payment/receipt/{created['payment_id']}")
    assert receipt.status_code == 200
    assert "$12.990" in receipt.text


async def test_pagar_with_verification_delay_shows_verifying(http: httpx.AsyncClient) -> None:
    await http.post("/_sandbox/controls", json={"verify_delay": 30})
    created = await create(http)
    actions = form_actions((await http.get(created["payment_url"])).text)
    assert (await http.post(actions["Pagar"])).headers["location"] == RETURN
    assert await status_of(http, created["payment_id"]) == ("verifying", "pending")
    assert "verificando" in (await http.get(created["payment_url"])).text


async def test_abandonar_goes_to_cancel_url_and_leaves_it_pending(
    http: httpx.AsyncClient,
) -> None:
    created = await create(http)
    actions = form_actions((await http.get(created["payment_url"])).text)
    response = await http.post(actions["Abandonar"])
    assert response.status_code == 303
    assert response.headers["location"] == CANCEL
    assert await status_of(http, created["payment_id"]) == ("pending", "pending")


async def test_rechazar_marks_rejected_by_payer(http: httpx.AsyncClient) -> None:
    created = await create(http)
    actions = form_actions((await http.get(created["payment_url"])).text)
    response = await http.post(actions["Rechazar"])
    assert response.status_code == 303
    assert response.headers["location"] == CANCEL
    assert await status_of(http, created["payment_id"]) == ("done", "rejected-by-payer")


async def test_without_return_url_the_payer_stays_on_the_sandbox(http: httpx.AsyncClient) -> None:
    created = await create(http, return_url=None, cancel_url=None)
    actions = form_actions((await http.get(created["payment_url"])).text)
    response = await http.post(actions["Pagar"])
    assert response.headers["location"] == f"/payment/info/{created['payment_id']}"


async def test_expired_payment_page_offers_no_payment(http: httpx.AsyncClient) -> None:
    created = await create(http, expires_date="2020-01-01T00:00:00Z")
    html = (await http.get(created["payment_url"])).text
    assert "expiró" in html
    assert form_actions(html) == {}
    forced = await http.post(f"/payment/info/{created['payment_id']}/pay")
    assert forced.status_code == 200  # the page again, with the reason; no redirect
    assert await status_of(http, created["payment_id"]) == ("pending", "pending")


async def test_deleted_or_unknown_payment_page_is_404(http: httpx.AsyncClient) -> None:
    created = await create(http)
    await http.delete(f"/v3/payments/{created['payment_id']}", headers=AUTH)
    assert (await http.get(created["payment_url"])).status_code == 404
    assert (await http.get("/payment/info/doesnotexist")).status_code == 404
