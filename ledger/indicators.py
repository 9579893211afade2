"""Savings-group performance indicators for a quarter, per group and for a project.

Funders of savings groups compare programmes with the figures of the Savings Group
Information Exchange (SAVIX) and the SEEP Network's key ratios, so a coordinator reports
in those terms rather than in our own. Sources (titles as published):

- "The SAVIX — What we measure" (thesavix.org): projects report quarterly from
  group-level data items (membership, attendance, savings, loans outstanding, write-offs,
  cash, social fund, debts...); the SAVIX derives its metrics from them, among which the
  SEEP Network's key performance ratios for community-managed microfinance.
- "Ratio Analysis of Community-Managed Microfinance Programs", The SEEP Network
  Savings-Led Financial Services Working Group, Ratios Sub-Group (2008): ratios of member
  satisfaction (attendance, drop-out), financial performance (return on assets and on
  savings, portfolio at risk) and the group's operating efficiency (loan fund
  utilisation, members with loans, loan sizes).
- The portfolio figures are ``ledger.portfolio``'s (CGAP's definitions, as SEEP uses them).

The ratios of SEEP's fourth family, the implementing organisation's efficiency (cost
per member, members per field officer), need the NGO's own costs and staff, which the
book does not hold; they are not computed here.

Definitions used (period = ``start``..``end``, both included; "on the end date" means
the books as they stood that day, whatever was posted later for later days):

- **Members** at the start (on the day before the period) and at the end, women and men
  at the end, members who joined and who left in the period: counted as the group report
  counts them (a member who leaves at a meeting still belongs to the group that day).
- **Attendance rate** = attendances at the meetings closed in the period ÷ the members
  belonging to the group on each of those days, summed over the meetings.
- **Drop-out rate** = members who left in the period ÷ members at its start.
- **Savings** (the SAVIX "value of savings") = what the group owes its members for what
  they saved on the end date: compulsory and voluntary savings, the value of their
  shares and share money held towards a share. The social fund is a group fund, not
  savings. **Average savings per member** = savings ÷ members at the end.
- **Cash on hand and at the bank, social fund, total assets, liabilities, equity**: the
  balance sheet on the end date in the group's currency (equity includes the surplus not
  yet shared out). Rice, counted in kilograms, is left out of money figures.
- **Loans outstanding** (number and value), **PAR30**: the portfolio on the end date
  (outstanding principal of loans with an instalment over 30 days late plus every
  rescheduled loan, ÷ gross outstanding principal; by balance, not by count).
- **Loans disbursed** in the period (number, value), **average loan disbursed** and
  **average loan outstanding** (value ÷ number).
- **Members with loans** = members with a loan outstanding on the end date ÷ members at
  the end.
- **Write-offs** = loans written off in the period (number) and the principal written
  off, as the books expensed it.
- **Net income** = income less expenses of the period (interest, late penalties, fines,
  grants, recoveries, less expenses and write-offs); the share-out's closing entry moves
  the surplus and is not income.
- **Annualised return on assets** = net income ÷ average total assets (the mean of the
  totals on the day before the period and on its last day) × 365 ÷ days in the period.
  **Annualised return on savings** is the same over average savings. SAVIX states both
  for the cycle to date; here the period is the quarter asked for, so every group is
  measured over the same days.
- **Loan fund utilisation** = loans outstanding ÷ total assets on the end date.

For a project (a set of groups) the amounts and counts are summed and every ratio is
recomputed from the sums, so a ratio is weighted by the groups' sizes (PAR30 by
outstanding principal, attendance by member-meetings), never an average of ratios. The
book has no notion of a project: it is the groups the signed-in user may read, or those
named. Groups keep their own currency, so a project has one total row per currency.

Amounts are integer minor units; ratios are exact ``Decimal`` fractions (``None`` when
the denominator is zero). Rounding is for the screen or the file, at the edge.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from decimal import Decimal

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from ledger.errors import InvalidEntry
from ledger.group_report import head_count
from ledger.groups import GroupRecord, get_group, groups_named
from ledger.members import MemberRecord, list_members
from ledger.models import Account, Loan, Meeting, MeetingLine
from ledger.permissions import allow
from ledger.portfolio import group_portfolio_with_loans
from ledger.statements import BalanceSheet, balance_sheets, income_and_expenditure

SAVINGS_ROLES = ("compulsory_savings", "voluntary_savings", "shares", "share_money_held")
_INTEREST_ROLES = ("interest_income", "penalty_income")
_FINE_ROLES = ("fines_late", "fines_absent", "fines_other")
_LENT = ("disbursed", "closed", "written_off")
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")
DAYS_IN_YEAR = 365
TOTAL_CODE = ""  # the group code of a project's total row


def quarter(text: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a quarter written as 2026Q3 (or 2026-Q3)."""
    found = _QUARTER.match(text)
    if not found:
        raise InvalidEntry(f"{text!r} is not a quarter; write the year and quarter, e.g. 2026Q3.")
    year, number = int(found[1]), int(found[2])
    start = dt.date(year, 3 * number - 2, 1)
    following = dt.date(year + 1, 1, 1) if number == 4 else dt.date(year, 3 * number + 1, 1)
    return start, following - dt.timedelta(days=1)


