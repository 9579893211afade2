"""The share-out at the end of a savings cycle: what every member takes home.

The pool is everything the members' money became: their savings, share money and shares,
plus the group's own capital (interest, fines and other income, less expenses and loans
written off, and any capital carried from earlier cycles). The social fund is kept out;
so are rice (its own commodity) and what the group owes outside lenders. Put another way,
the pool is the money the group owns less what it owes outsiders and less the social
fund. Money the group paid for rice is no longer money: it lowers the pool, and the plan
shows it on its own line (``spent_on_rice``) so no one mistakes it for a loss.

Each member gets back what she holds, plus her part of the profit (pool − holdings):

- ``shares`` (the VSLA way): profit in proportion to whole shares, so every share is worth
  the same, pool ÷ total shares when savings are all in shares;
- ``savings_time`` (a group option): profit in proportion to each member's savings ×
  days held over the cycle, so money saved early earns more than money saved late.

If the group decides so (``deduct_loans``), what a member still owes on her loans
(principal, interest and penalties due by the share-out) is settled from her payout;
otherwise every loan must be repaid before the share-out. Payouts are rounded down to
the group's cash unit (100 riel by default), so no one is paid in coins that do not
exist; the rounding leftover stays with the group as capital for the next cycle. The
payouts, the loans settled and the leftover sum exactly to the pool.

It is previewed first (``plan_shareout``, nothing written), then posted all-or-nothing
(``post_shareout``): one entry per member, then one entry that closes the cycle's income
and expenses into retained surplus, which then holds exactly the leftover. The cycle
closes, the books are closed through the share-out day (snapshot and head hash), and the
database refuses a second share-out of the same cycle. The next cycle opens with what
members buy or save at its first meeting.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.chart import GroupAccounts, balance_of
from ledger.cycles import CycleRecord, current_cycle
from ledger.errors import LedgerError
from ledger.groups import get_group
from ledger.loans import LoanStatement, loan_statements
from ledger.members import MemberRecord, list_members
from ledger.models import (
    Account,
    Cycle,
    JournalEntry,
    Loan,
    Meeting,
    Posting,
    Shareout,
    ShareoutDeduction,
    ShareoutPayout,
)
from ledger.money import format_minor
from ledger.periods import ClosedPeriodRecord, close_period, closed_through
from ledger.permissions import allow
from ledger.posting import EntryRequest, Line, post_entries
from ledger.queries import POSTING_ENTRY, open_meeting_of

METHODS = ("shares", "savings_time")
HOLDING_ROLES = ("compulsory_savings", "voluntary_savings", "share_money_held", "shares")
# The smallest note or coin in use: riel has no coins below 100; baht 1; dollars a cent.
DEFAULT_CASH_UNIT = {"KHR": 100, "THB": 100, "USD": 1}


class ShareoutError(LedgerError):
    """A share-out that cannot be worked out or posted as asked."""


@dataclass(frozen=True, slots=True)
class LoanSettled:
    loan_id: int
    number: int
    principal: int
    interest: int
    penalty: int

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.penalty


@dataclass(frozen=True, slots=True)
class PayoutLine:
    """One member's row of the share-out sheet. held + earned = deducted + payout."""

    member_id: int
    code: str
    name_latin: str
    name_khmer: str | None
    shares: int | None  # whole shares (method "shares")
    held: int  # savings, share money and shares, at face value
    weight: int  # shares, or savings × days, that the profit is shared by
    earned: int  # her part of the profit, after rounding (negative after a loss)
    loans: tuple[LoanSettled, ...]
    payout: int  # cash in her hand

    @property
    def deducted(self) -> int:
        return sum(loan.total for loan in self.loans)


