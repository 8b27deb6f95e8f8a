"""Reading catalog CSVs as Excel in Chile writes them (pure functions, no database)."""

from pathlib import Path

import pytest

from marketred.services.catalog.csv_reader import decode, guess_delimiter, parse, parse_clp

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("raw", "pesos"),
    [
        ("12990", 12990),
        ("12.990", 12990),
        ("$12.990", 12990),
        ("$ 12.990", 12990),
        ("1.234.567", 1234567),
        ("12.990,00", 12990),
        (" 990 ", 990),
    ],
)
def test_clp_prices_in_the_ways_people_write_them(raw, pesos):
    assert parse_clp(raw) == pesos


@pytest.mark.parametrize("raw", ["12990,5", "12.99", "-500", "abc", "", "12,990", "1.2345"])
def test_prices_with_decimals_or_garbage_are_refused(raw):
    with pytest.raises(ValueError):  # noqa: PT011 - the message is asserted elsewhere
        parse_clp(raw)


def test_windows_1252_and_utf8_with_or_without_bom_decode_to_the_same_text():
    text = "Descripción;Café;Ñandú"
    assert decode(text.encode("cp1252")) == text
    assert decode(text.encode("utf-8")) == text
    assert decode(b"\xef\xbb\xbf" + text.encode("utf-8")) == text


def test_delimiter_is_guessed_from_the_header():
    assert guess_delimiter("sku;nombre;precio") == ";"
    assert guess_delimiter("sku,nombre,precio") == ","
    assert guess_delimiter("sku\tnombre\tprecio") == "\t"


def test_windows_1252_semicolon_file_with_peso_signs():
    parsed = parse((FIXTURES / "catalogo_windows1252_punto_y_coma.csv").read_bytes())
    assert parsed.errors == []
    assert [(r.sku, r.price, r.stock) for r in parsed.rows] == [
        ("ZAP-38-NEG", 12990, 4),
        ("ZAP-40-NEG", 12990, None),
        ("CAF-250", 7490, None),
    ]
    assert parsed.rows[2].name == "Café de grano tostado"
    assert parsed.rows[0].options == {"Talla": "38", "Color": "negro"}
    assert parsed.rows[2].options == {}
    assert parsed.option_columns == ["Talla", "Color"]


def test_utf8_bom_comma_file_with_quoted_keywords():
    parsed = parse((FIXTURES / "catalogo_utf8_bom_coma.csv").read_bytes())
    assert parsed.errors == []
    assert parsed.rows[0].keywords == ["miel", "ulmo", "sur"]
    assert parsed.rows[1].price == 21990
    assert parsed.rows[0].active is True


def test_bad_rows_are_reported_with_their_file_line_numbers():
    parsed = parse((FIXTURES / "catalogo_con_errores.csv").read_bytes())
    assert [(line, col) for line, col, _ in parsed.errors] == [(3, "precio"), (4, "nombre")]
    assert [r.sku for r in parsed.rows] == ["MUG-01"]


def test_missing_required_columns_and_duplicate_skus():
    parsed = parse(b"sku;precio\nA;100\n")
    assert parsed.errors == [(1, "nombre", "required column missing")]
    dup = parse(b"sku;nombre;precio\nA;Uno;100\nA;Dos;200\n")
    assert dup.errors[0][:2] == (3, "sku")


def test_absurd_prices_are_refused():
    parsed = parse(b"sku;nombre;precio\nA;Yate;1.000.000.001\nB;Nada;0\n")
    assert [(line, col) for line, col, _ in parsed.errors] == [(2, "precio"), (3, "precio")]
