"""Loan products and the central bank's rate cap."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.loan_products import LoanProductError, create_product, describe, list_products
from tests.savings_helpers import khr, make_vsla


def product(book, group_id, **terms):
    base = {
        "code": "STD",
        "name": "Standard loan",
        "rate_per_month": Decimal("0.015"),
        "term_periods": 10,
        "frequency": "monthly",
        "rounding_unit": khr(100),
    } | terms
    code, name = base.pop("code"), base.pop("name")
    return book.write(lambda s: create_product(s, group_id, code, name, **base))


def test_a_declining_balance_product_at_the_cap(book):
    v = make_vsla(book)
    p = product(book, v.group.id)
    assert (p.rate_per_year, p.warnings) == (Decimal("0.180"), ())
    assert describe(p, "KHR").startswith(
        "STD: Declining balance, equal instalments, 1.5 % a month (18 % a year), 10 monthly"
    )


def test_flat_interest_needs_an_override_and_always_warns(book):
    v = make_vsla(book)
    with pytest.raises(LoanProductError, match=r"Flat interest.*NBC.*record the reason"):
        product(book, v.group.id, method="flat", rate_per_month=Decimal("0.01"))
    p = product(
        book,
        v.group.id,
        method="flat",
        rate_per_month=Decimal("0.01"),
        override_reason="Group vote of 2026-01-05: members prefer fixed interest",
    )
    assert "NBC" in p.warnings[0]
    assert "WARNING: Flat interest" in describe(p, "KHR")


def test_a_rate_above_the_cap_needs_an_override(book):
    v = make_vsla(book)
    with pytest.raises(LoanProductError, match="36 % a year is above the cap of 18 %"):
        product(book, v.group.id, rate_per_month=Decimal("0.03"))
    # A VSLA's 1.5 % per 30 days is 18.25 % a year: just over.
    with pytest.raises(LoanProductError, match=r"18\.25 % a year"):
        product(book, v.group.id, method="vsla_30_days")
    p = product(book, v.group.id, code="VSLA", method="vsla_30_days", cap_per_year=Decimal("0.60"))
    assert p.warnings == ()
    assert [x.code for x in book.write(lambda s: list_products(s, v.group.id))] == ["VSLA"]


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"rate_per_month": 0.015}, "must be exact"),
        ({"rate_per_month": Decimal("0.0000001")}, "more than four decimals"),
        ({"term_periods": 0}, "1 to 520"),
        ({"frequency": "daily"}, "not 'daily'"),
        ({"frequency": "bullet"}, "bullet loan is repaid in one payment"),
        ({"grace_periods": 10}, "at least one repayment"),
        ({"method": "compound"}, "Unknown method"),
        ({"code": ""}, "1 to 32 characters"),
    ],
)
def test_bad_terms_are_refused(book, terms, message):
    v = make_vsla(book)
    with pytest.raises(LoanProductError, match=message):
        product(book, v.group.id, **terms)


def test_the_database_refuses_flat_interest_without_a_reason(book):
    v = make_vsla(book)
    product(book, v.group.id)
    with pytest.raises(DBAPIError, match="override_recorded"), book.engine.begin() as conn:
        conn.execute(text("UPDATE loan_products SET method = 'flat'"))
