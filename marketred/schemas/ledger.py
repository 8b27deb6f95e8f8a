"""Contract between the quote workflow and the ledger activities.

Activity names (registered by `marketred.activities.ledger`):
- `post_sale_to_ledger(PostSaleInput) -> None` — on COMPLETED: buyer payment in, platform
  commission, vendor payable. Idempotent per quote (unique ledger keys).
- `post_refund_to_ledger(PostRefundInput) -> None` — reversing rows; a refund of a quote
  already paid out becomes a clawback for the vendor's next payout. Idempotent per quote.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel


class PostSaleInput(BaseModel):
    quote_id: uuid.UUID


class PostRefundInput(BaseModel):
    quote_id: uuid.UUID
    amount: int
    reason: str
