"""One-line confirmations after a redirect (`?aviso=code`): no session storage, nothing
the visitor typed is echoed back, and each message is translated."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from marketred.web.i18n import gettext as _

# code → (message, kind); kinds map to .flash-ok / -info / -warn / -error.
NOTICES: dict[str, tuple[str, str]] = {
    "agregado": ("Producto agregado a tu carro.", "ok"),
    "actualizado": ("Carro actualizado.", "ok"),
    "quitado": ("Producto quitado del carro.", "ok"),
    "vaciado": ("Carro vaciado.", "ok"),
    "cantidad-invalida": ("Indica una cantidad entre 1 y 999.", "error"),
    "elige-variante": ("Elige una opción del producto.", "error"),
    "no-disponible": ("Ese producto ya no está disponible en esa cantidad.", "error"),
    "solicitada": ("¡Listo! Enviamos tu solicitud de cotización a la tienda.", "ok"),
    "cancelada": ("La cotización fue cancelada.", "ok"),
    "entrega-confirmada": ("Gracias por confirmar la entrega.", "ok"),
    "aceptada": ("Cotización aceptada. Avisamos al comprador para que pague.", "ok"),
    "rechazada": ("Cotización rechazada. Avisamos al comprador.", "ok"),
    "despachado": ("Pedido marcado como despachado.", "ok"),
    "producto-guardado": ("Producto guardado.", "ok"),
    "variante-invalida": ("Revisa el precio y el stock de la variante.", "error"),
    "importado": ("Catálogo importado.", "ok"),
    "pago-aprobado": ("Pago al vendedor aprobado.", "ok"),
    "pago-no-iniciado": ("No pudimos iniciar el pago. Intenta de nuevo en un momento.", "error"),
    "pago-abandonado": (
        "No completaste el pago. Puedes volver a intentarlo antes del plazo.",
        "warn",
    ),
    "ya-no-es-posible": ("Esa acción ya no es posible en el estado actual.", "warn"),
}


def notice_context(request: Request) -> dict[str, Any]:
    found = NOTICES.get(request.query_params.get("aviso", ""))
    if found is None:
        return {}
    message, kind = found
    return {"notice": _(message), "notice_kind": kind}
