"""Contract between the quote workflow and the ledger activities.

Activity names (registered by `marketred.activities.ledger`):
- `post_sale_to_ledger(PostSaleInput) -> None` — on COMPLETED: buyer payment in, platform
  commission, vendor payable (of what was paid less refunds made before completion).
  Idempotent per quote (unique ledger keys).
- `post_refund_to_ledger(PostRefundInput) -> PostRefundResult` — one refund of a quote (a
  quote may have many): reversing rows; the payout run turns a refund of a quote already
  paid out into a clawback on the vendor's next payout. Idempotent per `refund_id`
  (without one: the single refund per quote of the first design, its old ledger keys).
  Failures: `InvalidInput` (non-retryable) when the quote's refunds would total more than
  was paid, or the refund id is malformed; `Conflict` (non-retryable) when the refund id
  was posted with another amount or the quote has no payment; `NotFound` (retryable)
  while the quote's projection row is not there yet.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class PostSaleInput(BaseModel):
    quote_id: uuid.UUID


class PostRefundInput(BaseModel):
    quote_id: uuid.UUID
    amount: int
    reason: str
    # Stable per refund (e.g. derived from the workflow's update id): the posting's
    # idempotency key. None only for workflows started before refunds had ids.
    refund_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")


class PostRefundResult(BaseModel):
    txn_id: uuid.UUID
    posted: bool  # False when this refund id had been posted already (a retry)
    refunded_total: int  # every refund of the quote so far, this one included
    refundable: int  # what may still be refunded
    # Before the sale was posted the money only came in and went out; after it, the
    # commission and the vendor's share are reversed (a clawback if already paid out).
    before_sale: bool
