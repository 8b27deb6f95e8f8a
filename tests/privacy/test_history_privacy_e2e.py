"""Done-when of the privacy work, on the whole stack (`marketred dev` as subprocesses):

after a full quote lifecycle, the workflow history read straight from the Temporal server
(no codec) holds none of the buyer's email, name, phone or address; an operator reads
them through the codec endpoint (HTTP, and `temporal workflow show --codec-endpoint`);
once the buyer deletes the account, the codec cannot decrypt that buyer's payloads any
more, and the ledger still balances."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from sqlalchemy import text
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.history.v1 import History
from temporalio.client import Client, WorkflowExecutionStatus

from marketred.store.session import create_engine
from tests.support import journey
from tests.support.stack import RunningStack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.db]
TEMPORAL = str(Path(sys.executable).parent / "temporal")
TAG = uuid.uuid4().hex[:6]
BUYER = {
    "name": "Ana Pérez Rojas",
    "email": f"ana.rojas.{TAG}@correo.cl",
    "phone": "+56 9 8765 4321",
    "address": "Los Aromos 1234, Valdivia",
}
PASSWORD = "una clave larga de prueba"


@pytest.fixture(scope="module")
def database(new_database: Callable[[], str]) -> str:
    return new_database()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[RunningStack]:
    with running_stack(Path(tmp_path_factory.mktemp("stack")), database) as running:
        yield running


def _lifecycle(stack: RunningStack) -> tuple[str, str, str]:
    """A new buyer's quote, requested → paid through the Khipu sandbox → COMPLETED."""
    with (
        httpx.Client(base_url=stack.base_url, timeout=30) as api,
        httpx.Client(base_url=stack.khipu_url, timeout=30) as khipu,
    ):
        r = api.post(
            "/api/v1/auth/register",
            json={"email": BUYER["email"], "password": PASSWORD, "name": BUYER["name"]},
        )
        assert r.status_code == 201, r.text
        buyer_id = r.json()["id"]
        buyer = journey.login(api, BUYER["email"], PASSWORD)
        staff = journey.login(api, f"staff@{journey.SLUG}.cl")
        journey.fill_cart(api, buyer, journey.first_variant(api))
        r = api.post(
            "/api/v1/quotes",
            json={"vendor": journey.SLUG, "note": "Timbre dos veces", "contact": BUYER},
            headers=buyer,
        )
        assert r.status_code == 201, r.text
        qid, workflow_id = r.json()["id"], r.json()["workflow_id"]
        assert api.post(f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 3990},
                        headers=staff).status_code == 200  # fmt: skip
        # A refusal still reads: failure messages travel encrypted and come back decoded.
        again = api.post(f"/api/v1/quotes/{qid}/accept", json={"shipping_cost": 1},
                         headers=staff)  # fmt: skip
        assert again.status_code == 409, again.text
        assert "Encoded failure" not in again.text
        assert again.json()["detail"]
        assert api.post(f"/api/v1/quotes/{qid}/pay", headers=buyer).status_code == 200
        journey.pay_at_khipu(khipu, workflow_id)
        journey.wait_status(api, qid, "PAID", buyer)
        journey.ship_and_deliver(api, qid, staff, buyer, "T1")
    return buyer_id, workflow_id, qid


