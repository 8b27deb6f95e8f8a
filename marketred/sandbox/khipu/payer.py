"""The payer's side: a bank-payment page like Khipu's, as plain HTML forms.

No JavaScript and no external assets, so it works in any browser and in tests.
"Pagar" moves the payment to verifying (then done) and sends the browser to the
merchant's return_url; "Abandonar" goes to cancel_url; "Rechazar" is done/rejected-by-payer.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from marketred.sandbox.khipu.engine import KhipuSandbox
from marketred.sandbox.khipu.records import DEMO_BANK_NAME, SandboxPayment, rut_style
from marketred.sandbox.khipu.validation import SandboxApiError

router = APIRouter(prefix="/payment")

STYLE = """
body{font-family:system-ui,sans-serif;background:#eef1f5;margin:0;color:#1d2733}
header{background:#5b2a86;color:#fff;padding:12px 24px;font-weight:600}
main{max-width:460px;margin:32px auto;background:#fff;border-radius:8px;padding:24px;
box-shadow:0 1px 4px rgba(0,0,0,.15)}
.amount{font-size:2em;font-weight:700;margin:8px 0}
.muted{color:#5a6573;font-size:.9em}.bank{border:1px solid #ccd;border-radius:6px;padding:12px;
margin:16px 0}.actions form{display:inline}button{font-size:1em;padding:10px 18px;margin:4px;
border-radius:6px;border:1px solid #5b2a86;background:#fff;color:#5b2a86;cursor:pointer}
button.primary{background:#5b2a86;color:#fff}.status{padding:12px;background:#fff6d6;
border-radius:6px}
"""

STATUS_TEXT = {
    ("verifying", "pending"): "Estamos verificando tu transferencia.",
    ("done", "normal"): "Pago completado. ¡Gracias!",
    ("done", "marked-paid-by-receiver"): "El cobrador marcó este cobro como pagado.",
    ("done", "rejected-by-payer"): "Rechazaste este cobro.",
    ("done", "marked-as-abuse"): "Reportaste este cobro como no solicitado.",
    ("done", "reversed"): "Este pago fue reembolsado.",
}


def format_amount(amount: Decimal, currency: str) -> str:
    """`$12.990` for CLP (dots as thousands separator); other currencies keep decimals."""
    if currency == "CLP":
        return "$" + f"{int(amount):,}".replace(",", ".")
    whole, _, frac = f"{amount:,.2f}".partition(".")
    return f"{currency} {whole.replace(',', '.')},{frac}"


def page(title: str, content: str, status_code: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="es"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        "<header>khipu · sandbox</header><main>" + content + "</main></body></html>"
    )
    return HTMLResponse(html, status_code=status_code)


def sandbox_of(request: Request) -> KhipuSandbox:
    sandbox: KhipuSandbox = request.app.state.sandbox
    return sandbox


def find(sandbox: KhipuSandbox, payment_id: str) -> SandboxPayment | None:
    payment = sandbox.store.get(payment_id)
    return None if payment is None or payment.deleted else payment


def payment_page(sandbox: KhipuSandbox, p: SandboxPayment, notice: str = "") -> HTMLResponse:
    receiver = f"Cobrador de desarrollo #{rut_style(sandbox.receiver_id)}"
    parts = [
        f"<p class='muted'>Pago a {escape(receiver)}</p>",
        f"<h1>{escape(p.subject)}</h1>",
        f"<div class='amount'>{escape(format_amount(p.amount, p.currency))}</div>",
    ]
    if notice:
        parts.append(f"<p class='status'>{escape(notice)}</p>")
    if p.status == "pending" and not sandbox.is_expired(p):
        action = f"/payment/info/{p.payment_id}"
        parts.append(
            f"<div class='bank'><strong>{DEMO_BANK_NAME}</strong>"
            "<p class='muted'>Banco de pruebas · RUT 11.111.111-1 · clave 1234</p></div>"
            "<div class='actions'>"
            f"<form method='post' action='{action}/pay'>"
            "<button class='primary' type='submit'>Pagar</button></form>"
            f"<form method='post' action='{action}/reject'>"
            "<button type='submit'>Rechazar</button></form>"
            f"<form method='post' action='{action}/abandon'>"
            "<button type='submit'>Abandonar</button></form></div>"
        )
    elif p.status == "pending":
        parts.append("<p class='status'>Este cobro expiró.</p>")
    else:
        text = STATUS_TEXT.get((p.status, p.status_detail), p.status)
        parts.append(f"<p class='status'>{escape(text)}</p>")
    return page(f"Pagar {p.subject}", "".join(parts))


def missing() -> HTMLResponse:
    return page("Cobro no encontrado", "<h1>Cobro no encontrado</h1>", 404)


@router.get("/info/{payment_id}")
@router.get("/simplified/{payment_id}")
@router.get("/manual/{payment_id}")
async def show(payment_id: str, request: Request) -> Response:
    sandbox = sandbox_of(request)
    payment = find(sandbox, payment_id)
    return missing() if payment is None else payment_page(sandbox, payment)


def _leave(p: SandboxPayment, field: str) -> Response:
    target = p.opt(field)
    if target:
        return RedirectResponse(target, status_code=303)
    return RedirectResponse(f"/payment/info/{p.payment_id}", status_code=303)


async def _act(payment_id: str, request: Request, outcome: str, leave_to: str) -> Response:
    sandbox = sandbox_of(request)
    payment = find(sandbox, payment_id)
    if payment is None:
        return missing()
    try:
        sandbox.pay(payment_id, outcome)
    except SandboxApiError as exc:
        return payment_page(sandbox, payment, exc.message)
    return _leave(payment, leave_to)


@router.post("/info/{payment_id}/pay")
async def pay(payment_id: str, request: Request) -> Response:
    return await _act(payment_id, request, "normal", "return_url")


@router.post("/info/{payment_id}/reject")
async def reject(payment_id: str, request: Request) -> Response:
    return await _act(payment_id, request, "rejected-by-payer", "cancel_url")


@router.post("/info/{payment_id}/abandon")
async def abandon(payment_id: str, request: Request) -> Response:
    sandbox = sandbox_of(request)
    payment = find(sandbox, payment_id)
    if payment is None:
        return missing()
    # Giving up leaves the payment pending: the payer may come back before it expires.
    return _leave(payment, "cancel_url")


@router.get("/receipt/{payment_id}")
async def receipt(payment_id: str, request: Request) -> Response:
    sandbox = sandbox_of(request)
    p = find(sandbox, payment_id)
    if p is None or p.conciliation_date is None:
        return missing()
    body = (
        f"<h1>Comprobante de pago</h1><p>{escape(p.subject)}</p>"
        f"<div class='amount'>{escape(format_amount(p.amount, p.currency))}</div>"
        f"<p class='muted'>{DEMO_BANK_NAME} · {p.conciliation_date.isoformat()}"
        f" · {escape(p.payment_id)}</p>"
    )
    return page("Comprobante", body)
