"""Encryption of every Temporal payload (AES-256-GCM), with per-buyer keys.

Temporal stores workflow inputs, activity inputs and results, update arguments, failures
and summaries in its histories, which outlive our database rows and are readable by anyone
with access to the cluster. So every payload leaves this process encrypted:

- a payload whose value names a data subject (a model with a `data_subject` property: the
  quote input, its state, the payment request, ...) is encrypted with that buyer's own
  data key (`data_subject_keys`, wrapped by a master key); erasing the key makes the
  buyer's personal data unreadable in every history (crypto-shredding);
- any other payload is encrypted with the current master key (`MARKETRED_CODEC_KEYS`,
  the first entry; the others still decrypt, for rotation).

The payload converter marks a payload with the subject's id (plain metadata, an id only)
and the codec picks the key from that mark, so workflow code stays unchanged and
deterministic and the codec is stateless apart from a short key cache. Payloads without
our encoding pass through untouched: histories recorded before encryption still replay.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    PayloadCodec,
)

from marketred.store.models.privacy import DataSubjectKey
from marketred.store.repositories import data_keys as keys_repo
from marketred.store.session import waiting_out_outages

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
# Set by the payload converter on a buyer's payload, read (and dropped) by the codec.
SUBJECT = "marketred-data-subject"
SUBJECT_KEY_PREFIX = "subject:"
_NONCE = 12


class CodecKeyError(Exception):
    """A payload cannot be encrypted or decrypted: unknown or shredded key, or tampering."""


def _seal(key: bytes, key_id: str, plain: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    # The key id is authenticated: a payload cannot be re-labelled to another key.
    return nonce + AESGCM(key).encrypt(nonce, plain, key_id.encode())


def _open(key: bytes, key_id: str, sealed: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], key_id.encode())
    except InvalidTag as exc:
        raise CodecKeyError(f"payload under key {key_id!r} failed authentication") from exc


# A key read waits out a short database outage (a PostgreSQL restart) instead of failing
# the workflow task that decodes the payload; under Temporal's 10 s workflow task timeout.
DB_WAIT_S = 8.0


class SubjectKeys:
    """Buyers' data keys from `data_subject_keys`, unwrapped with the master keys and
    cached for `cache_seconds` (so a key shredded by another process stops working here
    within that time; `forget` drops it at once). Reads wait out a short database outage."""

    def __init__(
        self,
        master: dict[str, bytes],
        sessions: async_sessionmaker[AsyncSession] | None,
        *,
        cache_seconds: float = 60.0,
    ) -> None:
        self._master = master
        self._current = next(iter(master))
        self._sessions = sessions
        self._ttl = cache_seconds
        self._cache: dict[uuid.UUID, tuple[float, bytes | None]] = {}

    def forget(self, subject: uuid.UUID) -> None:
        self._cache.pop(subject, None)

    def _cached(self, subject: uuid.UUID) -> tuple[bool, bytes | None]:
        hit = self._cache.get(subject)
        if hit is None or time.monotonic() - hit[0] > self._ttl:
            return False, None
        return True, hit[1]

    def _unwrap(self, subject: uuid.UUID, master_key_id: str, wrapped: bytes) -> bytes:
        master = self._master.get(master_key_id)
        if master is None:
            raise CodecKeyError(f"master key {master_key_id!r} is not in MARKETRED_CODEC_KEYS")
        return _open(master, f"{SUBJECT_KEY_PREFIX}{subject}", wrapped)

    def _need_sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            raise CodecKeyError("no database configured: buyers' data keys are unavailable")
        return self._sessions

    async def key_for_encrypt(self, subject: uuid.UUID) -> bytes:
        """The subject's key, made on first use."""
        found, key = self._cached(subject)
        if found and key is not None:
            return key
        new_key = AESGCM.generate_key(bit_length=256)
        wrapped = _seal(self._master[self._current], f"{SUBJECT_KEY_PREFIX}{subject}", new_key)
        # Its own short transaction: the key must exist before the payload leaves, even
        # if the caller's transaction (say, the quote's creation) later rolls back.
        sessions = self._need_sessions()

        async def read() -> DataSubjectKey:
            async with sessions() as session, session.begin():
                return await keys_repo.get_or_create(session, subject, wrapped, self._current)

        row = await waiting_out_outages(read, within=DB_WAIT_S, keep=(CodecKeyError,))
        if row.wrapped_key is None:
            raise CodecKeyError(f"data subject {subject} was erased; nothing new is encrypted")
        key = self._unwrap(subject, row.master_key_id, row.wrapped_key)
        self._cache[subject] = (time.monotonic(), key)
        return key

    async def key_for_decrypt(self, subject: uuid.UUID) -> bytes:
        found, key = self._cached(subject)
        if not found:
            sessions = self._need_sessions()

            async def read() -> DataSubjectKey | None:
                async with sessions() as session:
                    return await keys_repo.get(session, subject)

            row = await waiting_out_outages(read, within=DB_WAIT_S, keep=(CodecKeyError,))
            key = (
                None
                if row is None or row.wrapped_key is None
                else self._unwrap(subject, row.master_key_id, row.wrapped_key)
            )
            self._cache[subject] = (time.monotonic(), key)
        if key is None:
            raise CodecKeyError(f"the data key of subject {subject} was erased")
        return key


