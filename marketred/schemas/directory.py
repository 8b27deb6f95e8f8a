"""Contracts with the directory (InforedChile): inbound company updates, outbound indexer
documents, and the inputs/results of the indexer workflow and activity."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, field_validator

from marketred.schemas.rut import normalize_rut


class CompanyUpdate(BaseModel):
    """Body of `PUT /api/v1/directory/companies/{directory_id}`.

    Unknown fields are ignored (the directory may add some without breaking the sync);
    the ones we use are validated, and a bad one is a 422 with nothing written.
    """

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    rut: str = Field(min_length=3, max_length=20)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=500)
    logo_url: str | None = Field(default=None, max_length=1024)
    categories: list[str] = Field(default_factory=list, max_length=30)
    active: bool = True
    updated_at: AwareDatetime

    @field_validator("rut")
    @classmethod
    def _valid_rut(cls, value: str) -> str:
        return normalize_rut(value)

    @field_validator("logo_url")
    @classmethod
    def _http_logo(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("logo_url must be an http(s) URL")
        return value or None

    @field_validator("categories")
    @classmethod
    def _clean_categories(cls, value: list[str]) -> list[str]:
        cleaned = [c.strip() for c in value if c.strip()]
        if any(len(c) > 80 for c in cleaned):
            raise ValueError("a category is longer than 80 characters")
        return list(dict.fromkeys(cleaned))


SyncOutcome = Literal["created", "updated", "ignored"]


class CompanySyncResult(BaseModel):
    directory_id: str
    vendor: str = Field(description="our vendor slug (made from the name on first sight)")
    name: str
    active: bool
    outcome: SyncOutcome
    note: str | None = None


class IndexedProduct(BaseModel):
    """What the directory's indexer learns about one of our products."""

    id: uuid.UUID
    vendor: str
    vendor_name: str
    vendor_directory_id: str | None = None
    name: str
    keywords: list[str]
    category: str | None = None
    price_min: int
    price_max: int
    currency: str = "CLP"
    url: str
    updated_at: AwareDatetime


# --- indexer workflow contracts -------------------------------------------------------

INDEXER_WORKFLOW_PREFIX = "index-product-"
PRODUCT_CHANGED_SIGNAL = "product_changed"
PUSH_ACTIVITY = "push_product_to_indexer"


def indexer_workflow_id(product_id: uuid.UUID) -> str:
    return f"{INDEXER_WORKFLOW_PREFIX}{product_id}"


class IndexProductInput(BaseModel):
    product_id: uuid.UUID
    # Rapid edits inside this window coalesce into one push of the last state.
    debounce: timedelta = timedelta(seconds=2)
    # How long the workflow waits for another change before it finishes.
    linger: timedelta = timedelta(minutes=5)
    pushes_before_continue_as_new: int = 200


class ProductChanged(BaseModel):
    """Signal: the product changed; push its current state after the debounce window."""

    product_id: uuid.UUID


class IndexProductResult(BaseModel):
    product_id: uuid.UUID
    pushes: int
    changes_seen: int


class PushProductInput(BaseModel):
    product_id: uuid.UUID


class PushProductResult(BaseModel):
    product_id: uuid.UUID
    action: Literal["upsert", "delete"]
    status_code: int