@dataclass(frozen=True, slots=True)
class ShareoutPlan:
    group_id: int
    group_code: str
    currency: str
    cycle_id: int
    cycle_number: int
    cycle_starts_on: dt.date
    on: dt.date
    method: str
    deduct_loans: bool
    cash_unit: int
    share_price: int | None
    holdings: int  # what members hold at face value
    capital: int  # the group's own capital: income less expenses, and carried surplus
    social_fund: int  # kept out
    spent_on_rice: int  # money paid for rice less money received for it (already in capital)
    cash_box: int
    lines: tuple[PayoutLine, ...]

    @property
    def pool(self) -> int:
        return self.holdings + self.capital

    @property
    def profit(self) -> int:
        return self.capital

    @property
    def total_shares(self) -> int | None:
        if self.method != "shares":
            return None
        return sum(line.shares or 0 for line in self.lines)

    @property
    def value_per_share(self) -> Fraction | None:
        """What one share is worth: its price plus its part of the profit."""
        total = self.total_shares
        if not total or self.share_price is None:
            return None
        return self.share_price + Fraction(self.profit, total)

    @property
    def distributed(self) -> int:
        return sum(line.payout for line in self.lines)

    @property
    def deducted(self) -> int:
        return sum(line.deducted for line in self.lines)

    @property
    def leftover(self) -> int:
        return self.pool - self.distributed - self.deducted


def value_text(value: Fraction | None, currency: str) -> str | None:
    """A share's value to two decimals, rounded down (for display only)."""
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{exact.quantize(Decimal('0.01'), rounding=ROUND_DOWN)}"


