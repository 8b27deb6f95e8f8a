"""`marketred dev`: the whole product on embedded defaults, in one terminal.

Starts PostgreSQL (embedded) and the Temporal dev server unless DATABASE_URL /
MARKETRED_TEMPORAL_ADDRESS say otherwise, migrates, registers search attributes, loads
demo data on first start, then runs the sandboxes, the mail catcher, the worker and the
API as child processes under the restart-on-failure supervisor that prod-local uses
(`supervisor.py`): a child that crashes — a worker killed, PostgreSQL or the Temporal
dev server gone — is started again with back-off on the same data, with a log line, and
the product keeps going. Ctrl-C or SIGTERM stops every one of them; state stays under
MARKETRED_HOME so the next start finds it.
"""

from __future__ import annotations

import asyncio
import os
import time
from importlib.util import find_spec
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from marketred.integrations.payload_codec import new_key_entry
from marketred.settings import Settings
from marketred.workers import local_stack
from marketred.workers.local_stack import TEMPORAL_HINT, find_binary, marketred_command
from marketred.workers.stack_state import remove_state, write_state
from marketred.workers.supervisor import Child, Supervisor

console = Console()
# Children get this long after SIGTERM (the worker lets running activities finish).
STOP_GRACE_S = 25


def _wait_http(
    url: str, timeout: float, child: Child | None = None, *, need_200: bool = False
) -> None:
    """Wait until `url` answers (below 500, or exactly 200 for a readiness probe); a slow
    or refused answer on a loaded machine is retried, a child that exits is reported."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if child is not None and not child.alive():
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
        if child is not None and not child.alive():
            raise RuntimeError(f"the Temporal dev server exited: {child.last_line()}")
        try:
            client = await temporal.connect(settings)
            await temporal.register_search_attributes(client, settings.temporal_namespace)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _seed(settings: Settings) -> bool:
    from marketred.services.operations import demo
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


def _process_table(sup: Supervisor, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("process")
    table.add_column("pid")
    table.add_column("state")
    table.add_column("restarts")
    for child in sup.children:
        table.add_row(child.name, str(child.pid or ""), child.state, str(child.restarts))
    return table


def _print_summary(settings: Settings, seeded: bool, sup: Supervisor) -> None:
    from marketred.services.operations.demo import DEMO_PASSWORD, demo_accounts

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
    console.print(_process_table(sup, "Processes (a crashed one is restarted)"))
    if seeded:
        console.print("[green]Demo data loaded (first start).[/green]")
    console.print("Press Ctrl-C to stop everything.")


def dev_codec_keys(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    entry = new_key_entry("dev-1")
    path.touch(mode=0o600)
    path.write_text(entry + "\n")
    return entry


def run_dev_stack(settings: Settings) -> int:
    settings.home.mkdir(parents=True, exist_ok=True)
    home = settings.home.resolve()
    sup = Supervisor(
        home / "logs",
        home / "dev-state.json",
        on_event=lambda line: console.log(f"[yellow]{line}[/yellow]"),
    )
    env = {**os.environ, "MARKETRED_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    # The payload codec's key, made once per home: the histories in temporal.sqlite must
    # stay readable across restarts (an explicit MARKETRED_CODEC_KEYS wins).
    env.setdefault("MARKETRED_CODEC_KEYS", dev_codec_keys(home / "codec-keys"))
    # "Ingresar con InforedChile" against the directory sandbox's OpenID provider.
    if not settings.oidc_issuer:
        from marketred.settings import DEV_OIDC_CLIENT_SECRET

        env.setdefault(
            "MARKETRED_OIDC_ISSUER", f"http://127.0.0.1:{settings.directory_sandbox_port}"
        )
        env.setdefault("MARKETRED_OIDC_CLIENT_ID", "marketred")
        env.setdefault("MARKETRED_OIDC_CLIENT_SECRET", DEV_OIDC_CLIENT_SECRET)

    def stop() -> None:
        sup.stop_all(default_grace=STOP_GRACE_S)
        if sup.children:
            console.print(_process_table(sup, "Stopped"))
        remove_state(home)
        console.print("Stopped. Data kept in " + str(home))

    return local_stack.serve_in_foreground(
        sup, lambda: _start(settings, home, sup, env), stop, console=console, name="MarketRed"
    )


def _start(settings: Settings, home: Path, sup: Supervisor, env: dict[str, str]) -> None:
    """Everything up, in order; a step that fails raises (the caller stops the rest)."""
    with console.status("Starting MarketRed…") as status:
        if not settings.database_url:
            status.update("Starting embedded PostgreSQL…")
            env["DATABASE_URL"] = local_stack.supervised_postgres(sup, home / "pgdata", env)
            console.log(f"PostgreSQL ready (embedded, data in {home / 'pgdata'})")
        else:
            console.log("PostgreSQL: using DATABASE_URL")
        temporal_child = None
        if not settings.temporal_address:
            status.update("Starting the Temporal dev server…")
            temporal_child = sup.start(
                "temporal",
                local_stack.temporal_dev_server(
                    find_binary("temporal", TEMPORAL_HINT),
                    home / "temporal.sqlite",
                    settings.temporal_dev_port,
                    settings.temporal_ui_port,
                    settings.temporal_namespace,
                    # Operators signed in to MarketRed see decrypted payloads.
                    "--ui-codec-endpoint",
                    f"http://{settings.host}:{settings.port}/codec",
                ),
                env,
            )
            env["MARKETRED_TEMPORAL_ADDRESS"] = f"127.0.0.1:{settings.temporal_dev_port}"
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=env["DATABASE_URL"] if "DATABASE_URL" in env else settings.database_url,
            temporal_address=env.get("MARKETRED_TEMPORAL_ADDRESS", settings.temporal_address),
            home=home,
            codec_keys=env["MARKETRED_CODEC_KEYS"],
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
        sup.start("mail", marketred_command("sandbox", "mail"), env)
        khipu = sup.start("khipu-sandbox", marketred_command("sandbox", "khipu"), env)
        directory = None
        if find_spec("marketred.sandbox.directory") is not None:
            directory = sup.start(
                "directory-sandbox", marketred_command("sandbox", "directory"), env
            )
        sup.start("worker", marketred_command("worker"), env)
        api = sup.start("api", marketred_command("api"), env)
        _wait_http(f"http://127.0.0.1:{settings.khipu_sandbox_port}/v3/banks", 30, khipu)
        if directory is not None:
            _wait_http(f"http://127.0.0.1:{settings.directory_sandbox_port}/", 30, directory)
        status.update("Waiting for /readyz…")
        _wait_http(f"http://{settings.host}:{settings.port}/healthz", 60, api)
        _wait_http(f"http://{settings.host}:{settings.port}/readyz", 60, api, need_200=True)
        if seeded and settings.demo_quotes:
            status.update("Making demo quotes through the API…")
            _demo_quotes(settings)
    _print_summary(settings, seeded, sup)
