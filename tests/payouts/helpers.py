"""Completed quotes made directly with the ORM (the quote workflow is not the point here)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.accounts import Principal
from marketred.schemas.banking import BankAccountIn
from marketred.services.ledger import postings as ledger
from marketred.services.payouts import bank_accounts as vendor_bank_accounts
from marketred.store.models import LedgerEntry, Payment, PayoutItem, Quote, User, Vendor
from tests.support.factories import make_user, make_vendor


async def make_seller(
    db: AsyncSession, commission_bps: int = 1000, *, bank_account: bool = True
) -> tuple[Vendor, User, User]:
    """A vendor with a staff member (and, unless told otherwise, a bank account the staff
    member set), and a buyer."""
    vendor = await make_vendor(db, commission_bps=commission_bps)
    vendor.email = f"ventas-{vendor.slug}@example.cl"
    staff = await make_user(db, "vendor", vendor)
    buyer = await make_user(db, "buyer")
    await db.flush()
    if bank_account:
        await give_bank_account(db, vendor, staff)
    return vendor, staff, buyer


def bank_account_body(vendor: Vendor, **changes: str) -> BankAccountIn:
    fields = {
        "bank_code": "012",
        "account_type": "corriente",
        "account_number": "000-1234-5678",
        "holder_name": vendor.name,
        "holder_rut": vendor.rut,
    }
    return BankAccountIn.model_validate({**fields, **changes})


async def give_bank_account(db: AsyncSession, vendor: Vendor, staff: User, **changes: str) -> None:
    """The vendor's staff saves its bank account in the back office."""
    who = Principal(user_id=staff.id, role="vendor", vendor_id=vendor.id, email=staff.email)
    await vendor_bank_accounts.save_bank_account(db, who, bank_account_body(vendor, **changes))


async def make_paid_quote(
    db: AsyncSession,
    vendor: Vendor,
    buyer: User,
    total: int,
    *,
    status: str = "COMPLETED",
    commission_bps: int | None = None,
    paid_at: datetime | None = None,
) -> Quote:
    quote_id = uuid.uuid4()
    now = datetime.now(UTC)
    quote = Quote(
        id=quote_id,
        workflow_id=f"quote-{quote_id}",
        buyer_id=buyer.id,
        vendor_id=vendor.id,
        status=status,
        subtotal=total,
        shipping_cost=0,
        total=total,
        commission_bps=vendor.commission_bps if commission_bps is None else commission_bps,
        completed_at=now if status == "COMPLETED" else None,
    )
    db.add(quote)
    await db.flush()
    db.add(
        Payment(
            quote_id=quote_id,
            transaction_id=quote.workflow_id,
            khipu_payment_id=uuid.uuid4().hex[:12],
            amount=total,
            status="done",
            paid_at=paid_at or now,
        )
    )
    await db.flush()
    await db.refresh(quote)
    return quote


async def completed_sale(db: AsyncSession, vendor: Vendor, buyer: User, total: int) -> Quote:
    """A COMPLETED quote with its sale posted, as the quote workflow leaves it."""
    quote = await make_paid_quote(db, vendor, buyer, total)
    await ledger.post_sale(db, quote.id)
    return quote


async def refund(db: AsyncSession, quote: Quote, amount: int | None = None) -> None:
    payment = await db.scalar(select(Payment).where(Payment.quote_id == quote.id))
    assert payment is not None
    payment.refunded_amount = amount or payment.amount
    payment.refunded_at = datetime.now(UTC)
    await ledger.post_refund(db, quote.id, amount or payment.amount, "producto fallado")


async def ledger_rows(db: AsyncSession, **where: object) -> list[LedgerEntry]:
    stmt = select(LedgerEntry)
    for column, value in where.items():
        stmt = stmt.where(getattr(LedgerEntry, column) == value)
    return list(await db.scalars(stmt.order_by(LedgerEntry.key)))


async def live_items(db: AsyncSession, quote_id: uuid.UUID) -> list[PayoutItem]:
    return list(
        await db.scalars(
            select(PayoutItem).where(
                PayoutItem.quote_id == quote_id, PayoutItem.released_at.is_(None)
            )
        )
    )
