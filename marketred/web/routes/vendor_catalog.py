"""Vendor catalog: products with their variants (create, edit, deactivate) and the CSV
import (upload → dry-run report by row → confirm). Works without JavaScript: the
product form has a fixed number of variant rows, and the confirmed CSV travels back in
a hidden field, so nothing is kept on the server between the two steps."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.background import BackgroundTask
from starlette.responses import Response

from marketred.http.deps import SessionDep
from marketred.http.indexing import tell_indexer
from marketred.http.resources import Resources
from marketred.schemas.catalog import ProductIn, ProductPatch, VariantIn, VariantPatch
from marketred.services.catalog import csv_import as catalog_import
from marketred.services.catalog import images as product_images
from marketred.services.catalog import products as catalog
from marketred.services.catalog.csv_reader import MAX_BYTES
from marketred.services.errors import InvalidInput
from marketred.web.i18n import gettext as _
from marketred.web.routes.common import (
    FormState,
    Posted,
    WebRoute,
    WebVendor,
    see_other,
)
from marketred.web.routes.forms import parse_clp, parse_int, read_upload
from marketred.web.routes.notices import notice_context
from marketred.web.service_messages import localize
from marketred.web.templating import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

NEW_VARIANT_ROWS = 4


def _saved(resources: Resources, url: str, product_ids: list[uuid.UUID]) -> Response:
    """Redirect; the directory's indexer hears about the products right after the answer,
    so after the request committed (the worker's outbox sweep covers a failure here)."""
    response = see_other(url)
    response.background = BackgroundTask(tell_indexer, resources, product_ids)
    return response


@router.get("/vendedor/catalogo")
async def catalog_page(request: Request, vendor: WebVendor, session: SessionDep) -> Response:
    products = await catalog.list_own_products(session, vendor, limit=200, offset=0)
    return render(
        request,
        "vendor/catalog.html",
        {"products": products.items, "total": products.total, **notice_context(request)},
    )


def _options(raw: str) -> dict[str, str] | None:
    """`talla: M, color: gris` → {"talla": "M", "color": "gris"}; None if malformed."""
    options: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, sep, value = part.partition(":")
        if not sep or not key.strip() or not value.strip():
            return None
        options[key.strip()] = value.strip()
    return options


def _variant_from_form(form: dict[str, str], i: int, state: FormState) -> VariantIn | None:
    sku = form.get(f"sku_{i}", "").strip()
    price_raw = form.get(f"price_{i}", "").strip()
    if not sku and not price_raw:
        return None  # an unused row
    if not sku:
        state.add(f"sku_{i}", _("Indica el SKU."))
    price = parse_clp(price_raw, allow_zero=False)
    if price is None:
        state.add(f"price_{i}", _("Indica un precio en pesos, sin decimales. Ejemplo: 12.990"))
    options = _options(form.get(f"options_{i}", ""))
    if options is None:
        state.add(f"options_{i}", _("Escribe las opciones como «talla: M, color: gris»."))
    stock = None
    if form.get(f"stock_{i}", "").strip():
        stock = parse_int(form.get(f"stock_{i}"), 0, 10_000_000)
        if stock is None:
            state.add(f"stock_{i}", _("El stock es un número entero, 0 o más."))
    if not sku or price is None or options is None:
        return None
    try:
        return VariantIn(sku=sku, price=price, options=options, stock=stock)
    except ValidationError:
        state.add(f"sku_{i}", _("Revisa esta variante: SKU de hasta 80 caracteres."))
        return None


def _keywords(raw: str) -> list[str]:
    return [k.strip() for k in raw.split(",") if k.strip()][:30]


def _apply_service_errors(state: FormState, exc: Exception) -> None:
    if isinstance(exc, ValidationError):  # the product's own fields (the form checked rows)
        state.add("name", str(exc.errors()[0]["msg"]))
        return
    assert isinstance(exc, InvalidInput)
    for field, message in exc.errors or [("name", exc.reason)]:
        # "variants[2].sku" → the third row's SKU field.
        if field.startswith("variants[") and "]" in field:
            index, _, rest = field[len("variants[") :].partition("]")
            state.add(f"{rest.lstrip('.') or 'sku'}_{index}", message)
        else:
            state.add(field, message)


def _product_fields(form: dict[str, str], state: FormState) -> dict[str, Any]:
    """The product's own fields as typed (the name is required)."""
    name = form.get("name", "").strip()
    if not name:
        state.add("name", _("Indica el nombre del producto."))
    return {
        "name": name,
        "description": form.get("description", "").strip(),
        "category": form.get("category", "").strip() or None,
        "keywords": _keywords(form.get("keywords", "")),
    }


def _product_saved(resources: Resources, product_id: uuid.UUID) -> Response:
    return _saved(
        resources, f"/vendedor/catalogo/{product_id}?aviso=producto-guardado", [product_id]
    )


@router.get("/vendedor/catalogo/nuevo")
async def new_product_page(request: Request, vendor: WebVendor) -> Response:
    del vendor
    return render(
        request,
        "vendor/product_form.html",
        {"form": FormState(), "rows": range(NEW_VARIANT_ROWS)},
    )


@router.post("/vendedor/catalogo/nuevo")
async def create_product(vendor: WebVendor, post: Posted) -> Response:
    state = FormState(values=post.form)
    fields = _product_fields(post.form, state)
    variants = [
        v
        for i in range(NEW_VARIANT_ROWS)
        if (v := _variant_from_form(post.form, i, state)) is not None
    ]
    if not variants and state.ok:
        state.add("sku_0", _("Agrega al menos una variante con SKU y precio."))

    async def save() -> Response:
        body = ProductIn(**fields, variants=variants)
        product = await catalog.create_product(post.session, vendor, body)
        return _product_saved(post.resources, product.id)

    async def again(state: FormState) -> Response:
        return render(
            post.request,
            "vendor/product_form.html",
            {"form": state, "rows": range(NEW_VARIANT_ROWS)},
            status_code=422,
        )

    return await state.submit(save, again, _apply_service_errors, (ValidationError, InvalidInput))


async def _edit_page(
    request: Request,
    vendor: WebVendor,
    session: SessionDep,
    product_id: uuid.UUID,
    form: FormState | None = None,
    status_code: int = 200,
    photo_errors: dict[str, str] | None = None,
    photo_alt: str = "",
) -> Response:
    product = await catalog.get_own_product(session, vendor, product_id)
    if form is None:
        form = FormState(
            values={
                "name": product.name,
                "description": product.description,
                "category": product.category or "",
                "keywords": ", ".join(product.keywords),
            }
        )
    return render(
        request,
        "vendor/product_edit.html",
        {
            "product": product,
            "form": form,
            "images": await product_images.list_images(session, product_id),
            "max_images": product_images.MAX_IMAGES,
            "photo_form": FormState(
                values={"alt": photo_alt},
                errors={k: localize(v) for k, v in (photo_errors or {}).items()},
            ),
            **notice_context(request),
        },
        status_code=status_code,
    )


@router.get("/vendedor/catalogo/{product_id}")
async def edit_product_page(
    request: Request, product_id: uuid.UUID, vendor: WebVendor, session: SessionDep
) -> Response:
    return await _edit_page(request, vendor, session, product_id)


@router.post("/vendedor/catalogo/{product_id}")
async def update_product(product_id: uuid.UUID, vendor: WebVendor, post: Posted) -> Response:
    state = FormState(values=post.form)
    fields = _product_fields(post.form, state)

    async def save() -> Response:
        patch = ProductPatch(**fields, active=post.form.get("active") == "1")
        await catalog.update_product(post.session, vendor, product_id, patch)
        return _product_saved(post.resources, product_id)

    return await state.submit(
        save,
        lambda state: _edit_page(post.request, vendor, post.session, product_id, state, 422),
        _apply_service_errors,
        (ValidationError, InvalidInput),
    )


@router.post("/vendedor/catalogo/{product_id}/variantes/{variant_id}")
async def update_variant(
    product_id: uuid.UUID, variant_id: uuid.UUID, vendor: WebVendor, post: Posted
) -> Response:
    price = parse_clp(post.form.get("price"), allow_zero=False)
    stock_raw = post.form.get("stock", "").strip()
    stock = parse_int(stock_raw, 0, 10_000_000) if stock_raw else None
    if price is None or (stock_raw and stock is None):
        return see_other(f"/vendedor/catalogo/{product_id}?aviso=variante-invalida")
    patch = VariantPatch(price=price, stock=stock, active=post.form.get("active") == "1")
    await catalog.update_variant(post.session, vendor, product_id, variant_id, patch)
    return _product_saved(post.resources, product_id)


@router.post("/vendedor/catalogo/{product_id}/variantes")
async def add_variant(product_id: uuid.UUID, vendor: WebVendor, post: Posted) -> Response:
    state = FormState(values=post.form)
    variant = _variant_from_form(post.form, 0, state)
    if variant is None and state.ok:
        state.add("sku_0", _("Indica el SKU y el precio de la nueva variante."))

    async def save() -> Response:
        assert variant is not None  # the form is valid
        await catalog.add_variant(post.session, vendor, product_id, variant)
        return _product_saved(post.resources, product_id)

    def refused(state: FormState, exc: Exception) -> None:
        for _field, message in exc.errors if isinstance(exc, InvalidInput) else []:
            state.add("sku_0", message)

    return await state.submit(
        save,
        lambda state: _edit_page(post.request, vendor, post.session, product_id, state, 422),
        refused,
    )


@router.get("/vendedor/catalogo-importar")
async def import_page(request: Request, vendor: WebVendor) -> Response:
    del vendor
    return render(request, "vendor/import.html", {"report": None, "error": None})


@router.post("/vendedor/catalogo-importar")
async def import_dry_run(vendor: WebVendor, post: Posted) -> Response:
    data, filename = await read_upload(post.request, "file", MAX_BYTES)
    if not data:
        error = _("Elige un archivo CSV.")
    elif len(data) > MAX_BYTES:
        error = _("El archivo es demasiado grande (máximo 20 MB).")
    else:
        report = await catalog_import.import_csv(post.session, vendor, data, dry_run=True)
        return render(
            post.request,
            "vendor/import.html",
            {
                "report": report,
                "payload": base64.b64encode(data).decode(),
                "filename": filename,
                "error": None,
            },
        )
    return render(
        post.request, "vendor/import.html", {"report": None, "error": error}, status_code=422
    )


@router.post("/vendedor/catalogo-importar/confirmar")
async def import_confirm(vendor: WebVendor, post: Posted) -> Response:
    try:
        data = base64.b64decode(post.form.get("payload", ""), validate=True)
    except binascii.Error:
        data = b""
    if not data:
        return see_other("/vendedor/catalogo-importar")
    try:
        done = await catalog_import.import_csv(post.session, vendor, data, dry_run=False)
    except InvalidInput:
        report = await catalog_import.import_csv(post.session, vendor, data, dry_run=True)
        return render(
            post.request,
            "vendor/import.html",
            {"report": report, "payload": post.form.get("payload", ""), "error": None},
            status_code=422,
        )
    return _saved(post.resources, "/vendedor/catalogo?aviso=importado", done.touched_product_ids)
