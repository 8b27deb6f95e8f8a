"""Where photo renditions live: PostgreSQL (`media_blobs`, the default: one backup holds
the catalog and its photos) or an S3-compatible bucket (MARKETRED_MEDIA_STORE=s3), for
catalogs whose photos outgrow the database. Keys are content hashes either way, so a
rendition is written once and never changes; `/media/{key}` serves both."""

from __future__ import annotations

from typing import Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.integrations.s3 import S3Client, S3Config
from marketred.settings import Settings
from marketred.store.repositories import media as repo


class MediaStore(Protocol):
    async def put(self, session: AsyncSession, key: str, data: bytes, content_type: str) -> None:
        """Store a rendition (idempotent: the same key always carries the same bytes)."""

    async def get(self, session: AsyncSession, key: str) -> tuple[bytes, str] | None: ...


class PostgresMediaStore:
    async def put(self, session: AsyncSession, key: str, data: bytes, content_type: str) -> None:
        await repo.put_blob(session, key, data, content_type)

    async def get(self, session: AsyncSession, key: str) -> tuple[bytes, str] | None:
        found = await repo.get_blob(session, key)
        return None if found is None else (found.data, found.content_type)


class S3MediaStore:
    """Renditions are put before the product's transaction commits; if it then fails, the
    object stays unreferenced (content-addressed, so a retry reuses it)."""

    def __init__(self, client: S3Client) -> None:
        self.client = client

    async def put(self, session: AsyncSession, key: str, data: bytes, content_type: str) -> None:
        del session
        await self.client.put(f"media/{key}", data, content_type)

    async def get(self, session: AsyncSession, key: str) -> tuple[bytes, str] | None:
        del session
        return await self.client.get(f"media/{key}")


def s3_config(settings: Settings) -> S3Config:
    return S3Config(
        endpoint=settings.s3_endpoint or "",
        bucket=settings.s3_bucket or "",
        region=settings.s3_region,
        access_key=settings.s3_access_key or "",
        secret_key=settings.s3_secret_key or "",
    )


def media_store(settings: Settings, http: httpx.AsyncClient) -> MediaStore:
    if settings.media_store == "s3":
        return S3MediaStore(S3Client(s3_config(settings), http))
    return PostgresMediaStore()