def _ratio(part: int, whole: int) -> Decimal | None:
    return Decimal(part) / Decimal(whole) if whole else None


@dataclass(frozen=True, slots=True)
class GroupIndicators:
    """One group's indicators for a period, or a project's total (``groups`` > 1)."""

    group_code: str  # TOTAL_CODE for a project's total
    group_name: str
    currency: str
    start: dt.date
    end: dt.date
    groups: int
    # Membership and meetings (SAVIX data items).
    members_start: int
    members_joined: int
    members_left: int
    members_end: int
    women_end: int
    men_end: int
    meetings_held: int
    attendances: int
    attendance_possible: int  # member-meetings: members belonging on each meeting day
    # The balance sheet on the end date, minor units of ``currency``.
    compulsory_savings: int
    voluntary_savings: int
    shares_value: int
    share_money_held: int
    savings_start: int  # the same four, on the day before the period
    social_fund: int
    cash_box: int
    bank: int
    total_assets: int
    total_liabilities: int
    total_equity: int
    assets_start: int
    borrowings: int
    # The portfolio on the end date, and loans made and written off in the period.
    loans_outstanding: int
    loans_active: int
    borrowers: int
    at_risk_30: int
    loans_disbursed: int
    value_disbursed: int
    loans_written_off: int
    value_written_off: int
    # Income and expenditure of the period.
    interest_income: int  # interest and late penalties
    fines_income: int
    other_income: int  # grants, recoveries of written-off loans, anything else
    total_expenses: int  # including write-offs

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def savings(self) -> int:
        return (
            self.compulsory_savings
            + self.voluntary_savings
            + self.shares_value
            + self.share_money_held
        )

    @property
    def total_income(self) -> int:
        return self.interest_income + self.fines_income + self.other_income

    @property
    def net_income(self) -> int:
        return self.total_income - self.total_expenses

    @property
    def attendance_rate(self) -> Decimal | None:
        return _ratio(self.attendances, self.attendance_possible)

    @property
    def dropout_rate(self) -> Decimal | None:
        return _ratio(self.members_left, self.members_start)

    @property
    def average_savings_per_member(self) -> Decimal | None:
        """In minor units (a fraction of one, before rounding for display)."""
        return _ratio(self.savings, self.members_end)

    @property
    def average_loan_outstanding(self) -> Decimal | None:
        return _ratio(self.loans_outstanding, self.loans_active)

    @property
    def average_loan_disbursed(self) -> Decimal | None:
        return _ratio(self.value_disbursed, self.loans_disbursed)

    @property
    def members_with_loans_rate(self) -> Decimal | None:
        return _ratio(self.borrowers, self.members_end)

    @property
    def par30(self) -> Decimal | None:
        return _ratio(self.at_risk_30, self.loans_outstanding)

    @property
    def loan_fund_utilisation(self) -> Decimal | None:
        return _ratio(self.loans_outstanding, self.total_assets)

    @property
    def return_on_assets(self) -> Decimal | None:
        """Annualised: net income ÷ mean total assets × 365 ÷ days."""
        return _annualised(self.net_income, self.assets_start + self.total_assets, self.days)

    @property
    def return_on_savings(self) -> Decimal | None:
        """Annualised: net income ÷ mean savings × 365 ÷ days."""
        return _annualised(self.net_income, self.savings_start + self.savings, self.days)


