"""Per-process resources the app holds: database engine, sessions, Temporal client, HTTP."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from marketred.integrations import temporal
from marketred.integrations.payload_codec import EncryptionCodec
from marketred.settings import Settings
from marketred.store.session import (
    create_counters_engine,
    create_engine,
    create_session_factory,
)


@dataclass
class TemporalHandle:
    """Connects lazily so the API can start (and report not-ready) before Temporal is up."""

    settings: Settings
    client: Client | None = None
    # The payload codec the client encrypts with (and the codec endpoint decrypts with).
    codec: EncryptionCodec | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self) -> Client:
        if self.client is None:
            async with self._lock:
                if self.client is None:
                    self.client = await temporal.connect(self.settings, codec=self.codec)
        return self.client


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    temporal: TemporalHandle
    http: httpx.AsyncClient
    # The rate-limit counters' own autocommit pool (store/session.py), when built here.
    counters: AsyncEngine | None = None

    def payload_codec(self) -> EncryptionCodec:
        if self.temporal.codec is None:
            self.temporal.codec = temporal.payload_codec(self.settings, self.sessions)
        return self.temporal.codec


def build_resources(settings: Settings) -> Resources:
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set (marketred dev sets it for you)")
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    # Kept open like the request pool (a connection opened and closed per request would
    # cost more than the counting): lent for one statement each, so half as many suffice.
    counters = create_counters_engine(
        settings.database_url,
        pool_size=max(2, settings.db_pool_size // 2),
        max_overflow=settings.db_max_overflow,
    )
    sessions = create_session_factory(engine, counters=counters)
    return Resources(
        settings=settings,
        engine=engine,
        sessions=sessions,
        temporal=TemporalHandle(settings, codec=temporal.payload_codec(settings, sessions)),
        http=httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)),
        counters=counters,
    )
