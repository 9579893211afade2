"""A group's statements for a period, as plain records the report issue prints.

- **Trial balance** for a period: each account's opening balance, debits, credits and
  closing balance; every column sums to zero in each commodity in a sound book.
- **Balance sheet** on a day: what the group has (assets), owes (liabilities) and owns
  (equity, with the surplus not yet shared out), each commodity on its own.
- **Income and expenditure** for a period: income less expenses, per commodity. The
  share-out's closing entry is left out, since it moves the surplus and is not earned.
- **Cash book** for a period: every movement of the cash box with its running balance.

All figures are summed from the postings dated in the period, so a statement for an
old period is right whatever was posted after it. Amounts are minor units; lines carry
the commodity so riel and rice are never added together.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ledger.chart import GroupAccounts
from ledger.errors import InvalidEntry
from ledger.groups import get_group
from ledger.models import DEBIT_NORMAL, Account, JournalEntry, Posting
from ledger.permissions import allow
from ledger.queries import POSTING_ENTRY, account_history

SHAREOUT_CLOSE = "shareout:%:close"


@dataclass(frozen=True, slots=True)
class AccountLine:
    """One account over a period, debit positive."""

    account_id: int
    account: str
    type: str
    commodity: str
    opening: int
    debits: int
    credits: int  # a positive number: the total credited

    @property
    def closing(self) -> int:
        return self.opening + self.debits - self.credits

    @property
    def natural_closing(self) -> int:
        """The closing balance on the account's own side (what is held, owed or earned)."""
        return self.closing if self.type in DEBIT_NORMAL else -self.closing


@dataclass(frozen=True, slots=True)
class PeriodTrialBalance:
    group_code: str
    start: dt.date
    end: dt.date
    lines: tuple[AccountLine, ...]

    def totals(self, commodity: str) -> tuple[int, int, int, int]:
        """(opening, debits, credits, closing) of one commodity: 0, d, d, 0 when sound."""
        mine = [line for line in self.lines if line.commodity == commodity]
        return (
            sum(line.opening for line in mine),
            sum(line.debits for line in mine),
            sum(line.credits for line in mine),
            sum(line.closing for line in mine),
        )

    @property
    def commodities(self) -> tuple[str, ...]:
        return tuple(sorted({line.commodity for line in self.lines}))

    @property
    def balanced(self) -> bool:
        return all(
            t[0] == 0 and t[1] == t[2] and t[3] == 0 for t in map(self.totals, self.commodities)
        )


