from hypothesis import given
from hypothesis import strategies as st

from marketred.schemas.money import commission_for, format_clp, quote_totals, vendor_net
from marketred.schemas.rut import format_rut, normalize_rut
from marketred.schemas.slugs import slugify


def test_commission_rounds_half_up_in_integers():
    assert commission_for(12990, 1000) == 1299
    assert commission_for(5, 1000) == 1  # 0.5 rounds up
    assert commission_for(4, 1000) == 0  # 0.4 rounds down
    assert commission_for(1, 5000) == 1


@given(st.integers(0, 10**10), st.integers(0, 10_000))
def test_commission_plus_net_is_the_amount(amount, bps):
    c = commission_for(amount, bps)
    assert 0 <= c <= amount
    assert c + vendor_net(amount, bps) == amount


def test_totals_and_clp_format():
    assert quote_totals([(12990, 2), (3990, 1)], 3990) == (29970, 33960)
    assert format_clp(12990) == "$12.990"
    assert format_clp(1234567) == "$1.234.567"
    assert format_clp(0) == "$0"


def test_rut_check_digit():
    assert normalize_rut("76.086.428-5") == "76086428-5"
    assert normalize_rut("11111111-1") == "11111111-1"
    assert format_rut("760864285") == "76.086.428-5"
    for bad in ("76.086.428-4", "abc", "1-9", ""):
        try:
            normalize_rut(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")


def test_slugify_spanish_names():
    assert slugify("Café Ñuñoa Ltda.") == "cafe-nunoa-ltda"
    assert slugify("  ¡¡!! ") == "empresa"
