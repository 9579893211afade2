"""Property-based: for any shares, income and cash unit, the share-out is exact.

Payouts are whole multiples of the cash unit, each is the member's exact share rounded
down, they and the leftover sum exactly to the pool, the leftover is less than one unit
per member, and after posting the group keeps exactly the social fund and the leftover.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.chart import GroupAccounts, balance_of
from ledger.shareout import post_shareout
from ledger.verify import verify_book
from tests.helpers import read
from tests.savings_helpers import CYCLE_START, TODAY, make_vsla
from tests.test_shareout import hold_meeting

_codes = itertools.count(1)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    shares=st.lists(st.integers(0, 5), min_size=3, max_size=3),
    fines=st.lists(st.integers(0, 9_999), min_size=3, max_size=3),
    unit=st.sampled_from([1, 100, 500, 1000]),
    method=st.sampled_from(["shares", "savings_time"]),
)
def test_any_share_out_is_exact(book, shares, fines, unit, method):
    v = make_vsla(book, f"SO-{next(_codes)}")
    lines = {
        code: {"share_money": 5_000 * n, "fine_other": fine, "social_fund": 500}
        for code, n, fine in zip(("M01", "M02", "M03"), shares, fines, strict=True)
    }
    hold_meeting(book, v, CYCLE_START, lines)
    if not any(shares):
        return
    posted = book.write(
        lambda s: post_shareout(
            s,
            v.group.id,
            on=CYCLE_START,
            method=method,
            cash_unit=unit,
            today=TODAY,
        )
    )
    plan = posted.plan
    assert plan.pool == 5_000 * sum(shares) + sum(fines)
    assert all(line.payout % unit == 0 for line in plan.lines)
    assert plan.distributed + plan.leftover == plan.pool
    assert 0 <= plan.leftover < unit * len(plan.lines) + (plan.pool if not plan.lines else 0)
    if method == "shares":
        for line in plan.lines:
            assert line.payout == int(plan.value_per_share * line.shares // unit) * unit

    def kept(s):
        accounts = GroupAccounts(s, v.group.id)
        return (
            balance_of(s, accounts.get("cash_box").id),
            -balance_of(s, accounts.get("retained_surplus").id),
        )

    assert read(book, kept) == (1_500 + plan.leftover, plan.leftover)
    assert read(book, verify_book).ok
