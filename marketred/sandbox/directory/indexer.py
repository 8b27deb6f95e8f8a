"""The directory's indexer endpoint, as MarketRed pushes to it.

- `POST /indexer/products` (signed JSON document) stores or replaces it;
- `DELETE /indexer/products/{id}` (signed, empty body) removes it;
- `GET /indexer/products` lists what is indexed; `GET /indexer/log` every push received;
- `GET /indexer` is the same as a page for people.

Outage control for tests and demos: `POST /_sandbox/indexer/outage` with
`{"status": 503, "count": N}` answers the next N pushes with that status (`count: null`
until cleared); `DELETE /_sandbox/indexer/outage` ends it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError

from marketred.integrations import directory as wire
from marketred.sandbox.directory.store import DirectoryStore
from marketred.schemas.directory import IndexedProduct
from marketred.schemas.money import format_clp

router = APIRouter()


@dataclass
class Outage:
    status: int = 503
    remaining: int | None = 0  # None: until cleared

    def take(self) -> int | None:
        """The status to fail this push with, or None to accept it."""
        if self.remaining is None:
            return self.status
        if self.remaining > 0:
            self.remaining -= 1
            return self.status
        return None


@dataclass
class Indexer:
    store: DirectoryStore
    secret: str
    outage: Outage


def _indexer(request: Request) -> Indexer:
    indexer: Indexer = request.app.state.indexer
    return indexer


async def _accept(request: Request, product_id: str) -> tuple[Indexer, bytes] | Response:
    indexer = _indexer(request)
    body = await request.body()
    failure = indexer.outage.take()
    if failure is not None:
        indexer.store.log_push(request.method, product_id, None, failure)
        return JSONResponse({"error": "indexer unavailable (sandbox outage)"}, failure)
    try:
        wire.verify(
            indexer.secret,
            request.headers.get(wire.SIGNATURE_HEADER),
            request.method,
            wire.path_of(str(request.url)),
            body,
        )
    except wire.SignatureError as exc:
        indexer.store.log_push(request.method, product_id, None, 401)
        return JSONResponse({"error": str(exc)}, 401)
    return indexer, body


@router.post("/indexer/products")
async def push_product(request: Request) -> Response:
    try:
        product_id = str(json.loads(await request.body()).get("id", "?"))
    except (ValueError, AttributeError):
        product_id = "?"
    accepted = await _accept(request, product_id)
    if isinstance(accepted, Response):
        return accepted
    indexer, body = accepted
    try:
        doc = IndexedProduct.model_validate_json(body)
    except ValidationError as exc:
        indexer.store.log_push("POST", product_id, None, 422)
        return JSONResponse({"error": exc.errors(include_url=False)}, 422)
    indexer.store.index_upsert(str(doc.id), doc.model_dump(mode="json"))
    indexer.store.log_push("POST", str(doc.id), doc.name, 200)
    return JSONResponse({"indexed": str(doc.id)})


@router.delete("/indexer/products/{product_id}")
async def delete_product(request: Request, product_id: str) -> Response:
    accepted = await _accept(request, product_id)
    if isinstance(accepted, Response):
        return accepted
    indexer, _ = accepted
    existed = indexer.store.index_delete(product_id)
    indexer.store.log_push("DELETE", product_id, None, 200)
    return JSONResponse({"deleted": product_id, "existed": existed})


@router.get("/indexer/products")
async def list_products(request: Request) -> dict[str, Any]:
    items = _indexer(request).store.indexed()
    return {"items": items, "total": len(items)}


@router.get("/indexer/log")
async def push_log(request: Request) -> dict[str, Any]:
    entries = [e.__dict__ for e in _indexer(request).store.push_log()]
    return {"items": entries, "total": len(entries)}


@router.get("/indexer", response_class=HTMLResponse)
async def indexer_page(request: Request) -> HTMLResponse:
    store = _indexer(request).store
    rows = "".join(
        f"<tr><td>{escape(d['name'])}</td><td>{escape(d['vendor_name'])}</td>"
        f"<td>{escape(', '.join(d['keywords']))}</td>"
        f"<td>{format_clp(d['price_min'])} – {format_clp(d['price_max'])}</td>"
        f'<td><a href="{escape(d["url"])}">ver</a></td><td>{escape(d["received_at"])}</td></tr>'
        for d in store.indexed()
    )
    log = "".join(
        f"<tr><td>{e.seq}</td><td>{e.method}</td><td>{escape(e.product_id)}</td>"
        f"<td>{escape(e.name or '')}</td><td>{e.status}</td><td>{escape(e.at)}</td></tr>"
        for e in store.push_log(100)
    )
    return HTMLResponse(
        '<!doctype html><html lang="es"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="5"><title>Indexador</title></head><body>'
        '<p><a href="/">← Directorio</a></p><h1>Productos indexados (MarketRed)</h1>'
        '<table id="indexed" border="1" cellpadding="4"><tr><th>Producto</th><th>Empresa</th>'
        f"<th>Palabras clave</th><th>Precio</th><th></th><th>Recibido</th></tr>{rows}</table>"
        '<h2>Últimos envíos</h2><table id="log" border="1" cellpadding="4"><tr><th>#</th>'
        f"<th>Método</th><th>Producto</th><th>Nombre</th><th>HTTP</th><th>Hora</th></tr>{log}"
        "</table></body></html>"
    )


class OutageIn(BaseModel):
    status: int = Field(default=503, ge=400, le=599)
    count: int | None = Field(default=None, ge=0)


@router.post("/_sandbox/indexer/outage")
async def start_outage(request: Request, body: OutageIn) -> dict[str, int | None]:
    indexer = _indexer(request)
    indexer.outage = Outage(status=body.status, remaining=body.count)
    return {"status": body.status, "count": body.count}


@router.delete("/_sandbox/indexer/outage")
async def end_outage(request: Request) -> dict[str, int | None]:
    _indexer(request).outage = Outage()
    return {"status": None, "count": 0}
