"""The `marketred` command line (README.md, "The two commands", "Production processes")."""

from __future__ import annotations

import asyncio
import sys
from typing import Any, NoReturn, cast

import typer

from marketred.schemas.accounts import Role
from marketred.settings import Settings, SettingsInvalid, load_settings

app = typer.Typer(help="MarketRed: quote-based marketplace.", no_args_is_help=True)
vendor_app = typer.Typer(help="Vendor administration.", no_args_is_help=True)
user_app = typer.Typer(help="User administration.", no_args_is_help=True)
sandbox_app = typer.Typer(help="Simulators of outside systems (dev and tests).")
payouts_app = typer.Typer(help="Vendor payouts.", no_args_is_help=True)
directory_app = typer.Typer(help="Directory (InforedChile) integration.", no_args_is_help=True)
codec_app = typer.Typer(help="Encryption of Temporal payloads.", no_args_is_help=True)
app.add_typer(vendor_app, name="vendor")
app.add_typer(user_app, name="user")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(payouts_app, name="payouts")
app.add_typer(directory_app, name="directory")
app.add_typer(codec_app, name="codec")


def _own_settings() -> Settings:
    """Settings from the environment alone (processes that start their own services)."""
    try:
        return load_settings()
    except SettingsInvalid as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _settings() -> Settings:
    """The process's settings; beside a running `marketred dev` (same MARKETRED_HOME) and
    with no database named, that stack's database and Temporal (workers/stack_state.py)."""
    from marketred.workers.stack_state import running_stack

    try:
        settings = load_settings()
        if settings.database_url:
            return settings
        state = running_stack(settings.home)
        if state is None:
            return settings
        overrides: dict[str, object] = {"database_url": state["database_url"]}
        if not settings.temporal_address and state.get("temporal_address"):
            overrides["temporal_address"] = state["temporal_address"]
        return settings.model_copy(update=overrides)
    except SettingsInvalid as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _db_url(settings: Settings) -> str:
    if not settings.database_url:
        typer.echo("DATABASE_URL is not set (marketred dev starts a database for you)", err=True)
        raise typer.Exit(2)
    return settings.database_url


@codec_app.command("new-key")
def codec_new_key(key_id: str = typer.Option(..., "--id", help="e.g. 2027-01")) -> None:
    """Print a new `id=key` entry for MARKETRED_CODEC_KEYS (put it first to rotate)."""
    from marketred.integrations.payload_codec import new_key_entry

    typer.echo(new_key_entry(key_id))


@app.command()
def dev() -> None:
    """Start the whole product on embedded defaults (what `make run` calls)."""
    from marketred.workers.dev_stack import run_dev_stack

    raise typer.Exit(run_dev_stack(_own_settings()))


def api_server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for `marketred api`. Forwarded headers (client address, https)
    are believed only from MARKETRED_FORWARDED_ALLOW_IPS: the proxy in front of us."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        # Our middleware logs each request by route template; uvicorn's would log paths
        # with secret tokens in them.
        "access_log": False,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "timeout_graceful_shutdown": 10,
    }


@app.command("prod-local")
def prod_local(
    base_port: int = typer.Option(
        8440, help="First of the 14 consecutive loopback ports prod-local uses"
    ),
) -> None:
    """The production shape on this machine (what `make prod-local` calls): Caddy with TLS
    in front of 2 APIs, 2 workers, Temporal behind mTLS, PostgreSQL; sandboxes outside."""
    from marketred.workers.prod_local import run_prod_local

    raise typer.Exit(run_prod_local(_own_settings(), base_port))


@app.command()
def api() -> None:
    """Run the API + web server (production process)."""
    import uvicorn

    from marketred.app import create_app

    settings = _settings()
    _db_url(settings)
    _check_temporal_files(settings)
    if settings.api_workers > 1:
        # Several processes need an import string; each builds its settings and pools.
        uvicorn.run(
            "marketred.app:create_app_from_environment",
            factory=True,
            workers=settings.api_workers,
            **api_server_options(settings),
        )
    else:
        uvicorn.run(create_app(settings), **api_server_options(settings))


def _check_temporal_files(settings: Settings) -> None:
    """Fail at start, not at the first request, when a Temporal TLS file is unreadable."""
    from marketred.integrations.temporal import TemporalSettingsError, tls_config

    try:
        tls_config(settings)
    except TemporalSettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from exc


