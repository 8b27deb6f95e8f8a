"""Double-entry ledger postings for quotes (design.md §5).

Sign convention: debits are positive, credits negative; the rows of one `txn_id` sum to
zero. Accounts:
- `buyer_payments` (+ cash received through Khipu), `refunds` (- cash returned to buyers),
- `platform_commission` (- our revenue), `vendor_payable` (- what we owe the vendor),
- `vendor_payouts` (- cash sent to vendors).

Postings and their unique keys (so each may run twice and post once):
- sale, on COMPLETED  `quote:<id>:sale:<account>`:  buyer_payments +G,
  platform_commission -C, vendor_payable -N with C = half-up(G * bps / 10000), N = G - C.
- refund `quote:<id>:refund:<account>`: after the sale, refunds -R with the commission
  (+C_r) and the payable (+N_r) reversed; before the sale was ever posted (refunded while
  PAID/SHIPPED) the money simply came in and went out: buyer_payments +R, refunds -R.
- payout, on PAID `payout:<id>:paid:<account>`: vendor_payable +net, vendor_payouts -net.

Rows are never updated or deleted. Whether a refund shrinks a not-yet-paid sale or becomes
a clawback of an already paid-out one is decided by the payout run from these rows
(see services/payouts.py), so posting a refund never has to race a payout.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.money import CURRENCY
from marketred.schemas.payouts import refund_split, split_payment
from marketred.services.errors import Conflict, InvalidInput, NotFound
from marketred.store.models import Payment, Quote
from marketred.store.repositories import ledger as repo

_NAMESPACE = uuid.UUID("6f1d7f0e-6b0a-4c52-9d0c-2f7f9a1f5e10")


@dataclass(frozen=True)
class Posting:
    txn_id: uuid.UUID
    inserted: int  # 0 when the posting existed already


def txn_id_for(prefix: str) -> uuid.UUID:
    """Deterministic: a retried posting carries the same txn id as the first one."""
    return uuid.uuid5(_NAMESPACE, prefix)


def sale_prefix(quote_id: uuid.UUID) -> str:
    return f"quote:{quote_id}:sale:"


def refund_prefix(quote_id: uuid.UUID) -> str:
    return f"quote:{quote_id}:refund:"


def payout_prefix(payout_id: uuid.UUID) -> str:
    return f"payout:{payout_id}:paid:"


def _rows(
    prefix: str,
    amounts: dict[str, int],
    *,
    vendor_id: uuid.UUID,
    quote_id: uuid.UUID | None = None,
    payout_id: uuid.UUID | None = None,
    memo: str = "",
) -> list[dict[str, Any]]:
    if sum(amounts.values()) != 0:  # a bug, never a business case
        raise AssertionError(f"unbalanced ledger transaction {prefix}: {amounts}")
    txn = txn_id_for(prefix)
    return [
        {
            "txn_id": txn,
            "key": prefix + account,
            "account": account,
            "amount": amount,
            "currency": CURRENCY,
            "vendor_id": vendor_id,
            "quote_id": quote_id,
            "payout_id": payout_id,
            "memo": memo,
        }
        for account, amount in amounts.items()
        if amount != 0  # e.g. a 0 bps commission has no row
    ]


async def _quote_and_payment(session: AsyncSession, quote_id: uuid.UUID) -> tuple[Quote, Payment]:
    quote = await session.get(Quote, quote_id)
    if quote is None:
        raise NotFound(f"quote {quote_id} not found")
    payment = await session.scalar(select(Payment).where(Payment.quote_id == quote_id))
    if payment is None:
        raise Conflict(f"quote {quote_id} has no payment to post")
    return quote, payment


async def post_sale(session: AsyncSession, quote_id: uuid.UUID) -> Posting:
    """Post the completed sale of a quote: payment in = commission + vendor net."""
    quote, payment = await _quote_and_payment(session, quote_id)
    prefix = sale_prefix(quote_id)
    existing = await repo.entries_with_prefix(session, prefix)
    if existing:
        return Posting(txn_id_for(prefix), 0)
    if await repo.entries_with_prefix(session, refund_prefix(quote_id)):
        raise Conflict(f"quote {quote_id} was refunded before completion; no sale to post")
    gross = payment.amount
    commission, net = split_payment(gross, quote.commission_bps)
    rows = _rows(
        prefix,
        {"buyer_payments": gross, "platform_commission": -commission, "vendor_payable": -net},
        vendor_id=quote.vendor_id,
        quote_id=quote_id,
        memo=f"sale of quote {quote.number} at {quote.commission_bps} bps",
    )
    return Posting(txn_id_for(prefix), await repo.insert_entries(session, rows))


async def post_refund(
    session: AsyncSession, quote_id: uuid.UUID, amount: int, reason: str
) -> Posting:
    """Post a refund to the buyer. One refund per quote (idempotent per quote)."""
    quote, payment = await _quote_and_payment(session, quote_id)
    prefix = refund_prefix(quote_id)
    if await repo.entries_with_prefix(session, prefix):
        return Posting(txn_id_for(prefix), 0)
    if not 0 < amount <= payment.amount:
        raise InvalidInput(
            f"refund of {amount} is outside 1..{payment.amount}", errors=[("amount", "range")]
        )
    sale = {
        e.account: e.amount for e in await repo.entries_with_prefix(session, sale_prefix(quote_id))
    }
    memo = f"refund of quote {quote.number}: {reason}"[:2000]
    if not sale:
        amounts = {"buyer_payments": amount, "refunds": -amount}
        memo += " (before completion)"
    else:
        gross = sale["buyer_payments"]
        commission = -sale.get("platform_commission", 0)
        commission_back, net_back = refund_split(
            min(amount, gross), gross, commission, quote.commission_bps
        )
        amounts = {
            "refunds": -(commission_back + net_back),
            "platform_commission": commission_back,
            "vendor_payable": net_back,
        }
    rows = _rows(prefix, amounts, vendor_id=quote.vendor_id, quote_id=quote_id, memo=memo)
    return Posting(txn_id_for(prefix), await repo.insert_entries(session, rows))


async def post_payout(
    session: AsyncSession, payout_id: uuid.UUID, vendor_id: uuid.UUID, net: int
) -> Posting:
    """Cash sent to the vendor settles what we owed it."""
    prefix = payout_prefix(payout_id)
    rows = _rows(
        prefix,
        {"vendor_payable": net, "vendor_payouts": -net},
        vendor_id=vendor_id,
        payout_id=payout_id,
        memo="vendor payout",
    )
    return Posting(txn_id_for(prefix), await repo.insert_entries(session, rows))
