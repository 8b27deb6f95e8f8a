"""Payouts made before refunds had ids keep counting right after the upgrade: the
migration links each existing payout item to the ledger transactions it settled, so the
next run neither pays a sale again nor claws a refund twice, and a new refund of a quote
refunded the old way becomes a clawback of its own."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.services.ledger import postings as ledger
from marketred.services.payouts import steps as payouts
from marketred.store.migrate import upgrade
from marketred.store.models import PayoutLedgerTxn
from marketred.store.session import create_engine, create_session_factory, transaction

pytestmark = pytest.mark.db

BEFORE = "0006_indexer_outbox"  # the last revision of the single-refund design


async def _insert(db: AsyncSession, table: str, **values: Any) -> uuid.UUID:
    row_id: uuid.UUID = values.setdefault("id", uuid.uuid4())
    columns = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    await db.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({params})"), values)
    return row_id


async def _quote(db: AsyncSession, vendor: uuid.UUID, buyer: uuid.UUID, total: int) -> uuid.UUID:
    quote_id = uuid.uuid4()
    await _insert(
        db,
        "quotes",
        id=quote_id,
        workflow_id=f"quote-{quote_id}",
        buyer_id=buyer,
        vendor_id=vendor,
        status="COMPLETED",
        subtotal=total,
        total=total,
        commission_bps=1000,
    )
    await _insert(
        db, "payments", quote_id=quote_id, transaction_id=f"quote-{quote_id}", amount=total
    )
    return quote_id


async def _posting(
    db: AsyncSession, quote: uuid.UUID, vendor: uuid.UUID, prefix: str, amounts: dict[str, int]
) -> None:
    """Ledger rows exactly as the single-refund code wrote them."""
    for account, amount in amounts.items():
        await _insert(
            db,
            "ledger_entries",
            txn_id=ledger.txn_id_for(prefix),
            key=prefix + account,
            account=account,
            amount=amount,
            vendor_id=vendor,
            quote_id=quote,
        )


async def _payout(
    db: AsyncSession,
    vendor: uuid.UUID,
    status: str,
    items: list[tuple[uuid.UUID, str, int, int]],
    released: bool = False,
) -> uuid.UUID:
    gross = sum(i[2] for i in items)
    commission = sum(i[3] for i in items)
    payout = await _insert(
        db,
        "payouts",
        vendor_id=vendor,
        workflow_id=f"payout-old-{uuid.uuid4()}",
        status=status,
        gross=gross,
        commission=commission,
        net=gross - commission,
    )
    for quote, kind, item_gross, item_commission in items:
        await _insert(
            db,
            "payout_items",
            payout_id=payout,
            quote_id=quote,
            kind=kind,
            gross=item_gross,
            commission=item_commission,
            net=item_gross - item_commission,
        )
    if released:
        await db.execute(
            text("UPDATE payout_items SET released_at = now() WHERE payout_id = :p"), {"p": payout}
        )
    return payout


async def test_existing_payouts_and_single_refunds_are_linked_and_count_once(
    new_database,  # type: ignore[no-untyped-def]
) -> None:
    # Both run their own event loop: off this one.
    url = await asyncio.to_thread(new_database)
    await asyncio.to_thread(upgrade, url, BEFORE)
    engine = create_engine(url, pool_size=2)
    sessions = create_session_factory(engine)
    try:
        async with transaction(sessions) as db:
            vendor = await _insert(db, "vendors", slug="vieja", name="Vieja", rut="11111111-1")
            buyer = await _insert(db, "users", email="b@example.cl", role="buyer")
            # A: sold 20 000, paid out; then refunded 5 000, clawed back in a pending payout.
            a = await _quote(db, vendor, buyer, 20_000)
            await _posting(
                db,
                a,
                vendor,
                f"quote:{a}:sale:",
                {
                    "buyer_payments": 20_000,
                    "platform_commission": -2_000,
                    "vendor_payable": -18_000,
                },
            )
            await _posting(
                db,
                a,
                vendor,
                f"quote:{a}:refund:",
                {"refunds": -5_000, "platform_commission": 500, "vendor_payable": 4_500},
            )
            # B: sold 10 000, refunded 4 000 before the payout took it: paid net 6 000.
            b = await _quote(db, vendor, buyer, 10_000)
            await _posting(
                db,
                b,
                vendor,
                f"quote:{b}:sale:",
                {"buyer_payments": 10_000, "platform_commission": -1_000, "vendor_payable": -9_000},
            )
            await _posting(
                db,
                b,
                vendor,
                f"quote:{b}:refund:",
                {"refunds": -4_000, "platform_commission": 400, "vendor_payable": 3_600},
            )
            # C: sold 8 000, in a rejected payout (released), then in a paid one.
            c = await _quote(db, vendor, buyer, 8_000)
            await _posting(
                db,
                c,
                vendor,
                f"quote:{c}:sale:",
                {"buyer_payments": 8_000, "platform_commission": -800, "vendor_payable": -7_200},
            )
            await _payout(db, vendor, "REJECTED", [(c, "sale", 8_000, 800)], released=True)
            await _payout(
                db,
                vendor,
                "PAID",
                [(a, "sale", 20_000, 2_000), (b, "sale", 6_000, 600), (c, "sale", 8_000, 800)],
            )
            await _payout(db, vendor, "PENDING_APPROVAL", [(a, "clawback", -5_000, -500)])

        await asyncio.to_thread(upgrade, url)

        async with transaction(sessions) as db:
            links = list(await db.scalars(select(PayoutLedgerTxn)))
            live = {link.txn_id for link in links if link.released_at is None}
            released = {link.txn_id for link in links if link.released_at is not None}
            txn = ledger.txn_id_for
            assert live == {
                txn(f"quote:{a}:sale:"),
                txn(f"quote:{a}:refund:"),
                txn(f"quote:{b}:sale:"),
                txn(f"quote:{b}:refund:"),
                txn(f"quote:{c}:sale:"),
            }
            assert released == {txn(f"quote:{c}:sale:")}
            # Everything the old payouts took is settled: nothing new to pay.
            assert await payouts.create_vendor_payout(db, vendor, "run-after-upgrade") is None

            # The old single refund of B is found by the old call (idempotent) ...
            again = await ledger.post_refund(db, b, 4_000, "retried old activity")
            assert again.inserted == 0
            # ... and a new refund of B (ids now) is a clawback of its own next time.
            posted = await ledger.post_refund(db, b, 1_000, "otra unidad", refund_id="r2")
            assert (posted.inserted, posted.refunded_total, posted.refundable) == (3, 5_000, 5_000)
            d = await _quote(db, vendor, buyer, 30_000)
            await ledger.post_sale(db, d)
            made = await payouts.create_vendor_payout(db, vendor, "run-with-new-refund")
            assert made is not None
            # 30 000 sale (net 27 000) less the 1 000 refund of B (net 900).
            assert (made.items, made.gross, made.commission, made.net) == (2, 29_000, 2_900, 26_100)
    finally:
        await engine.dispose()
