"""Property-based: whatever a rice bank does, every gram is accounted for.

After any run of lending, repaying (in kind or in cash), contributions, counts with
losses, purchases and sales: stock + rice owed by members + losses − rice bought =
capital + interest earned, in grams; the stock is never negative; each loan's account
holds what its statement says is owed in principal; the book verifies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.chart import balance_of
from ledger.models import RiceLoan
from ledger.money import money
from ledger.rice import LOSS_REASONS, RiceError, count_stock, receive_rice, trade_rice
from ledger.rice_loans import lend_rice, repay_rice
from ledger.rice_position import rice_position
from ledger.verify import verify_book
from tests.helpers import CHAIR, read
from tests.savings_helpers import TODAY, khr
from tests.test_rice import _fund_cash_box, make_rice_bank

START = dt.date(2026, 2, 2)
_codes = itertools.count(1)

operations = st.lists(
    st.tuples(
        st.sampled_from(["lend", "repay", "repay_cash", "contribute", "count", "buy", "sell"]),
        st.integers(1, 400_000),  # grams
        st.sampled_from(LOSS_REASONS),
    ),
    min_size=1,
    max_size=10,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_rice_is_conserved_through_any_run_of_operations(book, ops):
    v = make_rice_bank(book, code=f"RB-{next(_codes)}", stock="500")
    _fund_cash_box(book, v, 2_000_000)
    gid = v.group.id
    for day, (kind, grams, reason) in enumerate(ops, start=1):
        on = START + dt.timedelta(days=day * 3)
        qty = money(grams, "RICE") / 1000

        def act(s, kind=kind, grams=grams, reason=reason, on=on, qty=qty):
            position = rice_position(s, gid, on=on)
            open_loans = [x for x in position.loans if x.standing.owed]
            if kind == "lend":
                lend_rice(
                    s,
                    gid,
                    "M02",
                    "CONS",
                    qty,
                    on=on,
                    approver=CHAIR,
                    purpose="Seed",
                    today=TODAY,
                )
            elif kind in ("repay", "repay_cash") and open_loans:
                loan = open_loans[0]
                part = money(min(grams, loan.standing.owed), "RICE") / 1000
                cash = khr(1200 * max(1, grams // 1000)) if kind == "repay_cash" else None
                repay_rice(s, gid, loan.number, part, on=on, cash=cash, today=TODAY)
            elif kind == "contribute":
                receive_rice(s, gid, qty, on=on, member_code="M03", today=TODAY)
            elif kind == "count":
                counted = money(max(position.stock - grams // 10, 0), "RICE") / 1000
                count_stock(s, gid, counted, on=on, reason=reason, note="seen", today=TODAY)
            elif kind in ("buy", "sell"):
                trade_rice(
                    s,
                    gid,
                    "purchase" if kind == "buy" else "sale",
                    qty,
                    khr(1000 + grams),
                    on=on,
                    counterparty="Mill",
                    today=TODAY,
                )

        # Refused with a treasurer's message (more than the stock, say): nothing written.
        with contextlib.suppress(RiceError):
            book.write(act)

        def check(s, on=on):
            p = rice_position(s, gid, on=on)
            owed = sum(x.standing.principal_owed for x in p.loans)
            assert p.stock >= 0
            assert p.stock + owed + sum(p.losses.values()) - p.traded == (
                p.capital + p.interest_earned
            )
            for x in p.loans:
                row = s.get(RiceLoan, x.id)
                assert balance_of(s, row.account_id) == x.standing.principal_owed

        read(book, check)
    assert read(book, verify_book).ok
