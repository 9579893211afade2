"""Property-based: whatever members pay, and whenever, a loan's books stay exact.

* Pure: a repayment split in any order sums to the payment, never takes more of a part
  than is owed, and what is outstanding is what was lent less what was repaid.
* Through the meeting: after any run of repayments (none, partial, late, early, in
  full), the loan's account holds exactly the principal lent less the principal repaid,
  the statement agrees with it, interest and penalty income equal what was paid, and
  the book verifies.
"""

from __future__ import annotations

import datetime as dt
import itertools
from itertools import permutations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.chart import GroupAccounts, balance_of
from ledger.loan_state import Instalment, Payment, allocate, standing
from ledger.loans import loan_statement
from ledger.verify import verify_book
from tests.loan_helpers import WEEK, make_lent, meeting
from tests.savings_helpers import CYCLE_START, khr

ORDERS = [",".join(p) for p in permutations(("penalty", "interest", "principal"))]
_codes = itertools.count(1)


@st.composite
def schedules(draw):
    count = draw(st.integers(1, 8))
    start = dt.date(2026, 1, 5)
    return [
        Instalment(
            k + 1,
            start + dt.timedelta(days=7 * (k + 1)),
            draw(st.integers(0, 50_000)),
            draw(st.integers(0, 5_000)),
        )
        for k in range(count)
    ]


@settings(max_examples=200, deadline=None)
@given(
    schedule=schedules(),
    days=st.lists(st.integers(1, 120), max_size=6),
    order=st.sampled_from(ORDERS),
    penalty=st.integers(0, 2_000),
    data=st.data(),
)
def test_any_payments_split_exactly(schedule, days, order, penalty, data):
    payments: list[Payment] = []
    start = dt.date(2026, 1, 5)
    for day in sorted(set(days)):
        on = start + dt.timedelta(days=day)
        owed = standing(schedule, payments, on=on, penalty_per_late=penalty)
        if owed.owed_now == 0:
            break
        amount = data.draw(st.integers(1, owed.owed_now))
        split = allocate(owed, amount, order)
        assert sum(split.values()) == amount
        assert split["penalty"] <= owed.penalty_due
        assert split["interest"] <= owed.interest_due
        assert split["principal"] <= owed.principal_outstanding
        payments.append(Payment(on, split["penalty"], split["interest"], split["principal"]))
        after = standing(schedule, payments, on=on, penalty_per_late=penalty)
        lent = sum(i.principal for i in schedule)
        assert after.principal_outstanding == lent - sum(p.principal for p in payments)
        assert 0 <= after.paid_towards_due <= after.due_to_date
        assert after.owed_now == owed.owed_now - amount
        assert 0 <= after.due_now <= after.owed_now


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    weeks=st.lists(st.one_of(st.none(), st.integers(1, 60_000)), min_size=1, max_size=6),
    penalty=st.sampled_from([0, 500]),
)
def test_any_run_of_repayments_keeps_the_loan_account_exact(book, weeks, penalty):
    v, loan = make_lent(book, code=f"LP-{next(_codes)}", late_penalty=khr(penalty))
    for k, wanted in enumerate(weeks, start=1):
        day = CYCLE_START + k * WEEK
        with book.read() as s:
            owed = loan_statement(s, loan.id, on=day).owed_now
        pay = min(wanted or 0, owed)
        meeting(book, v.group.id, day, repay=[(loan.id, pay)] if pay else [])
        with book.read() as s:
            st_ = loan_statement(s, loan.id, on=day)
            accounts = GroupAccounts(s, v.group.id)
            assert balance_of(s, st_.loan.account_id) == 100_000 - st_.principal_paid
            assert st_.principal_outstanding == balance_of(s, st_.loan.account_id)
            assert -balance_of(s, accounts.get("interest_income").id) == st_.interest_paid
            assert -balance_of(s, accounts.get("penalty_income").id) == st_.penalty_paid
            if st_.principal_outstanding == 0:
                assert st_.state == "closed"
                break
    with book.read() as s:
        assert verify_book(s).ok
