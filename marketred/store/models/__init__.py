"""All ORM models, imported here so Alembic and the session see one metadata."""

from marketred.store.models.accounts import User
from marketred.store.models.banking import VendorBankAccount, VendorBankAccountChange
from marketred.store.models.carts import Cart, CartItem
from marketred.store.models.catalog import IndexerOutbox, Product, SearchWord, Variant
from marketred.store.models.idempotency import IdempotencyKey
from marketred.store.models.ledger import LedgerEntry
from marketred.store.models.marketing import FeaturedItem
from marketred.store.models.media import MediaBlob, ProductImage
from marketred.store.models.notifications import SentNotification
from marketred.store.models.payments import Payment, PaymentEvent, PaymentRefund
from marketred.store.models.payouts import (
    Payout,
    PayoutBankFile,
    PayoutBankFileLine,
    PayoutItem,
    PayoutLedgerTxn,
    SandboxPayoutTransfer,
)
from marketred.store.models.privacy import DataSubjectKey
from marketred.store.models.quotes import (
    Quote,
    QuoteEvent,
    QuoteLine,
    QuoteStartOutbox,
    StockReservation,
)
from marketred.store.models.security import ApiToken, EmailToken, RateLimitCounter, WebSession
from marketred.store.models.theme import SiteTheme
from marketred.store.models.vendors import Vendor, VendorChange

__all__ = [
    "ApiToken",
    "Cart",
    "CartItem",
    "DataSubjectKey",
    "EmailToken",
    "FeaturedItem",
    "IdempotencyKey",
    "IndexerOutbox",
    "LedgerEntry",
    "MediaBlob",
    "Payment",
    "PaymentEvent",
    "PaymentRefund",
    "Payout",
    "PayoutBankFile",
    "PayoutBankFileLine",
    "PayoutItem",
    "PayoutLedgerTxn",
    "Product",
    "ProductImage",
    "Quote",
    "QuoteEvent",
    "QuoteLine",
    "QuoteStartOutbox",
    "RateLimitCounter",
    "SandboxPayoutTransfer",
    "SearchWord",
    "SentNotification",
    "SiteTheme",
    "StockReservation",
    "User",
    "Variant",
    "Vendor",
    "VendorBankAccount",
    "VendorBankAccountChange",
    "VendorChange",
    "WebSession",
]
