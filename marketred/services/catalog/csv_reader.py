"""Reading a catalog CSV the way Chilean small businesses export it from Excel.

- Encoding: UTF-8 (with or without BOM), else Windows-1252.
- Delimiter: `;` (Excel in es-CL) or `,` (or tab), guessed from the header line.
- Columns (header names are case/accent-insensitive, Spanish or English):
  sku/código, nombre/name, precio/price are required; descripción, categoría,
  palabras_clave (separated by `,` or `|`), stock (empty = not tracked), imágenes
  (URLs separated by `|` or spaces), activo (sí/no) are optional. Any other column is a
  variant option (e.g. `Talla`, `Color`); an empty cell means "no such option".
- Prices: `12990`, `12.990`, `$12.990`, `$ 12.990` and `12.990,00`; decimals other than
  zero are refused (CLP has no cents).
- Rows with the same product name become variants of one product.
Line numbers are those of the file (the header is line 1).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from marketred.schemas.money import MAX_PRICE
from marketred.services.errors import Reason

MAX_ROWS = 50_000
MAX_BYTES = 20 * 1024 * 1024

_ALIASES = {
    "sku": ("sku", "codigo", "cod", "code", "codigo_sku"),
    "name": ("nombre", "name", "producto", "product", "nombre_producto"),
    "description": ("descripcion", "description", "detalle"),
    "category": ("categoria", "category", "rubro"),
    "keywords": ("palabras_clave", "keywords", "etiquetas", "tags"),
    "price": ("precio", "price", "valor", "precio_clp"),
    "stock": ("stock", "inventario", "existencias", "cantidad"),
    "images": ("imagenes", "images", "imagen", "image", "image_urls", "fotos"),
    "active": ("activo", "active", "habilitado"),
}
_BY_ALIAS = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_TRUE = {"si", "s", "yes", "y", "true", "1", "x", "verdadero"}
_FALSE = {"no", "n", "false", "0", "falso"}
_URL = re.compile(r"^https?://\S+$")
_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")


@dataclass
class CsvRow:
    line: int
    sku: str
    name: str
    price: int
    description: str | None = None
    category: str | None = None
    keywords: list[str] | None = None
    stock: int | None = None
    image_urls: list[str] | None = None
    active: bool | None = None
    options: dict[str, str] = field(default_factory=dict)


@dataclass
class CsvFile:
    rows: list[CsvRow]
    errors: list[tuple[int, str, str]]  # (line, column, message)
    columns: set[str]  # canonical columns present
    option_columns: list[str]
    data_rows: int


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def guess_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def parse_clp(raw: str) -> int:
    """`12990`, `12.990`, `$12.990`, `12.990,00` → 12990; ValueError with a reason."""
    text = raw.strip().replace("$", "").replace("CLP", "").replace("clp", "")
    text = text.replace(" ", "").replace("\u00a0", "")
    if not text:
        raise ValueError(Reason("REQUIRED", "empty"))
    if "," in text:
        whole, _, cents = text.rpartition(",")
        if cents.strip("0") or not whole:
            raise ValueError(Reason("CLP_DECIMALS", "CLP has no decimals; write 12990 or 12.990"))
        text = whole
    if text.startswith("-"):
        raise ValueError(Reason("MUST_BE_POSITIVE", "must be positive"))
    if _THOUSANDS.match(text):
        text = text.replace(".", "")
    if not text.isdigit():
        raise ValueError(
            Reason("CLP_NOT_A_NUMBER", "not a whole number of pesos (write 12990 or 12.990)")
        )
    return int(text)


def _split(text: str, pattern: str) -> list[str]:
    return [p.strip() for p in re.split(pattern, text) if p.strip()]


def parse(data: bytes) -> CsvFile:
    if len(data) > MAX_BYTES:
        return CsvFile(
            [],
            [(0, "file", Reason("CSV_TOO_LARGE", f"larger than {MAX_BYTES // (1024 * 1024)} MB"))],
            set(),
            [],
            0,
        )
    text = decode(data)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=guess_delimiter(first_line))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        return CsvFile(
            [],
            [(1, "file", Reason("CSV_NO_HEADER", "the file is empty or has no header row"))],
            set(),
            [],
            0,
        )
    columns: dict[int, str] = {}
    options: dict[int, str] = {}
    errors: list[tuple[int, str, str]] = []
    for i, raw in enumerate(header):
        if not raw.strip():
            continue
        canonical = _BY_ALIAS.get(_plain(raw))
        if canonical is None:
            options[i] = raw.strip()[:40]
        elif canonical in columns.values():
            errors.append((1, raw.strip(), Reason("CSV_COLUMN_TWICE", "column appears twice")))
        else:
            columns[i] = canonical
    present = set(columns.values())
    for required, label in (("sku", "sku"), ("name", "nombre"), ("price", "precio")):
        if required not in present:
            errors.append((1, label, Reason("CSV_COLUMN_MISSING", "required column missing")))
    if errors:
        return CsvFile([], errors, present, list(options.values()), 0)

    rows: list[CsvRow] = []
    seen_skus: dict[str, int] = {}
    count = 0
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        count += 1
        if count > MAX_ROWS:
            errors.append(
                (
                    line,
                    "file",
                    Reason(
                        "CSV_TOO_MANY_ROWS",
                        f"more than {MAX_ROWS} rows; split the file",
                        n=MAX_ROWS,
                    ),
                )
            )
            break
        row = _row(line, cells, columns, options, errors)
        if row is None:
            continue
        if row.sku in seen_skus:
            first = seen_skus[row.sku]
            repeated = f"SKU {row.sku!r} already on line {first}"
            errors.append(
                (line, "sku", Reason("CSV_SKU_REPEATED", repeated, sku=repr(row.sku), line=first))
            )
            continue
        seen_skus[row.sku] = line
        rows.append(row)
    return CsvFile(rows, errors, present, list(options.values()), count)


def _row(
    line: int,
    cells: list[str],
    columns: dict[int, str],
    option_columns: dict[int, str],
    errors: list[tuple[int, str, str]],
) -> CsvRow | None:
    values: dict[str, str] = {}
    for i, name in columns.items():
        values[name] = cells[i].strip() if i < len(cells) else ""
    before = len(errors)

    def bad(column: str, message: str) -> None:
        errors.append((line, column, message))

    sku, name = values.get("sku", ""), values.get("name", "")
    if not sku:
        bad("sku", Reason("REQUIRED", "required"))
    elif len(sku) > 80:
        bad("sku", Reason("TOO_LONG", "at most 80 characters", n=80))
    if not name:
        bad("nombre", Reason("REQUIRED", "required"))
    elif len(name) > 200:
        bad("nombre", Reason("TOO_LONG", "at most 200 characters", n=200))
    price = 0
    try:
        price = parse_clp(values.get("price", ""))
        if price <= 0:
            bad("precio", Reason("MUST_BE_POSITIVE", "must be positive"))
        elif price > MAX_PRICE:
            bad(
                "precio",
                Reason("PRICE_ABOVE_MAX", f"above the maximum of {MAX_PRICE}", n=MAX_PRICE),
            )
    except ValueError as exc:
        bad("precio", exc.args[0])
    row = CsvRow(line=line, sku=sku, name=name, price=price)
    if "description" in values:
        row.description = values["description"][:5000]
    if "category" in values:
        row.category = values["category"][:120] or None
    if "keywords" in values:
        row.keywords = [k[:60] for k in _split(values["keywords"], r"[,|]")][:30]
    if values.get("stock"):
        try:
            row.stock = parse_clp(values["stock"])
        except ValueError:
            bad("stock", Reason("STOCK_NOT_A_NUMBER", "a whole number, or empty when not tracked"))
    if "images" in values:
        urls = _split(values["images"], r"[|\s]+")
        if any(not _URL.match(u) or len(u) > 1024 for u in urls):
            bad("imagenes", Reason("IMAGE_URLS", "http(s) URLs separated by |"))
        row.image_urls = urls[:10]
    if values.get("active"):
        flag = _plain(values["active"])
        if flag in _TRUE:
            row.active = True
        elif flag in _FALSE:
            row.active = False
        else:
            bad("activo", Reason("YES_OR_NO", "write si or no"))
    for i, key in option_columns.items():
        value = cells[i].strip() if i < len(cells) else ""
        if value:
            if len(value) > 80:
                bad(key, Reason("TOO_LONG", "at most 80 characters", n=80))
            row.options[key] = value
    return row if len(errors) == before else None
