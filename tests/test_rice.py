"""The rice bank: loans in kind with interest in kg, counts, purchases and sales."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.chart import GroupAccounts, balance_of
from ledger.meetings import open_meeting
from ledger.money import money
from ledger.queries import trial_balance
from ledger.rice import RiceError, count_stock, receive_rice, trade_rice
from ledger.rice_loans import create_rice_product, lend_rice, repay_rice
from ledger.rice_position import rice_position
from ledger.verify import verify_book
from tests.helpers import CHAIR, TESTER, read
from tests.savings_helpers import CYCLE_START, TODAY, khr, make_vsla

LENT = dt.date(2026, 5, 4)
HARVEST = dt.date(2026, 11, 2)


def rice(kg: str):
    return money(kg, "RICE")


def make_rice_bank(book, *, cash_repayment: bool = True, stock: str = "1000", code: str = "PK-01"):
    """A group with 1,000 kg in stock and a 20 % consumption-rice product."""
    v = make_vsla(book, code)

    def setup(s):
        create_rice_product(
            s,
            v.group.id,
            "CONS",
            "Consumption rice",
            interest=Decimal("0.20"),
            term_days=180,
            cash_repayment=cash_repayment,
        )
        receive_rice(s, v.group.id, rice(stock), on=CYCLE_START, today=TODAY)

    book.write(setup)
    return v


def lend(book, v, kg="100", member="M01", on=LENT):
    return book.write(
        lambda s: lend_rice(
            s,
            v.group.id,
            member,
            "CONS",
            rice(kg),
            on=on,
            approver=CHAIR,
            purpose="Food before the harvest",
            today=TODAY,
        )
    )


def repay(book, v, number, kg, on=HARVEST, cash=None):
    return book.write(
        lambda s: repay_rice(s, v.group.id, number, rice(kg), on=on, cash=cash, today=TODAY)
    )


def stock_of(book, v):
    return read(book, lambda s: balance_of(s, GroupAccounts(s, v.group.id).get("rice_stock").id))


def test_100_kg_lent_at_20_percent_is_repaid_with_120_kg(book):
    v = make_rice_bank(book)
    loan = lend(book, v)
    assert (loan.standing.quantity, loan.standing.interest) == (100_000, 20_000)
    assert loan.standing.due_on == LENT + dt.timedelta(days=180)
    assert stock_of(book, v) == 900_000

    part = repay(book, v, loan.number, "50")
    # Interest first: the 50 kg pay the 20 kg of interest and 30 kg of principal.
    assert (part.standing.interest_owed, part.standing.principal_owed) == (0, 70_000)
    done = repay(book, v, loan.number, "70")
    assert done.standing.owed == 0 and done.standing.state == "repaid"

    position = read(book, lambda s: rice_position(s, v.group.id, on=TODAY))
    assert position.stock == 1_020_000
    assert position.interest_earned == 20_000
    assert position.principal_outstanding == 0
    assert read(book, lambda s: trial_balance(s, v.group.id)).balanced


def test_repaying_more_than_is_owed_is_refused_and_nothing_is_written(book):
    v = make_rice_bank(book)
    loan = lend(book, v)
    with pytest.raises(RiceError, match="settled by 120 kg"):
        repay(book, v, loan.number, "120.5")
    assert stock_of(book, v) == 900_000


def test_a_loan_larger_than_the_stock_is_refused(book):
    v = make_rice_bank(book, stock="80")
    with pytest.raises(RiceError, match="holds 80 kg; it cannot lend 100 kg"):
        lend(book, v)


def test_the_lender_cannot_approve_her_own_rice_loan(book):
    v = make_rice_bank(book)
    with pytest.raises(RiceError, match="someone other"):
        book.write(
            lambda s: lend_rice(
                s,
                v.group.id,
                "M01",
                "CONS",
                rice("10"),
                on=LENT,
                approver=TESTER,
                purpose="Seed",
                today=TODAY,
            )
        )


def test_overdue_rice_loans_age_from_their_due_date(book):
    v = make_rice_bank(book)
    loan = lend(book, v, on=dt.date(2026, 3, 2))  # due 2026-08-29
    repay(book, v, loan.number, "20", on=dt.date(2026, 8, 1))
    position = read(book, lambda s: rice_position(s, v.group.id, on=dt.date(2026, 10, 1)))
    (overdue,) = position.overdue
    assert overdue.standing.days_overdue == 33
    assert overdue.standing.principal_owed == 100_000
    # The position on an earlier day does not see later movements.
    earlier = read(book, lambda s: rice_position(s, v.group.id, on=dt.date(2026, 7, 1)))
    assert earlier.overdue == () and earlier.stock == 900_000


def test_a_count_short_of_the_books_is_a_loss_with_its_reason(book):
    v = make_rice_bank(book)
    result = book.write(
        lambda s: count_stock(
            s,
            v.group.id,
            rice("962.5"),
            on=dt.date(2026, 6, 1),
            reason="pests",
            note="Rats in the store",
            today=TODAY,
        )
    )
    assert result.difference == -37_500
    position = read(book, lambda s: rice_position(s, v.group.id, on=TODAY))
    assert position.stock == 962_500
    assert position.losses["pests"] == 37_500


def test_a_count_with_a_difference_needs_a_reason(book):
    v = make_rice_bank(book)
    with pytest.raises(RiceError, match=r"37\.5 kg short; give the reason"):
        book.write(
            lambda s: count_stock(s, v.group.id, rice("962.5"), on=dt.date(2026, 6, 1), today=TODAY)
        )
    # A count that matches the books posts nothing but is recorded.
    book.write(
        lambda s: count_stock(s, v.group.id, rice("1000"), on=dt.date(2026, 6, 1), today=TODAY)
    )
    assert stock_of(book, v) == 1_000_000


def test_a_purchase_balances_in_rice_and_in_riel_through_the_trading_account(book):
    v = make_rice_bank(book)
    book.write(
        lambda s: receive_rice(
            s,
            v.group.id,
            rice("1"),
            on=CYCLE_START,
            member_code="M02",
            today=TODAY,
        )
    )
    _fund_cash_box(book, v, 600_000)
    book.write(
        lambda s: trade_rice(
            s,
            v.group.id,
            "purchase",
            rice("500"),
            khr(600_000),
            on=dt.date(2026, 2, 1),
            counterparty="Rice mill, Puok market",
            today=TODAY,
        )
    )
    tb = read(book, lambda s: trial_balance(s, v.group.id))
    assert tb.totals_minor == {"KHR": 0, "RICE": 0}
    names = {(r.account, r.commodity): r.balance_minor for r in tb.rows}
    assert names[("Equity:Trading:Rice", "RICE")] == -500_000
    assert names[("Equity:Trading:Rice", "KHR")] == 600_000
    assert names[("Assets:Rice stock", "RICE")] == 1_501_000
    position = read(book, lambda s: rice_position(s, v.group.id, on=TODAY))
    assert (position.traded, position.trading_money) == (500_000, 600_000)


def test_a_sale_cannot_sell_more_than_the_stock(book):
    v = make_rice_bank(book, stock="10")
    with pytest.raises(RiceError, match="holds 10 kg; it cannot sell 11 kg"):
        book.write(
            lambda s: trade_rice(
                s,
                v.group.id,
                "sale",
                rice("11"),
                khr(13_000),
                on=LENT,
                counterparty="Market",
                today=TODAY,
            )
        )


def test_a_rice_loan_repaid_in_cash_at_a_recorded_price(book):
    v = make_rice_bank(book)
    loan = lend(book, v)
    settled = repay(book, v, loan.number, "120", cash=khr(144_000))
    assert settled.standing.owed == 0
    assert settled.payments[0].cash_amount == 144_000
    tb = read(book, lambda s: trial_balance(s, v.group.id))
    assert tb.balanced
    names = {(r.account, r.commodity): r.balance_minor for r in tb.rows}
    assert names[("Assets:Cash box", "KHR")] == 144_000
    assert names[("Income:Rice interest", "RICE")] == -20_000
    # No rice came back: the stock stays where lending left it.
    assert stock_of(book, v) == 900_000


def test_cash_repayment_only_where_the_group_allows_it(book):
    v = make_rice_bank(book, cash_repayment=False)
    loan = lend(book, v)
    with pytest.raises(RiceError, match="not allowed cash repayments"):
        repay(book, v, loan.number, "120", cash=khr(144_000))


def test_cash_operations_wait_for_an_open_meeting_to_close(book):
    v = make_rice_bank(book)
    book.write(lambda s: open_meeting(s, v.group.id, CYCLE_START, today=TODAY))
    with pytest.raises(RiceError, match="close it first"):
        book.write(
            lambda s: trade_rice(
                s,
                v.group.id,
                "sale",
                rice("10"),
                khr(12_000),
                on=CYCLE_START,
                counterparty="Market",
                today=TODAY,
            )
        )


def test_rice_movements_verify_and_replay_once(book):
    v = make_rice_bank(book)
    for _ in range(2):
        book.write(
            lambda s: receive_rice(
                s,
                v.group.id,
                rice("5"),
                on=LENT,
                member_code="M03",
                key="join:M03",
                today=TODAY,
            )
        )
    assert stock_of(book, v) == 1_005_000
    assert read(book, verify_book).ok


def test_rice_records_cannot_be_changed_with_raw_sql(book):
    v = make_rice_bank(book)
    lend(book, v)
    for statement in (
        "UPDATE rice_loans SET quantity = 1",
        "DELETE FROM rice_events",
        "UPDATE rice_products SET interest_ppm = 0",
    ):
        with pytest.raises(DBAPIError, match="never changed"), book.engine.begin() as conn:
            conn.execute(text(statement))
    assert (
        read(book, lambda s: rice_position(s, v.group.id, on=TODAY)).loans[0].standing.owed
        == 120_000
    )


def _fund_cash_box(book, v, amount: int) -> None:
    from ledger.meetings import close_meeting, meeting_summary, set_line

    def run(s):
        m = open_meeting(s, v.group.id, CYCLE_START, today=TODAY)
        set_line(s, m.id, "M01", voluntary_savings=khr(amount))
        close_meeting(s, m.id, khr(meeting_summary(s, m.id).expected_cash))

    book.write(run)


def test_a_member_who_owes_rice_cannot_leave_until_it_is_repaid(book):
    from ledger.errors import MeetingError
    from ledger.meetings import add_item, close_meeting, meeting_summary

    v = make_rice_bank(book)
    loan = lend(book, v, member="M03", on=CYCLE_START)

    def leave(s):
        m = open_meeting(s, v.group.id, LENT, today=TODAY)
        add_item(s, m.id, "member_exit", member_code="M03")
        close_meeting(s, m.id, khr(meeting_summary(s, m.id).expected_cash))

    with pytest.raises(MeetingError, match="owes 120 kg on rice loan #1"):
        book.write(leave)
    repay(book, v, loan.number, "120", on=LENT)
    book.write(leave)


def test_a_repayment_dated_before_the_last_one_is_refused(book):
    v = make_rice_bank(book)
    loan = lend(book, v)
    repay(book, v, loan.number, "20", on=HARVEST)
    with pytest.raises(RiceError, match="last repaid on 2026-11-02"):
        repay(book, v, loan.number, "20", on=HARVEST - dt.timedelta(days=10))
    done = repay(book, v, loan.number, "100", on=HARVEST)
    assert done.standing.owed == 0 and done.standing.interest_paid == 20_000


def test_retrying_with_the_same_key_returns_the_first_result(book):
    v = make_rice_bank(book)

    def lend_once(s):
        return lend_rice(
            s,
            v.group.id,
            "M01",
            "CONS",
            rice("100"),
            on=LENT,
            approver=CHAIR,
            purpose="Food",
            key="lend-1",
            today=TODAY,
        )

    first, again = book.write(lend_once), book.write(lend_once)
    assert first.number == again.number == 1
    assert stock_of(book, v) == 900_000

    def repay_once(s):
        return repay_rice(s, v.group.id, 1, rice("15"), on=HARVEST, key="repay-1", today=TODAY)

    book.write(repay_once)
    assert book.write(repay_once).standing.owed == 105_000

    def count_once(s):
        return count_stock(
            s,
            v.group.id,
            rice("880"),
            on=HARVEST,
            reason="theft",
            note="",
            key="count-1",
            today=TODAY,
        )

    assert book.write(count_once).difference == -35_000
    assert book.write(count_once).difference == -35_000
    assert stock_of(book, v) == 880_000
    assert read(book, lambda s: rice_position(s, v.group.id, on=TODAY)).losses["theft"] == 35_000
