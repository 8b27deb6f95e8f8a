"""The directory's own pages: company list, company page with MarketRed's embedded
catalog, a search page with MarketRed's embedded results, and an admin form that pushes a
signed company update to MarketRed (also as JSON at `POST /_sandbox/companies/{id}/push`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from marketred.integrations import directory as wire
from marketred.sandbox.directory.store import DirectoryStore, now_iso

router = APIRouter()
FIELDS = ("name", "rut", "email", "phone", "address", "logo_url")


@dataclass
class Site:
    store: DirectoryStore
    marketplace_url: str
    secret: str
    http: httpx.AsyncClient

    @property
    def script_url(self) -> str:
        return f"{self.marketplace_url}/embed/v1/marketred.js"

    async def push(self, directory_id: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Sign and PUT the company to MarketRed; remember what it answered."""
        body = {**data, "updated_at": datetime.now(UTC).isoformat()}
        raw = json.dumps(body).encode()
        url = f"{self.marketplace_url}/api/v1/directory/companies/{directory_id}"
        try:
            response = await self.http.put(
                url,
                content=raw,
                headers={
                    "Content-Type": "application/json",
                    wire.SIGNATURE_HEADER: wire.sign(self.secret, "PUT", wire.path_of(url), raw),
                },
            )
        except httpx.HTTPError as exc:
            return 0, {"detail": f"MarketRed no respondió: {exc}"}
        answer: dict[str, Any] = response.json() if response.content else {}
        slug = answer.get("vendor") if response.status_code == 200 else None
        if response.status_code == 200:
            self.store.save_company(directory_id, body, slug=slug, last_sync=now_iso())
        return response.status_code, answer


