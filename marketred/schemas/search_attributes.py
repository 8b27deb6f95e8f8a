"""Search attributes every quote workflow carries, for operators in the Temporal UI/CLI."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

QUOTE_STATUS = SearchAttributeKey.for_keyword("QuoteStatus")
VENDOR_SLUG = SearchAttributeKey.for_keyword("VendorSlug")
BUYER_ID = SearchAttributeKey.for_keyword("BuyerId")
QUOTE_TOTAL = SearchAttributeKey.for_int("QuoteTotal")
QUOTE_DEADLINE = SearchAttributeKey.for_datetime("QuoteDeadline")

ALL = (QUOTE_STATUS, VENDOR_SLUG, BUYER_ID, QUOTE_TOTAL, QUOTE_DEADLINE)
