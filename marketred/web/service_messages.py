"""The words of the domain services, in the visitor's language, found by code.

Services speak English to API clients (problem+json) and give every error a stable code
with its parameters (services/errors.py: `DomainError.code`/`params`, and `Reason` for a
field's message). The pages are Spanish first: a code known here maps to a gettext
message, filled with the parameters, which the Spanish UI shows as is and the English
catalog turns back into English. A message without a known code (one written for the
page, or a service sentence nobody gave a code yet) is shown unchanged. Sentences are
never read: rewording one cannot break its translation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from marketred.services.errors import DomainError, code_of, params_of
from marketred.web.i18n import gettext as _

Params = Mapping[str, str | int]

# Values are functions so the lookup happens in the request's language.
MESSAGES: dict[str, Callable[[Params], str]] = {
    # catalog and CSV import
    "REQUIRED": lambda _p: _("Este dato es obligatorio."),
    "CSV_COLUMN_MISSING": lambda _p: _("Falta esta columna obligatoria."),
    "CSV_COLUMN_TWICE": lambda _p: _("Esta columna aparece dos veces."),
    "MUST_BE_POSITIVE": lambda _p: _("Debe ser mayor que cero."),
    "CLP_DECIMALS": lambda _p: _("Los pesos no llevan decimales: escribe 12990 o 12.990."),
    "CLP_NOT_A_NUMBER": lambda _p: _("No es un monto en pesos: escribe 12990 o 12.990."),
    "STOCK_NOT_A_NUMBER": lambda _p: _("Un número entero, o vacío si no controlas el stock."),
    "IMAGE_URLS": lambda _p: _("Direcciones http(s) separadas por |."),
    "YES_OR_NO": lambda _p: _("Escribe sí o no."),
    "CSV_NO_HEADER": lambda _p: _("El archivo está vacío o no tiene fila de títulos."),
    "CSV_NO_ROWS": lambda _p: _("El archivo no tiene filas de productos."),
    "CSV_TOO_MANY_ROWS": lambda p: _("Más de %(n)s filas: divide el archivo.", n=p["n"]),
    "CSV_SKU_REPEATED": lambda p: _(
        "El SKU %(sku)s ya aparece en la fila %(line)s.", sku=p["sku"], line=p["line"]
    ),
    "CSV_PROBLEMS": lambda p: _("%(n)s problema(s) en el archivo; no se importó nada.", n=p["n"]),
    "SKU_TAKEN": lambda _p: _("Ya lo usa otro de tus productos."),
    "TOO_LONG": lambda p: _("Máximo %(n)s caracteres.", n=p["n"]),
    "PRICE_ABOVE_MAX": lambda p: _("Supera el máximo de %(n)s.", n=p["n"]),
    "LAST_VARIANT": lambda _p: _("Es la última variante: desactiva o elimina el producto."),
    "PRODUCT_QUOTED": lambda _p: _(
        "Este producto aparece en cotizaciones: desactívalo en vez de eliminarlo."
    ),
    "VARIANT_QUOTED": lambda _p: _(
        "Esta variante aparece en cotizaciones: desactívala en vez de eliminarla."
    ),
    "CATALOG_VENDOR_ONLY": lambda _p: _("Solo el personal de una tienda administra su catálogo."),
    # product photos and logos (services/catalog/image_processing.py, product_images.py)
    "PHOTO_TOO_LARGE": lambda _p: _("La foto pesa más de 8 MB."),
    "PHOTO_EMPTY": lambda _p: _("Elige un archivo de foto."),
    "PHOTO_NOT_A_PICTURE": lambda _p: _("No es una foto JPEG, PNG o WebP."),
    "PHOTO_BOMB": lambda _p: _("La foto tiene demasiados píxeles (máximo 40 megapíxeles)."),
    "PHOTO_TOO_MANY_PIXELS": lambda p: _(
        "La foto tiene %(w)s×%(h)s píxeles; el máximo es 40 megapíxeles.", w=p["w"], h=p["h"]
    ),
    "PHOTO_TOO_SMALL": lambda _p: _("La foto es muy pequeña: al menos 64 píxeles por lado."),
    "PHOTO_LIMIT": lambda _p: _("Cada producto tiene como máximo 8 fotos."),
    "PHOTO_DUPLICATE": lambda _p: _("Esa foto ya está en el producto."),
    "PHOTO_ALT_MISSING": lambda _p: _(
        "Describe la foto para quien no puede verla (por ejemplo: «Chaleco gris, vista frontal»)."
    ),
    "PHOTO_ALT_TOO_LONG": lambda _p: _("Como máximo 300 caracteres."),
    # carts and quote requests
    "QUANTITY_RANGE": lambda _p: _("Entre 0 y 999."),
    "VARIANT_UNAVAILABLE": lambda _p: _("Este producto ya no está disponible."),
    "OUT_OF_STOCK": lambda p: _("Solo quedan %(n)s en stock.", n=p["n"]),
    "CART_EMPTY": lambda _p: _("Tu carro de esta tienda está vacío."),
    "CART_LINE_UNAVAILABLE": lambda p: _(
        "%(name)s (%(sku)s) ya no está disponible.", name=p["name"], sku=p["sku"]
    ),
    "CART_LINE_SHORT": lambda p: _(
        "%(name)s (%(sku)s): solo quedan %(n)s.", name=p["name"], sku=p["sku"], n=p["n"]
    ),
    "QUOTE_NOT_STARTED": lambda _p: _(
        "No pudimos enviar la solicitud; tu carro no cambió. Intenta de nuevo."
    ),
    "QUOTE_ACTOR_FORBIDDEN": lambda _p: _("Tu cuenta no puede hacer esta acción en la cotización."),
    "VARIANT_SOLD_OUT": lambda _p: _("Agotado: no quedan unidades de esta variante."),
    "CART_LINE_SOLD_OUT": lambda p: _(
        "%(name)s (%(sku)s) está agotado.", name=p["name"], sku=p["sku"]
    ),
    # a vendor's acceptance (workflows/quote_rules.py: accept_input_problem, shortage_message)
    "ACCEPT_ALL_DROPPED": lambda _p: _(
        "Quitaste todos los productos: si no puedes vender nada, rechaza la cotización."
    ),
    "ACCEPT_QUANTITY_ABOVE_ASKED": lambda p: _(
        "A lo más %(n)s, lo que pidió el comprador.", n=p["n"]
    ),
    "ACCEPT_REASON_MISSING": lambda _p: _(
        "Cuéntale al comprador por qué envías menos o quitas el producto."
    ),
    "ACCEPT_STOCK_SHORT": lambda p: _(
        "Falta stock de %(item)s: quedan %(n)s y aceptaste %(q)s. Baja la cantidad.",
        item=p["item"],
        n=p["n"],
        q=p["q"],
    ),
    # accounts
    "PASSWORD_TOO_SHORT": lambda p: _("Debe tener al menos %(n)s caracteres.", n=p["n"]),
    "PASSWORD_COMMON": lambda _p: _("Es demasiado común o fácil de adivinar; elige otra."),
    "PASSWORD_WRONG": lambda _p: _("No es correcta."),
    "EMAIL_TAKEN": lambda _p: _("Ya existe una cuenta con este correo."),
    "LINK_INVALID": lambda _p: _("El enlace no es válido, ya se usó o expiró."),
    "OIDC_UNVERIFIED_ACCOUNT": lambda _p: _(
        "Hay una cuenta sin confirmar con este correo. Confírmala con el enlace que te "
        "enviamos o recupera su contraseña, y vuelve a ingresar con InforedChile."
    ),
    # error pages
    "WORKFLOW_UNAVAILABLE": lambda _p: _(
        "El sistema de cotizaciones no respondió; intenta de nuevo en un momento."
    ),
    "ADDRESS_INVALID": lambda _p: _("La dirección no es válida."),
    "NOT_FOUND": lambda _p: _("No existe, o no tienes acceso."),
    # a quote's workflow refused the action (its rules, workflows/quote_rules.py)
    "DEADLINE_NOT_PENDING": lambda _p: _("Ese plazo ya no está corriendo."),
    "DEADLINE_VENDOR_RESPONSE_ONLY": lambda _p: _("Solo puedes pedir más plazo para responder."),
    "DEADLINE_ALREADY_EXTENDED": lambda _p: _("Ya pediste más plazo una vez."),
    "DEADLINE_TOO_MANY_HOURS": lambda p: _("Como máximo %(n)s horas más.", n=p["n"]),
    "QUOTE_STATE_CONFLICT": lambda _p: _(
        "La cotización ya no permite esta acción en su estado actual."
    ),
}


def localize(message: str, code: str | None = None, params: Params | None = None) -> str:
    """`message` in the current request's language, by its code (a `Reason`'s own, or
    `code`/`params` given apart, as a CSV report row carries them); without a known code
    the message unchanged."""
    code = code or code_of(message)
    words = MESSAGES.get(code) if code else None
    if words is None:
        return str(message)
    return words(params if params is not None else params_of(message))


def error_text(exc: DomainError) -> str:
    """What a page says about a domain error: its code's words, else its detail."""
    return localize(exc.reason)
