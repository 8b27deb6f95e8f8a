"""Worker Deployment Versioning (opt-in: MARKETRED_TEMPORAL_WORKER_VERSIONING=1).

A versioned worker polls as deployment `temporal_deployment_name`, build id = the package
version. Every workflow type is auto-upgrade, as the deployment's default (naming a
behavior on a `@workflow.defn` would break unversioned workers): a quote lives for weeks,
so running quotes move to the new build and `workflow.patched` keeps them deterministic
(docs/quotes.md). A new
build takes new workflows once it is made current (`make_current`, or
`temporal worker deployment set-current-version`), after its workers poll.
"""

from __future__ import annotations

import asyncio
from importlib.metadata import version

from temporalio.api.workflowservice.v1 import SetWorkerDeploymentCurrentVersionRequest
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import WorkerDeploymentConfig

from marketred.settings import Settings


def build_id() -> str:
    return version("marketred")


def deployment_config(settings: Settings) -> WorkerDeploymentConfig | None:
    if not settings.temporal_worker_versioning:
        return None
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(
            deployment_name=settings.temporal_deployment_name, build_id=build_id()
        ),
        use_worker_versioning=True,
        default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE,
    )


async def make_current(client: Client, settings: Settings, *, wait: float = 60.0) -> None:
    """Route new (and auto-upgrade) workflows to this build. The server knows the
    version only once its workers poll: wait up to `wait` seconds for that."""
    request = SetWorkerDeploymentCurrentVersionRequest(
        namespace=client.namespace,
        deployment_name=settings.temporal_deployment_name,
        build_id=build_id(),
        identity="marketred",
    )
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            await client.workflow_service.set_worker_deployment_current_version(request)
            return
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            if asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.5)
