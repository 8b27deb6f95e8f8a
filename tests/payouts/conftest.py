"""Payout fixtures: a mail catcher per module and `payout_stack`, the ledger and payout
workflows on a worker of their own (tests/support/payouts.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from marketred.settings import Settings
from tests.support.payouts import PayoutStack, http_api, payout_worker
from tests.support.servers import catching_mail


@pytest.fixture(scope="module")
def mail_catcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    folder = tmp_path_factory.mktemp("mail")
    with catching_mail(folder) as port:
        yield folder, port


@pytest.fixture
def payout_overrides() -> dict[str, object]:
    """Settings the stack's worker runs with; a module overrides this fixture (e.g.
    `{"payout_provider": "bank_file"}`)."""
    return {}


@pytest.fixture
async def payout_stack(
    dev_server_env: WorkflowEnvironment,
    settings: Settings,
    engine: AsyncEngine,
    mail_catcher: tuple[Path, int],
    tmp_path: Path,
    payout_overrides: dict[str, object],
) -> AsyncIterator[PayoutStack]:
    folder, port = mail_catcher
    # The dev server, not the time-skipping one: payouts have no timers to skip, and the
    # time-skipping server intermittently loses updates ("update ... not found").
    async with payout_worker(
        dev_server_env.client, settings, engine, port, tmp_path, **payout_overrides
    ) as stack:
        stack.mail_folder = folder
        yield stack


@pytest.fixture
async def payout_api(
    payout_stack: PayoutStack, engine: AsyncEngine
) -> AsyncIterator[tuple[httpx.AsyncClient, PayoutStack]]:
    """The API and pages over ASGI beside `payout_stack`."""
    async with http_api(payout_stack, engine) as http:
        yield http, payout_stack
