"""Group statements as data: they agree with the ledger, and with each other."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.chart import GroupAccounts, balance_of
from ledger.errors import InvalidEntry
from ledger.rice_loans import lend_rice
from ledger.shareout import plan_shareout, post_shareout
from ledger.statements import (
    SURPLUS_LINE,
    balance_sheets,
    cash_book,
    income_and_expenditure,
    period_trial_balance,
)
from tests.helpers import CHAIR, read
from tests.savings_helpers import CYCLE_START, TODAY
from tests.test_rice import LENT, make_rice_bank, rice
from tests.test_shareout import LAST, a_cycle


def test_statements_of_a_cycle_agree_with_the_share_out(book):
    v, _ = a_cycle(book)
    gid = v.group.id
    plan = read(book, lambda s: plan_shareout(s, gid, on=LAST, today=TODAY))
    (ie,) = read(book, lambda s: income_and_expenditure(s, gid, CYCLE_START, LAST))
    assert ie.commodity == "KHR"
    assert ie.surplus == plan.profit
    assert {r.account for r in ie.expenses} == {"Expenses:General"}
    (sheet,) = read(book, lambda s: balance_sheets(s, gid, LAST))
    assert sheet.balanced
    assert (sheet.equity[-1].account, sheet.equity[-1].amount) == (SURPLUS_LINE, ie.surplus)
    cash = read(book, lambda s: cash_book(s, gid, CYCLE_START, LAST))
    box = read(book, lambda s: balance_of(s, GroupAccounts(s, gid).get("cash_box").id))
    assert cash.opening == 0 and cash.closing == box
    assert cash.lines[-1].balance == box

    book.write(lambda s: post_shareout(s, gid, on=LAST, today=TODAY))
    # After the share-out the cycle's income is still reported (its closing entry is not
    # income), and the balance sheet holds only the social fund and the leftover.
    (after,) = read(book, lambda s: income_and_expenditure(s, gid, CYCLE_START, LAST))
    assert after.surplus == ie.surplus
    (sheet,) = read(book, lambda s: balance_sheets(s, gid, LAST))
    assert sheet.balanced and sheet.total_assets == 1_500 + plan.leftover
    tb = read(book, lambda s: period_trial_balance(s, gid, CYCLE_START, LAST))
    assert tb.balanced
    opening, debits, credits, closing = tb.totals("KHR")
    assert (opening, closing) == (0, 0) and debits == credits > 0


def test_rice_has_its_own_balance_sheet(book):
    v = make_rice_bank(book)
    book.write(
        lambda s: lend_rice(
            s,
            v.group.id,
            "M01",
            "CONS",
            rice("100"),
            on=LENT,
            approver=CHAIR,
            purpose="Seed",
            today=TODAY,
        )
    )
    sheets = read(book, lambda s: balance_sheets(s, v.group.id, TODAY))
    (rice_sheet,) = [x for x in sheets if x.commodity == "RICE"]
    assert rice_sheet.balanced and rice_sheet.total_assets == 1_000_000
    assert {r.account for r in rice_sheet.assets} == {
        "Assets:Rice stock",
        "Assets:Rice loans:M01:R0001",
    }
    # A period before the loan does not see it.
    earlier = read(
        book,
        lambda s: period_trial_balance(s, v.group.id, CYCLE_START, LENT - dt.timedelta(days=1)),
    )
    assert "Assets:Rice loans:M01:R0001" not in {line.account for line in earlier.lines}


def test_a_period_that_ends_before_it_starts_is_refused(book):
    v = make_rice_bank(book)
    with pytest.raises(InvalidEntry, match="ends"):
        read(book, lambda s: period_trial_balance(s, v.group.id, LAST, CYCLE_START))
