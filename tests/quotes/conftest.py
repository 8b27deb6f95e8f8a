"""Quote test fixtures: the shared time-skipping server with our search attributes."""

from __future__ import annotations

import pytest
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from marketred.integrations.temporal import search_attribute_types


@pytest.fixture(scope="session")
async def quote_env(time_skipping_env: WorkflowEnvironment) -> WorkflowEnvironment:
    # The test server cannot list attributes, but it can add them (once per session).
    try:
        await time_skipping_env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=time_skipping_env.client.namespace,
                search_attributes=search_attribute_types(),
            )
        )
    except RPCError as exc:
        if "already" not in str(exc).lower():
            raise
    return time_skipping_env
