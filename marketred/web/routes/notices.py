"""One-line confirmations after a redirect (`?aviso=code`): no session storage, nothing
the visitor typed is echoed back, and each message is translated."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from marketred.web.formatting import N_
from marketred.web.i18n import gettext as _

# code → (message, kind); kinds map to .flash-ok / -info / -warn / -error.
NOTICES: dict[str, tuple[str, str]] = {
    "agregado": (N_("Producto agregado a tu carro."), "ok"),
    "actualizado": (N_("Carro actualizado."), "ok"),
    "quitado": (N_("Producto quitado del carro."), "ok"),
    "vaciado": (N_("Carro vaciado."), "ok"),
    "cantidad-invalida": (N_("Indica una cantidad entre 1 y 999."), "error"),
    "elige-variante": (N_("Elige una opción del producto."), "error"),
    "no-disponible": (N_("Ese producto ya no está disponible en esa cantidad."), "error"),
    "agotado": (N_("Ese producto está agotado: no quedan unidades."), "error"),
    "solicitada": (N_("¡Listo! Enviamos tu solicitud de cotización a la tienda."), "ok"),
    "cancelada": (N_("La cotización fue cancelada."), "ok"),
    "reembolsada": (
        N_("La cotización fue cancelada y el pago se devolvió a través de Khipu."),
        "ok",
    ),
    "entrega-confirmada": (N_("Gracias por confirmar la entrega."), "ok"),
    "aceptada": (N_("Cotización aceptada. Avisamos al comprador para que pague."), "ok"),
    "rechazada": (N_("Cotización rechazada. Avisamos al comprador."), "ok"),
    "despachado": (N_("Pedido marcado como despachado."), "ok"),
    "plazo-extendido": (N_("Plazo extendido."), "ok"),
    "producto-guardado": (N_("Producto guardado."), "ok"),
    "variante-invalida": (N_("Revisa el precio y el stock de la variante."), "error"),
    "importado": (N_("Catálogo importado."), "ok"),
    "pago-aprobado": (N_("Pago al vendedor aprobado."), "ok"),
    "pago-rechazado": (N_("Pago rechazado: sus ventas vuelven al próximo pago."), "ok"),
    "transferencia-confirmada": (
        N_("Transferencia confirmada: el pago quedó pagado y avisamos a la tienda."),
        "ok",
    ),
    "transferencia-liberada": (
        N_("Marcado como no ejecutado: sus ventas entran al próximo pago."),
        "ok",
    ),
    "transferencia-reintentada": (N_("Reintentando la transferencia."), "info"),
    "falta-referencia": (N_("Indica la referencia que entrega el banco."), "error"),
    "falta-motivo": (N_("Indica el motivo (al menos 3 caracteres)."), "error"),
    "datos-bancarios-guardados": (
        N_("Datos bancarios guardados. Te enviamos un correo de aviso."),
        "ok",
    ),
    "foto-agregada": (N_("Foto agregada."), "ok"),
    "fotos-guardadas": (N_("Fotos guardadas."), "ok"),
    "foto-eliminada": (N_("Foto eliminada."), "ok"),
    "destacado-creado": (N_("Destacado guardado."), "ok"),
    "destacado-terminado": (N_("Destacado terminado."), "ok"),
    "destacado-invalido": (
        N_("Elige qué destacar y un período válido (hasta después de desde)."),
        "error",
    ),
    "tema-guardado": (N_("Apariencia guardada."), "ok"),
    "logo-guardado": (N_("Logo guardado."), "ok"),
    "ajustes-guardados": (
        N_("Ajustes guardados. Las próximas cotizaciones usan tus plazos."),
        "ok",
    ),
    "ajustes-sin-cambios": (N_("No había cambios que guardar."), "info"),
    "comision-guardada": (
        N_("Comisión guardada; rige para las cotizaciones que se pidan desde ahora."),
        "ok",
    ),
    "comision-invalida": (N_("Indica una comisión entre 0 y 100 %, por ejemplo 12,5."), "error"),
    "tienda-activada": (N_("Tienda activada."), "ok"),
    "tienda-desactivada": (N_("Tienda desactivada: su vitrina y productos quedan ocultos."), "ok"),
    "datos-bancarios-sin-cambios": (N_("Tus datos bancarios no cambiaron."), "info"),
    "pagos-generados": (N_("Pagos generados; quedan por aprobar."), "ok"),
    "pagos-en-curso": (N_("La generación de pagos sigue en curso; recarga en un momento."), "info"),
    "pago-no-iniciado": (
        N_("No pudimos iniciar el pago. Intenta de nuevo en un momento."),
        "error",
    ),
    "pago-abandonado": (
        N_("No completaste el pago. Puedes volver a intentarlo antes del plazo."),
        "warn",
    ),
    "pago-liberado": (N_("Khipu confirma el pago: la cotización quedó pagada."), "ok"),
    "pago-reabierto": (
        N_("Khipu tiene el pago en curso: el comprador tiene un nuevo plazo para pagar."),
        "info",
    ),
    "pago-sigue-retenido": (
        N_("Khipu aún no confirma el pago; sigue retenido con el motivo actualizado."),
        "warn",
    ),
    "reembolso-retenido": (
        N_("Khipu no hizo el reembolso: quedó retenido con su motivo para que lo resuelvas."),
        "warn",
    ),
    "reembolso-hecho": (N_("Reembolso registrado: la cotización quedó reembolsada."), "ok"),
    "reembolso-invalido": (
        N_("Indica la referencia de la transferencia y el monto exacto del reembolso retenido."),
        "error",
    ),
    "devolucion-solicitada": (
        N_("Pediste la devolución: la tienda la revisará y te avisaremos de su decisión."),
        "ok",
    ),
    "devolucion-sin-motivo": (N_("Cuéntanos por qué quieres devolver el pedido."), "error"),
    "devolucion-aprobada": (N_("Devolución aprobada: el reembolso está en curso."), "ok"),
    "devolucion-rechazada": (N_("Devolución rechazada."), "info"),
    "monto-invalido": (
        N_("Indica un monto en pesos entre $1 y lo que queda por reembolsar, y el motivo."),
        "error",
    ),
    "cuenta-desactivada": (
        N_("Cuenta desactivada: se cerraron sus sesiones y no podrá ingresar."),
        "ok",
    ),
    "cuenta-reactivada": (N_("Cuenta reactivada: ya puede volver a ingresar."), "ok"),
    "no-a-ti-mismo": (N_("No puedes desactivar tu propia cuenta."), "error"),
    "datos-corregidos": (N_("Tus datos quedaron corregidos."), "ok"),
    "correo-por-verificar": (
        N_("Datos corregidos. Te enviamos un enlace para verificar tu nuevo correo."),
        "ok",
    ),
    "cuenta-eliminada": (
        N_("Tu cuenta fue eliminada y tus datos personales, borrados."),
        "ok",
    ),
    "ya-no-es-posible": (N_("Esa acción ya no es posible en el estado actual."), "warn"),
}


def notice_context(request: Request) -> dict[str, Any]:
    found = NOTICES.get(request.query_params.get("aviso", ""))
    if found is None:
        return {}
    message, kind = found
    return {"notice": _(message), "notice_kind": kind}