def _check_period(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise InvalidEntry(
            f"The period ends ({end.isoformat()}) before it starts ({start.isoformat()})."
        )


def _lines(
    session: Session,
    group_id: int,
    start: dt.date,
    end: dt.date,
    *,
    skip_closing: bool = False,
) -> list[AccountLine]:
    before = JournalEntry.entry_date < start
    inside = (JournalEntry.entry_date >= start) & (JournalEntry.entry_date <= end)
    if skip_closing:
        inside = inside & JournalEntry.idempotency_key.not_like(SHAREOUT_CLOSE)
    amount = Posting.amount
    rows = session.execute(
        select(
            Account.id,
            Account.name,
            Account.type,
            Account.commodity,
            func.coalesce(func.sum(case((before, amount), else_=0)), 0),
            func.coalesce(func.sum(case((inside & (amount > 0), amount), else_=0)), 0),
            func.coalesce(func.sum(case((inside & (amount < 0), -amount), else_=0)), 0),
        )
        .join(Posting, Posting.account_id == Account.id)
        .join(JournalEntry, POSTING_ENTRY)
        .where(Account.group_id == group_id, JournalEntry.entry_date <= end)
        .group_by(Account.id, Account.name, Account.type, Account.commodity)
        .order_by(Account.commodity, Account.name)
    ).all()
    return [
        AccountLine(a, name, kind, c, int(o), int(d), int(cr))
        for a, name, kind, c, o, d, cr in rows
        if o or d or cr
    ]


def period_trial_balance(
    session: Session, group_id: int, start: dt.date, end: dt.date
) -> PeriodTrialBalance:
    allow(session, "read", group_id)
    _check_period(start, end)
    return PeriodTrialBalance(
        get_group(session, group_id).code, start, end, tuple(_lines(session, group_id, start, end))
    )


@dataclass(frozen=True, slots=True)
class StatementRow:
    account: str
    amount: int  # on the section's natural side


@dataclass(frozen=True, slots=True)
class BalanceSheet:
    """One commodity's balance sheet on ``on``. assets = liabilities + equity."""

    group_code: str
    on: dt.date
    commodity: str
    assets: tuple[StatementRow, ...]
    liabilities: tuple[StatementRow, ...]
    equity: tuple[StatementRow, ...]  # ends with the surplus not yet shared out

    @property
    def total_assets(self) -> int:
        return sum(r.amount for r in self.assets)

    @property
    def total_liabilities(self) -> int:
        return sum(r.amount for r in self.liabilities)

    @property
    def total_equity(self) -> int:
        return sum(r.amount for r in self.equity)

    @property
    def balanced(self) -> bool:
        return self.total_assets == self.total_liabilities + self.total_equity


SURPLUS_LINE = "Surplus of the cycle, not yet shared out"


def balance_sheets(session: Session, group_id: int, on: dt.date) -> list[BalanceSheet]:
    """One balance sheet per commodity the group holds (its currency first, then rice)."""
    allow(session, "read", group_id)
    group = get_group(session, group_id)
    lines = _lines(session, group_id, dt.date.min, on)
    by_commodity: dict[str, list[AccountLine]] = defaultdict(list)
    for line in lines:
        by_commodity[line.commodity].append(line)
    order = sorted(by_commodity, key=lambda c: (c != group.currency, c))
    sheets = []
    for commodity in order:
        mine = by_commodity[commodity]

        def rows(kind: str, mine: list[AccountLine] = mine) -> list[StatementRow]:
            return [
                StatementRow(line.account, line.natural_closing)
                for line in mine
                if line.type == kind and line.closing
            ]

        surplus = -sum(line.closing for line in mine if line.type in ("income", "expense"))
        equity = rows("equity")
        if surplus:
            equity.append(StatementRow(SURPLUS_LINE, surplus))
        sheets.append(
            BalanceSheet(
                group.code,
                on,
                commodity,
                tuple(rows("asset")),
                tuple(rows("liability")),
                tuple(equity),
            )
        )
    return sheets


@dataclass(frozen=True, slots=True)
class IncomeStatement:
    """Income and expenditure of one commodity over a period."""

    group_code: str
    start: dt.date
    end: dt.date
    commodity: str
    income: tuple[StatementRow, ...]
    expenses: tuple[StatementRow, ...]

    @property
    def total_income(self) -> int:
        return sum(r.amount for r in self.income)

    @property
    def total_expenses(self) -> int:
        return sum(r.amount for r in self.expenses)

    @property
    def surplus(self) -> int:
        return self.total_income - self.total_expenses


def income_and_expenditure(
    session: Session, group_id: int, start: dt.date, end: dt.date
) -> list[IncomeStatement]:
    allow(session, "read", group_id)
    _check_period(start, end)
    group = get_group(session, group_id)
    lines = _lines(session, group_id, start, end, skip_closing=True)
    commodities = sorted(
        {line.commodity for line in lines if line.type in ("income", "expense")},
        key=lambda c: (c != group.currency, c),
    )
    out = []
    for commodity in commodities:
        mine = [line for line in lines if line.commodity == commodity]
        income = [
            StatementRow(line.account, line.credits - line.debits)
            for line in mine
            if line.type == "income" and line.credits != line.debits
        ]
        expenses = [
            StatementRow(line.account, line.debits - line.credits)
            for line in mine
            if line.type == "expense" and line.credits != line.debits
        ]
        out.append(
            IncomeStatement(group.code, start, end, commodity, tuple(income), tuple(expenses))
        )
    return out


@dataclass(frozen=True, slots=True)
class CashBookLine:
    entry_date: dt.date
    seq: int
    memo: str
    cash_in: int
    cash_out: int
    balance: int


@dataclass(frozen=True, slots=True)
class CashBook:
    group_code: str
    currency: str
    start: dt.date
    end: dt.date
    opening: int
    lines: tuple[CashBookLine, ...]

    @property
    def total_in(self) -> int:
        return sum(line.cash_in for line in self.lines)

    @property
    def total_out(self) -> int:
        return sum(line.cash_out for line in self.lines)

    @property
    def closing(self) -> int:
        return self.opening + self.total_in - self.total_out


def cash_book(session: Session, group_id: int, start: dt.date, end: dt.date) -> CashBook:
    """Every movement of the cash box dated in the period, by date (in posting order
    within a day), with the running balance."""
    allow(session, "read", group_id)
    _check_period(start, end)
    group = get_group(session, group_id)
    cash = GroupAccounts(session, group_id).get("cash_box").id
    history = account_history(session, cash)
    opening = sum(h.amount_minor for h in history if h.entry_date < start)
    inside = sorted(
        (h for h in history if start <= h.entry_date <= end), key=lambda h: (h.entry_date, h.seq)
    )
    running = opening
    lines = []
    for h in inside:
        running += h.amount_minor
        lines.append(
            CashBookLine(
                h.entry_date,
                h.seq,
                h.memo,
                max(h.amount_minor, 0),
                max(-h.amount_minor, 0),
                running,
            )
        )
    return CashBook(group.code, group.currency, start, end, opening, tuple(lines))
