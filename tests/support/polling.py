"""The one way a test waits for something that happens on its own (a workflow moving, a
webhook arriving, a worker picking a task up): poll, with a deadline and the last value
in the failure. `eventually` in async tests, `wait_for` in synchronous ones (e2e tests
driving a running product from outside)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any


async def eventually(
    probe: Callable[[], Any],
    until: Callable[[Any], bool] | None = None,
    *,
    timeout: float = 5.0,
    interval: float = 0.02,
) -> Any:
    """Call `probe()` (sync or async) until `until(value)` holds — or, without `until`,
    until the value is truthy — and return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if until(value) if until is not None else value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(_not_met(timeout, value))
        await asyncio.sleep(interval)


def wait_for(
    probe: Callable[[], Any],
    until: Callable[[Any], bool] | None = None,
    *,
    timeout: float = 5.0,
    interval: float = 0.2,
) -> Any:
    """`eventually` for synchronous tests: call `probe()` until `until(value)` holds (or,
    without `until`, the value is truthy) and return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if until(value) if until is not None else value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(_not_met(timeout, value))
        time.sleep(interval)


def _not_met(timeout: float, value: Any) -> str:
    shown = repr(value)
    shown = shown if len(shown) <= 400 else shown[:400] + "…"
    return f"condition not met within {timeout}s; last value: {shown}"
