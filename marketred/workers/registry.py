"""The workflows and activities this worker runs. Each area adds its own here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from marketred.workers.deps import WorkerDeps


def workflows() -> Sequence[type]:
    return []


def activities(deps: WorkerDeps) -> Sequence[Callable[..., Any]]:
    del deps
    return []
