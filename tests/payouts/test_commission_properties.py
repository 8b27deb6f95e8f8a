"""Property tests of the money rules over random carts and commission rates."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from marketred.schemas.money import MAX_PRICE, commission_for, quote_totals
from marketred.schemas.payouts import payout_totals, refund_split, refund_split_after, split_payment
from marketred.services.payouts.report import ReportLine, render_csv

bps = st.integers(min_value=0, max_value=10_000)
lines = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=MAX_PRICE), st.integers(min_value=1, max_value=50)
    ),
    min_size=1,
    max_size=12,
)
carts = st.tuples(lines, st.integers(min_value=0, max_value=500_000))


@given(carts=st.lists(carts, min_size=1, max_size=20), rate=bps)
def test_commissions_and_nets_add_up_to_the_payments(
    carts: list[tuple[list[tuple[int, int]], int]], rate: int
) -> None:
    payments = [quote_totals(cart_lines, shipping)[1] for cart_lines, shipping in carts]
    splits = [split_payment(amount, rate) for amount in payments]
    for amount, (commission, net) in zip(payments, splits, strict=True):
        assert commission + net == amount
        assert commission >= 0
        assert net >= 0
    gross, commission, net = payout_totals(
        (amount, c) for amount, (c, _) in zip(payments, splits, strict=True)
    )
    assert gross == sum(payments)
    assert net + commission == sum(payments)
    assert net == sum(n for _, n in splits)


@given(amount=st.integers(min_value=0, max_value=10**13), rate=bps)
def test_half_up_rounding_never_loses_a_peso(amount: int, rate: int) -> None:
    exact = Fraction(amount * rate, 10_000)
    commission = commission_for(amount, rate)
    # Within half a peso of the exact value, and exactly halves round up.
    assert abs(commission - exact) <= Fraction(1, 2)
    if exact - int(exact) == Fraction(1, 2):
        assert commission == int(exact) + 1


@given(
    gross=st.integers(min_value=1, max_value=10**10),
    rate=bps,
    share=st.fractions(min_value=0, max_value=1),
)
def test_a_refund_never_returns_more_than_was_taken(gross: int, rate: int, share: Fraction) -> None:
    refund = max(1, int(gross * share))
    commission, net = split_payment(gross, rate)
    back_commission, back_net = refund_split(refund, gross, commission, rate)
    assert back_commission + back_net == refund
    assert 0 <= back_commission <= commission
    assert 0 <= back_net <= net
    if refund == gross:
        assert (back_commission, back_net) == (commission, net)


@given(
    items=st.lists(
        st.tuples(st.integers(min_value=-(10**9), max_value=10**9), bps), min_size=1, max_size=30
    )
)
def test_csv_totals_row_is_the_sum_of_its_lines(items: list[tuple[int, int]]) -> None:
    report_lines = []
    for i, (gross, rate) in enumerate(items):
        commission = commission_for(abs(gross), rate) * (1 if gross >= 0 else -1)
        report_lines.append(
            ReportLine(
                f"Q-{i:06d}",
                None,
                "sale" if gross >= 0 else "clawback",
                gross,
                commission,
                gross - commission,
            )
        )
    rows = [r.split(";") for r in render_csv(report_lines).split("\r\n") if r]
    body, total = rows[1:-1], rows[-1]
    for column in (3, 4, 5):
        assert int(total[column]) == sum(int(r[column]) for r in body)
    assert int(total[3]) - int(total[4]) == int(total[5])


@given(
    gross=st.integers(min_value=1, max_value=10**10),
    rate=bps,
    shares=st.lists(st.fractions(min_value=0, max_value=1), min_size=1, max_size=8),
    finish=st.booleans(),
)
def test_refunds_in_parts_return_what_one_refund_of_their_sum_would(
    gross: int, rate: int, shares: list[Fraction], finish: bool
) -> None:
    commission, net = split_payment(gross, rate)
    parts: list[int] = []
    left = gross
    for share in shares:
        part = min(left, max(1, int(gross * share / len(shares))))
        if part <= 0:
            break
        parts.append(part)
        left -= part
    if finish and left:
        parts.append(left)
    back_commission = back_net = refunded = 0
    for part in parts:
        c, n = refund_split_after(refunded, part, gross, commission, rate)
        assert c + n == part
        assert c >= 0
        assert n >= 0
        back_commission += c
        back_net += n
        refunded += part
    # In parts or at once, the same pesos come back; all of it returns exactly what was taken.
    assert (back_commission, back_net) == refund_split(refunded, gross, commission, rate)
    assert back_commission <= commission
    assert back_net <= net
