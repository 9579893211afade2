"""A group's report for a period, as data: what the printed group report shows.

The report gathers the group's statements from the ledger's own queries, so its figures
are the book's by construction: the trial balance of the period, the balance sheet on its
last day, income and expenditure, the cash book, the membership at the start and the end
(women, ID-Poor households), and how members' savings grew month by month.

On paper a group's chart has one account per member for each kind of savings and one per
loan; a balance sheet of a hundred member lines hides what the group has and owes. Each
line therefore carries a *label*: the account's kind (e.g. "Compulsory savings"), under
which the members' accounts of that kind are summed. ``sheets``, ``income_summary`` and
``trial_summary`` give the statements summed by label; the detail stays in the record
(and in each member's statement). Labels are English words the catalog translates.

The report carries the group's chain head when it was made, printed at the foot of each
page, so a printed report can be matched with the book it came from.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.groups import GroupRecord, get_group
from ledger.locations import Location, location_from_codes
from ledger.members import MemberRecord, list_members
from ledger.models import Account, JournalEntry, Meeting, Posting
from ledger.permissions import allow
from ledger.positions import group_position
from ledger.queries import POSTING_ENTRY, chain_head
from ledger.statements import (
    SURPLUS_LINE,
    AccountLine,
    BalanceSheet,
    CashBook,
    IncomeStatement,
    PeriodTrialBalance,
    StatementRow,
    balance_sheets,
    cash_book,
    income_and_expenditure,
    period_trial_balance,
)

# What each account is for, in the words the printed report uses. Accounts opened one per
# member, loan or lender share a label and are summed under it; an account without a role
# (opened by hand) keeps its own name.
ROLE_LABELS: Mapping[str, str] = {
    "cash_box": "Cash box",
    "bank": "Bank",
    "loans_receivable": "Loans outstanding",
    "loan_principal": "Loans outstanding",
    "rice_stock": "Rice stock",
    "rice_loan": "Rice loans outstanding",
    "compulsory_savings": "Compulsory savings",
    "voluntary_savings": "Voluntary savings",
    "share_money_held": "Share money held",
    "borrowing": "Borrowings",
    "shares": "Shares",
    "social_fund": "Social fund",
    "retained_surplus": "Retained surplus",
    "opening_balances": "Opening balances",
    "rice_capital": "Rice capital",
    "rice_trading": "Rice trading",
    "rice_trading_money": "Rice trading",
    "interest_income": "Interest",
    "penalty_income": "Late penalties",
    "recoveries": "Recoveries of written-off loans",
    "fines_late": "Fines for lateness",
    "fines_absent": "Fines for absence",
    "fines_other": "Other fines",
    "grants": "Grants",
    "rice_interest": "Rice interest",
    "expenses": "General expenses",
    "cash_over_short": "Cash over and short",
    "loan_losses": "Loans written off",
    "interest_expense": "Interest on borrowings",
    "rice_losses_pests": "Rice lost to pests",
    "rice_losses_damp": "Rice lost to damp",
    "rice_losses_theft": "Rice lost to theft",
    "rice_losses_other": "Rice lost, other",
}
SAVINGS_ROLES = ("compulsory_savings", "voluntary_savings", "shares")
TYPE_ORDER = ("asset", "liability", "equity", "income", "expense")


@dataclass(frozen=True, slots=True)
class HeadCount:
    """Who belonged to the group on one day."""

    on: dt.date
    members: int
    women: int
    id_poor_households: int  # households with an ID-Poor card (level 1 or 2)


@dataclass(frozen=True, slots=True)
class Membership:
    """Members at the start and the end of the period, and who came and went.

    ``at_start`` is the day before the period, so at_start + joined - left = at_end.
    """

    at_start: HeadCount
    at_end: HeadCount
    joined: int  # joined on a day in the period
    left: int  # last day in the group fell before the period's end


@dataclass(frozen=True, slots=True)
class SavingsPoint:
    """What members held on one day (a month's end, or the period's last day)."""

    on: dt.date
    compulsory: int
    voluntary: int
    shares: int  # the value of shares bought (VSLAs save by buying shares)

    @property
    def savings(self) -> int:
        return self.compulsory + self.voluntary

    @property
    def total(self) -> int:
        return self.compulsory + self.voluntary + self.shares


@dataclass(frozen=True, slots=True)
class GroupReport:
    group: GroupRecord
    location: Location | None
    start: dt.date
    end: dt.date
    trial_balance: PeriodTrialBalance  # one line per account
    balance_sheets: tuple[BalanceSheet, ...]  # on ``end``, one per commodity
    income: tuple[IncomeStatement, ...]  # one per commodity with income or expenses
    cash_book: CashBook
    membership: Membership
    meetings_held: int  # closed meetings dated in the period
    savings_growth: tuple[SavingsPoint, ...]  # the day before the period, each month end
    labels: Mapping[str, str]  # account name -> the label it is printed (and summed) under
    head_seq: int  # the group's chain head when the report was made
    head_hash: str

    @property
    def sheets(self) -> tuple[BalanceSheet, ...]:
        """The balance sheets with member accounts summed by label."""
        return tuple(
            BalanceSheet(
                b.group_code,
                b.on,
                b.commodity,
                self._rows(b.assets),
                self._rows(b.liabilities),
                self._rows(b.equity),
            )
            for b in self.balance_sheets
        )

    @property
    def income_summary(self) -> tuple[IncomeStatement, ...]:
        """Income and expenditure summed by label."""
        return tuple(
            IncomeStatement(
                i.group_code,
                i.start,
                i.end,
                i.commodity,
                self._rows(i.income),
                self._rows(i.expenses),
            )
            for i in self.income
        )

    @property
    def trial_summary(self) -> PeriodTrialBalance:
        """The trial balance summed by label: same totals, a line per kind of account."""
        summed: dict[tuple[str, str], list[AccountLine]] = defaultdict(list)
        for line in self.trial_balance.lines:
            summed[(line.commodity, self.label_of(line.account))].append(line)
        lines = [
            AccountLine(
                group[0].account_id,
                label,
                group[0].type,
                commodity,
                sum(x.opening for x in group),
                sum(x.debits for x in group),
                sum(x.credits for x in group),
            )
            for (commodity, label), group in summed.items()
        ]
        lines.sort(key=lambda x: (x.commodity, TYPE_ORDER.index(x.type)))  # stable: by name
        tb = self.trial_balance
        return PeriodTrialBalance(tb.group_code, tb.start, tb.end, tuple(lines))

    def label_of(self, account: str) -> str:
        return self.labels.get(account, account)

    def _rows(self, rows: Iterable[StatementRow]) -> tuple[StatementRow, ...]:
        summed: dict[str, int] = {}
        for row in rows:
            label = self.label_of(row.account)
            summed[label] = summed.get(label, 0) + row.amount
        return tuple(StatementRow(label, amount) for label, amount in summed.items())


def group_report(session: Session, group_id: int, start: dt.date, end: dt.date) -> GroupReport:
    """The report of one group for ``start``..``end`` (both included)."""
    allow(session, "read", group_id)
    trial = period_trial_balance(session, group_id, start, end)  # refuses end < start
    group = get_group(session, group_id)
    head = chain_head(session, group_id)
    return GroupReport(
        group=group,
        location=location_from_codes(group.commune_code, group.village_code)
        if group.commune_code
        else None,
        start=start,
        end=end,
        trial_balance=trial,
        balance_sheets=tuple(balance_sheets(session, group_id, end)),
        income=tuple(income_and_expenditure(session, group_id, start, end)),
        cash_book=cash_book(session, group_id, start, end),
        membership=_membership(session, group_id, start, end),
        meetings_held=_meetings_held(session, group_id, start, end),
        savings_growth=_savings_growth(session, group_id, start, end),
        labels=_labels(session, group_id),
        head_seq=head[0],
        head_hash=head[1],
    )


def _labels(session: Session, group_id: int) -> dict[str, str]:
    rows = session.execute(
        select(Account.name, Account.role).where(Account.group_id == group_id)
    ).all()
    labels = {name: ROLE_LABELS[role] for name, role in rows if role in ROLE_LABELS}
    labels[SURPLUS_LINE] = SURPLUS_LINE
    return labels


def head_count(members: Iterable[MemberRecord], on: dt.date) -> HeadCount:
    """Members, women and ID-Poor households on a day, counted as the group position
    counts them (a household is its recorded household, else the member alone)."""
    present = [m for m in members if m.active_on(on)]
    return HeadCount(
        on=on,
        members=len(present),
        women=sum(1 for m in present if m.sex == "F"),
        id_poor_households=len({m.household or m.code for m in present if m.id_poor}),
    )


def _membership(session: Session, group_id: int, start: dt.date, end: dt.date) -> Membership:
    members = list_members(session, group_id)
    before = start - dt.timedelta(days=1)
    position = group_position(session, group_id, on=end)
    at_end = HeadCount(end, position.members, position.women, position.id_poor_households)
    return Membership(
        at_start=head_count(members, before),
        at_end=at_end,
        joined=sum(1 for m in members if m.joined_on is not None and start <= m.joined_on <= end),
        left=sum(1 for m in members if m.exited_on is not None and before <= m.exited_on < end),
    )


def _meetings_held(session: Session, group_id: int, start: dt.date, end: dt.date) -> int:
    return session.execute(
        select(func.count()).where(
            Meeting.group_id == group_id,
            Meeting.status == "closed",
            Meeting.meeting_date >= start,
            Meeting.meeting_date <= end,
        )
    ).scalar_one()


def month_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    """The day before the period, every month's last day inside it, and its last day:
    the days the savings chart shows."""
    days = [start - dt.timedelta(days=1)]
    year, month = start.year, start.month
    while True:
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
        if last >= end:
            break
        if last > days[-1]:
            days.append(last)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    days.append(end)
    return days


def _savings_growth(
    session: Session, group_id: int, start: dt.date, end: dt.date
) -> tuple[SavingsPoint, ...]:
    """Members' savings and shares on each chart day, summed from the postings (one
    query, a row per day with movements), on the side the group owes them."""
    moved = session.execute(
        select(JournalEntry.entry_date, Account.role, func.sum(Posting.amount))
        .join(Posting, Posting.account_id == Account.id)
        .join(JournalEntry, POSTING_ENTRY)
        .where(
            Account.group_id == group_id,
            Account.role.in_(SAVINGS_ROLES),
            JournalEntry.entry_date <= end,
        )
        .group_by(JournalEntry.entry_date, Account.role)
        .order_by(JournalEntry.entry_date)
    ).all()
    points = []
    held = dict.fromkeys(SAVINGS_ROLES, 0)
    rows = iter(moved)
    row = next(rows, None)
    for day in month_ends(start, end):
        while row is not None and row[0] <= day:
            held[row[1]] -= int(row[2] or 0)  # credit-normal: held is minus the sum
            row = next(rows, None)
        points.append(
            SavingsPoint(day, held["compulsory_savings"], held["voluntary_savings"], held["shares"])
        )
    return tuple(points)