async def _raw_history(address: str, workflow_id: str) -> History:
    """Straight from the server: a client with no codec, the bytes Temporal stores."""
    client = await Client.connect(address)
    handle = client.get_workflow_handle(workflow_id)
    for _ in range(600):
        if (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED:
            break
        await asyncio.sleep(0.2)
    history = await handle.fetch_history()
    return History(events=history.events)


def _payloads(history: History) -> list[Payload]:
    """Every payload in the history (inputs, results, updates, summaries, details)."""
    found: list[Payload] = []

    def walk(message: object) -> None:
        if isinstance(message, Payload):
            found.append(message)
            return
        for field, value in message.ListFields():  # type: ignore[attr-defined]
            if field.message_type is None:
                continue
            if hasattr(value, "ListFields"):
                walk(value)
                continue
            for item in value.values() if hasattr(value, "values") else value:
                if hasattr(item, "ListFields"):
                    walk(item)

    walk(history)
    return found


def _personal(blob: bytes) -> list[str]:
    """Which of the buyer's values `blob` holds, as UTF-8 or JSON-escaped."""
    return [v for v in BUYER.values() if v.encode() in blob or json.dumps(v)[1:-1].encode() in blob]


def _cli_payload_bytes(node: object) -> bytes:
    """The payload data in `temporal workflow show --output json` (base64, or the JSON
    value itself when the CLI could render it)."""
    if isinstance(node, dict):
        if "data" in node and "metadata" in node and isinstance(node["data"], str):
            return base64.b64decode(node["data"])
        return b"".join(_cli_payload_bytes(v) for v in node.values())
    if isinstance(node, list):
        return b"".join(_cli_payload_bytes(v) for v in node)
    return json.dumps(node, ensure_ascii=False).encode() if isinstance(node, str) else b""


def _decode(api: httpx.Client, auth: dict[str, str], payloads: list[Payload]) -> list[Payload]:
    r = api.post(
        "/codec/decode",
        content=json_format.MessageToJson(Payloads(payloads=payloads)),
        headers={**auth, "Content-Type": "application/json", "X-Namespace": "default"},
    )
    assert r.status_code == 200, r.text
    return list(json_format.Parse(r.text, Payloads()).payloads)


def _written_by_sdk_core(p: Payload) -> bool:
    """Temporal's core SDK writes a few payloads itself, past the codec: a patch marker
    (`workflow.patched`) and the reason of an activity cancelled before it started.
    They hold names of ours, never a person's data."""
    data = json.loads(p.data)
    patch_marker = isinstance(data, dict) and set(data) == {"id", "deprecated"}
    return patch_marker or data == "ACTIVITY_ID_NOT_STARTED"


def test_histories_hold_no_personal_data_and_erasure_shreds_it(
    stack: RunningStack, database: str
) -> None:
    buyer_id, workflow_id, qid = _lifecycle(stack)
    history = asyncio.run(_raw_history(stack.temporal_address, workflow_id))

    raw = history.SerializeToString()
    assert _personal(raw) == []
    for fragment in (b"Rojas", b"Aromos", b"8765", f"rojas.{TAG}".encode(), b"Timbre"):
        assert fragment not in raw
    payloads = _payloads(history)
    assert payloads
    # Only search attributes stay readable (Temporal indexes them): ids and numbers.
    unsealed = [p for p in payloads if p.metadata["encoding"] != b"binary/encrypted"]
    assert all("type" in p.metadata or _written_by_sdk_core(p) for p in unsealed), unsealed
    key_ids = {p.metadata["encryption-key-id"].decode() for p in payloads}
    assert f"subject:{buyer_id}" in key_ids  # the buyer's own key
    assert len(key_ids) >= 2  # ... and the master key for the rest

    with httpx.Client(base_url=stack.base_url, timeout=30) as api:
        operator = journey.login(api, "operador@marketred.cl")
        staff = journey.login(api, f"staff@{journey.SLUG}.cl")
        assert api.post("/codec/decode", content="{}", headers=staff).status_code == 403
        decoded = _decode(api, operator, payloads)
        plain = b"".join(p.SerializeToString() for p in decoded)
        assert sorted(_personal(plain)) == sorted(BUYER.values())

        # What the Temporal UI lists (summary, details) names ids and numbers, even
        # decrypted: the buyer appears as their account id.
        started = history.events[0].user_metadata
        summary, details = _decode(api, operator, [started.summary, started.details])
        assert buyer_id.encode() in details.data
        assert _personal(summary.data + details.data) == []

        # The Temporal CLI, through the same endpoint.
        shown = subprocess.run(
            [TEMPORAL, "workflow", "show", "--address", stack.temporal_address,
             "--workflow-id", workflow_id, "--output", "json",
             "--codec-endpoint", f"{stack.base_url}/codec",
             "--codec-auth", operator["Authorization"]],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        cli_plain = _cli_payload_bytes(json.loads(shown))
        assert sorted(_personal(cli_plain)) == sorted(BUYER.values())

        buyer = journey.login(api, BUYER["email"], PASSWORD)
        r = api.post("/api/v1/me/erase", json={"password": PASSWORD}, headers=buyer)
        assert r.status_code == 200, r.text

        after = _decode(api, operator, payloads)
        still_sealed = [p for p in after if p.metadata.get("encoding") == b"binary/encrypted"]
        assert {p.metadata["encryption-key-id"] for p in still_sealed} == {
            f"subject:{buyer_id}".encode()
        }
        assert _personal(b"".join(p.SerializeToString() for p in after)) == []
        # The vendor still sees the sale, without the buyer.
        sale = api.get(f"/api/v1/quotes/{qid}", headers=staff).json()
        assert sale["status"] == "COMPLETED"
        assert sale["contact"]["phone"] is None

    assert asyncio.run(_ledger_imbalances(database)) == []


async def _ledger_imbalances(database_url: str) -> list[object]:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            entries = await conn.scalar(text("SELECT count(*) FROM ledger_entries"))
            assert entries, "the sale was posted to the ledger"
            rows = await conn.execute(
                text(
                    "SELECT txn_id, sum(amount) FROM ledger_entries "
                    "GROUP BY txn_id HAVING sum(amount) <> 0"
                )
            )
            return list(rows.all())
    finally:
        await engine.dispose()
