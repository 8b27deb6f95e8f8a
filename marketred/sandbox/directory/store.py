"""State of the directory sandbox in one small SQLite file (or in memory for tests):
companies, what our indexer pushes delivered, and the OpenID provider's signing key.
Calls are tiny and come from one event loop, so plain sqlite3 is enough."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS companies (
    directory_id TEXT PRIMARY KEY,
    slug TEXT,
    data TEXT NOT NULL,
    last_sync TEXT
);
CREATE TABLE IF NOT EXISTS indexed_products (
    product_id TEXT PRIMARY KEY,
    doc TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS indexer_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    method TEXT NOT NULL,
    product_id TEXT NOT NULL,
    name TEXT,
    status INTEGER NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Company:
    directory_id: str
    slug: str | None
    data: dict[str, Any]
    last_sync: str | None


@dataclass(frozen=True)
class IndexerLogEntry:
    seq: int
    method: str
    product_id: str
    name: str | None
    status: int
    at: str


class DirectoryStore:
    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    # companies ---------------------------------------------------------------------
    def seed_company(self, directory_id: str, slug: str | None, data: dict[str, Any]) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO companies(directory_id, slug, data) VALUES (?, ?, ?)",
                (directory_id, slug, json.dumps(data)),
            )

    def save_company(
        self, directory_id: str, data: dict[str, Any], *, slug: str | None, last_sync: str
    ) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO companies(directory_id, slug, data, last_sync) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(directory_id) DO UPDATE SET data=excluded.data,"
                " slug=COALESCE(excluded.slug, companies.slug), last_sync=excluded.last_sync",
                (directory_id, slug, json.dumps(data), last_sync),
            )

    def company(self, directory_id: str) -> Company | None:
        row = self._db.execute(
            "SELECT directory_id, slug, data, last_sync FROM companies WHERE directory_id = ?",
            (directory_id,),
        ).fetchone()
        return Company(row[0], row[1], json.loads(row[2]), row[3]) if row else None

    def companies(self) -> list[Company]:
        rows = self._db.execute(
            "SELECT directory_id, slug, data, last_sync FROM companies ORDER BY directory_id"
        ).fetchall()
        return [Company(r[0], r[1], json.loads(r[2]), r[3]) for r in rows]

    # indexer -----------------------------------------------------------------------
    def index_upsert(self, product_id: str, doc: dict[str, Any]) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO indexed_products(product_id, doc, received_at) VALUES (?, ?, ?)"
                " ON CONFLICT(product_id) DO UPDATE SET doc=excluded.doc,"
                " received_at=excluded.received_at",
                (product_id, json.dumps(doc), now_iso()),
            )

    def index_delete(self, product_id: str) -> bool:
        with self._db:
            cur = self._db.execute(
                "DELETE FROM indexed_products WHERE product_id = ?", (product_id,)
            )
        return cur.rowcount > 0

    def indexed(self) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT doc, received_at FROM indexed_products ORDER BY received_at DESC"
        ).fetchall()
        return [{**json.loads(doc), "received_at": at} for doc, at in rows]

    def log_push(self, method: str, product_id: str, name: str | None, status: int) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO indexer_log(method, product_id, name, status, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (method, product_id, name, status, now_iso()),
            )

    def push_log(self, limit: int = 500) -> list[IndexerLogEntry]:
        rows = self._db.execute(
            "SELECT seq, method, product_id, name, status, at FROM indexer_log"
            " ORDER BY seq DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [IndexerLogEntry(*r) for r in rows]

    # key/value (OIDC signing key) ----------------------------------------------------
    def get_setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def put_setting(self, key: str, value: str) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", (key, value)
            )
