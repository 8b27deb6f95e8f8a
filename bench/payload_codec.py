"""Cost of encrypting Temporal payloads: encode + decode of a quote's workflow input (the
largest payload a quote sends) with the master key, and with a buyer's key once cached.
No database: the buyer's key is put in the cache the way a first lookup would.

    .venv/bin/python bench/payload_codec.py --n 20000

Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime

from marketred.integrations.payload_codec import (
    EncryptionCodec,
    SubjectKeys,
    data_converter,
    new_key_entry,
)
from marketred.schemas.quotes import QuoteLine, QuoteWorkflowInput
from marketred.settings import Settings


def _input(buyer: uuid.UUID) -> QuoteWorkflowInput:
    lines = [
        QuoteLine(position=i, product_name=f"Producto {i}", sku=f"SKU-{i}", quantity=2,
                  original_unit_price=12990, unit_price=12990)
        for i in range(10)
    ]  # fmt: skip
    return QuoteWorkflowInput(
        quote_id=uuid.uuid4(), number="Q-000123", buyer_id=buyer, buyer_email="ana@correo.cl",
        vendor_id=uuid.uuid4(), vendor_slug="cafe-altiplano", vendor_name="Café Altiplano",
        commission_bps=1000, lines=lines, note="Timbre dos veces",
        contact={"name": "Ana", "phone": "+56 9 1234 5678", "address": "Los Aromos 1234"},
        requested_at=datetime.now(UTC),
    )  # fmt: skip


async def main(n: int) -> None:
    ring = Settings(env="test", codec_keys=new_key_entry("bench")).codec_key_ring()
    subjects = SubjectKeys(ring, None)
    buyer = uuid.uuid4()
    subjects._cache[buyer] = (time.monotonic() + 1e9, b"k" * 32)  # a cached buyer key
    plain = data_converter(EncryptionCodec(ring, subjects))
    value = _input(buyer)
    size = len(plain.payload_converter.to_payload(value).data)
    for label, codec in (("without codec", None), ("with codec", plain.payload_codec)):
        start = time.perf_counter()
        for _ in range(n):
            payloads = plain.payload_converter.to_payloads([value])
            if codec is not None:
                payloads = await codec.decode(await codec.encode(payloads))
            plain.payload_converter.from_payloads(payloads, [QuoteWorkflowInput])
        per = (time.perf_counter() - start) / n * 1e6
        print(f"{label:>14}: {per:7.1f} µs per round trip of a {size}-byte quote input")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    asyncio.run(main(parser.parse_args().n))
