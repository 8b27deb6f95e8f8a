"""The directory (InforedChile) on the wire: request signatures and the indexer client.

Signature v2 (docs/directory.md): header `X-Directory-Signature: t=<unix seconds>,v2=<hex>`
where `v2 = hex(HMAC-SHA256(secret, "v2\n<METHOD>\n<path>\n<t>\n" + raw body))`; `<path>`
is the request path (with `?query` when there is one). Covering method and path means a
captured request cannot be replayed against another company or product. One key per
direction: the directory signs the company updates it PUTs to us with
`MARKETRED_DIRECTORY_SECRET`; we sign our indexer pushes with `MARKETRED_INDEXER_SECRET`.
The v1 scheme (body only) is no longer accepted: it is the replay this closes.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from marketred.schemas.directory import IndexedProduct

SIGNATURE_HEADER = "X-Directory-Signature"
TOLERANCE_SECONDS = 300
VERSION = "v2"


class SignatureError(ValueError):
    """The header is missing, malformed, stale or does not match the request."""


def canonical_request(method: str, path: str, timestamp: int, body: bytes) -> bytes:
    return f"{VERSION}\n{method.upper()}\n{path}\n{timestamp}\n".encode() + body


def compute_signature(secret: str, method: str, path: str, timestamp: int, body: bytes) -> str:
    message = canonical_request(method, path, timestamp, body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, method: str, path: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The header value for this request, signed now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},{VERSION}={compute_signature(secret, method, path, t, body)}"


def verify(
    secret: str,
    header: str | None,
    method: str,
    path: str,
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """Check `header` against the request; return the signed timestamp or raise."""
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError) as exc:
        raise SignatureError("signature header has no valid t=<unix seconds>") from exc
    candidates = parts.get(VERSION, [])
    if not candidates:
        raise SignatureError(f"signature header has no {VERSION}=<hex> (v1 is not accepted)")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("signature timestamp is outside the 5-minute tolerance")
    expected = compute_signature(secret, method, path, timestamp, body)
    # Several v2 values are allowed so a sender can roll its secret without downtime.
    if not any(hmac.compare_digest(expected, c.strip().lower()) for c in candidates):
        raise SignatureError("signature does not match the request")
    return timestamp


def path_of(url: str) -> str:
    """What a signature covers of a URL: its path, and `?query` when it has one."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class IndexerUnavailable(Exception):
    """The indexer could not take the push now (network error, 5xx, 429): retry later."""


class IndexerRejected(Exception):
    """The indexer refused the push (4xx): retrying the same request will not help."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class IndexerResponse:
    status_code: int


class DirectoryIndexerClient:
    """Pushes product documents to the directory's indexer endpoint.

    `POST {url}` with an IndexedProduct upserts; `DELETE {url}/{product_id}` removes.
    Both are idempotent on the indexer side, so a retried push is harmless.
    """

    def __init__(self, http: httpx.AsyncClient, url: str, secret: str) -> None:
        self._http = http
        self._url = url.rstrip("/")
        self._secret = secret

    async def upsert(self, product: IndexedProduct) -> IndexerResponse:
        body = product.model_dump_json().encode()
        return await self._send("POST", self._url, body)

    async def delete(self, product_id: uuid.UUID) -> IndexerResponse:
        try:
            return await self._send("DELETE", f"{self._url}/{product_id}", b"")
        except IndexerRejected as exc:
            if exc.status_code == 404:  # already gone: the delete has done its job
                return IndexerResponse(404)
            raise

    async def _send(self, method: str, url: str, body: bytes) -> IndexerResponse:
        headers = {SIGNATURE_HEADER: sign(self._secret, method, path_of(url), body)}
        if body:
            headers["Content-Type"] = "application/json"
        try:
            response = await self._http.request(method, url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise IndexerUnavailable(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status >= 500 or status in (408, 429):
            raise IndexerUnavailable(f"{method} {url}: HTTP {status}")
        if status >= 400:
            raise IndexerRejected(f"{method} {url}: HTTP {status} {response.text[:200]}", status)
        return IndexerResponse(status)