def plan_shareout(
    session: Session,
    group_id: int,
    *,
    on: dt.date,
    method: str = "shares",
    deduct_loans: bool = False,
    cash_unit: int | None = None,
    today: dt.date | None = None,
) -> ShareoutPlan:
    """Work the share-out out as it would be posted on ``on``. Writes nothing."""
    allow(session, "read", group_id)
    if method not in METHODS:
        raise ShareoutError(f"The share-out method is one of {', '.join(METHODS)}; got {method!r}.")
    group = get_group(session, group_id)
    unit = DEFAULT_CASH_UNIT.get(group.currency, 1) if cash_unit is None else cash_unit
    if unit < 1:
        raise ShareoutError("The cash unit must be at least 1.")
    cycle = current_cycle(session, group_id, required=False)
    if cycle is None:
        raise ShareoutError(
            f"Group {group.code} has no open cycle: its last cycle was already shared out."
        )
    _check_day(session, group_id, cycle, on, today or dt.date.today())
    accounts = GroupAccounts(session, group_id)
    # A member who left (even on the share-out day) was paid out in full when she left.
    members = [m for m in list_members(session, group_id, on=on) if m.exited_on is None]
    holdings = _holdings(session, group_id, [m.id for m in members])
    debts = _debts(session, group_id, on, members, deduct_loans)
    # Interest and penalties settled from payouts are income of this cycle: in the pool.
    settled_income = sum(d.interest + d.penalty for ds in debts.values() for d in ds)
    capital = _capital(session, group_id, group.currency) + settled_income
    if method == "shares":
        if not cycle.share_price:
            raise ShareoutError(
                "This cycle has no share price, so profit cannot be shared by shares; "
                "use the savings × time method."
            )
        weights = {m.id: holdings[m.id].get("shares", 0) // cycle.share_price for m in members}
        if not any(weights.values()) and capital:
            raise ShareoutError(
                "No member holds a share, so profit cannot be shared by shares; "
                "use the savings × time method."
            )
    else:
        weights = _savings_days(session, group_id, members, cycle.starts_on, on)
        if not any(weights.values()):
            # Everything was saved on the share-out day itself: equal time, so by amount.
            weights = {m.id: sum(holdings[m.id].values()) for m in members}
    total_weight = sum(weights.values())
    lines = []
    for m in members:
        held = sum(holdings[m.id].values())
        owed = sum(d.total for d in debts.get(m.id, ()))
        gross = held + (Fraction(capital * weights[m.id], total_weight) if total_weight else 0)
        net = gross - owed
        if net < 0:
            raise ShareoutError(
                f"{m.code} {m.name_latin}'s share-out comes to "
                f"{format_minor(math.floor(gross), group.currency)} but "
                f"{format_minor(owed, group.currency)} is owed on loans: "
                f"{format_minor(math.ceil(-net), group.currency)} or more must be repaid at a "
                "meeting before the share-out."
            )
        payout = int(net // unit) * unit
        if held == 0 and owed == 0 and weights[m.id] == 0:
            continue  # joined too late to hold anything: no row
        lines.append(
            PayoutLine(
                member_id=m.id,
                code=m.code,
                name_latin=m.name_latin,
                name_khmer=m.name_khmer,
                shares=weights[m.id] if method == "shares" else None,
                held=held,
                weight=weights[m.id],
                earned=payout + owed - held,
                loans=tuple(debts.get(m.id, ())),
                payout=payout,
            )
        )
    plan = ShareoutPlan(
        group_id=group_id,
        group_code=group.code,
        currency=group.currency,
        cycle_id=cycle.id,
        cycle_number=cycle.number,
        cycle_starts_on=cycle.starts_on,
        on=on,
        method=method,
        deduct_loans=deduct_loans,
        cash_unit=unit,
        share_price=cycle.share_price,
        holdings=sum(sum(h.values()) for h in holdings.values()),
        capital=capital,
        social_fund=-balance_of(session, accounts.get("social_fund").id),
        spent_on_rice=balance_of(session, accounts.get("rice_trading_money").id),
        cash_box=balance_of(session, accounts.get("cash_box").id),
        lines=tuple(lines),
    )
    if plan.pool < 0:
        raise ShareoutError(
            f"The group has lost more than its members saved (the pool is "
            f"{format_minor(plan.pool, group.currency)}); it cannot share out. Ask the "
            "coordinator to look at the books."
        )
    if plan.distributed > plan.cash_box:
        raise ShareoutError(
            f"The payouts need {format_minor(plan.distributed, group.currency)} in cash but the "
            f"cash box holds {format_minor(plan.cash_box, group.currency)}; bring the "
            "difference from the bank at a meeting before the share-out."
        )
    bank = balance_of(session, accounts.get("bank").id)
    left = plan.cash_box + bank - plan.distributed
    if left < plan.social_fund:
        raise ShareoutError(
            f"After paying {format_minor(plan.distributed, group.currency)} the cash box and "
            f"the bank would hold {format_minor(left, group.currency)}, "
            f"less than the social fund of {format_minor(plan.social_fund, group.currency)}, "
            "which is never shared out. Ask the coordinator to check the books."
        )
    return plan


def _check_day(
    session: Session, group_id: int, cycle: CycleRecord, on: dt.date, today: dt.date
) -> None:
    if on > today:
        raise ShareoutError(f"A share-out cannot be dated in the future ({on.isoformat()}).")
    if on < cycle.starts_on:
        raise ShareoutError(f"The cycle started on {cycle.starts_on.isoformat()}.")
    still_open = open_meeting_of(session, group_id)
    if still_open is not None:
        raise ShareoutError(f"Meeting #{still_open[0]} is still open; close it first.")
    last_meeting = session.execute(
        select(func.max(Meeting.meeting_date)).where(Meeting.group_id == group_id)
    ).scalar()
    if last_meeting is not None and on < last_meeting:
        raise ShareoutError(
            f"The last meeting was on {last_meeting.isoformat()}; the share-out is on or after it."
        )
    last_entry = session.execute(
        select(func.max(JournalEntry.entry_date)).where(JournalEntry.group_id == group_id)
    ).scalar()
    if last_entry is not None and on < last_entry:
        raise ShareoutError(
            f"The books have entries dated {last_entry.isoformat()}; the share-out is on or "
            "after the last of them."
        )


def _holdings(session: Session, group_id: int, member_ids: list[int]) -> dict[int, dict[str, int]]:
    """Each member's savings, share money and shares, on their natural (credit) side."""
    held: dict[int, dict[str, int]] = {m: {} for m in member_ids}
    rows = session.execute(
        select(Account.member_id, Account.role, Account.balance).where(
            Account.group_id == group_id, Account.role.in_(HOLDING_ROLES)
        )
    )
    for member_id, role, balance in rows:
        if member_id in held and balance:
            held[member_id][role] = -balance
    return held


def _capital(session: Session, group_id: int, currency: str) -> int:
    """The group's own capital in money: every equity, income and expense account that
    is not a member's and not the social fund (credit positive)."""
    total = session.execute(
        select(func.coalesce(func.sum(Account.balance), 0)).where(
            *_capital_accounts(group_id, currency)
        )
    ).scalar_one()
    return -int(total)


def _capital_accounts(group_id: int, currency: str) -> tuple:  # type: ignore[type-arg]
    return (
        Account.group_id == group_id,
        Account.commodity == currency,
        Account.member_id.is_(None),
        Account.type.in_(("equity", "income", "expense")),
        (Account.role.is_(None)) | (Account.role != "social_fund"),
    )


def _debts(
    session: Session, group_id: int, on: dt.date, members: list[MemberRecord], deduct: bool
) -> dict[int, list[LoanSettled]]:
    """What each member owes on her active loans on the day; refused unless deducted."""
    active = list(
        session.execute(
            select(Loan).where(Loan.group_id == group_id, Loan.status == "disbursed")
        ).scalars()
    )
    statements: list[LoanStatement] = [
        s for s in loan_statements(session, active, on=on) if s.state == "active" and s.owed_now
    ]
    if statements and not deduct:
        named = ", ".join(
            f"{s.loan.member_code} (loan #{s.loan.number}, {format_minor(s.owed_now, s.currency)})"
            for s in statements[:5]
        )
        more = f" and {len(statements) - 5} more" if len(statements) > 5 else ""
        raise ShareoutError(
            f"Loans are still owed: {named}{more}. They are repaid at a meeting before the "
            "share-out, or the group decides to deduct them from the payouts."
        )
    ids = {m.id for m in members}
    debts: dict[int, list[LoanSettled]] = defaultdict(list)
    for s in statements:
        if s.loan.member_id not in ids:
            raise ShareoutError(
                f"Loan #{s.loan.number} of {s.loan.member_code}, who is no longer a member, "
                "is still owed; it is repaid or written off before the share-out."
            )
        debts[s.loan.member_id].append(
            LoanSettled(
                s.loan.id, s.loan.number, s.principal_outstanding, s.interest_due, s.penalty_due
            )
        )
    return debts


def _savings_days(
    session: Session,
    group_id: int,
    members: list[MemberRecord],
    start: dt.date,
    end: dt.date,
) -> dict[int, int]:
    """Each member's holdings × days held in the cycle, in minor units × days.

    Money held on the cycle's first day counts for every day to ``end``; money paid in
    later counts from the day it was paid in.
    """
    weights = dict.fromkeys((m.id for m in members), 0)
    rows = session.execute(
        select(Account.member_id, JournalEntry.entry_date, func.sum(Posting.amount))
        .join(Posting, Posting.account_id == Account.id)
        .join(JournalEntry, POSTING_ENTRY)
        .where(
            Account.group_id == group_id,
            Account.role.in_(HOLDING_ROLES),
            JournalEntry.entry_date <= end,
        )
        .group_by(Account.member_id, JournalEntry.entry_date)
    )
    for member_id, day, amount in rows:
        if member_id in weights:
            weights[member_id] += -int(amount) * (end - max(day, start)).days
    return {m: max(w, 0) for m, w in weights.items()}


# --- posting -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostedShareout:
    plan: ShareoutPlan
    shareout_id: int
    close: ClosedPeriodRecord


def post_shareout(
    session: Session,
    group_id: int,
    *,
    on: dt.date,
    method: str = "shares",
    deduct_loans: bool = False,
    cash_unit: int | None = None,
    today: dt.date | None = None,
) -> PostedShareout:
    """Post the share-out as ``plan_shareout`` works it out now, close the cycle and
    close the books through ``on``. All or nothing; once per cycle."""
    posted_by = allow(
        session, "decide", group_id, audit=f"posted the share-out of {on} ({method})"
    ).username
    # Lock the group first, so two treasurers cannot post the same share-out at once.
    session.execute(select(Cycle.id).where(Cycle.group_id == group_id).with_for_update())
    plan = plan_shareout(
        session,
        group_id,
        on=on,
        method=method,
        deduct_loans=deduct_loans,
        cash_unit=cash_unit,
        today=today,
    )
    closed = closed_through(session, group_id)
    if closed is not None and on <= closed:
        raise ShareoutError(f"The books are closed up to {closed.isoformat()}.")
    accounts = GroupAccounts(session, group_id)
    currency = plan.currency
    cash = accounts.get("cash_box").id
    surplus = accounts.get("retained_surplus").id
    title = f"Cycle {plan.cycle_number} share-out {on.isoformat()}"
    key = f"shareout:{group_id}:{plan.cycle_id}"
    holdings = _holdings(session, group_id, [line.member_id for line in plan.lines])
    requests = []
    for line in plan.lines:
        ids = accounts.ids(line.member_id)
        lines: dict[int, int] = defaultdict(int)
        for role, held in holdings[line.member_id].items():
            lines[ids[role]] += held  # a credit balance: a debit of the same clears it
        lines[surplus] += line.earned
        lines[cash] -= line.payout
        for loan in line.loans:
            row = session.get(Loan, loan.loan_id)
            assert row is not None and row.account_id is not None
            lines[row.account_id] -= loan.principal
            lines[accounts.get("interest_income").id] -= loan.interest
            lines[accounts.get("penalty_income").id] -= loan.penalty
        settled = f", loans settled {format_minor(line.deducted, currency)}" if line.loans else ""
        requests.append(
            EntryRequest(
                group_id=group_id,
                entry_date=on,
                memo=f"{title}: {line.code} {line.name_latin} paid "
                f"{format_minor(line.payout, currency)}{settled}"[:500],
                lines=tuple(Line(a, currency, m) for a, m in lines.items() if m),
                idempotency_key=f"{key}:member:{line.member_id}",
                author=posted_by,
            )
        )
    post_entries(session, [r for r in requests if len(r.lines) >= 2])
    _close_income_into_surplus(session, group_id, currency, surplus, on, title, key, posted_by)
    row = Shareout(
        group_id=group_id,
        cycle_id=plan.cycle_id,
        shared_on=on,
        method=plan.method,
        deduct_loans=plan.deduct_loans,
        cash_unit=plan.cash_unit,
        pool=plan.pool,
        distributed=plan.distributed,
        deducted=plan.deducted,
        leftover=plan.leftover,
        value_per_share=value_text(plan.value_per_share, currency),
        posted_by=posted_by,
        created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )
    session.add(row)
    session.flush()
    for line in plan.lines:
        session.add(
            ShareoutPayout(
                shareout_id=row.id,
                member_id=line.member_id,
                group_id=group_id,
                shares=line.shares,
                held=line.held,
                earned=line.earned,
                deducted=line.deducted,
                payout=line.payout,
            )
        )
        for loan in line.loans:
            session.add(
                ShareoutDeduction(
                    shareout_id=row.id,
                    loan_id=loan.loan_id,
                    group_id=group_id,
                    principal=loan.principal,
                    interest=loan.interest,
                    penalty=loan.penalty,
                )
            )
            loan_row = session.get(Loan, loan.loan_id)
            assert loan_row is not None
            loan_row.status = "closed"
    cycle = session.get(Cycle, plan.cycle_id)
    assert cycle is not None
    cycle.status = "closed"
    cycle.ends_on = on
    session.flush()
    close = close_period(session, group_id, on, today=today)
    return PostedShareout(plan, row.id, close)


def _close_income_into_surplus(
    session: Session,
    group_id: int,
    currency: str,
    surplus: int,
    on: dt.date,
    title: str,
    key: str,
    author: str,
) -> None:
    """Move the cycle's income, expenses and other capital into retained surplus.

    The money side of the rice trading account stays where it is, so the rice bank's
    history of money paid for rice is kept; retained surplus then holds the leftover
    plus that money (which the trading account's debit balances).
    """
    balances = session.execute(
        select(Account.id, Account.balance).where(
            *_capital_accounts(group_id, currency),
            Account.id != surplus,
            Account.role.is_distinct_from("rice_trading_money"),
            Account.balance != 0,
        )
    ).all()
    if not balances:
        return
    lines = [Line(a, currency, -b) for a, b in balances]
    lines.append(Line(surplus, currency, sum(b for _a, b in balances)))
    post_entries(
        session,
        [
            EntryRequest(
                group_id=group_id,
                entry_date=on,
                memo=f"{title}: income and expenses of the cycle closed into retained surplus",
                lines=tuple(line for line in lines if line.minor),
                idempotency_key=f"{key}:close",
                author=author,
            )
        ],
    )
