"""A vendor's own catalog (vendor staff only): products, variants, CSV import.

After a committed change the directory's indexer is told (docs/directory.md, "Indexer push out");
an unreachable workflow engine never fails the change (the worker's outbox sweep pushes it later).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.api.idempotent import Idempotent
from marketred.http.deps import ResourcesDep, SessionDep, VendorPrincipal
from marketred.http.indexing import tell_indexer
from marketred.http.resources import Resources
from marketred.http.transaction import after_commit
from marketred.logs import get_logger
from marketred.schemas.catalog import (
    ImportReport,
    ProductIn,
    ProductOut,
    ProductPatch,
    VariantIn,
    VariantOut,
    VariantPatch,
)
from marketred.schemas.common import Page
from marketred.services.catalog import csv_import as catalog_import
from marketred.services.catalog import products as catalog
from marketred.services.catalog.csv_reader import MAX_BYTES
from marketred.services.errors import InvalidInput

router = APIRouter(prefix="/api/v1/vendor/products", tags=["vendor catalog"])
log = get_logger(__name__)


def _index_after_commit(
    session: AsyncSession, resources: Resources, product_ids: Iterable[uuid.UUID]
) -> None:
    after_commit(session, tell_indexer, resources, list(product_ids))


@router.get("")
async def list_own_products(
    vendor: VendorPrincipal,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ProductOut]:
    return await catalog.list_own_products(session, vendor, limit=limit, offset=offset)


@router.post("", status_code=201, response_model=ProductOut)
async def create_product(
    body: ProductIn,
    vendor: VendorPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    idem: Idempotent,
) -> ProductOut | JSONResponse:
    async def work(_key: str | None) -> ProductOut:
        out = await catalog.create_product(session, vendor, body)
        _index_after_commit(session, resources, [out.id])
        return out

    return await idem.run(body, work, status=201, resource_id=lambda out: str(out.id))


@router.post(
    "/import",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
async def import_products(
    request: Request,
    vendor: VendorPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    background: BackgroundTasks,
    dry_run: Annotated[bool, Query()] = False,
) -> ImportReport:
    """CSV body (`text/csv`) or a multipart upload in the field `file`. The directory
    hears about the touched products after the answer is sent (a large file means many
    indexer workflow starts; the buyer-facing answer does not wait for them)."""
    data = await _csv_bytes(request)
    report = await catalog_import.import_csv(session, vendor, data, dry_run=dry_run)
    if not dry_run:
        # A background task runs after the answer is sent, so after the request commits.
        background.add_task(tell_indexer, resources, report.touched_product_ids)
    return report


async def _csv_bytes(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_part_size=MAX_BYTES)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("attach the CSV as the field 'file'", errors=[("file", "missing")])
        data = await upload.read()
    else:
        data = await request.body()
    if not data.strip():
        raise InvalidInput("the file is empty", errors=[("file", "empty")])
    if len(data) > MAX_BYTES:
        raise InvalidInput("file too large", errors=[("file", f"at most {MAX_BYTES} bytes")])
    return data


@router.get("/{product_id}")
async def get_own_product(
    product_id: uuid.UUID, vendor: VendorPrincipal, session: SessionDep
) -> ProductOut:
    return await catalog.get_own_product(session, vendor, product_id)


@router.patch("/{product_id}")
async def update_product(
    product_id: uuid.UUID,
    body: ProductPatch,
    vendor: VendorPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
) -> ProductOut:
    out = await catalog.update_product(session, vendor, product_id, body)
    _index_after_commit(session, resources, [out.id])
    return out


@router.delete("/{product_id}", status_code=204)
async def delete_product(
    product_id: uuid.UUID, vendor: VendorPrincipal, session: SessionDep, resources: ResourcesDep
) -> Response:
    await catalog.delete_product(session, vendor, product_id)
    _index_after_commit(session, resources, [product_id])
    return Response(status_code=204)


@router.post("/{product_id}/variants", status_code=201, response_model=VariantOut)
async def add_variant(
    product_id: uuid.UUID,
    body: VariantIn,
    vendor: VendorPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    idem: Idempotent,
) -> VariantOut | JSONResponse:
    async def work(_key: str | None) -> VariantOut:
        out = await catalog.add_variant(session, vendor, product_id, body)
        _index_after_commit(session, resources, [product_id])
        return out

    return await idem.run(body, work, status=201, resource_id=lambda out: str(out.id))


@router.patch("/{product_id}/variants/{variant_id}")
async def update_variant(
    product_id: uuid.UUID,
    variant_id: uuid.UUID,
    body: VariantPatch,
    vendor: VendorPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
) -> VariantOut:
    out = await catalog.update_variant(session, vendor, product_id, variant_id, body)
    _index_after_commit(session, resources, [product_id])
    return out


@router.delete("/{product_id}/variants/{variant_id}", status_code=204)
async def delete_variant(
    product_id: uuid.UUID,
    variant_id: uuid.UUID,
    vendor: VendorPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
) -> Response:
    await catalog.delete_variant(session, vendor, product_id, variant_id)
    _index_after_commit(session, resources, [product_id])
    return Response(status_code=204)
