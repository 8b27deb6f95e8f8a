"""The restart-on-failure supervisor (`marketred dev`, prod-local, bench/faults.py): a
child killed with SIGKILL comes back and is reported; one that exits 0 stays down."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from marketred.workers.supervisor import Child, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def _until(sup: Supervisor, check, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while not check():
        assert time.monotonic() < deadline, what
        sup.tend()
        time.sleep(0.05)


def test_a_killed_child_is_restarted_with_a_line_saying_so(tmp_path: Path) -> None:
    events: list[str] = []
    sup = Supervisor(
        tmp_path / "logs", tmp_path / "state.json", first_backoff=0.1, on_event=events.append
    )
    child: Child = sup.start("worker", SLEEPER, dict(os.environ))
    try:
        first_pid = child.pid
        assert first_pid is not None
        os.kill(first_pid, signal.SIGKILL)
        _until(sup, lambda: child.restarts == 1 and child.alive(), "never restarted")
        assert child.pid != first_pid
        assert any("worker exited (killed by SIGKILL); restarting" in e for e in events), events
        assert any("worker restarted (restart 1)" in e for e in events), events
        state = (tmp_path / "state.json").read_text()
        assert '"restarts": 1' in state
    finally:
        sup.stop_all(default_grace=5)
    assert not child.alive()


def test_a_child_that_exits_cleanly_stays_down(tmp_path: Path) -> None:
    events: list[str] = []
    sup = Supervisor(
        tmp_path / "logs", tmp_path / "state.json", first_backoff=0.1, on_event=events.append
    )
    child = sup.start("once", [sys.executable, "-c", "pass"], dict(os.environ))
    _until(sup, lambda: child.state == "stopped", "never recorded as stopped")
    for _ in range(10):
        sup.tend()
        time.sleep(0.05)
    assert child.restarts == 0
    assert events == ["once stopped (exit 0)"]
