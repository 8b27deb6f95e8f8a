"""The embed: `/embed/v1/marketred.js` for script hosts, and server-rendered HTML
fragments under `/embed/v1/` for hosts that prefer an iframe. No cookies anywhere here;
fragments may be framed only by MARKETRED_EMBED_ORIGINS."""

from __future__ import annotations

import base64
import hashlib
import uuid
from html import escape
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, HTMLResponse

from marketred.http.deps import SessionDep, SettingsDep
from marketred.schemas.directory import IndexedProduct
from marketred.schemas.money import format_clp
from marketred.schemas.theme import ThemeIn
from marketred.services.catalog import featured
from marketred.services.catalog import images as product_images
from marketred.services.catalog.images import ImageRef
from marketred.services.directory import indexer as directory_indexer
from marketred.services.directory import theme
from marketred.settings import Settings

router = APIRouter(prefix="/embed/v1", tags=["embed"])
SCRIPT = Path(__file__).resolve().parent.parent / "embed_static" / "marketred.js"

_STYLE = """
:root{--mr-font:system-ui,sans-serif;--mr-accent:#c62828;--mr-text:#222;--mr-muted:#666;
--mr-border:#ddd;--mr-radius:8px}
body{margin:0;font-family:var(--mr-font);color:var(--mr-text)}
.mr-list{list-style:none;margin:0;padding:0;display:grid;gap:.5rem;
grid-template-columns:repeat(auto-fill,minmax(12rem,1fr))}
.mr-item a{display:block;padding:.75rem;border:1px solid var(--mr-border);
border-radius:var(--mr-radius);color:inherit;text-decoration:none}
.mr-photo{display:block;width:100%;height:auto;aspect-ratio:1;object-fit:cover;
border-radius:var(--mr-radius);margin-bottom:.5rem}
.mr-featured{font-size:.75em;font-weight:600;padding:0 .4em;border-radius:var(--mr-radius);
background:var(--mr-accent);color:#fff}
.mr-name{font-weight:600}.mr-price{color:var(--mr-accent)}.mr-vendor{color:var(--mr-muted)}
"""


FEATURED_BADGE = '<span class="mr-featured">Destacado</span><br>'


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _price(doc: IndexedProduct) -> str:
    if doc.price_min == doc.price_max:
        return format_clp(doc.price_min)
    return f"desde {format_clp(doc.price_min)}"


def _photo(settings: Settings, image: ImageRef | None) -> str:
    if image is None:
        return ""
    src = settings.public_url.rstrip("/") + image.url("sm")
    return (
        f'<img class="mr-photo" src="{escape(src)}" alt="{escape(image.alt)}" '
        f'width="{image.width}" height="{image.height}" loading="lazy">'
    )


def _page(
    settings: Settings,
    title: str,
    docs: list[IndexedProduct],
    empty: str,
    images: dict[uuid.UUID, ImageRef],
    look: ThemeIn,
    featured_ids: set[uuid.UUID] | None = None,
) -> HTMLResponse:
    marked = featured_ids or set()
    items = "".join(
        f'<li class="mr-item"><a href="{escape(d.url)}" target="_top" rel="noopener">'
        f"{_photo(settings, images.get(d.id))}"
        f"{FEATURED_BADGE if d.id in marked else ''}"
        f'<span class="mr-name">{escape(d.name)}</span><br>'
        f'<span class="mr-price">{escape(_price(d))}</span><br>'
        f'<span class="mr-vendor">{escape(d.vendor_name)}</span></a></li>'
        for d in docs
    )
    body = f'<ul class="mr-list">{items}</ul>' if docs else f'<p class="mr-empty">{empty}</p>'
    # The site theme (services/directory/theme.py) after the defaults: same selector, later wins.
    style = _STYLE + theme.css(look)
    html = (
        f'<!doctype html><html lang="es"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{style}</style></head>"
        f'<body><div class="marketred-embed">{body}</div></body></html>'
    )
    ancestors = " ".join(["'self'", *settings.embed_origins])
    return HTMLResponse(
        html,
        headers={
            # The fragment is inert HTML with one stylesheet, allowed by its hash (theme
            # included): nothing else may load or run in it, whatever a product name
            # smuggles past the escaping.
            "Content-Security-Policy": (
                "default-src 'none'; script-src 'none'; "
                f"style-src 'sha256-{_sha256(style)}'; "
                "img-src 'self' https: data:; base-uri 'none'; form-action 'none'; "
                f"frame-ancestors {ancestors}"
            ),
            "Cache-Control": "public, max-age=60",
        },
    )


@router.get("/marketred.js", include_in_schema=False)
async def embed_script() -> FileResponse:
    return FileResponse(
        SCRIPT,
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/catalog/{vendor_slug}", response_class=HTMLResponse)
async def catalog_fragment(
    vendor_slug: str, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    docs = await directory_indexer.vendor_documents(session, vendor_slug, settings.public_url)
    images = await product_images.main_images(session, [d.id for d in docs])
    return _page(
        settings,
        f"Catálogo {vendor_slug}",
        docs,
        "Esta empresa aún no tiene productos.",
        images,
        await theme.current(session),
    )


@router.get("/search", response_class=HTMLResponse)
async def search_fragment(
    session: SessionDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    docs = await directory_indexer.search_documents(session, q, settings.public_url) if q else []
    # Featured products come first, marked (services/catalog/featured.py).
    now_featured = set(await featured.featured_product_ids(session))
    docs = featured.boost(docs, now_featured)
    images = await product_images.main_images(session, [d.id for d in docs])
    look = await theme.current(session)
    return _page(settings, f"Resultados: {q}", docs, "Sin resultados.", images, look, now_featured)
