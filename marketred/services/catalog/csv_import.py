"""CSV import of a vendor's catalog (file format: services/catalog/csv_reader.py).

- Dry run: parse, validate and count what would change; nothing is written.
- Real run: all-or-nothing inside the caller's transaction; any bad row → InvalidInput
  listing every bad row as `line N: column` and nothing is written.
- Re-importing a file updates variants by SKU (and their products) instead of
  duplicating. A new SKU joins the product of another SKU of the same product name in
  the file, else a new product is created.
Writes are a handful of bulk statements so 10,000 rows take seconds.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketred.schemas.accounts import Principal
from marketred.schemas.catalog import ImportReport, ImportRowError
from marketred.services.accounts import authz
from marketred.services.catalog import csv_reader as catalog_csv
from marketred.services.catalog.csv_reader import CsvFile, CsvRow
from marketred.services.catalog.views import keywords_to_text
from marketred.services.directory import indexer as directory_indexer
from marketred.services.errors import InvalidInput, Reason, code_of, params_of
from marketred.store.repositories import catalog as repo


def _product_key(name: str) -> str:
    return " ".join(name.lower().split())


def _product_fields(row: CsvRow, parsed: CsvFile) -> dict[str, Any]:
    """Product columns the file actually carries (absent columns leave data as is)."""
    fields: dict[str, Any] = {"name": row.name}
    if row.description is not None:
        fields["description"] = row.description
    if "category" in parsed.columns:
        fields["category"] = row.category
    if row.keywords is not None:
        fields["keywords"] = keywords_to_text(row.keywords)
    if row.image_urls is not None:
        fields["image_urls"] = row.image_urls
    if row.active is not None:
        fields["active"] = row.active
    return fields


def _variant_fields(row: CsvRow, parsed: CsvFile) -> dict[str, Any]:
    fields: dict[str, Any] = {"price": row.price}
    if "stock" in parsed.columns:
        fields["stock"] = row.stock
    if parsed.option_columns:
        fields["options"] = row.options
    return fields


def _report(
    parsed: CsvFile,
    dry_run: bool,
    counts: tuple[int, int, int],
    touched: list[uuid.UUID] | None = None,
) -> ImportReport:
    return ImportReport(
        dry_run=dry_run,
        rows=parsed.data_rows,
        products_created=counts[0],
        variants_created=counts[1],
        variants_updated=counts[2],
        option_columns=parsed.option_columns,
        errors=[
            ImportRowError(line=ln, field=f, message=m, code=code_of(m), params=params_of(m))
            for ln, f, m in parsed.errors
        ],
        touched_product_ids=touched or [],
    )


async def import_csv(
    session: AsyncSession, principal: Principal, data: bytes, *, dry_run: bool
) -> ImportReport:
    vendor_id = authz.catalog_owner(principal)
    # Parsing a large file is pure CPU: in a thread, so other requests keep being served.
    parsed = await asyncio.to_thread(catalog_csv.parse, data)
    if not parsed.errors and not parsed.rows:
        parsed.errors.append((1, "file", Reason("CSV_NO_ROWS", "no data rows")))
    if parsed.errors:
        if dry_run:
            return _report(parsed, True, (0, 0, 0))
        problems = len(parsed.errors)
        raise InvalidInput(
            Reason(
                "CSV_PROBLEMS",
                f"{problems} problem(s) in the file; nothing was imported",
                n=problems,
            ),
            errors=[(f"line {ln}: {col}", msg) for ln, col, msg in parsed.errors[:200]],
        )

    known = await repo.sku_index(session, vendor_id, [r.sku for r in parsed.rows])
    # Which product each name group lands in: the product of a known SKU, else a new one.
    group_product: dict[str, uuid.UUID] = {}
    for row in parsed.rows:
        if row.sku in known:
            group_product.setdefault(_product_key(row.name), known[row.sku][1])
    new_products: list[dict[str, Any]] = []
    product_updates: dict[uuid.UUID, dict[str, Any]] = {}
    new_variants: list[CsvRow] = []
    variant_updates: list[dict[str, Any]] = []
    for row in parsed.rows:
        key = _product_key(row.name)
        if row.sku in known:
            variant_id, product_id = known[row.sku]
            product_updates.setdefault(
                product_id, {"id": product_id, **_product_fields(row, parsed)}
            )
            variant_updates.append({"id": variant_id, **_variant_fields(row, parsed)})
            continue
        if key not in group_product:
            product_id = uuid.uuid4()
            group_product[key] = product_id
            new_products.append(
                {"id": product_id, "vendor_id": vendor_id, **_product_fields(row, parsed)}
            )
        new_variants.append(row)
    counts = (len(new_products), len(new_variants), len(variant_updates))
    if dry_run:
        return _report(parsed, True, counts)

    touched_existing = {group_product[_product_key(r.name)] for r in new_variants}
    positions = await repo.max_positions(session, list(touched_existing))
    variant_rows: list[dict[str, Any]] = []
    for row in new_variants:
        product_id = group_product[_product_key(row.name)]
        position = positions.get(product_id, -1) + 1
        positions[product_id] = position
        variant_rows.append(
            {
                "id": uuid.uuid4(),
                "product_id": product_id,
                "vendor_id": vendor_id,
                "sku": row.sku,
                "options": row.options,
                "price": row.price,
                "stock": row.stock,
                "position": position,
            }
        )
    await repo.insert_products(session, _uniform(new_products))
    await repo.insert_variants(session, variant_rows)
    await repo.update_products(session, list(product_updates.values()))
    await repo.update_variants(session, variant_updates)
    touched = [p["id"] for p in new_products] + list(product_updates)
    touched += [pid for pid in touched_existing if pid not in product_updates]
    touched = list(dict.fromkeys(touched))
    await directory_indexer.record_changes(session, touched)
    return _report(parsed, False, counts, touched)


def _uniform(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Same keys in every row (one multi-row INSERT), filling what a file lacks by default."""
    defaults: dict[str, Any] = {
        "description": "",
        "category": None,
        "keywords": "",
        "image_urls": [],
        "active": True,
    }
    return [{**defaults, **row} for row in rows]