def _site(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


def _page(title: str, body: str, head: str = "") -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="es"><head><meta charset="utf-8"><title>{escape(title)}'
        " — InforedChile</title><style>body{font-family:Georgia,serif;max-width:60rem;"
        "margin:2rem auto;padding:0 1rem}.marketred-host{--mr-accent:#1565c0}</style>"
        f'{head}</head><body><header><a href="/">InforedChile</a> · <a href="/buscar">Buscar '
        'productos</a> · <a href="/indexer">Indexador</a> · <a href="/admin/tema">Apariencia</a>'
        "</header>"
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    items = "".join(
        f'<li><a href="/empresas/{escape(c.directory_id)}">{escape(c.data.get("name", ""))}</a>'
        f' <small>({escape(c.directory_id)}) · <a href="/admin/empresas/{escape(c.directory_id)}">'
        "editar</a></small></li>"
        for c in _site(request).store.companies()
    )
    new_company = (
        '<form method="get" action="/admin/nueva"><label>Nueva empresa (id del directorio) '
        '<input name="id" pattern="[A-Za-z0-9-]{1,80}" required placeholder="inf-2001">'
        "</label> <button>Crear</button></form>"
    )
    return _page("Directorio de empresas", f'<ul id="companies">{items}</ul>{new_company}')


@router.get("/admin/nueva")
async def new_company(request: Request) -> Response:
    directory_id = request.query_params.get("id", "").strip()
    return RedirectResponse(f"/admin/empresas/{quote(directory_id)}", status_code=303)


@router.get("/empresas/{directory_id}", response_class=HTMLResponse)
async def company_page(request: Request, directory_id: str) -> HTMLResponse:
    site = _site(request)
    company = site.store.company(directory_id)
    if company is None:
        return HTMLResponse("<h1>Empresa no encontrada</h1>", status_code=404)
    d = company.data
    catalog = (
        f'<div class="marketred-host" data-marketred-catalog="{escape(company.slug)}"></div>'
        if company.slug
        else "<p>Esta empresa aún no vende en MarketRed.</p>"
    )
    body = (
        f"<p>RUT {escape(d.get('rut', ''))} · {escape(d.get('address') or '')}</p>"
        f"<p>{escape(d.get('email') or '')} · {escape(d.get('phone') or '')}</p>"
        f"<h2>Productos en MarketRed</h2>{catalog}"
        f'<script src="{escape(site.script_url)}" async></script>'
    )
    return _page(str(d.get("name", directory_id)), body)


@router.get("/buscar", response_class=HTMLResponse)
async def search_page(request: Request) -> HTMLResponse:
    site = _site(request)
    q = request.query_params.get("q", "")
    body = (
        f'<div class="marketred-host" data-marketred-search="{escape(q)}"></div>'
        f'<script src="{escape(site.script_url)}" async></script>'
    )
    return _page("Buscar productos", body)


def _form(directory_id: str, d: dict[str, Any], message: str = "") -> str:
    inputs = "".join(
        f'<p><label>{name}<br><input name="{name}" value="{escape(str(d.get(name) or ""))}"'
        ' size="50"></label></p>'
        for name in FIELDS
    )
    categories = escape(", ".join(d.get("categories") or []))
    checked = " checked" if d.get("active", True) else ""
    return (
        f'{message}<form method="post">{inputs}'
        f'<p><label>categories<br><input name="categories" value="{categories}" size="50">'
        f'</label></p><p><label><input type="checkbox" name="active" value="1"{checked}> '
        "activa</label></p><p><button>Guardar y enviar a MarketRed</button></p></form>"
        f'<p><a href="/empresas/{escape(directory_id)}">Ver página de la empresa</a></p>'
    )


@router.get("/admin/empresas/{directory_id}", response_class=HTMLResponse)
async def admin_form(request: Request, directory_id: str) -> HTMLResponse:
    company = _site(request).store.company(directory_id)
    data = company.data if company else {}
    return _page(f"Editar {directory_id}", _form(directory_id, data))


@router.post("/admin/empresas/{directory_id}", response_class=HTMLResponse)
async def admin_submit(request: Request, directory_id: str) -> HTMLResponse:
    form = await request.form()
    data: dict[str, Any] = {k: (str(form.get(k, "")).strip() or None) for k in FIELDS}
    data["categories"] = [
        c.strip() for c in str(form.get("categories", "")).split(",") if c.strip()
    ]
    data["active"] = form.get("active") == "1"
    status, answer = await _site(request).push(directory_id, data)
    ok = status == 200
    note = answer.get("note") or answer.get("detail") or answer.get("outcome", "")
    message = (
        f'<p id="result" class="{"ok" if ok else "error"}">MarketRed respondió {status}: '
        f"{escape(str(note))}</p>"
    )
    return _page(f"Editar {directory_id}", _form(directory_id, data, message))


@router.post("/_sandbox/companies/{directory_id}/push")
async def push_json(request: Request, directory_id: str) -> Response:
    """Merge the JSON body into the stored company and push it (tests, scripts)."""
    site = _site(request)
    company = site.store.company(directory_id)
    data = {**(company.data if company else {}), **(await request.json())}
    data.pop("updated_at", None)
    status, answer = await site.push(directory_id, data)
    return JSONResponse({"status": status, "response": answer})


# The directory's look, pushed to MarketRed (RNF1) -------------------------------------
THEME_FIELDS = ("primary", "secondary", "font_stack", "radius_px", "logo_url")


async def _push_theme(site: Site, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    raw = json.dumps(data).encode()
    url = f"{site.marketplace_url}/api/v1/directory/theme"
    try:
        response = await site.http.put(
            url,
            content=raw,
            headers={
                "Content-Type": "application/json",
                wire.SIGNATURE_HEADER: wire.sign(site.secret, "PUT", wire.path_of(url), raw),
            },
        )
    except httpx.HTTPError as exc:
        return 0, {"detail": f"MarketRed no respondió: {exc}"}
    return response.status_code, response.json() if response.content else {}


def _theme_form(data: dict[str, Any], message: str = "") -> str:
    inputs = "".join(
        f'<p><label>{name}<br><input name="{name}" value="{escape(str(data.get(name) or ""))}"'
        ' size="60"></label></p>'
        for name in THEME_FIELDS
    )
    return (
        f'{message}<form method="post" action="/admin/tema">{inputs}'
        "<p><button>Enviar apariencia a MarketRed</button></p></form>"
    )


@router.get("/admin/tema", response_class=HTMLResponse)
async def theme_form() -> HTMLResponse:
    defaults = {"primary": "#1565c0", "secondary": "#0d47a1", "radius_px": "4",
                "font_stack": "Georgia, serif"}  # fmt: skip
    return _page("Apariencia del directorio", _theme_form(defaults))


@router.post("/admin/tema", response_class=HTMLResponse)
async def theme_submit(request: Request) -> HTMLResponse:
    form = await request.form()
    data: dict[str, Any] = {k: (str(form.get(k, "")).strip() or None) for k in THEME_FIELDS}
    status, answer = await _push_theme(_site(request), {k: v for k, v in data.items() if v})
    ok = status == 200
    errors = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in answer.get("errors", []))
    note = "apariencia aplicada" if ok else (errors or answer.get("detail", ""))
    message = (
        f'<p id="result" class="{"ok" if ok else "error"}">MarketRed respondió {status}: '
        f"{escape(str(note))}</p>"
    )
    return _page("Apariencia del directorio", _theme_form(data, message))


@router.post("/_sandbox/theme/push")
async def push_theme_json(request: Request) -> Response:
    """Push the JSON body as the directory's theme (tests, scripts)."""
    status, answer = await _push_theme(_site(request), await request.json())
    return JSONResponse({"status": status, "response": answer})
