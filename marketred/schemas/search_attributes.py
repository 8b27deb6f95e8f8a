"""Search attributes for operators in the Temporal UI/CLI: every quote workflow carries
the quote ones; every vendor payout workflow carries `PayoutStatus` (e.g. the query
`PayoutStatus = "HELD"` lists the payouts waiting for a person)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

QUOTE_STATUS = SearchAttributeKey.for_keyword("QuoteStatus")
VENDOR_SLUG = SearchAttributeKey.for_keyword("VendorSlug")
BUYER_ID = SearchAttributeKey.for_keyword("BuyerId")
QUOTE_TOTAL = SearchAttributeKey.for_int("QuoteTotal")
QUOTE_DEADLINE = SearchAttributeKey.for_datetime("QuoteDeadline")

PAYOUT_STATUS = SearchAttributeKey.for_keyword("PayoutStatus")

ALL = (QUOTE_STATUS, VENDOR_SLUG, BUYER_ID, QUOTE_TOTAL, QUOTE_DEADLINE, PAYOUT_STATUS)
