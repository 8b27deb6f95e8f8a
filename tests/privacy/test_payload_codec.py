"""The payload codec: AES-256-GCM with the key id in the metadata, rotation, per-buyer
keys that can be shredded, and untouched passage of payloads recorded before encryption."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from marketred.integrations.payload_codec import (
    ENCODING,
    KEY_ID,
    CodecKeyError,
    EncryptionCodec,
    SubjectKeys,
    data_converter,
    new_key_entry,
)
from marketred.schemas.payments import CreatePaymentInput
from marketred.settings import Settings
from marketred.store.repositories import data_keys
from marketred.workflows.quote_workflow import QuoteWorkflow
from tests.support.factories import make_user
from tests.support.outages import FlakySessions
from tests.support.production import PRODUCTION

HISTORIES = Path(__file__).resolve().parents[1] / "histories"


def _ring(*ids: str) -> dict[str, bytes]:
    entries = ",".join(new_key_entry(i) for i in ids)
    return Settings(env="test", codec_keys=entries).codec_key_ring()


def _codec(ring: dict[str, bytes], sessions=None) -> EncryptionCodec:  # type: ignore[no-untyped-def]
    return EncryptionCodec(ring, SubjectKeys(ring, sessions))


def _payment(buyer_id: uuid.UUID | None) -> CreatePaymentInput:
    return CreatePaymentInput(
        quote_id=uuid.uuid4(),
        workflow_id="quote-x",
        quote_number="Q-000001",
        vendor_name="Café Altiplano",
        amount=12000,
        expires_at="2026-12-01T00:00:00Z",  # type: ignore[arg-type]
        payer_email="ana.perez@example.cl",
        buyer_id=buyer_id,
    )


async def test_payloads_leave_encrypted_under_the_current_key_and_come_back() -> None:
    ring = _ring("k2", "k1")
    converter = data_converter(_codec(ring))
    [payload] = await converter.encode([_payment(None)])
    assert payload.metadata["encoding"] == ENCODING
    assert payload.metadata[KEY_ID] == b"k2"
    assert b"ana.perez" not in payload.SerializeToString()
    [back] = await converter.decode([payload], [CreatePaymentInput])
    assert back.payer_email == "ana.perez@example.cl"


async def test_rotation_old_key_still_decrypts_new_payloads_use_the_new_key() -> None:
    old = _ring("k1")
    [sealed] = await data_converter(_codec(old)).encode(["hola"])
    rotated = {"k2": _ring("k2")["k2"], **old}
    converter = data_converter(_codec(rotated))
    assert await converter.decode([sealed], [str]) == ["hola"]
    [fresh] = await converter.encode(["hola"])
    assert fresh.metadata[KEY_ID] == b"k2"
    with pytest.raises(CodecKeyError):  # a ring that dropped k1 can no longer read it
        await _codec(_ring("k2")).decode([sealed])


async def test_tampered_or_relabelled_payloads_are_refused() -> None:
    ring = _ring("a", "b")
    [sealed] = await _codec(ring).encode([Payload(metadata={"encoding": b"json/plain"}, data=b"1")])
    flipped = Payload()
    flipped.CopyFrom(sealed)
    flipped.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    relabelled = Payload()
    relabelled.CopyFrom(sealed)
    relabelled.metadata[KEY_ID] = b"b"
    for bad in (flipped, relabelled):
        with pytest.raises(CodecKeyError):
            await _codec(ring).decode([bad])


async def test_payloads_without_our_encoding_pass_through() -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"a": 1}')
    assert await _codec(_ring("k")).decode([plain]) == [plain]


class InMemorySubjectKeys(SubjectKeys):
    """Buyers' keys without a database (the recorded histories' buyers have no rows)."""

    def __init__(self, ring: dict[str, bytes]) -> None:
        super().__init__(ring, None)
        self.keys: dict[uuid.UUID, bytes] = {}

    async def key_for_encrypt(self, subject: uuid.UUID) -> bytes:
        return self.keys.setdefault(subject, os.urandom(32))

    async def key_for_decrypt(self, subject: uuid.UUID) -> bytes:
        return self.keys[subject]


@pytest.mark.parametrize(
    "path", sorted(HISTORIES.rglob("quote_*.json")), ids=lambda p: f"{p.parent.name}/{p.stem}"
)
async def test_histories_recorded_before_encryption_still_replay(path: Path) -> None:
    ring = _ring("k")
    codec = EncryptionCodec(ring, InMemorySubjectKeys(ring))
    replayer = Replayer(workflows=[QuoteWorkflow], data_converter=data_converter(codec))
    await replayer.replay_workflow(WorkflowHistory.from_json("quote-old", path.read_text()))


@pytest.mark.db
async def test_a_buyers_payload_uses_their_key_until_it_is_shredded(
    db: AsyncSession, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    buyer = await make_user(db, role="buyer")
    ring = _ring("k")
    codec = _codec(ring, session_factory)
    converter = data_converter(codec)
    [mine] = await converter.encode([_payment(buyer.id)])
    assert mine.metadata[KEY_ID] == f"subject:{buyer.id}".encode()
    assert b"ana.perez" not in mine.SerializeToString()
    # The master key alone does not open it: it is under the buyer's own key.
    [back] = await converter.decode([mine], [CreatePaymentInput])
    assert back.payer_email == "ana.perez@example.cl"
    row = await data_keys.get(db, buyer.id)
    assert row is not None
    assert row.wrapped_key is not None
    assert row.master_key_id == "k"

    await data_keys.shred(db, buyer.id)
    await db.flush()
    codec.subjects.forget(buyer.id)
    with pytest.raises(CodecKeyError):
        await converter.decode([mine], [CreatePaymentInput])
    assert await codec.decode_readable([mine]) == [mine]  # shown still encrypted
    with pytest.raises(CodecKeyError):  # nothing new is encrypted for an erased buyer
        await converter.encode([_payment(buyer.id)])
    # Another process with a fresh cache cannot read it either.
    with pytest.raises(CodecKeyError):
        await data_converter(_codec(ring, session_factory)).decode([mine])


def test_production_refuses_the_development_codec_key_and_malformed_keys() -> None:
    prod = {k: v for k, v in PRODUCTION.items() if k != "codec_keys"}
    with pytest.raises(ValueError, match="CODEC_KEYS"):
        Settings(**prod)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="CODEC_KEYS"):
        Settings(**prod, codec_keys="k1=tooshort")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="CODEC_KEYS"):
        Settings(**prod, codec_keys="")  # type: ignore[arg-type]
    ok = Settings(**prod, codec_keys=f"{new_key_entry('2027')},{new_key_entry('2026')}")  # type: ignore[arg-type]
    assert list(ok.codec_key_ring()) == ["2027", "2026"]


@pytest.mark.db
async def test_a_buyer_key_read_waits_out_a_short_database_outage(
    db: AsyncSession, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    # Found by the fault harness at N=300: a workflow task failed when its payload's buyer
    # key could not be read during a PostgreSQL restart.
    buyer = await make_user(db, role="buyer")
    ring = _ring("k")
    flaky = FlakySessions(session_factory, failures=2)
    keys = SubjectKeys(ring, flaky)  # type: ignore[arg-type]
    key = await keys.key_for_encrypt(buyer.id)
    assert flaky.failures == 0
    flaky.failures = 2
    keys.forget(buyer.id)
    assert await keys.key_for_decrypt(buyer.id) == key
