"""The demo companies: plain data that both the marketplace's demo seed
(`services/operations/demo.py`) and the directory sandbox (`sandbox/directory/`) know, so the two
agree on slugs, RUTs and directory ids without the sandbox importing services."""

from __future__ import annotations

from typing import Any

DEMO_VENDORS: list[dict[str, Any]] = [
    {
        "slug": "cafe-altiplano",
        "name": "Café Altiplano SpA",
        "rut": "76.086.428-5",
        "email": "ventas@cafealtiplano.cl",
        "phone": "+56 2 2345 6789",
        "address": "Av. Italia 1234, Ñuñoa, Santiago",
        "directory_id": "inf-1001",
        "description": "Tostaduría de especialidad en Ñuñoa.",
        "products": [
            (
                "Café de grano Etiopía Yirgacheffe",
                "Tueste medio, notas florales y cítricas.",
                "café grano especialidad etiopía",
                "Café",
                [
                    ("CAF-ETI-250", {"formato": "250 g"}, 8990),
                    ("CAF-ETI-1K", {"formato": "1 kg"}, 29990),
                ],
            ),
            (
                "Café molido Colombia Huila",
                "Molienda media para cafetera italiana.",
                "café molido colombia",
                "Café",
                [("CAF-COL-250", {"formato": "250 g"}, 7490)],
            ),
            (
                "Chocolate amargo 70% cacao",
                "Barra artesanal con cacao de Ecuador.",
                "chocolate cacao barra",
                "Dulces",
                [("CHO-70-100", {"formato": "100 g"}, 3990)],
            ),
        ],
    },
    {
        "slug": "textiles-chiloe",
        "name": "Textiles Chiloé Ltda.",
        "rut": "77.123.456-9",
        "email": "contacto@textileschiloe.cl",
        "phone": "+56 65 263 1234",
        "address": "Calle Blanco 456, Castro, Chiloé",
        "directory_id": "inf-1002",
        "description": "Tejidos de lana natural hechos a mano en Castro.",
        "products": [
            (
                "Chaleco de lana chilota",
                "Tejido a mano con lana de oveja teñida con plantas.",
                "chaleco lana tejido chiloé",
                "Vestuario",
                [
                    ("CHA-S-GRIS", {"talla": "S", "color": "gris"}, 34990),
                    ("CHA-M-GRIS", {"talla": "M", "color": "gris"}, 34990),
                    ("CHA-L-CRUDO", {"talla": "L", "color": "crudo"}, 36990),
                ],
            ),
            (
                "Gorro de lana",
                "Gorro tejido, abrigador y suave.",
                "gorro lana invierno",
                "Vestuario",
                [("GOR-UNI", {"talla": "única"}, 12990)],
            ),
        ],
    },
    {
        "slug": "zapateria-valparaiso",
        "name": "Zapatería Valparaíso EIRL",
        "rut": "76.543.210-3",
        "email": "hola@zapateriavalpo.cl",
        "phone": "+56 32 221 3344",
        "address": "Cerro Alegre 789, Valparaíso",
        "directory_id": "inf-1003",
        "description": "Calzado de cuero hecho a mano en el puerto.",
        "products": [
            (
                "Zapato de cuero clásico",
                "Cuero curtido vegetal, suela de goma.",
                "zapato cuero hombre mujer",
                "Calzado",
                [
                    ("ZAP-39-CAFE", {"talla": "39", "color": "café"}, 59990),
                    ("ZAP-41-NEGRO", {"talla": "41", "color": "negro"}, 59990),
                ],
            ),
            (
                "Botín de gamuza",
                "Botín con cierre lateral.",
                "botín gamuza",
                "Calzado",
                [("BOT-38", {"talla": "38"}, 69990)],
            ),
        ],
    },
]


# Where two of the vendors are paid (bank code, account type, number).
DEMO_BANK_ACCOUNTS: dict[str, tuple[str, str, str]] = {
    "cafe-altiplano": ("012", "corriente", "00012345678"),
    "textiles-chiloe": ("016", "vista", "777012345678"),
}
