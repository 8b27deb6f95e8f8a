"""Vendor back office: a product's photos (upload with alt text, main one, order,
alt text edits, removal). Works without JavaScript: plain multipart and button forms."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from starlette.responses import Response

from marketred.services.catalog import images as product_images
from marketred.services.catalog.image_processing import MAX_BYTES
from marketred.services.catalog.media_store import media_store
from marketred.services.errors import InvalidInput, Reason
from marketred.web.routes.common import Posted, WebRoute, WebVendor
from marketred.web.routes.forms import read_upload, refuse_empty
from marketred.web.routes.vendor_catalog import _edit_page, _saved

router = APIRouter(route_class=WebRoute, include_in_schema=False)
ACTIONS = ("principal", "subir", "bajar", "eliminar", "texto")


def _photos_url(product_id: uuid.UUID, notice: str) -> str:
    return f"/vendedor/catalogo/{product_id}?aviso={notice}#fotos"


@router.post("/vendedor/catalogo/{product_id}/fotos")
async def upload_photo(product_id: uuid.UUID, vendor: WebVendor, post: Posted) -> Response:
    data, _name = await read_upload(post.request, "file", MAX_BYTES)
    try:
        if len(data) > MAX_BYTES:
            raise InvalidInput(
                "too large",
                errors=[("file", Reason("PHOTO_TOO_LARGE", "the file is larger than 8 MB"))],
            )
        refuse_empty(data, "file")
        store = media_store(post.settings, post.resources.http)
        await product_images.upload(
            post.session,
            vendor,
            product_id,
            data,
            post.form.get("alt", ""),
            post.settings.public_url,
            store,
        )
    except InvalidInput as exc:
        return await _edit_page(
            post.request, vendor, post.session, product_id, None, 422, dict(exc.errors),
            post.form.get("alt", ""),
        )  # fmt: skip
    return _saved(post.resources, _photos_url(product_id, "foto-agregada"), [product_id])


@router.post("/vendedor/catalogo/{product_id}/fotos/{image_id}")
async def change_photo(
    product_id: uuid.UUID, image_id: uuid.UUID, vendor: WebVendor, post: Posted
) -> Response:
    action = post.form.get("accion", "")
    current = {i.id: i for i in await product_images.list_images(post.session, product_id)}
    image = current.get(image_id)
    if action not in ACTIONS or image is None:
        return await _edit_page(post.request, vendor, post.session, product_id, status_code=422)
    try:
        if action == "texto":
            await product_images.set_alt(
                post.session, vendor, product_id, image_id, post.form.get("alt", "")
            )
        elif action == "eliminar":
            await product_images.remove(
                post.session, vendor, product_id, image_id, post.settings.public_url
            )
        else:
            to = {"principal": 0, "subir": image.position - 1, "bajar": image.position + 1}[action]
            await product_images.move(
                post.session, vendor, product_id, image_id, to, post.settings.public_url
            )
    except InvalidInput as exc:
        errors = {f"alt-{image_id}": message for _field, message in exc.errors}
        return await _edit_page(
            post.request, vendor, post.session, product_id, status_code=422, photo_errors=errors
        )
    notice = "foto-eliminada" if action == "eliminar" else "fotos-guardadas"
    return _saved(post.resources, _photos_url(product_id, notice), [product_id])