def _annualised(income: int, twice_the_mean: int, days: int) -> Decimal | None:
    # income / (twice_the_mean / 2) * 365 / days, in one exact division.
    return _ratio(2 * income * DAYS_IN_YEAR, twice_the_mean * days)


# The whole-number fields summed for a project's total (everything but who and when).
SUMMED = tuple(
    f.name
    for f in fields(GroupIndicators)
    if f.name not in ("group_code", "group_name", "currency", "start", "end")
)


@dataclass(frozen=True, slots=True)
class IndicatorReport:
    start: dt.date
    end: dt.date
    rows: tuple[GroupIndicators, ...]  # one per group, by code
    totals: tuple[GroupIndicators, ...]  # the project, one per currency


def indicator_report(
    session: Session,
    *,
    start: dt.date,
    end: dt.date,
    codes: Iterable[str] | None = None,
) -> IndicatorReport:
    """The indicators of the groups with ``codes`` (default: every group the signed-in
    user may read) for ``start``..``end``, with the project's totals."""
    _check_period(start, end)
    groups = groups_named(session, codes)
    rows = tuple(group_indicators(session, g.id, start=start, end=end) for g in groups)
    currencies = sorted({r.currency for r in rows})
    return IndicatorReport(start, end, rows, tuple(total_row(rows, c) for c in currencies))


def total_row(rows: Iterable[GroupIndicators], currency: str) -> GroupIndicators:
    """The project's total in one currency: counts and amounts summed, ratios from sums."""
    mine = [r for r in rows if r.currency == currency]
    if not mine:
        raise InvalidEntry(f"No group keeps its books in {currency}.")
    sums = {name: sum(getattr(r, name) for r in mine) for name in SUMMED}
    return replace(mine[0], group_code=TOTAL_CODE, group_name="Total", **sums)


def group_indicators(
    session: Session, group_id: int, *, start: dt.date, end: dt.date
) -> GroupIndicators:
    """One group's indicators for ``start``..``end`` (both included)."""
    allow(session, "read", group_id)
    _check_period(start, end)
    group = get_group(session, group_id)
    before = start - dt.timedelta(days=1)
    members = list_members(session, group_id)
    at_start, at_end = head_count(members, before), head_count(members, end)
    attended, possible, held = _attendance(session, group_id, members, start, end)
    names = _roles_by_name(session, group_id, group.currency)
    sheet_end = _sheet(balance_sheets(session, group_id, end), group)
    sheet_before = _sheet(balance_sheets(session, group_id, before), group)
    sheet, savings_before = _by_role(sheet_end, names), _by_role(sheet_before, names)
    figures, active = group_portfolio_with_loans(session, group_id, as_of=end)
    income = _income(session, group, names, start, end)
    disbursed, value_disbursed = _disbursed(session, group_id, start, end)
    return GroupIndicators(
        group_code=group.code,
        group_name=group.name,
        currency=group.currency,
        start=start,
        end=end,
        groups=1,
        members_start=at_start.members,
        members_joined=sum(1 for m in members if m.joined_on and start <= m.joined_on <= end),
        members_left=sum(1 for m in members if m.exited_on and before <= m.exited_on < end),
        members_end=at_end.members,
        women_end=at_end.women,
        men_end=sum(1 for m in members if m.active_on(end) and m.sex == "M"),
        meetings_held=held,
        attendances=attended,
        attendance_possible=possible,
        compulsory_savings=sheet.get("compulsory_savings", 0),
        voluntary_savings=sheet.get("voluntary_savings", 0),
        shares_value=sheet.get("shares", 0),
        share_money_held=sheet.get("share_money_held", 0),
        savings_start=sum(savings_before.get(role, 0) for role in SAVINGS_ROLES),
        social_fund=sheet.get("social_fund", 0),
        cash_box=sheet.get("cash_box", 0),
        bank=sheet.get("bank", 0),
        total_assets=sheet_end.total_assets if sheet_end else 0,
        total_liabilities=sheet_end.total_liabilities if sheet_end else 0,
        total_equity=sheet_end.total_equity if sheet_end else 0,
        assets_start=sheet_before.total_assets if sheet_before else 0,
        borrowings=sheet.get("borrowing", 0),
        loans_outstanding=figures.gross_outstanding,
        loans_active=figures.loans_active,
        borrowers=len({line.member_code for line in active}),
        at_risk_30=figures.at_risk_30,
        loans_disbursed=disbursed,
        value_disbursed=value_disbursed,
        loans_written_off=_written_off(session, group_id, start, end),
        value_written_off=income.get("loan_losses", 0),
        interest_income=sum(income.get(r, 0) for r in _INTEREST_ROLES),
        fines_income=sum(income.get(r, 0) for r in _FINE_ROLES),
        other_income=income["income"]
        - sum(income.get(r, 0) for r in (*_INTEREST_ROLES, *_FINE_ROLES)),
        total_expenses=income["expenses"],
    )


