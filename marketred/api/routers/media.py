"""Product photos: served by content hash with a year-long immutable cache, and the
vendor API to add one (`POST /api/v1/vendor/products/{id}/images`, multipart)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, UploadFile
from pydantic import BaseModel

from marketred.http.deps import ResourcesDep, SessionDep, SettingsDep, VendorPrincipal
from marketred.http.indexing import tell_indexer
from marketred.http.transaction import after_commit
from marketred.services.catalog import images as product_images
from marketred.services.catalog import products as catalog
from marketred.services.catalog.image_processing import MAX_BYTES
from marketred.services.catalog.media_store import media_store
from marketred.services.errors import DomainError, InvalidInput

router = APIRouter(tags=["product images"])
# The whole multipart body: the file plus the alt text and the boundaries.
MAX_BODY = MAX_BYTES + 64 * 1024


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload too large"


class ImageOut(BaseModel):
    id: uuid.UUID
    alt: str
    position: int
    width: int
    height: int
    url: str
    thumbnail_url: str
    small_url: str


@router.get("/media/{key}", include_in_schema=False)
async def media(
    key: str, request: Request, session: SessionDep, resources: ResourcesDep
) -> Response:
    key = key[:80]
    store = media_store(resources.settings, resources.http)
    data, content_type = await product_images.blob(session, key, store)
    etag = f'"{key}"'
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=content_type, headers=headers)


@router.post("/api/v1/vendor/products/{product_id}/images", status_code=201)
async def add_image(
    product_id: uuid.UUID,
    request: Request,
    vendor: VendorPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    resources: ResourcesDep,
    file: UploadFile | None = None,
    alt: Annotated[str | None, Form()] = None,
) -> ImageOut:
    """Add a photo (JPEG, PNG or WebP, at most 8 MB and 40 megapixels; re-encoded, its
    metadata dropped). The first photo is the main one. `alt` describes it for people who
    cannot see it."""
    # Whose product first: a stranger learns nothing, whatever the body.
    await catalog.own_product(session, vendor, product_id)
    if file is None or alt is None:
        missing = [name for name, value in (("file", file), ("alt", alt)) if value is None]
        raise InvalidInput("multipart fields missing", errors=[(f, "required") for f in missing])
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLarge("the upload is larger than 8 MB", errors=[("file", "at most 8 MB")])
    data = await file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge("the upload is larger than 8 MB", errors=[("file", "at most 8 MB")])
    if not data:
        raise InvalidInput("empty file", errors=[("file", "required")])
    store = media_store(settings, resources.http)
    ref = await product_images.upload(
        session, vendor, product_id, data, alt, settings.public_url, store
    )
    after_commit(session, tell_indexer, resources, [product_id])
    base = settings.public_url.rstrip("/")
    return ImageOut(
        id=ref.id,
        alt=ref.alt,
        position=ref.position,
        width=ref.width,
        height=ref.height,
        url=base + ref.url("full"),
        thumbnail_url=base + ref.url("md"),
        small_url=base + ref.url("sm"),
    )
