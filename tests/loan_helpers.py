"""Builders for loan tests: a VSLA that lent M01 100,000 at its first meeting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ledger.loan_products import create_product
from ledger.loans import apply_for_loan, approve_loan, lend_at_meeting, repay_at_meeting
from ledger.meetings import add_item, close_meeting, meeting_summary, open_meeting, set_line
from ledger.permissions import acting_as
from tests.helpers import CHAIR
from tests.savings_helpers import CYCLE_START, TODAY, khr, make_vsla

WEEK = dt.timedelta(days=7)


def make_lent(book, *, code: str = "PK-01", source: str = "cash_box", **product_terms):
    """A VSLA that saved 300,000 and lent M01 100,000 over 4 weeks at its first meeting.

    ``product_terms`` override the four-week product's (e.g. ``late_penalty``).
    """
    v = make_vsla(book, code)

    def setup(s):
        terms = {
            "rate_per_month": Decimal("0.013"),
            "term_periods": 4,
            "frequency": "weekly",
            "rounding_unit": khr(100),
        }
        create_product(s, v.group.id, "W4", "Four-week loan", **(terms | product_terms))
        m = open_meeting(s, v.group.id, CYCLE_START, today=TODAY)
        for code in ("M01", "M02", "M03"):
            set_line(s, m.id, code, savings=khr(100000))
        loan = apply_for_loan(
            s,
            v.group.id,
            "M01",
            "W4",
            khr(100000),
            purpose="Piglets",
            applied_on=CYCLE_START,
            votes_for=3,
            votes_against=0,
        )
        with acting_as(s, CHAIR):
            approve_loan(s, loan.id, on=CYCLE_START)
        if source == "bank":
            add_item(s, m.id, "bank_deposit", khr(150000))
        lend_at_meeting(s, m.id, loan.id, source=source)
        close_meeting(s, m.id, khr(meeting_summary(s, m.id).expected_cash))
        return v, loan

    return book.write(setup)


def meeting(book, group_id, day, lines=(), repay=None, counted=None):
    def run(s):
        m = open_meeting(s, group_id, day, today=TODAY)
        for loan_id, amount in repay or []:
            repay_at_meeting(s, m.id, loan_id, khr(amount))
        summary = meeting_summary(s, m.id)
        return close_meeting(
            s, m.id, khr(counted if counted is not None else summary.expected_cash)
        )

    return book.write(run)


def add_product(s, group_id, code="W4", **terms):
    """A plain four-week product at 1 % a month, unless ``terms`` say otherwise."""
    base = {
        "rate_per_month": Decimal("0.01"),
        "term_periods": 4,
        "frequency": "weekly",
    }
    return create_product(s, group_id, code, code, **(base | terms))


def approved_loan(s, group_id, member, amount, product="W4", on=CYCLE_START):
    """An application recorded by the treasurer and approved by the chair."""
    loan = apply_for_loan(s, group_id, member, product, khr(amount), purpose="Seeds", applied_on=on)
    with acting_as(s, CHAIR):
        return approve_loan(s, loan.id, on=on)
