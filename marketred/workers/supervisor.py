"""A small process supervisor with a restart policy, for `marketred prod-local`,
`marketred dev` and the fault harness (bench/faults.py).

Why not a Procfile runner (honcho, foreman): they stop every process as soon as one
exits. The production shape is the opposite — one API or worker replica going away must
leave the others serving — so the supervisor keeps the rest running and applies the
policy compose calls `restart: on-failure`: a child that exits with an error or is
killed by a signal is started again after a back-off (1 s, doubling to 30 s, reset after
a minute of running); a child that was told to stop — it exits 0, or dies of the SIGTERM
it was sent (uvicorn re-raises SIGTERM after its graceful shutdown) — is recorded as
stopped and stays down, as after a rollout.

Every change is written to a JSON state file (pids, states, restart counts, ports), so
an operator or a test can see and stop individual replicas; `on_event` gets one line per
exit and restart (`marketred dev` prints them).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

State = Literal["running", "stopped", "restarting"]
_FIRST_BACKOFF = 1.0
_MAX_BACKOFF = 30.0
_HEALTHY_AFTER = 60.0


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    info: dict[str, Any] = field(default_factory=dict)
    user: str | None = None  # run as this system user (embedded PostgreSQL under root)
    proc: subprocess.Popen[bytes] | None = None
    state: State = "running"
    restarts: int = 0
    exit_code: int | None = None  # of the last exit (kept across a restart)
    started_at: float = 0.0
    backoff: float = _FIRST_BACKOFF
    restart_at: float = 0.0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def last_line(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return f"see {self.log_path}"
        return f"{lines[-1][:300]} (see {self.log_path})" if lines else f"see {self.log_path}"


class Supervisor:
    def __init__(
        self,
        log_dir: Path,
        state_path: Path,
        *,
        first_backoff: float = _FIRST_BACKOFF,
        max_backoff: float = _MAX_BACKOFF,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.log_dir = log_dir
        self.state_path = state_path
        self.children: list[Child] = []
        self.extra: dict[str, Any] = {}
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.on_event = on_event or _ignore
        log_dir.mkdir(parents=True, exist_ok=True)

    def _spawn(self, child: Child) -> None:
        log = child.log_path.open("ab")
        try:
            child.proc = subprocess.Popen(
                child.args,
                env=child.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                user=child.user,
                # Own process group: a terminal Ctrl-C reaches only the supervisor, which
                # stops children in order.
                start_new_session=True,
            )
        finally:
            log.close()
        child.state = "running"
        child.started_at = time.monotonic()

    def start(
        self,
        name: str,
        args: list[str],
        env: dict[str, str],
        *,
        user: str | None = None,
        **info: Any,
    ) -> Child:
        child = Child(name, args, env, self.log_dir / f"{name}.log", info=info, user=user)
        child.backoff = self.first_backoff
        self._spawn(child)
        self.children.append(child)
        self.write_state()
        return child

    def run_once(self, name: str, args: list[str], env: dict[str, str], timeout: float) -> None:
        """A one-shot step (migration, setup): must exit 0 within `timeout` seconds."""
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            try:
                code = subprocess.run(
                    args, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout
                ).returncode
            except subprocess.TimeoutExpired as exc:
                raise RuntimeError(f"{name} did not finish in {timeout:.0f}s") from exc
        if code != 0:
            lines = log_path.read_text(errors="replace").strip().splitlines()
            tail = lines[-1][:300] if lines else ""
            raise RuntimeError(f"{name} failed (exit {code}): {tail} (see {log_path})")

    def get(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def tend(self) -> None:
        """Apply the restart policy once; call it every fraction of a second."""
        now = time.monotonic()
        changed = False
        for child in self.children:
            if child.state == "running" and child.proc is not None:
                code = child.proc.poll()
                if code is None:
                    if now - child.started_at > _HEALTHY_AFTER:
                        child.backoff = self.first_backoff
                    continue
                child.exit_code = code
                changed = True
                if code in (0, -signal.SIGTERM):
                    child.state = "stopped"
                    self.on_event(f"{child.name} stopped (exit {code})")
                else:
                    child.state = "restarting"
                    child.restart_at = now + child.backoff
                    self.on_event(
                        f"{child.name} exited ({_describe(code)}); restarting in "
                        f"{child.backoff:g} s — {child.last_line()}"
                    )
                    child.backoff = min(child.backoff * 2, self.max_backoff)
            elif child.state == "restarting" and now >= child.restart_at:
                child.restarts += 1
                self._spawn(child)
                self.on_event(f"{child.name} restarted (restart {child.restarts})")
                changed = True
        if changed:
            self.write_state()

    def stop_all(self, grace: dict[str, float] | None = None, default_grace: float = 10) -> None:
        """SIGTERM each child, newest first, and wait its grace period before SIGKILL."""
        for child in reversed(self.children):
            child.state = "stopped"
            if not child.alive() or child.proc is None:
                continue
            child.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + (grace or {}).get(child.name, default_grace)
            while child.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if child.proc.poll() is None:
                os.killpg(child.proc.pid, signal.SIGKILL)
                child.proc.wait()
            child.exit_code = child.proc.returncode
        self.write_state()

    def write_state(self) -> None:
        state = {
            **self.extra,
            "supervisor_pid": os.getpid(),
            "children": {
                c.name: {
                    "pid": c.pid,
                    "state": c.state,
                    "restarts": c.restarts,
                    "exit_code": c.exit_code,
                    "log": str(c.log_path),
                    **c.info,
                }
                for c in self.children
            },
        }
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        os.replace(tmp, self.state_path)  # a reader never sees half a file


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit {code}"


def _ignore(line: str) -> None:
    del line
