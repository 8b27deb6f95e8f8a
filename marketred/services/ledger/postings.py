"""Double-entry ledger postings for quotes (docs/payouts.md).

Sign convention: debits are positive, credits negative; the rows of one `txn_id` sum to
zero. Accounts:
- `buyer_payments` (+ cash received through Khipu), `refunds` (- cash returned to buyers),
- `platform_commission` (- our revenue), `vendor_payable` (- what we owe the vendor),
- `vendor_payouts` (- cash sent to vendors).

Postings and their unique keys (so each may run twice and post once):
- sale, on COMPLETED  `quote:<id>:sale:<account>`:  buyer_payments +G,
  platform_commission -C, vendor_payable -N with C = half-up(G * bps / 10000), N = G - C.
  G is what was paid less what was refunded before completion.
- refund `quote:<id>:refund:<refund id>:<account>`, one transaction per refund, many per
  quote: after the sale, refunds -R with the commission (+C_r) and the payable (+N_r)
  reversed; before the sale was posted (refunded while PAID/SHIPPED) the money simply
  came in and went out: buyer_payments +R, refunds -R. All refunds of a quote together
  never exceed what was paid.
- the first refund design allowed one refund per quote, keyed `quote:<id>:refund:<account>`
  (no refund id). That call (`refund_id=None`) still posts and finds exactly those keys,
  so rows already posted and activities of workflows started before keep working.
- payout, on PAID `payout:<id>:paid:<account>`: vendor_payable +net, vendor_payouts -net.

Postings of one quote are serialised by a row lock on its payment, so two refunds (or a
refund and the sale) posted at once cannot both pass the "never more than paid" check.
Rows are never updated or deleted. Whether a refund shrinks a not-yet-paid sale or becomes
a clawback of an already paid-out one is decided by the payout run from these rows
(see services/payouts/steps.py), so posting a refund never has to race a payout.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.money import CURRENCY
from marketred.schemas.payouts import refund_split_after, split_payment
from marketred.services.errors import Conflict, InvalidInput, NotFound
from marketred.store.models import LedgerEntry, Payment, Quote
from marketred.store.repositories import ledger as repo
from marketred.store.repositories import payments as payments_repo

_NAMESPACE = uuid.UUID("6f1d7f0e-6b0a-4c52-9d0c-2f7f9a1f5e10")
# A refund id is one segment of the ledger keys: no ':' and short enough for the column.
REFUND_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Posting:
    txn_id: uuid.UUID
    inserted: int  # 0 when the posting existed already


def txn_id_for(prefix: str) -> uuid.UUID:
    """Deterministic: a retried posting carries the same txn id as the first one."""
    return uuid.uuid5(_NAMESPACE, prefix)


def sale_prefix(quote_id: uuid.UUID) -> str:
    return f"quote:{quote_id}:sale:"


def refund_prefix(quote_id: uuid.UUID, refund_id: str | None = None) -> str:
    """Keys of one refund; without a refund id, the single refund of the first design."""
    base = f"quote:{quote_id}:refund:"
    return base if refund_id is None else f"{base}{refund_id}:"


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


@dataclass(frozen=True)
class PostedRefund:
    """One refund transaction of a quote, as read back from the ledger."""

    txn_id: uuid.UUID
    refund_id: str | None  # None: the single refund of the first design
    amount: int
    before_sale: bool  # posted before the sale: money in and out, no commission involved
    commission_back: int
    created_at: datetime


@dataclass(frozen=True)
class RefundPosting:
    """What `post_refund` did: `inserted` is 0 when this refund id was posted already."""

    txn_id: uuid.UUID
    inserted: int
    refund_id: str | None
    amount: int
    refunded_total: int  # every refund of the quote, this one included
    refundable: int  # what may still be refunded
    before_sale: bool


async def _quote_and_payment(session: AsyncSession, quote_id: uuid.UUID) -> tuple[Quote, Payment]:
    quote = await session.get(Quote, quote_id)
    if quote is None:
        raise NotFound(f"quote {quote_id} not found")
    # Locked: postings of one quote run one at a time (see the module docstring).
    payment = await payments_repo.payment_for_quote(session, quote_id, for_update=True)
    if payment is None:
        raise Conflict(f"quote {quote_id} has no payment to post")
    return quote, payment


def _refund_id_of(entry: LedgerEntry) -> str | None:
    parts = entry.key.split(":")  # quote:<id>:refund[:<refund id>]:<account>
    return parts[3] if len(parts) == 5 else None


async def posted_refunds(session: AsyncSession, quote_id: uuid.UUID) -> list[PostedRefund]:
    """Every refund posted for the quote, oldest first."""
    by_txn: dict[uuid.UUID, list[LedgerEntry]] = defaultdict(list)
    for entry in await repo.entries_with_prefix(session, refund_prefix(quote_id)):
        by_txn[entry.txn_id].append(entry)
    refunds = []
    for txn_id, entries in by_txn.items():
        amounts = {e.account: e.amount for e in entries}
        refunds.append(
            PostedRefund(
                txn_id=txn_id,
                refund_id=_refund_id_of(entries[0]),
                amount=-amounts.get("refunds", 0),
                before_sale="buyer_payments" in amounts,
                commission_back=amounts.get("platform_commission", 0),
                created_at=min(e.created_at for e in entries),
            )
        )
    return sorted(refunds, key=lambda r: (r.created_at, str(r.txn_id)))


async def post_sale(session: AsyncSession, quote_id: uuid.UUID) -> Posting:
    """Post the completed sale of a quote: payment in = commission + vendor net. Refunds
    made before completion are out of the sale: it is what the buyer finally paid."""
    quote, payment = await _quote_and_payment(session, quote_id)
    prefix = sale_prefix(quote_id)
    existing = await repo.entries_with_prefix(session, prefix)
    if existing:
        return Posting(txn_id_for(prefix), 0)
    refunded = sum(r.amount for r in await posted_refunds(session, quote_id) if r.before_sale)
    gross = payment.amount - refunded
    if gross <= 0:
        raise Conflict(f"quote {quote_id} was refunded before completion; no sale to post")
    commission, net = split_payment(gross, quote.commission_bps)
    memo = f"sale of quote {quote.number} at {quote.commission_bps} bps"
    if refunded:
        memo += f" (paid {payment.amount}, {refunded} refunded before completion)"
    rows = _rows(
        prefix,
        {"buyer_payments": gross, "platform_commission": -commission, "vendor_payable": -net},
        vendor_id=quote.vendor_id,
        quote_id=quote_id,
        memo=memo,
    )
    return Posting(txn_id_for(prefix), await repo.insert_entries(session, rows))


async def post_refund(
    session: AsyncSession,
    quote_id: uuid.UUID,
    amount: int,
    reason: str,
    *,
    refund_id: str | None = None,
) -> RefundPosting:
    """Post one refund of `amount` pesos to the buyer of a quote; a quote may have many.

    Idempotent per `refund_id` (letters, digits, '-', '_'; up to 64): posting the same
    refund again inserts nothing and answers the same; the same id with another amount
    is a Conflict. The refunds of a quote never total more than was paid: one that
    would is refused (InvalidInput on `amount`) and posts nothing. Without a refund id
    this is the single refund per quote of the first design (its old ledger keys).
    """
    if refund_id is not None and not REFUND_ID.fullmatch(refund_id):
        raise InvalidInput(
            "a refund id is 1 to 64 letters, digits, '-' or '_'", errors=[("refund_id", "format")]
        )
    quote, payment = await _quote_and_payment(session, quote_id)
    prefix = refund_prefix(quote_id, refund_id)
    refunds = await posted_refunds(session, quote_id)
    refunded = sum(r.amount for r in refunds)
    same = [r for r in refunds if r.refund_id == refund_id]
    if same:
        if same[0].amount != amount:
            raise Conflict(
                f"refund {refund_id or '(single)'} of quote {quote.number} was posted "
                f"for {same[0].amount}, not {amount}"
            )
        return RefundPosting(
            same[0].txn_id,
            0,
            refund_id,
            amount,
            refunded,
            payment.amount - refunded,
            same[0].before_sale,
        )
    if amount <= 0 or refunded + amount > payment.amount:
        left = payment.amount - refunded
        raise InvalidInput(
            f"a refund of {amount} is outside 1..{left}: {payment.amount} was paid and "
            f"{refunded} refunded already",
            errors=[("amount", f"1..{left}")],
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
        after_sale = sum(r.amount for r in refunds if not r.before_sale)
        commission_back, net_back = refund_split_after(
            after_sale, amount, gross, commission, quote.commission_bps
        )
        amounts = {
            "refunds": -amount,
            "platform_commission": commission_back,
            "vendor_payable": net_back,
        }
    rows = _rows(prefix, amounts, vendor_id=quote.vendor_id, quote_id=quote_id, memo=memo)
    inserted = await repo.insert_entries(session, rows)
    return RefundPosting(
        txn_id_for(prefix),
        inserted,
        refund_id,
        amount,
        refunded + amount,
        payment.amount - refunded - amount,
        not sale,
    )


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
