"""The simulated `/v3` API: same paths, fields and status codes as Khipu's spec."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from marketred.sandbox.khipu.engine import BANKS, PAYMENT_METHODS, KhipuSandbox
from marketred.sandbox.khipu.records import api_view, urls
from marketred.sandbox.khipu.validation import SandboxApiError, parse_json_object

router = APIRouter(prefix="/v3")


def sandbox_of(request: Request) -> KhipuSandbox:
    sandbox: KhipuSandbox = request.app.state.sandbox
    return sandbox


def operation(name: str) -> Callable[..., Awaitable[KhipuSandbox]]:
    """Dependency per operation: log the call, apply an injected fault, check the key."""

    async def guard(
        request: Request, x_api_key: Annotated[str | None, Header()] = None
    ) -> KhipuSandbox:
        sandbox = sandbox_of(request)
        fault = sandbox.controls.take_fault(name)
        outcome = fault.mode if fault else "ok"
        sandbox.store.log_call(name, request.method, request.url.path, outcome)
        if fault is not None and fault.mode == "hang":
            # Read the request first and handle it after the hang, like a server whose
            # answer arrives after the client gave up: the create did happen.
            await request.body()
            await asyncio.sleep(fault.seconds)
        if fault is not None and fault.mode == "error":
            raise SandboxApiError(500, "Error interno del servidor")
        if not x_api_key or not hmac.compare_digest(x_api_key.encode(), sandbox.api_key.encode()):
            raise SandboxApiError(401, "Credenciales no válidas o faltantes")
        return sandbox

    return guard


def forbidden() -> SandboxApiError:
    return SandboxApiError(403, "Esta operación no está habilitada para esta cuenta de cobro")


@router.post("/payments")
async def post_payment(
    request: Request, sandbox: Annotated[KhipuSandbox, Depends(operation("postPayment"))]
) -> dict[str, Any]:
    payment = sandbox.create(parse_json_object(await request.body()))
    return {
        "payment_id": payment.payment_id,
        **urls(sandbox.public_url, payment.payment_id),
        "ready_for_terminal": False,
    }


@router.get("/payments/{payment_id}")
async def get_payment(
    payment_id: str, sandbox: Annotated[KhipuSandbox, Depends(operation("getPaymentById"))]
) -> dict[str, Any]:
    return api_view(sandbox.get(payment_id), sandbox.public_url, sandbox.receiver_id)


@router.delete("/payments/{payment_id}")
async def delete_payment(
    payment_id: str, sandbox: Annotated[KhipuSandbox, Depends(operation("deletePaymentById"))]
) -> dict[str, str]:
    sandbox.delete(payment_id)
    return {"message": "Pago borrado"}


@router.post("/payments/{payment_id}/refunds")
async def refund_payment(
    payment_id: str,
    request: Request,
    sandbox: Annotated[KhipuSandbox, Depends(operation("postPaymentRefundsById"))],
) -> dict[str, str]:
    data = parse_json_object(await request.body(), allow_empty=True)
    amount = sandbox.refund(payment_id, data)
    return {"message": f"Reembolso por {amount} realizado"}


@router.post("/payments/{payment_id}/confirm")
async def confirm_payment(
    payment_id: str,
    sandbox: Annotated[KhipuSandbox, Depends(operation("postPaymentConfirmById"))],
) -> dict[str, str]:
    sandbox.get(payment_id)
    raise forbidden()  # a separately contracted service this account does not have


@router.post("/receivers")
async def post_receiver(
    _sandbox: Annotated[KhipuSandbox, Depends(operation("postReceiver"))],
) -> dict[str, str]:
    raise forbidden()  # integrator accounts only


@router.get("/banks")
async def get_banks(
    _sandbox: Annotated[KhipuSandbox, Depends(operation("getBanks"))],
) -> dict[str, Any]:
    return {"banks": BANKS}


@router.get("/merchants/{receiver_id}/paymentMethods")
async def get_payment_methods(
    receiver_id: str,
    sandbox: Annotated[KhipuSandbox, Depends(operation("getMerchantPaymentMethodsById"))],
) -> dict[str, Any]:
    if receiver_id != str(sandbox.receiver_id):
        raise forbidden()
    return {"paymentMethods": PAYMENT_METHODS}


@router.get("/predict")
async def get_predict(
    request: Request, _sandbox: Annotated[KhipuSandbox, Depends(operation("getPredict"))]
) -> dict[str, Any]:
    missing = [
        {"field": f, "message": "El campo es obligatorio"}
        for f in ("payer_email", "bank_id", "amount", "currency")
        if not request.query_params.get(f)
    ]
    if missing:
        raise SandboxApiError(400, "Error de validación", missing)
    return {
        "result": "ok",
        "max_amount": 5000000,
        "cool_down_date": "",
        "new_destinatary_max_amount": 100000,
    }
