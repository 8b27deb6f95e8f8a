"""Free TCP ports for test servers (never the dev defaults).

Picked below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768–60999 by
default), not with bind(0): ports from bind(0) and outgoing connections live in that range,
and so do the ports a child such as the Temporal dev server picks for its own internal
services. A port chosen there but not yet bound by our server can be taken first (CI saw
"address already in use" on the Temporal UI port of a `marketred dev` under test). A port
is also never handed out twice in one test run.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

DEV_PORTS = {8000, 7233, 8233, 8010, 8020, 8025}
LOWEST = 20000
_given: set[int] = set()


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    highest = max(LOWEST + 1000, min(32000, _ephemeral_start() - 1))
    for _ in range(2000):
        port = random.randint(LOWEST, highest)
        if port in _given or port in DEV_PORTS or not _bindable(port):
            continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free TCP port between {LOWEST} and {highest}")


def free_port_block(count: int) -> int:
    """The first of `count` consecutive free ports (prod-local takes a block)."""
    highest = max(LOWEST + 1000, min(32000, _ephemeral_start() - 1)) - count
    for _ in range(2000):
        first = random.randint(LOWEST, highest)
        block = range(first, first + count)
        if any(p in _given or p in DEV_PORTS or not _bindable(p) for p in block):
            continue
        _given.update(block)
        return first
    raise RuntimeError(f"no {count} consecutive free TCP ports between {LOWEST} and {highest}")
