"""Persistent state of the simulator: payments, webhook deliveries and the API call log.

SQLite from the standard library, so `marketred dev` keeps payments across a restart of
the sandbox; `path=None` keeps everything in memory for tests. All calls come from one
event loop thread and are tiny, so plain synchronous sqlite3 is fine.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from marketred.sandbox.khipu.records import SandboxPayment

SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id TEXT UNIQUE NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id TEXT NOT NULL,
    url TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    copy INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    signature TEXT,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operation TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    outcome TEXT NOT NULL,
    at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Delivery:
    id: int
    payment_id: str
    url: str
    content_type: str
    body: bytes
    copy: int
    state: str  # pending, held, delivered, failed, dropped


def _now() -> str:
    return datetime.now(UTC).isoformat()


class SandboxStore:
    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        target = str(path) if path is not None else ":memory:"
        self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def reset(self) -> None:
        for table in ("payments", "deliveries", "attempts", "calls"):
            self._db.execute(f"DELETE FROM {table}")

    # payments
    def save(self, payment: SandboxPayment) -> None:
        self._db.execute(
            "INSERT INTO payments (payment_id, data) VALUES (?, ?) "
            "ON CONFLICT(payment_id) DO UPDATE SET data = excluded.data",
            (payment.payment_id, payment.model_dump_json()),
        )

    def get(self, payment_id: str) -> SandboxPayment | None:
        row = self._db.execute(
            "SELECT data FROM payments WHERE payment_id = ?", (payment_id,)
        ).fetchone()
        return SandboxPayment.model_validate_json(row["data"]) if row else None

    def all_payments(self) -> list[SandboxPayment]:
        rows = self._db.execute("SELECT data FROM payments ORDER BY seq").fetchall()
        return [SandboxPayment.model_validate_json(r["data"]) for r in rows]

    # deliveries
    def add_delivery(
        self, payment_id: str, url: str, content_type: str, body: bytes, copy: int, state: str
    ) -> Delivery:
        cur = self._db.execute(
            "INSERT INTO deliveries (payment_id, url, content_type, body, copy, state, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (payment_id, url, content_type, body, copy, state, _now()),
        )
        assert cur.lastrowid is not None
        return Delivery(cur.lastrowid, payment_id, url, content_type, body, copy, state)

    def set_delivery_state(self, delivery_id: int, state: str) -> None:
        self._db.execute("UPDATE deliveries SET state = ? WHERE id = ?", (state, delivery_id))

    def deliveries(self, state: str | None = None) -> list[Delivery]:
        sql = "SELECT * FROM deliveries"
        rows = (
            self._db.execute(sql + " WHERE state = ? ORDER BY id", (state,))
            if state
            else self._db.execute(sql + " ORDER BY id")
        ).fetchall()
        return [
            Delivery(
                r["id"],
                r["payment_id"],
                r["url"],
                r["content_type"],
                bytes(r["body"]),
                r["copy"],
                r["state"],
            )
            for r in rows
        ]

    def add_attempt(
        self,
        delivery_id: int,
        attempt: int,
        status_code: int | None,
        error: str | None,
        signature: str | None,
    ) -> None:
        self._db.execute(
            "INSERT INTO attempts (delivery_id, attempt, status_code, error, signature, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (delivery_id, attempt, status_code, error, signature, _now()),
        )

    def attempt_count(self, delivery_id: int) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) AS n FROM attempts WHERE delivery_id = ?", (delivery_id,)
        ).fetchone()
        return int(row["n"])

    def delivery_log(self) -> list[dict[str, Any]]:
        log = []
        for d in self.deliveries():
            attempts = self._db.execute(
                "SELECT attempt, status_code, error, signature, at FROM attempts"
                " WHERE delivery_id = ? ORDER BY id",
                (d.id,),
            ).fetchall()
            log.append(
                {
                    "id": d.id,
                    "payment_id": d.payment_id,
                    "url": d.url,
                    "copy": d.copy,
                    "state": d.state,
                    "body": d.body.decode(),
                    "attempts": [dict(a) for a in attempts],
                }
            )
        return log

    # API call log, so tests can see that a create was sent once and not retried
    def log_call(self, operation: str, method: str, path: str, outcome: str) -> None:
        self._db.execute(
            "INSERT INTO calls (operation, method, path, outcome, at) VALUES (?, ?, ?, ?, ?)",
            (operation, method, path, outcome, _now()),
        )

    def calls(self) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT operation, method, path, outcome, at FROM calls ORDER BY id"
        ).fetchall()
        return [dict(r) for r in rows]
