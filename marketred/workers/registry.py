"""The workflows and activities this worker runs. Each area adds its own here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from marketred.workers.deps import WorkerDeps


def workflows() -> Sequence[type]:
    from marketred.workflows.indexer import IndexProductWorkflow

    return [IndexProductWorkflow]


def activities(deps: WorkerDeps) -> Sequence[Callable[..., Any]]:
    from marketred.activities.indexer import IndexerActivities
    from marketred.integrations.directory import DirectoryIndexerClient

    indexer = IndexerActivities(
        sessions=deps.sessions,
        indexer=DirectoryIndexerClient(
            deps.http, deps.settings.directory_indexer_url, deps.settings.directory_secret
        ),
        public_url=deps.settings.public_url,
    )
    return [indexer.push_product]