def _check_period(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise InvalidEntry(
            f"The period ends ({end.isoformat()}) before it starts ({start.isoformat()})."
        )


def _attendance(
    session: Session,
    group_id: int,
    members: list[MemberRecord],
    start: dt.date,
    end: dt.date,
) -> tuple[int, int, int]:
    """(attendances, member-meetings possible, meetings held) at the meetings closed in
    the period."""
    in_period = (
        (Meeting.group_id == group_id)
        & (Meeting.status == "closed")
        & (Meeting.meeting_date >= start)
        & (Meeting.meeting_date <= end)
    )
    days = session.execute(select(Meeting.meeting_date).where(in_period)).scalars().all()
    attended = session.execute(
        select(func.coalesce(func.sum(func.cast(MeetingLine.attended, Integer)), 0))
        .join(Meeting, Meeting.id == MeetingLine.meeting_id)
        .where(in_period)
    ).scalar_one()
    possible = sum(head_count(members, day).members for day in days)
    return int(attended), possible, len(days)


def _roles_by_name(session: Session, group_id: int, currency: str) -> dict[str, str]:
    """Account name -> role, for the group's accounts in its currency."""
    rows = session.execute(
        select(Account.name, Account.role).where(
            Account.group_id == group_id,
            Account.commodity == currency,
            Account.role.is_not(None),
        )
    )
    return {name: role for name, role in rows}


def _sheet(sheets: list[BalanceSheet], group: GroupRecord) -> BalanceSheet | None:
    return next((s for s in sheets if s.commodity == group.currency), None)


def _by_role(sheet: BalanceSheet | None, names: dict[str, str]) -> dict[str, int]:
    """The balance sheet's lines summed by the role of their account."""
    held: dict[str, int] = {}
    if sheet is None:
        return held
    for row in (*sheet.assets, *sheet.liabilities, *sheet.equity):
        role = names.get(row.account)
        if role is not None:
            held[role] = held.get(role, 0) + row.amount
    return held


def _income(
    session: Session,
    group: GroupRecord,
    names: dict[str, str],
    start: dt.date,
    end: dt.date,
) -> dict[str, int]:
    """Income and expenses of the period by role, with the totals as "income" and
    "expenses" (the share-out's closing entry left out, as the income statement does)."""
    found: dict[str, int] = {"income": 0, "expenses": 0}
    for statement in income_and_expenditure(session, group.id, start, end):
        if statement.commodity != group.currency:
            continue
        found["income"] += statement.total_income
        found["expenses"] += statement.total_expenses
        for row in (*statement.income, *statement.expenses):
            role = names.get(row.account, row.account)
            found[role] = found.get(role, 0) + row.amount
    return found


def _disbursed(session: Session, group_id: int, start: dt.date, end: dt.date) -> tuple[int, int]:
    count, value = session.execute(
        select(func.count(), func.coalesce(func.sum(Loan.amount), 0)).where(
            Loan.group_id == group_id,
            Loan.status.in_(_LENT),
            Loan.disbursed_on >= start,
            Loan.disbursed_on <= end,
        )
    ).one()
    return int(count), int(value)


def _written_off(session: Session, group_id: int, start: dt.date, end: dt.date) -> int:
    return session.execute(
        select(func.count()).where(
            Loan.group_id == group_id,
            Loan.written_off_on >= start,
            Loan.written_off_on <= end,
        )
    ).scalar_one()
