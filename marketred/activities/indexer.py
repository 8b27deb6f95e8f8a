"""The indexer push activity: read the product's current state, send it (or a delete).

Idempotent: it sends a full document (or a delete) keyed by product id, so running it
twice leaves the indexer in the same state.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from marketred.integrations.directory import (
    DirectoryIndexerClient,
    IndexerRejected,
    IndexerUnavailable,
)
from marketred.schemas.directory import PUSH_ACTIVITY, PushProductInput, PushProductResult
from marketred.services.directory import indexer as directory_indexer


@dataclass
class IndexerActivities:
    sessions: async_sessionmaker[AsyncSession]
    indexer: DirectoryIndexerClient
    public_url: str

    @activity.defn(name=PUSH_ACTIVITY)
    async def push_product(self, params: PushProductInput) -> PushProductResult:
        async with self.sessions() as session:
            document = await directory_indexer.indexer_document(
                session, params.product_id, self.public_url
            )
        try:
            if document is None:
                response = await self.indexer.delete(params.product_id)
                action = "delete"
            else:
                response = await self.indexer.upsert(document)
                action = "upsert"
        except IndexerUnavailable as exc:
            # Retryable: the workflow's retry policy backs off and tries again.
            raise ApplicationError(str(exc), type="IndexerUnavailable") from exc
        except IndexerRejected as exc:
            raise ApplicationError(str(exc), type="IndexerRejected", non_retryable=True) from exc
        return PushProductResult(
            product_id=params.product_id, action=action, status_code=response.status_code
        )
