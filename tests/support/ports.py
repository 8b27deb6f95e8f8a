"""Free TCP ports for test servers (never the dev defaults)."""

from __future__ import annotations

import socket

DEV_PORTS = {8000, 7233, 8233, 8010, 8020, 8025}


def free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in DEV_PORTS:
            return port
