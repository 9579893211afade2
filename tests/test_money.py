"""Exact amounts: minor units in, Money out, nothing rounded or guessed."""

from decimal import Decimal

import pytest
from moneyed import Money

from ledger.errors import CommodityMismatch, InvalidAmount, UnknownCommodity
from ledger.money import (
    MAX_POSTING_MINOR,
    decimal_text,
    format_minor,
    from_minor,
    money,
    parse_amount,
    to_minor,
)


@pytest.mark.parametrize(
    ("amount", "code", "minor"),
    [
        ("5000", "KHR", 5000),
        ("12.34", "USD", 1234),
        ("0.05", "THB", 5),
        ("120.5", "RICE", 120500),
        ("0.001", "RICE", 1),
        (Decimal("-7.10"), "USD", -710),
        (25, "KHR", 25),
    ],
)
def test_amounts_become_exact_minor_units(amount, code, minor):
    assert to_minor(money(amount, code)) == minor
    assert from_minor(minor, code) == money(amount, code)


def test_riel_is_whole_riel():
    with pytest.raises(InvalidAmount, match="more decimals than Cambodian riel allows"):
        money("100.5", "KHR")


def test_floats_are_refused_with_a_hint():
    with pytest.raises(InvalidAmount, match="floating-point"):
        money(0.1, "USD")


def test_money_built_from_a_float_elsewhere_is_still_refused_if_inexact():
    # py-moneyed turns 0.1 into Decimal('0.1'), which fits; 1/3 never does.
    with pytest.raises(InvalidAmount):
        to_minor(Money(Decimal(1) / 3, "USD"))


def test_rice_is_a_commodity_in_grams():
    assert to_minor(Money("100", "RICE")) == 100_000
    with pytest.raises(InvalidAmount, match="more decimals"):
        money("1.0005", "RICE")


def test_unknown_commodity_names_the_known_ones():
    with pytest.raises(UnknownCommodity, match="KHR, USD, THB, RICE"):
        money("1", "EUR")


def test_amount_beyond_the_storable_range_is_refused():
    assert to_minor(from_minor(MAX_POSTING_MINOR, "KHR")) == MAX_POSTING_MINOR
    with pytest.raises(InvalidAmount, match="beyond the largest amount"):
        to_minor(from_minor(MAX_POSTING_MINOR + 1, "KHR"))
    with pytest.raises(InvalidAmount, match="beyond the largest amount"):
        money("1e40", "KHR")


def test_mismatched_commodity_is_refused():
    with pytest.raises(CommodityMismatch, match="in USD but the account keeps KHR"):
        to_minor(money("1", "USD"), expected="KHR")


@pytest.mark.parametrize(
    ("text", "minor"), [("1,500", 1500), (" -2,000 ", -2000), ("1_000", 1000), ("0", 0)]
)
def test_parse_amount_accepts_what_people_write(text, minor):
    assert parse_amount(text, "KHR") == minor


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "NaN", "Infinity", "12.5"])
def test_parse_amount_refuses_nonsense(text):
    with pytest.raises(InvalidAmount):
        parse_amount(text, "KHR")


def test_formats():
    assert format_minor(1234567, "KHR") == "1,234,567 KHR"
    assert format_minor(-1050, "USD") == "-10.50 USD"
    assert decimal_text(120500, "RICE") == "120.500"
    assert decimal_text(-5, "USD") == "-0.05"
