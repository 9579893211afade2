"""The share-out: previewed, posted once, exact to the riel, and the cycle closed."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.chart import GroupAccounts, balance_of
from ledger.cycles import current_cycle, open_cycle
from ledger.errors import ClosedPeriod, MeetingError
from ledger.loans import lend_at_meeting, loan_statement, repay_at_meeting
from ledger.meetings import add_item, close_meeting, meeting_summary, open_meeting, set_line
from ledger.periods import balances_at_close, period_closes
from ledger.queries import trial_balance
from ledger.shareout import ShareoutError, plan_shareout, post_shareout
from ledger.shareout_records import posted_shareouts
from ledger.statements import balance_sheets
from ledger.verify import verify_book
from tests.helpers import post, read, transfer
from tests.loan_helpers import WEEK, add_product, approved_loan
from tests.savings_helpers import CYCLE_START, TODAY, khr, make_vsla

LAST = CYCLE_START + 4 * WEEK  # 2026-02-02


def hold_meeting(book, v, day, lines=None, items=(), lend=(), repay=()):
    def run(s):
        m = open_meeting(s, v.group.id, day, today=TODAY)
        for code, fields in (lines or {}).items():
            set_line(s, m.id, code, **{k: khr(a) for k, a in fields.items()})
        for kind, amount in items:
            add_item(s, m.id, kind, khr(amount), memo="stationery")
        for loan_id in lend:
            lend_at_meeting(s, m.id, loan_id)
        for loan_id, amount in repay:
            repay_at_meeting(s, m.id, loan_id, khr(amount))
        close_meeting(s, m.id, khr(meeting_summary(s, m.id).expected_cash))

    book.write(run)


def a_cycle(book, *, repay_loan: bool = True, loan: int = 20_000):
    """Shares 5/3/2 at 5,000; social fund 500 each; a 1,000 fine; M02 borrows 20,000 at
    1 % a month over four weeks; a 700 expense."""
    v = make_vsla(book)

    def setup(s):
        add_product(s, v.group.id)
        return approved_loan(s, v.group.id, "M02", loan).id

    loan_id = book.write(setup)
    hold_meeting(
        book,
        v,
        CYCLE_START,
        {
            "M01": {"share_money": 25_000, "social_fund": 500},
            "M02": {"share_money": 15_000, "social_fund": 500},
            "M03": {"share_money": 10_000, "social_fund": 500, "fine_absent": 1_000},
        },
        lend=[loan_id],
    )
    hold_meeting(book, v, CYCLE_START + WEEK, items=[("expense", 700)])
    if repay_loan:
        owed = read(book, lambda s: loan_statement(s, loan_id, on=LAST).owed_now)
        hold_meeting(book, v, LAST, repay=[(loan_id, owed)])
    else:
        hold_meeting(book, v, LAST)
    return v, loan_id


def balances(book, v):
    def question(s):
        accounts = GroupAccounts(s, v.group.id)
        return {
            role: balance_of(s, accounts.get(role).id)
            for role in ("cash_box", "retained_surplus", "social_fund", "interest_income")
        }

    return read(book, question)


def test_payouts_sum_exactly_to_the_pool_and_the_leftover_stays_as_capital(book):
    v, loan_id = a_cycle(book)
    interest = read(book, lambda s: loan_statement(s, loan_id, on=LAST).interest_paid)
    assert interest > 0
    plan = read(book, lambda s: plan_shareout(s, v.group.id, on=LAST, today=TODAY))
    # Pool: 50,000 of shares + 1,000 fine + interest − 700 expense; social fund kept out.
    assert plan.pool == 50_000 + 1_000 + interest - 700
    assert plan.social_fund == 1_500
    assert plan.total_shares == 10
    assert plan.value_per_share * 10 == plan.pool
    by_code = {line.code: line for line in plan.lines}
    for code, shares in (("M01", 5), ("M02", 3), ("M03", 2)):
        exact = plan.value_per_share * shares
        assert by_code[code].payout == int(exact // 100) * 100
        assert by_code[code].payout % 100 == 0
    assert plan.distributed + plan.leftover == plan.pool
    assert 0 <= plan.leftover < 300

    posted = book.write(lambda s: post_shareout(s, v.group.id, on=LAST, today=TODAY))
    assert posted.plan == plan
    after = balances(book, v)
    assert after["retained_surplus"] == -plan.leftover  # credit balance: owned by the group
    assert after["interest_income"] == 0  # closed into retained surplus
    assert after["cash_box"] == 1_500 + plan.leftover
    tb = read(book, lambda s: trial_balance(s, v.group.id))
    assert tb.balanced
    members = [r for r in tb.rows if ":M0" in r.account]
    assert all(r.balance_minor == 0 for r in members)
    (record,) = read(book, lambda s: posted_shareouts(s, v.group.id))
    assert sum(p.payout for p in record.lines) == record.distributed == plan.distributed
    assert read(book, lambda s: current_cycle(s, v.group.id, required=False)) is None
    assert read(book, verify_book).ok


def test_a_second_share_out_of_the_cycle_is_refused(book):
    v, _ = a_cycle(book)
    book.write(lambda s: post_shareout(s, v.group.id, on=LAST, today=TODAY))
    with pytest.raises(ShareoutError, match="already shared out"):
        book.write(lambda s: post_shareout(s, v.group.id, on=LAST, today=TODAY))
    # And the database refuses it even when the code is bypassed.
    with pytest.raises(DBAPIError), book.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO shareouts (group_id, cycle_id, uuid, shared_on, method, "
                "deduct_loans, cash_unit, pool, distributed, deducted, leftover, posted_by, "
                "created_at) SELECT group_id, cycle_id, 'x', shared_on, method, deduct_loans, "
                "cash_unit, pool, distributed, deducted, leftover, posted_by, created_at "
                "FROM shareouts"
            )
        )
    with pytest.raises(DBAPIError, match="never changed"), book.engine.begin() as conn:
        conn.execute(text("UPDATE cycles SET status = 'open'"))


def test_the_share_out_closes_the_books_through_its_day(book):
    v, _ = a_cycle(book)
    posted = book.write(lambda s: post_shareout(s, v.group.id, on=LAST, today=TODAY))
    assert len(posted.close.head_hash) == 64
    (close,) = read(book, lambda s: period_closes(s, v.group.id))
    assert close.closed_through == LAST and close.head_hash == posted.close.head_hash
    kept = read(book, lambda s: balances_at_close(s, v.group.id, LAST))
    cash = read(book, lambda s: GroupAccounts(s, v.group.id).get("cash_box").id)
    assert kept[cash] == balances(book, v)["cash_box"]
    with pytest.raises(MeetingError, match="closed up to 2026-02-02"):
        book.write(lambda s: open_cycle(s, v.group.id, LAST, share_price=khr(5000)))
    # The next cycle opens the day after, and its first meeting starts from the cash box.
    book.write(lambda s: open_cycle(s, v.group.id, LAST + WEEK, share_price=khr(6000)))
    hold_meeting(book, v, LAST + WEEK, {"M01": {"share_money": 12_000}})
    assert balances(book, v)["cash_box"] == kept[cash] + 12_000


def test_loans_still_owed_block_the_share_out_unless_deducted(book):
    v, loan_id = a_cycle(book, repay_loan=False, loan=10_000)
    with pytest.raises(ShareoutError, match=r"Loans are still owed: M02 \(loan #1"):
        read(book, lambda s: plan_shareout(s, v.group.id, on=LAST, today=TODAY))
    owed = read(book, lambda s: loan_statement(s, loan_id, on=LAST))
    plan = read(
        book, lambda s: plan_shareout(s, v.group.id, on=LAST, deduct_loans=True, today=TODAY)
    )
    m02 = next(line for line in plan.lines if line.code == "M02")
    assert m02.deducted == owed.owed_now
    assert m02.held + m02.earned == m02.deducted + m02.payout
    book.write(lambda s: post_shareout(s, v.group.id, on=LAST, deduct_loans=True, today=TODAY))
    settled = read(book, lambda s: loan_statement(s, loan_id, on=LAST))
    assert settled.state == "closed" and settled.owed_now == 0
    assert read(book, lambda s: balance_of(s, settled.loan.account_id)) == 0
    assert read(book, lambda s: trial_balance(s, v.group.id)).balanced


def test_savings_held_longer_earn_more_with_the_savings_time_method(book):
    v = make_vsla(book)
    hold_meeting(book, v, CYCLE_START, {"M01": {"savings": 10_000, "fine_late": 3_000}})
    hold_meeting(book, v, CYCLE_START + 3 * WEEK, {"M02": {"savings": 10_000}})
    day = CYCLE_START + 5 * WEEK
    plan = read(
        book, lambda s: plan_shareout(s, v.group.id, on=day, method="savings_time", today=TODAY)
    )
    by_code = {line.code: line for line in plan.lines}
    # M01 held 10,000 for 35 days, M02 for 14: profit 3,000 split 35:14.
    assert by_code["M01"].weight == 10_000 * 35 and by_code["M02"].weight == 10_000 * 14
    assert by_code["M01"].payout == 10_000 + 2_100  # 2,142.86 rounded down to 100
    assert by_code["M02"].payout == 10_000 + 800  # 857.14
    assert "M03" not in by_code  # held nothing
    assert plan.leftover == 3_000 - 2_100 - 800


def test_a_loss_is_shared_too(book):
    v = make_vsla(book)
    hold_meeting(
        book, v, CYCLE_START, {"M01": {"share_money": 10_000}, "M02": {"share_money": 10_000}}
    )
    hold_meeting(book, v, CYCLE_START + WEEK, items=[("expense", 2_000)])
    plan = read(book, lambda s: plan_shareout(s, v.group.id, on=CYCLE_START + WEEK, today=TODAY))
    assert [line.payout for line in plan.lines] == [9_000, 9_000]
    assert [line.earned for line in plan.lines] == [-1_000, -1_000]


def test_a_member_who_owes_more_than_her_payout_must_repay_first(book):
    v, _ = a_cycle(book, repay_loan=False)
    with pytest.raises(ShareoutError, match="4,992 KHR or more must be repaid"):
        read(book, lambda s: plan_shareout(s, v.group.id, on=LAST, deduct_loans=True, today=TODAY))


def test_a_share_out_needs_the_cash_in_the_box(book):
    v = make_vsla(book)
    hold_meeting(
        book,
        v,
        CYCLE_START,
        {"M01": {"share_money": 25_000}, "M02": {"share_money": 25_000}},
        items=[("bank_deposit", 40_000)],
    )
    with pytest.raises(ShareoutError, match="bring the difference from the bank"):
        read(book, lambda s: plan_shareout(s, v.group.id, on=CYCLE_START, today=TODAY))


def test_nothing_is_posted_into_the_shared_out_cycle(book):
    v, _ = a_cycle(book)
    book.write(lambda s: post_shareout(s, v.group.id, on=LAST, today=TODAY))
    accounts = read(book, lambda s: GroupAccounts(s, v.group.id))
    late = transfer(v.group.id, accounts.get("cash_box"), accounts.get("grants"), "100", date=LAST)
    with pytest.raises(ClosedPeriod):
        post(book, late)


def test_a_member_who_left_on_the_share_out_day_gets_nothing_more(book):
    v = make_vsla(book)
    hold_meeting(book, v, CYCLE_START, {"M01": {"savings": 10_000}, "M02": {"savings": 10_000}})
    day = CYCLE_START + 2 * WEEK

    def leave(s):
        m = open_meeting(s, v.group.id, day, today=TODAY)
        set_line(s, m.id, "M01", fine_other=khr(3_000))
        add_item(s, m.id, "member_exit", member_code="M02")
        close_meeting(s, m.id, khr(meeting_summary(s, m.id).expected_cash))

    book.write(leave)
    plan = read(
        book, lambda s: plan_shareout(s, v.group.id, on=day, method="savings_time", today=TODAY)
    )
    assert [(line.code, line.payout) for line in plan.lines] == [("M01", 13_000)]


def test_money_spent_on_rice_is_shown_and_kept_on_the_trading_account(book):
    from ledger.rice import trade_rice
    from tests.test_rice import rice

    v = make_vsla(book)
    hold_meeting(
        book, v, CYCLE_START, {"M01": {"share_money": 25_000}, "M02": {"share_money": 25_000}}
    )
    book.write(
        lambda s: trade_rice(
            s,
            v.group.id,
            "purchase",
            rice("10"),
            khr(20_000),
            on=CYCLE_START,
            counterparty="Mill",
            today=TODAY,
        )
    )
    plan = read(book, lambda s: plan_shareout(s, v.group.id, on=CYCLE_START, today=TODAY))
    assert plan.spent_on_rice == 20_000 and plan.pool == 30_000
    book.write(lambda s: post_shareout(s, v.group.id, on=CYCLE_START, today=TODAY))
    (sheet, rice_sheet) = read(book, lambda s: balance_sheets(s, v.group.id, CYCLE_START))
    assert sheet.balanced and rice_sheet.balanced
    equity = {r.account: r.amount for r in sheet.equity}
    assert equity["Equity:Trading:Rice"] == -20_000
    assert equity["Equity:Retained surplus"] == 20_000 + plan.leftover


def test_the_social_fund_stays_covered_and_the_cash_unit_is_checked(book):
    v = make_vsla(book)
    hold_meeting(
        book,
        v,
        CYCLE_START,
        {"M01": {"share_money": 25_000, "social_fund": 1_500}, "M02": {"share_money": 25_000}},
        items=[("bank_deposit", 1_500)],
    )
    book.write(lambda s: _buy_equipment_from_the_bank(s, v))
    with pytest.raises(ShareoutError, match="less than the social fund of 1,500 KHR"):
        read(book, lambda s: plan_shareout(s, v.group.id, on=CYCLE_START + WEEK, today=TODAY))
    with pytest.raises(ShareoutError, match="at least 1"):
        read(book, lambda s: plan_shareout(s, v.group.id, on=CYCLE_START, cash_unit=0, today=TODAY))


def _buy_equipment_from_the_bank(s, v):
    """A cash box bought with the 1,500 the bank held: the money is now a thing, which
    cannot be paid out, and the social fund's cash has gone with it."""
    from ledger.accounts import open_account
    from ledger.posting import EntryRequest, Line, post_entry

    accounts = GroupAccounts(s, v.group.id)
    equipment = open_account(s, v.group.id, "Assets:Equipment", "KHR")
    post_entry(
        s,
        EntryRequest(
            group_id=v.group.id,
            entry_date=CYCLE_START + WEEK,
            memo="A lockable cash box",
            lines=(
                Line(equipment.id, "KHR", 1_500),
                Line(accounts.get("bank").id, "KHR", -1_500),
            ),
            idempotency_key="equipment",
            author="t",
        ),
    )
