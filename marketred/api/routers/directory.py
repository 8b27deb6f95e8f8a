"""Inbound company sync from the directory: `PUT /api/v1/directory/companies/{id}`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request

from marketred.http.deps import ResourcesDep, SessionDep, SettingsDep
from marketred.http.indexing import tell_indexer
from marketred.http.transaction import after_commit
from marketred.integrations.directory import SIGNATURE_HEADER
from marketred.schemas.directory import CompanySyncResult
from marketred.services.directory import company_sync as directory_sync

router = APIRouter(prefix="/api/v1/directory", tags=["directory"])


def signed_path(request: Request) -> str:
    """The path as the sender wrote it (not percent-decoded), with its query if any."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    return raw.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")


@router.put(
    "/companies/{directory_id}",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def put_company(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    resources: ResourcesDep,
    directory_id: Annotated[str, Path(min_length=1, max_length=80)],
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> CompanySyncResult:
    # The signature covers the raw bytes, so the body is read raw and parsed afterwards.
    body = await request.body()
    outcome = await directory_sync.sync_company(
        session,
        secret=settings.directory_secret,
        signature=signature,
        method=request.method,
        path=signed_path(request),
        directory_id=directory_id,
        body=body,
        commission_bps=settings.commission_bps,
    )
    if outcome.reindex:
        after_commit(session, tell_indexer, resources, outcome.reindex)
    return outcome.result
