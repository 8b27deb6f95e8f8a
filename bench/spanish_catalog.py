"""A realistic Spanish (Chilean) catalog for benchmarks: vendors, products, variants.

Deterministic for a seed. What makes it realistic enough to measure search on:
- Product types follow a Zipf-like popularity (a few, like "polera" or "café", are in
  thousands of products; most in a few hundred), so common queries match large sets
  and rare ones small sets, as in a real marketplace.
- Names mix a type, a material or variety, a colour or flavour and a brand/origin;
  descriptions are two or three template sentences with shared marketplace words
  ("envío", "calidad", "hecho a mano") that appear in many products.
- Accents, ñ and plurals appear as shoppers would type them or not.
- Variants: sizes, colours or formats, 1 to 5 per product, CLP prices ending in 90.

`QUERIES` is the search mix the bench times: head terms, plurals, unaccented words,
multi-word queries, typos that full text cannot match (the trigram fallback), and
filters by vendor, category and price.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# (type, category, options) in rough order of popularity.
TYPES: list[tuple[str, str, str]] = [
    ("polera", "Vestuario", "talla"),
    ("café", "Almacén", "formato"),
    ("zapatilla", "Calzado", "talla"),
    ("jabón", "Cosmética", "aroma"),
    ("miel", "Almacén", "formato"),
    ("chaqueta", "Vestuario", "talla"),
    ("vino", "Bebidas", "formato"),
    ("taza", "Hogar", "color"),
    ("zapato", "Calzado", "talla"),
    ("mochila", "Accesorios", "color"),
    ("chocolate", "Almacén", "formato"),
    ("vela", "Hogar", "aroma"),
    ("bufanda", "Vestuario", "color"),
    ("pantalón", "Vestuario", "talla"),
    ("té", "Almacén", "formato"),
    ("cerveza", "Bebidas", "formato"),
    ("aceite de oliva", "Almacén", "formato"),
    ("mermelada", "Almacén", "formato"),
    ("bota", "Calzado", "talla"),
    ("cartera", "Accesorios", "color"),
    ("poncho", "Vestuario", "talla"),
    ("gorro", "Vestuario", "color"),
    ("queso", "Almacén", "formato"),
    ("crema facial", "Cosmética", "formato"),
    ("shampoo sólido", "Cosmética", "aroma"),
    ("cojín", "Hogar", "color"),
    ("manta", "Hogar", "color"),
    ("sábana", "Hogar", "talla"),
    ("mantel", "Hogar", "color"),
    ("maceta", "Jardín", "talla"),
    ("semillas", "Jardín", "formato"),
    ("cuaderno", "Librería", "formato"),
    ("agenda", "Librería", "formato"),
    ("aros", "Joyería", "color"),
    ("collar", "Joyería", "color"),
    ("pulsera", "Joyería", "color"),
    ("cinturón", "Accesorios", "talla"),
    ("billetera", "Accesorios", "color"),
    ("sandalia", "Calzado", "talla"),
    ("calcetines", "Vestuario", "talla"),
    ("merkén", "Almacén", "formato"),
    ("galletas", "Almacén", "formato"),
    ("pisco", "Bebidas", "formato"),
    ("kombucha", "Bebidas", "formato"),
    ("tabla de picar", "Hogar", "talla"),
    ("cuchillo", "Hogar", "talla"),
    ("juguete de madera", "Juguetes", "color"),
    ("peluche", "Juguetes", "color"),
    ("rompecabezas", "Juguetes", "formato"),
    ("correa para perro", "Mascotas", "talla"),
    ("cama para gato", "Mascotas", "talla"),
    ("lámpara", "Hogar", "color"),
    ("canasto de mimbre", "Hogar", "talla"),
    ("alfajor", "Almacén", "formato"),
    ("harina integral", "Almacén", "formato"),
    ("quínoa", "Almacén", "formato"),
    ("licor de murtilla", "Bebidas", "formato"),
    ("individuales", "Hogar", "color"),
    ("delantal", "Hogar", "talla"),
    ("guantes", "Vestuario", "talla"),
]
MATERIALS = {
    "Vestuario": [
        "de algodón orgánico",
        "de lana de oveja",
        "de alpaca",
        "de lino",
        "polar",
        "de mezclilla",
        "tejido a palillo",
        "estampado",
        "reciclado",
    ],
    "Calzado": [
        "de cuero",
        "de gamuza",
        "de lona",
        "veganas",
        "outdoor",
        "urbanas",
        "de trekking",
        "con plataforma",
    ],
    "Almacén": [
        "orgánico",
        "artesanal",
        "sin azúcar",
        "de grano",
        "tostado",
        "ahumado",
        "con maqui",
        "con calafate",
        "integral",
        "sin gluten",
    ],
    "Bebidas": ["reserva", "artesanal", "ahumada", "de autor", "orgánico", "sin alcohol"],
    "Cosmética": [
        "natural",
        "de rosa mosqueta",
        "de avena",
        "con miel de ulmo",
        "vegano",
        "de lavanda",
        "de caléndula",
    ],
    "Hogar": [
        "de greda",
        "de cerámica",
        "de cobre",
        "de madera nativa",
        "de lana",
        "de lino",
        "de mimbre",
        "esmaltado",
    ],
    "Jardín": ["de greda", "de terracota", "autorriego", "colgante", "nativas"],
    "Librería": ["reciclado", "de cuero", "ilustrado", "tapa dura", "artesanal"],
    "Joyería": ["de plata", "de cobre", "de lapislázuli", "de cuarzo", "mapuche", "de resina"],
    "Accesorios": ["de cuero", "de lona", "de yute", "tejido", "impermeable"],
    "Juguetes": ["de madera", "tejido", "didáctico", "de fieltro", "Montessori"],
    "Mascotas": ["acolchada", "reforzada", "de cuero", "lavable", "ajustable"],
}
COLORS = [
    "negro",
    "blanco",
    "azul marino",
    "rojo",
    "verde oliva",
    "gris",
    "terracota",
    "mostaza",
    "burdeo",
    "celeste",
    "natural",
    "rosado",
    "café",
    "beige",
]
ORIGINS = [
    "Chiloé",
    "Valdivia",
    "Pomaire",
    "Valparaíso",
    "Ñuñoa",
    "Temuco",
    "Arica",
    "Maule",
    "Puerto Varas",
    "La Serena",
    "Talca",
    "Concepción",
    "Pucón",
    "Osorno",
    "Quinchamalí",
    "Rari",
    "San Pedro de Atacama",
    "Coyhaique",
    "Limache",
    "Curicó",
]
BRAND_WORDS = [
    "Raíces",
    "Alerce",
    "Copihue",
    "Araucaria",
    "Lenga",
    "Cordillera",
    "Austral",
    "Pehuén",
    "Quillay",
    "Boldo",
    "Cóndor",
    "Huemul",
    "Patagonia",
    "Pacífico",
    "Andes",
    "Litoral",
    "Nativa",
    "Sureña",
    "Pampa",
    "Bosque",
]
DESCRIPTION_OPENERS = [
    "{Type} {material} hecho a mano en {origin}.",
    "{Type} {material}, elaborado por una MiPyme de {origin}.",
    "Nuestro {type} {material} viene directo desde {origin}.",
    "{Type} {material} de producción local en {origin}.",
]
DESCRIPTION_MIDDLES = [
    "Ideal para regalar o para el día a día.",
    "Materiales de primera calidad y terminaciones cuidadas.",
    "Producción en pequeños lotes; cada pieza es única.",
    "Certificado por el Sello Manos Campesinas.",
    "Disponible en varios colores y tamaños.",
    "Apto para uso diario y fácil de limpiar.",
    "Sin preservantes ni colorantes artificiales.",
    "Empaque compostable y libre de plástico.",
]
DESCRIPTION_CLOSERS = [
    "Envío a todo Chile en 48 a 72 horas.",
    "Despacho gratis en la Región Metropolitana sobre $30.000.",
    "Retiro en tienda disponible.",
    "Compra directa al productor.",
    "",
]
SIZES = ["XS", "S", "M", "L", "XL"]
FORMATS = ["250 g", "500 g", "1 kg", "caja de 6", "caja de 12"]
AROMAS = ["lavanda", "eucalipto", "cítricos", "vainilla", "sin aroma"]
SHOE_SIZES = ["36", "37", "38", "39", "40", "41", "42", "43"]
CITIES = ORIGINS
COMPANY_KINDS = [
    "Taller",
    "Tienda",
    "Emporio",
    "Almacén",
    "Cooperativa",
    "Hilandería",
    "Tostaduría",
    "Cervecería",
    "Viña",
    "Alfarería",
    "Estudio",
    "Botica",
]

# The timed search mix: (query, filter by a vendor?, category, min_price, max_price).
QUERIES: list[tuple[str, bool, str | None, int | None, int | None]] = [
    ("polera", False, None, None, None),  # the most common type
    ("poleras algodon", False, None, None, None),  # plural, no accent
    ("cafe de grano", False, None, None, None),
    ("zapatillas", False, None, None, None),
    ("miel de ulmo", False, None, None, None),
    ("jabon natural", False, "Cosmética", None, None),
    ("chaqueta negra", False, None, 20000, 60000),
    ("vino reserva", False, None, None, None),
    ("taza greda pomaire", False, None, None, 15000),
    ("mochla", False, None, None, None),  # typo: trigram fallback
    ("chocolat", False, None, None, None),  # truncated: trigram fallback
    ("merken", True, None, None, None),  # unaccented, one vendor
    ("bufanda alpaca", True, None, None, None),
    ("regalo", False, None, None, None),  # description-only word
    ("aros de plata", False, None, None, None),
    ("kombucha", False, None, None, None),
    ("sabanas", False, None, None, None),
    ("lampara cobre", False, None, None, None),
]


@dataclass(frozen=True)
class Catalog:
    vendors: list[tuple[uuid.UUID, str, str, str]]  # id, slug, name, rut
    products: list[tuple[uuid.UUID, uuid.UUID, str, str, str, str]]
    variants: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, str, str, int, int]]


def _rut(n: int) -> str:
    body = 76_000_000 + n * 7919
    total, factor = 0, 2
    for digit in reversed(str(body)):
        total += int(digit) * factor
        factor = 2 if factor == 7 else factor + 1
    check = 11 - total % 11
    dv = {10: "K", 11: "0"}.get(check, str(check))
    return f"{body}-{dv}"


def _zipf_weights(n: int, s: float = 0.9) -> list[float]:
    return [1 / (rank**s) for rank in range(1, n + 1)]


def _options(kind: str, type_name: str, k: int) -> dict[str, str]:
    if kind == "talla":
        sizes = SHOE_SIZES if type_name in ("zapato", "zapatilla", "bota", "sandalia") else SIZES
        return {"talla": sizes[k % len(sizes)]}
    if kind == "formato":
        return {"formato": FORMATS[k % len(FORMATS)]}
    if kind == "aroma":
        return {"aroma": AROMAS[k % len(AROMAS)]}
    return {"color": COLORS[k % len(COLORS)]}


def _products(
    rng: random.Random, vendor_ids: list[uuid.UUID], count: int
) -> Iterator[tuple[Any, ...]]:
    weights = _zipf_weights(len(TYPES))
    for n in range(count):
        type_name, category, option_kind = rng.choices(TYPES, weights)[0]
        material = rng.choice(MATERIALS[category])
        color = rng.choice(COLORS) if category not in ("Almacén", "Bebidas") else ""
        brand = f"{rng.choice(BRAND_WORDS)}"
        name = " ".join(w for w in (type_name.capitalize(), material, color, brand) if w)
        origin = rng.choice(ORIGINS)
        opener = rng.choice(DESCRIPTION_OPENERS).format(
            Type=type_name.capitalize(), type=type_name, material=material, origin=origin
        )
        description = " ".join(
            s
            for s in (opener, *rng.sample(DESCRIPTION_MIDDLES, 2), rng.choice(DESCRIPTION_CLOSERS))
            if s
        )
        keywords = ", ".join(
            [type_name, material.removeprefix("de ").removeprefix("con "), origin.lower()]
        )
        vendor_id = vendor_ids[
            min(len(vendor_ids) - 1, int(rng.paretovariate(1.2)) - 1)
            if rng.random() < 0.3
            else rng.randrange(len(vendor_ids))
        ]
        yield uuid.uuid4(), vendor_id, name, description, keywords, category, option_kind, type_name
        del n


def generate(products: int, vendors: int, *, seed: int = 20261201) -> Catalog:
    """`products` products across `vendors` vendors (a few vendors hold many)."""
    rng = random.Random(seed)
    vendor_rows = []
    for i in range(vendors):
        kind, city = rng.choice(COMPANY_KINDS), rng.choice(CITIES)
        name = f"{kind} {rng.choice(BRAND_WORDS)} {city} {i}"
        vendor_rows.append((uuid.uuid4(), f"vendor-{i}", name, _rut(i)))
    vendor_ids = [v[0] for v in vendor_rows]
    product_rows, variant_rows = [], []
    for n, (pid, vid, name, description, keywords, category, kind, type_name) in enumerate(
        _products(rng, vendor_ids, products)
    ):
        product_rows.append((pid, vid, name, description, keywords, category))
        base = rng.randint(15, 600) * 100 - 10
        for k in range(rng.choice((1, 1, 2, 3, 3, 4, 5))):
            price = base + k * rng.choice((0, 0, 1000, 2000))
            options = json.dumps(_options(kind, type_name, k), ensure_ascii=False)
            variant_rows.append((uuid.uuid4(), pid, vid, f"SKU-{n}-{k}", options, price, k))
    return Catalog(vendor_rows, product_rows, variant_rows)


async def load(url: str, catalog: Catalog) -> None:
    """Bulk-load `catalog` into a migrated database (COPY), then ANALYZE."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.copy_records_to_table(
            "vendors", records=catalog.vendors, columns=["id", "slug", "name", "rut"]
        )
        await conn.copy_records_to_table(
            "products",
            records=catalog.products,
            columns=["id", "vendor_id", "name", "description", "keywords", "category"],
        )
        await conn.copy_records_to_table(
            "variants",
            records=catalog.variants,
            columns=["id", "product_id", "vendor_id", "sku", "options", "price", "position"],
        )
        await conn.execute("VACUUM ANALYZE products")
        await conn.execute("VACUUM ANALYZE variants")
        await conn.execute("ANALYZE vendors")
    finally:
        await conn.close()
