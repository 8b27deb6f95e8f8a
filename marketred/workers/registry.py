"""The workflows and activities this worker runs. Each area adds its own here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from marketred.workers.deps import WorkerDeps


def workflows() -> Sequence[type]:
    from marketred.workflows.indexer import IndexProductWorkflow
    from marketred.workflows.quote_lifecycle import QuoteWorkflow

    return [IndexProductWorkflow, QuoteWorkflow]


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
    from marketred.activities.notifications import NotificationActivities
    from marketred.activities.quotes import QuoteActivities

    quote_acts = QuoteActivities(deps.sessions)
    mail_acts = NotificationActivities(deps.sessions, deps.settings)
    return [
        indexer.push_product,
        quote_acts.project_quote,
        mail_acts.send_quote_notification,
    ]