class EncryptionCodec(PayloadCodec):
    def __init__(self, master: dict[str, bytes], subjects: SubjectKeys) -> None:
        self._master = master
        self._current = next(iter(master))
        self.subjects = subjects

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") == ENCODING:  # already ours
                out.append(payload)
                continue
            inner = Payload()
            inner.CopyFrom(payload)
            subject = inner.metadata.pop(SUBJECT, b"").decode()
            if subject:
                subject_id = uuid.UUID(subject)
                key_id = f"{SUBJECT_KEY_PREFIX}{subject_id}"
                key = await self.subjects.key_for_encrypt(subject_id)
            else:
                key_id, key = self._current, self._master[self._current]
            out.append(
                Payload(
                    metadata={"encoding": ENCODING, KEY_ID: key_id.encode()},
                    data=_seal(key, key_id, inner.SerializeToString()),
                )
            )
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                out.append(payload)  # recorded before encryption, or never encoded
                continue
            out.append(await self._decrypt(payload))
        return out

    async def _decrypt(self, payload: Payload) -> Payload:
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        if key_id.startswith(SUBJECT_KEY_PREFIX):
            try:
                subject = uuid.UUID(key_id.removeprefix(SUBJECT_KEY_PREFIX))
            except ValueError as exc:
                raise CodecKeyError(f"malformed key id {key_id!r}") from exc
            key = await self.subjects.key_for_decrypt(subject)
        else:
            master = self._master.get(key_id)
            if master is None:
                raise CodecKeyError(f"key {key_id!r} is not in MARKETRED_CODEC_KEYS")
            key = master
        inner = Payload()
        inner.ParseFromString(_open(key, key_id, payload.data))
        return inner

    async def decode_readable(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decode what can be decoded and leave the rest as it is (the codec endpoint:
        the Temporal UI shows an erased buyer's payloads still encrypted)."""
        out = []
        for payload in payloads:
            try:
                out.extend(await self.decode([payload]))
            except CodecKeyError:
                out.append(payload)
        return out


class SubjectMarkingJSONConverter(PydanticJSONPlainPayloadConverter):
    """Pydantic JSON, plus the id of the buyer the value is about (if it says so), for
    the codec to pick that buyer's key. Runs inside workflows: a plain attribute read."""

    def to_payload(self, value: Any) -> Payload | None:
        payload = super().to_payload(value)
        subject = getattr(value, "data_subject", None)
        # Not isinstance(uuid.UUID): inside the workflow sandbox the class may be a copy.
        if payload is not None and subject is not None:
            payload.metadata[SUBJECT] = str(subject).encode()
        return payload


class SubjectMarkingPayloadConverter(CompositePayloadConverter):
    """`pydantic_data_converter`'s converters with the JSON one marking subjects."""

    def __init__(self) -> None:
        marking = SubjectMarkingJSONConverter()
        super().__init__(
            *(
                marking if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


def data_converter(codec: EncryptionCodec) -> DataConverter:
    """Pydantic JSON, encrypted; failure messages and stack traces encrypted too."""
    return DataConverter(
        payload_converter_class=SubjectMarkingPayloadConverter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def new_key_entry(key_id: str) -> str:
    """A fresh `id=base64url` entry for MARKETRED_CODEC_KEYS."""
    return f"{key_id}={base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip('=')}"
