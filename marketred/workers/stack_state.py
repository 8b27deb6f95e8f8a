"""Where a running `marketred dev` says how to reach its embedded services.

`marketred dev` starts PostgreSQL and Temporal itself, so `DATABASE_URL` is set only in
its children. It writes `MARKETRED_HOME/stack.json` (its pid, the database URL, the
Temporal address) once they are up and removes it when it stops; an admin command run
in another terminal (`marketred vendor add ...`) reads it when the environment names no
database, so it works beside `make run` with no extra variables. A file left by a stack
that died is ignored: its pid is no longer running.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

STATE_FILE = "stack.json"


def write_state(home: Path, *, database_url: str, temporal_address: str | None) -> Path:
    path = home / STATE_FILE
    tmp = path.with_suffix(".tmp")
    # Only this user may read it: the URL reaches the database without a password.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(
            {
                "pid": os.getpid(),
                "database_url": database_url,
                "temporal_address": temporal_address,
            },
            out,
        )
    tmp.replace(path)
    return path


def remove_state(home: Path) -> None:
    path = home / STATE_FILE
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if state.get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_stack(home: Path) -> dict[str, Any] | None:
    """The state of the `marketred dev` running under `home`, or None."""
    try:
        state = json.loads((home / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("pid"), int):
        return None
    if not _alive(state["pid"]) or not state.get("database_url"):
        return None
    return state
