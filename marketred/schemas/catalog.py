"""Catalog shapes: vendor-side writes (strict, 422 naming the field), public reads, search."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from marketred.schemas.common import Page, StrictModel
from marketred.schemas.money import CURRENCY, MAX_PRICE

# Prices are whole CLP: strict ints refuse 12990.5, "12990" and booleans.
Price = Annotated[int, Field(strict=True, gt=0, le=MAX_PRICE)]
Stock = Annotated[int, Field(strict=True, ge=0, le=10_000_000)]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
OptionValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
ImageUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=1024, pattern=r"^https?://\S+$")
]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Options = Annotated[dict[OptionKey, OptionValue], Field(max_length=10)]

MAX_VARIANTS = 100


class VariantIn(StrictModel):
    sku: Sku
    options: Options = Field(default_factory=dict)
    price: Price
    # None = stock not tracked.
    stock: Stock | None = None
    active: bool = True


def _no_nulls(model: BaseModel, fields: tuple[str, ...]) -> None:
    for name in fields:
        if name in model.model_fields_set and getattr(model, name) is None:
            raise ValueError(f"{name} cannot be null")


class VariantPatch(StrictModel):
    sku: Sku | None = None
    options: Options | None = None
    price: Price | None = None
    stock: Stock | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _not_null(self) -> VariantPatch:
        _no_nulls(self, ("sku", "options", "price", "active"))
        return self


class ProductFields(StrictModel):
    description: str = Field(default="", max_length=5000)
    keywords: list[Keyword] = Field(default_factory=list, max_length=30)
    category: Category | None = None
    image_urls: list[ImageUrl] = Field(default_factory=list, max_length=10)
    active: bool = True


class ProductIn(ProductFields):
    name: Name
    variants: list[VariantIn] = Field(min_length=1, max_length=MAX_VARIANTS)

    @field_validator("variants")
    @classmethod
    def _unique_skus(cls, variants: list[VariantIn]) -> list[VariantIn]:
        seen: set[str] = set()
        for v in variants:
            if v.sku in seen:
                raise ValueError(f"SKU {v.sku!r} appears twice")
            seen.add(v.sku)
        return variants


class ProductPatch(StrictModel):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=5000)
    keywords: list[Keyword] | None = Field(default=None, max_length=30)
    category: Category | None = None
    image_urls: list[ImageUrl] | None = Field(default=None, max_length=10)
    active: bool | None = None

    @model_validator(mode="after")
    def _not_null(self) -> ProductPatch:
        _no_nulls(self, ("name", "description", "keywords", "image_urls", "active"))
        return self


class VariantOut(BaseModel):
    id: uuid.UUID
    sku: str
    options: dict[str, str]
    label: str
    price: int
    currency: str = CURRENCY
    stock: int | None
    active: bool


class VendorRef(BaseModel):
    id: uuid.UUID
    slug: str
    name: str


class ProductOut(BaseModel):
    id: uuid.UUID
    vendor: VendorRef
    name: str
    description: str
    keywords: list[str]
    category: str | None
    image_urls: list[str]
    active: bool
    variants: list[VariantOut]
    min_price: int | None
    currency: str = CURRENCY
    created_at: datetime
    updated_at: datetime


class VendorOut(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    rut: str
    directory_id: str | None
    description: str | None
    logo_url: str | None
    email: str | None
    phone: str | None
    address: str | None
    categories: list[Any]


class ProductSummary(BaseModel):
    """A search hit or a catalog listing row."""

    id: uuid.UUID
    name: str
    vendor: VendorRef
    category: str | None
    image_url: str | None
    min_price: int
    max_price: int
    currency: str = CURRENCY
    rank: float | None = None
    # Featured by an operator now (services/catalog/featured.py); set by the search endpoints.
    featured: bool = False


class ProductPage(Page[ProductSummary]):
    """Search results. `total` is exact when `total_exact`; otherwise there are more
    matches than search counts (repositories/search.py: MAX_CANDIDATES), and `total` is
    that bound: "more than `total`"."""

    total_exact: bool = True


class ImportRowError(BaseModel):
    line: int
    field: str
    message: str
    # The problem's stable code and the values its message was made from (pages show
    # their own words by the code).
    code: str | None = None
    params: dict[str, str | int] = Field(default_factory=dict)


class ImportReport(BaseModel):
    dry_run: bool
    rows: int
    products_created: int
    variants_created: int
    variants_updated: int
    option_columns: list[str]
    errors: list[ImportRowError]
    # For the directory indexer after a real run; not part of the API answer.
    touched_product_ids: list[uuid.UUID] = Field(default_factory=list, exclude=True)
