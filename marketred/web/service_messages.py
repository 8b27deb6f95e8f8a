"""The words of the domain services, in the visitor's language.

Services speak English to API clients (problem+json). The pages are Spanish first, so a
message a service raised is looked up here before a page shows it (a form field's error,
a CSV import report row, an error page): known messages map to a gettext message, which
the Spanish UI shows as is and the English catalog turns back into English. A message
that is not known here (already written for the page) is shown unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from marketred.web.i18n import gettext as _

# Exact messages. Values are functions so the lookup happens in the request's language.
_EXACT: dict[str, Callable[[], str]] = {
    # catalog and CSV import
    "required": lambda: _("Este dato es obligatorio."),
    "required column missing": lambda: _("Falta esta columna obligatoria."),
    "column appears twice": lambda: _("Esta columna aparece dos veces."),
    "must be positive": lambda: _("Debe ser mayor que cero."),
    "empty": lambda: _("Este dato es obligatorio."),
    "CLP has no decimals; write 12990 or 12.990": lambda: _(
        "Los pesos no llevan decimales: escribe 12990 o 12.990."
    ),
    "not a whole number of pesos (write 12990 or 12.990)": lambda: _(
        "No es un monto en pesos: escribe 12990 o 12.990."
    ),
    "a whole number, or empty when not tracked": lambda: _(
        "Un número entero, o vacío si no controlas el stock."
    ),
    "this variant is out of stock": lambda: _("Agotado: no quedan unidades de esta variante."),
    "dropping every line is a rejection: reject the quote instead": lambda: _(
        "Quitaste todos los productos: si no puedes vender nada, rechaza la cotización."
    ),
    "http(s) URLs separated by |": lambda: _("Direcciones http(s) separadas por |."),
    "write si or no": lambda: _("Escribe sí o no."),
    "the file is empty or has no header row": lambda: _(
        "El archivo está vacío o no tiene fila de títulos."
    ),
    "no data rows": lambda: _("El archivo no tiene filas de productos."),
    "already used by another product of yours": lambda: _("Ya lo usa otro de tus productos."),
    # product photos (services/image_processing.py, product_images.py)
    "the file is larger than 8 MB": lambda: _("La foto pesa más de 8 MB."),
    "the file is empty": lambda: _("Elige un archivo de foto."),
    "not a JPEG, PNG or WebP picture": lambda: _("No es una foto JPEG, PNG o WebP."),
    "the picture decodes to too many pixels": lambda: _(
        "La foto tiene demasiados píxeles (máximo 40 megapíxeles)."
    ),
    "the picture is smaller than 64 pixels on a side": lambda: _(
        "La foto es muy pequeña: al menos 64 píxeles por lado."
    ),
    "at most 8 photos per product": lambda: _("Cada producto tiene como máximo 8 fotos."),
    "this photo is already there": lambda: _("Esa foto ya está en el producto."),
    "describe the photo": lambda: _(
        "Describe la foto para quien no puede verla (por ejemplo: «Chaleco gris, vista frontal»)."
    ),
    "at most 300 characters": lambda: _("Como máximo 300 caracteres."),
    "already used": lambda: _("Ya lo usa otro de tus productos."),
    "SKU already used": lambda: _("Ya lo usa otro de tus productos."),
    "last variant of the product": lambda: _(
        "Es la última variante: desactiva o elimina el producto."
    ),
    "this product appears in quotes; deactivate it instead (active: false)": lambda: _(
        "Este producto aparece en cotizaciones: desactívalo en vez de eliminarlo."
    ),
    "this variant appears in quotes; deactivate it instead (active: false)": lambda: _(
        "Esta variante aparece en cotizaciones: desactívala en vez de eliminarla."
    ),
    # carts and quote requests
    "between 0 and 999": lambda: _("Entre 0 y 999."),
    "not available": lambda: _("Este producto ya no está disponible."),
    "this product is no longer available": lambda: _("Este producto ya no está disponible."),
    "empty cart": lambda: _("Tu carro de esta tienda está vacío."),
    "your cart for this vendor is empty": lambda: _("Tu carro de esta tienda está vacío."),
    "could not start the quote; your cart is unchanged, try again": lambda: _(
        "No pudimos enviar la solicitud; tu carro no cambió. Intenta de nuevo."
    ),
    # accounts
    "is too common or easy to guess; choose another": lambda: _(
        "Es demasiado común o fácil de adivinar; elige otra."
    ),
    "is not correct": lambda: _("No es correcta."),
    "taken": lambda: _("Ya existe una cuenta con este correo."),
    "an account with this email already exists": lambda: _("Ya existe una cuenta con este correo."),
    "invalid or expired": lambda: _("El enlace no es válido, ya se usó o expiró."),
    (
        "an unverified account uses this email; confirm it with the link we mailed "
        "or reset its password, then sign in with InforedChile again"
    ): lambda: _(
        "Hay una cuenta sin confirmar con este correo. Confírmala con el enlace que te "
        "enviamos o recupera su contraseña, y vuelve a ingresar con InforedChile."
    ),
    # error pages
    "the workflow engine did not answer; try again shortly": lambda: _(
        "El sistema de cotizaciones no respondió; intenta de nuevo en un momento."
    ),
    "the workflow engine is not reachable; try again shortly": lambda: _(
        "El sistema de cotizaciones no respondió; intenta de nuevo en un momento."
    ),
    "invalid address": lambda: _("La dirección no es válida."),
    # deadlines
    "the vendor already extended its time once": lambda: _("Ya pediste más plazo una vez."),
    "a vendor may only extend its time to answer": lambda: _(
        "Solo puedes pedir más plazo para responder."
    ),
    "only vendor staff manage a catalog": lambda: _(
        "Solo el personal de una tienda administra su catálogo."
    ),
    "only vendor staff import a catalog": lambda: _(
        "Solo el personal de una tienda administra su catálogo."
    ),
}

# Messages that carry a value.
_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"at most (\d+) characters"),
        lambda m: _("Máximo %(n)s caracteres.", n=m[1]),
    ),
    (
        re.compile(r"must have at least (\d+) characters"),
        lambda m: _("Debe tener al menos %(n)s caracteres.", n=m[1]),
    ),
    (
        re.compile(r"above the maximum of (\d+)"),
        lambda m: _("Supera el máximo de %(n)s.", n=m[1]),
    ),
    (
        re.compile(r"more than (\d+) rows; split the file"),
        lambda m: _("Más de %(n)s filas: divide el archivo.", n=m[1]),
    ),
    (
        re.compile(r"SKU (.+) already on line (\d+)"),
        lambda m: _("El SKU %(sku)s ya aparece en la fila %(line)s.", sku=m[1], line=m[2]),
    ),
    (
        re.compile(r"SKU (.+) appears twice"),
        lambda m: _("El SKU %(sku)s aparece dos veces.", sku=m[1]),
    ),
    (
        re.compile(r"only (\d+) in stock"),
        lambda m: _("Solo quedan %(n)s en stock.", n=m[1]),
    ),
    (
        re.compile(r"(.+) \((.+)\) is out of stock"),
        lambda m: _("%(name)s (%(sku)s) está agotado.", name=m[1], sku=m[2]),
    ),
    (
        re.compile(
            r"line \d+, not enough stock for (.+): (\d+) available, (\d+) accepted;"
            r" lower the quantity"
        ),
        lambda m: _(
            "Falta stock de %(item)s: quedan %(n)s y aceptaste %(q)s. Baja la cantidad.",
            item=m[1],
            n=m[2],
            q=m[3],
        ),
    ),
    (
        re.compile(r"line \d+: at most the (\d+) the buyer asked for"),
        lambda m: _("A lo más %(n)s, lo que pidió el comprador.", n=m[1]),
    ),
    (
        re.compile(r"line \d+: say why you lower the quantity or drop the line"),
        lambda _m: _("Cuéntale al comprador por qué envías menos o quitas el producto."),
    ),
    (
        re.compile(r"(.+) \((.+)\) is no longer available"),
        lambda m: _("%(name)s (%(sku)s) ya no está disponible.", name=m[1], sku=m[2]),
    ),
    (
        re.compile(r"(.+) \((.+)\): only (\d+) in stock"),
        lambda m: _("%(name)s (%(sku)s): solo quedan %(n)s.", name=m[1], sku=m[2], n=m[3]),
    ),
    (
        re.compile(r"(\d+) problem\(s\) in the file; nothing was imported"),
        lambda m: _("%(n)s problema(s) en el archivo; no se importó nada.", n=m[1]),
    ),
    (
        re.compile(r"the picture has (\d+)×(\d+) pixels; at most \d+ megapixels"),
        lambda m: _(
            "La foto tiene %(w)s×%(h)s píxeles; el máximo es 40 megapíxeles.", w=m[1], h=m[2]
        ),
    ),
    (
        re.compile(r"at most (\d+) more hours"),
        lambda m: _("Como máximo %(n)s horas más.", n=m[1]),
    ),
    (
        re.compile(r"the \w+ deadline is not pending in state \w+"),
        lambda _m: _("Ese plazo ya no está corriendo."),
    ),
    (
        re.compile(r"this action on a quote is for .+ accounts"),
        lambda _m: _("Tu cuenta no puede hacer esta acción en la cotización."),
    ),
    (
        re.compile(r"(?:quote|product|variant|vendor) .*not found.*|.* does not exist"),
        lambda _m: _("No existe, o no tienes acceso."),
    ),
]


def localize(message: str) -> str:
    """The service's `message` in the current request's language (unknown: unchanged)."""
    exact = _EXACT.get(message)
    if exact is not None:
        return exact()
    for pattern, render in _PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return render(found)
    return message
