"""Caddy (Debian package `caddy`, installed by .ci/run) as a real TLS / mTLS proxy in
tests. A missing binary is a failure, not a skip."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class RunningCaddy:
    proc: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def caddy_binary() -> str:
    found = shutil.which("caddy")
    assert found, "caddy is not installed: apt-get install caddy (.ci/run installs it)"
    return found


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_caddy(folder: Path, caddyfile: str, ports: list[int]) -> RunningCaddy:
    """Run Caddy with `caddyfile` (its own storage under `folder`) until every port listens."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "Caddyfile"
    config.write_text(caddyfile)
    log_path = folder / "caddy.log"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(folder),
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CONFIG_HOME": str(folder / "config"),
    }
    proc = subprocess.Popen(
        [caddy_binary(), "run", "--config", str(config), "--adapter", "caddyfile"],
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    running = RunningCaddy(proc, log_path)
    deadline = time.monotonic() + 30
    while not all(_listening(p) for p in ports):
        if proc.poll() is not None or time.monotonic() > deadline:
            running.stop()
            raise RuntimeError(f"caddy did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.1)
    return running