@app.command()
def worker() -> None:
    """Run the Temporal worker (production process)."""
    from marketred.integrations.temporal import SearchAttributesRefused, TemporalSettingsError
    from marketred.logs import configure_logging
    from marketred.workers.worker import run_worker

    settings = _settings()
    _db_url(settings)
    configure_logging(settings)
    try:
        asyncio.run(run_worker(settings))
    except (SearchAttributesRefused, TemporalSettingsError) as exc:
        typer.echo(f"error: {exc}", err=True)
        _exit_after_temporal(3)
    # A clean stop exits 0 (supervisors read a non-zero exit as a crash to restart).
    _exit_after_temporal()


@app.command()
def migrate() -> None:
    """Apply database migrations (alembic upgrade head)."""
    from marketred.store.migrate import upgrade

    upgrade(_db_url(_settings()))
    typer.echo("database is at the latest migration")


async def _in_transaction(settings: Settings, work):  # type: ignore[no-untyped-def]
    from marketred.store.session import create_engine, create_session_factory, transaction

    engine = create_engine(_db_url(settings), pool_size=1)
    try:
        async with transaction(create_session_factory(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


def _command(settings: Settings, work):  # type: ignore[no-untyped-def]
    """Run an administration command's `work` in one transaction; one the domain refuses
    exits 1 with the reason."""
    from marketred.services.errors import DomainError

    try:
        return asyncio.run(_in_transaction(settings, work))
    except DomainError as exc:
        raise _fail(exc) from exc


@vendor_app.command("add")
def vendor_add(
    slug: str,
    name: str = typer.Option(..., help="Company name"),
    rut: str = typer.Option(..., help="RUT with check digit, e.g. 76.086.428-5"),
    email: str | None = typer.Option(None),
    commission_bps: int | None = typer.Option(None, help="Commission in basis points"),
) -> None:
    """Create a vendor."""
    from marketred.services.vendors import registry as vendors

    settings = _settings()

    async def work(session):  # type: ignore[no-untyped-def]
        return await vendors.create_vendor(
            session,
            name=name,
            rut=rut,
            slug=slug,
            email=email,
            commission_bps=settings.commission_bps if commission_bps is None else commission_bps,
        )

    vendor = _command(settings, work)
    typer.echo(f"vendor {vendor.slug} created ({vendor.id})")


@user_app.command("add")
def user_add(
    email: str,
    role: str = typer.Option(..., help="buyer, vendor or operator"),
    vendor: str | None = typer.Option(None, help="Vendor slug (vendor staff only)"),
    name: str = typer.Option(""),
) -> None:
    """Create a user; the password is read from standard input."""
    from marketred.services.accounts import users as accounts

    if role not in ("buyer", "vendor", "operator"):
        raise _fail(ValueError("role must be buyer, vendor or operator"))
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("Password: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    settings = _settings()

    async def work(session):  # type: ignore[no-untyped-def]
        return await accounts.create_user(
            session,
            email=email,
            password=password,
            role=cast(Role, role),  # checked above
            name=name,
            vendor_slug=vendor,
        )

    user = _command(settings, work)
    typer.echo(f"user {user.email} ({user.role}) created")


@app.command("seed-demo")
def seed_demo() -> None:
    """Load the demo vendors, catalogs and accounts (does nothing if vendors exist)."""
    from marketred.services.operations import demo

    settings = _settings()

    async def work(session):  # type: ignore[no-untyped-def]
        return await demo.seed(session, settings.commission_bps)

    created = asyncio.run(_in_transaction(settings, work))
    typer.echo("demo data loaded" if created else "vendors already exist; nothing changed")


def _exit_after_temporal(code: int = 0) -> NoReturn:
    """Leave without interpreter finalization: the Temporal client's core threads may
    call into Python while it shuts down and abort the process (exit -6) after the work
    is done. Everything is flushed first; there is nothing else to clean up."""
    import os

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@payouts_app.command("run")
def payouts_run() -> None:
    """Create the payouts owed now (one per vendor, waiting for approval)."""
    from marketred.integrations import temporal
    from marketred.schemas.money import format_clp
    from marketred.schemas.payouts import PayoutRunResult
    from marketred.services.payouts.commands import run_payouts

    settings = _settings()

    async def work() -> PayoutRunResult:
        client = await temporal.connect(settings)
        return await run_payouts(client, settings)

    result = asyncio.run(work())
    if not result.payouts:
        typer.echo(f"no payouts created: nothing is owed ({result.workflow_id})")
    else:
        typer.echo(f"{len(result.payouts)} payout(s) created by {result.workflow_id}:")
    for p in result.payouts:
        typer.echo(
            f"  {p.payout_id}  {p.vendor_slug}  {p.items} item(s)  gross {format_clp(p.gross)}"
            f"  commission {format_clp(p.commission)}  net {format_clp(p.net)}  {p.status}"
        )
    _exit_after_temporal()


def _payout_command(payout_id: str, decide) -> None:  # type: ignore[no-untyped-def]
    """Run one operator decision on a payout through its workflow and print the result."""
    import uuid

    from marketred.integrations import temporal
    from marketred.services.errors import DomainError

    settings = _settings()

    async def work(session):  # type: ignore[no-untyped-def]
        client = await temporal.connect(settings)
        return await decide(client, session, uuid.UUID(payout_id))

    try:
        result = asyncio.run(_in_transaction(settings, work))
    except (DomainError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        _exit_after_temporal(1)
    typer.echo(f"payout {result.payout_id} {result.status}")
    _exit_after_temporal()


@payouts_app.command("approve")
def payouts_approve(payout_id: str) -> None:
    """Approve a pending payout: it is transferred (or put in its run's bank file)."""
    from marketred.services.payouts import commands as payout_commands

    _payout_command(payout_id, lambda c, s, p: payout_commands.approve_payout(c, s, p, None))


@payouts_app.command("reject")
def payouts_reject(payout_id: str, reason: str = typer.Option(..., help="Why")) -> None:
    """Reject a pending payout; its quotes go back to the next run."""
    from marketred.services.payouts import commands as payout_commands

    _payout_command(payout_id, lambda c, s, p: payout_commands.reject_payout(c, s, p, reason, None))


@payouts_app.command("confirm")
def payouts_confirm(
    payout_id: str, reference: str = typer.Option(..., help="The bank's reference")
) -> None:
    """The bank executed a submitted or held payout's transfer: mark it PAID."""
    from marketred.services.payouts import commands as payout_commands

    _payout_command(
        payout_id,
        lambda c, s, p: payout_commands.confirm_transfer(c, s, p, reference, None),
    )


@payouts_app.command("release")
def payouts_release(payout_id: str, reason: str = typer.Option(..., help="Why")) -> None:
    """A submitted or held payout's transfer was not executed: FAILED, quotes released."""
    from marketred.services.payouts import commands as payout_commands

    _payout_command(
        payout_id,
        lambda c, s, p: payout_commands.release_transfer(c, s, p, reason, None),
    )


def _serve_sandbox(app: Any, port: int) -> None:
    """Serve a simulator on localhost, logging only warnings."""
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


@sandbox_app.command("khipu")
def sandbox_khipu() -> None:
    """Run the Khipu v3 simulator."""
    from marketred.sandbox.khipu.app import create_app_from_settings

    settings = _settings()
    _serve_sandbox(create_app_from_settings(settings), settings.khipu_sandbox_port)


@sandbox_app.command("directory")
def sandbox_directory() -> None:
    """Run the InforedChile directory simulator (site, indexer, OpenID provider)."""
    from marketred.sandbox.directory.app import create_app_from_settings

    settings = _settings()
    _serve_sandbox(create_app_from_settings(settings), settings.directory_sandbox_port)


@directory_app.command("reindex")
def directory_reindex() -> None:
    """Push every product's current state to the directory's indexer (through Temporal)."""
    from marketred.integrations import temporal
    from marketred.services.directory import indexer as directory_indexer

    settings = _settings()

    async def run() -> int:
        ids = await _in_transaction(settings, directory_indexer.all_product_ids)
        client = await temporal.connect(settings)
        return await directory_indexer.products_changed(
            client, ids, task_queue=settings.temporal_task_queue
        )

    typer.echo(f"{asyncio.run(run())} products queued for the directory indexer")


@sandbox_app.command("mail")
def sandbox_mail() -> None:
    """Run the SMTP mail catcher (messages listed at /dev/mail)."""
    import signal
    import threading

    from marketred.sandbox.mailcatcher import start_catcher

    settings = _settings()
    controller = start_catcher(settings.home / "mail", "127.0.0.1", settings.mailcatcher_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    app()
