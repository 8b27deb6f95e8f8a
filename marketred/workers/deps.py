"""What activities need, built once per worker process and handed to activity classes."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from marketred.integrations.khipu import KhipuClient
from marketred.settings import Settings
from marketred.store.session import create_engine, create_session_factory


@dataclass
class WorkerDeps:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    temporal: Client

    @property
    def khipu(self) -> KhipuClient:
        """Khipu v3 client over the shared HTTP client (cheap: holds no connection)."""
        return KhipuClient(self.settings.khipu_api_base, self.settings.khipu_api_key, self.http)

    @classmethod
    def build(cls, settings: Settings, temporal: Client) -> WorkerDeps:
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set")
        # One connection per activity that may run at once: fewer, and activities queue
        # for connections while others hold row locks (some across a Khipu call).
        engine = create_engine(
            settings.database_url,
            pool_size=max(settings.db_pool_size, settings.worker_max_concurrent_activities),
            max_overflow=settings.db_max_overflow,
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=create_session_factory(engine),
            http=httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0)),
            temporal=temporal,
        )

    async def close(self) -> None:
        await self.http.aclose()
        await self.engine.dispose()
