"""Portfolio at risk, ageing, arrears and repayment rates, as of any date.

The figures funders and coordinators ask for, by the standard definitions (CGAP's
microfinance ratios, as the SEEP network's framework uses them):

- **Gross outstanding**: the principal still owed on loans active on the date (loans
  written off by then are out of the portfolio).
- **Ageing**: each loan in a bucket by days overdue (current, 1-30, 31-60, 61-90,
  91-180, over 180), with its whole outstanding principal.
- **PAR30 / PAR90**: outstanding principal of loans with an instalment more than 30 (90)
  days overdue, *plus* every rescheduled loan, divided by gross outstanding. A
  rescheduled loan is at risk however well it is paid now, since rescheduling hides
  arrears.
- **Arrears rate**: principal that fell due and is unpaid, divided by gross outstanding.
  It is smaller than PAR and is reported under its own name so the two are not confused.
- **Repayment rate**: of the principal and interest that fell due up to the date, the
  share paid by then. A loan settled (early or on time) counts as fully repaid; loans
  written off are excluded, and reported as written off.

Ratios are exact ``Decimal`` fractions; the caller chooses how to round them for print.
Groups keep their own currency, so figures are never summed across currencies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import LedgerError, UnknownGroup
from ledger.groups import GroupRecord, get_group, groups_named
from ledger.loans import LoanStatement, loan_statements
from ledger.locations import location_from_codes
from ledger.models import Loan
from ledger.permissions import allow

BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("current", 0, 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-180", 91, 180),
    ("over 180", 181, None),
)

LEVELS = ("group", "commune", "district", "province")


class PortfolioError(LedgerError):
    """A portfolio question that cannot be answered as asked."""


def bucket_of(days_overdue: int) -> str:
    for name, low, high in BUCKETS:
        if days_overdue >= low and (high is None or days_overdue <= high):
            return name
    raise AssertionError(days_overdue)


@dataclass(frozen=True, slots=True)
class LoanAtDate:
    """One loan's line in the portfolio."""

    group_code: str
    loan_id: int
    loan_number: int
    member_code: str
    state: str
    principal_outstanding: int
    days_overdue: int
    bucket: str
    rescheduled: bool
    principal_in_arrears: int


@dataclass(slots=True)
class PortfolioFigures:
    """The portfolio of one group, or of the groups of one commune, district or province."""

    level: str
    key: str  # group code, or the official location code
    name: str
    name_khmer: str
    currency: str
    as_of: dt.date
    groups: int = 0
    loans_active: int = 0
    gross_outstanding: int = 0
    buckets: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {name: (0, 0) for name, _l, _h in BUCKETS}
    )  # bucket -> (loans, principal outstanding)
    at_risk_30: int = 0
    at_risk_90: int = 0
    rescheduled_outstanding: int = 0
    principal_in_arrears: int = 0
    due_to_date: int = 0
    paid_towards_due: int = 0
    written_off: int = 0
    recovered: int = 0

    @property
    def par30(self) -> Decimal | None:
        return _ratio(self.at_risk_30, self.gross_outstanding)

    @property
    def par90(self) -> Decimal | None:
        return _ratio(self.at_risk_90, self.gross_outstanding)

    @property
    def arrears_rate(self) -> Decimal | None:
        return _ratio(self.principal_in_arrears, self.gross_outstanding)

    @property
    def repayment_rate(self) -> Decimal | None:
        return _ratio(self.paid_towards_due, self.due_to_date)

    def add(self, st: LoanStatement) -> None:
        if st.state == "written off":
            self.written_off += st.written_off
            self.recovered += st.recovered
            return
        if st.state == "closed":
            # Settled, perhaps early: instalments not yet due were not owed, and less
            # interest was charged than scheduled. What it paid is what fell due.
            self.due_to_date += st.standing.paid_towards_due
            self.paid_towards_due += st.standing.paid_towards_due
            return
        self.due_to_date += st.standing.due_to_date
        self.paid_towards_due += st.standing.paid_towards_due
        if st.state != "active":
            return
        owed = st.principal_outstanding
        self.loans_active += 1
        self.gross_outstanding += owed
        name = bucket_of(st.days_overdue)
        count, principal = self.buckets[name]
        self.buckets[name] = (count + 1, principal + owed)
        if st.rescheduled:
            self.rescheduled_outstanding += owed
        if st.rescheduled or st.days_overdue > 30:
            self.at_risk_30 += owed
        if st.rescheduled or st.days_overdue > 90:
            self.at_risk_90 += owed
        self.principal_in_arrears += st.principal_in_arrears


def _ratio(part: int, whole: int) -> Decimal | None:
    return Decimal(part) / Decimal(whole) if whole else None


def portfolio(
    session: Session,
    *,
    as_of: dt.date,
    by: str = "group",
    group_codes: Iterable[str] | None = None,
) -> list[PortfolioFigures]:
    """The portfolio by group or by commune/district/province, one row per place and
    currency, sorted by key. ``group_codes`` limits it to some groups."""
    return portfolio_with_loans(session, as_of=as_of, by=by, group_codes=group_codes)[0]


def loans_at_date(
    session: Session, *, as_of: dt.date, group_codes: Iterable[str] | None = None
) -> list[LoanAtDate]:
    """Every loan active on the date with its days overdue and bucket: the detail behind
    the portfolio figures, most overdue first."""
    return portfolio_with_loans(session, as_of=as_of, group_codes=group_codes)[1]


def portfolio_with_loans(
    session: Session,
    *,
    as_of: dt.date,
    by: str = "group",
    group_codes: Iterable[str] | None = None,
) -> tuple[list[PortfolioFigures], list[LoanAtDate]]:
    """The portfolio rows and the active loans behind them, from one working-out of each
    loan's statement (the printed report needs both; working them out twice doubled its
    time on a federation's book)."""
    if by not in LEVELS:
        raise PortfolioError(f"The portfolio is by {', '.join(LEVELS)}; not {by!r}.")
    rows: dict[tuple[str, str], PortfolioFigures] = {}
    lines: list[LoanAtDate] = []
    for group, statements in _statements_by_group(session, _groups(session, group_codes), as_of):
        key, name, name_km = _place(group, by)
        figures = rows.get((key, group.currency))
        if figures is None:
            figures = PortfolioFigures(by, key, name, name_km, group.currency, as_of)
            rows[(key, group.currency)] = figures
        figures.groups += 1
        for st in statements:
            figures.add(st)
            if st.state == "active":
                lines.append(_loan_line(group, st))
    return [rows[k] for k in sorted(rows)], _most_overdue_first(lines)


def _loan_line(group: GroupRecord, st: LoanStatement) -> LoanAtDate:
    return LoanAtDate(
        group.code,
        st.loan.id,
        st.loan.number,
        st.loan.member_code,
        st.state,
        st.principal_outstanding,
        st.days_overdue,
        bucket_of(st.days_overdue),
        st.rescheduled,
        st.principal_in_arrears,
    )


def _most_overdue_first(lines: list[LoanAtDate]) -> list[LoanAtDate]:
    return sorted(lines, key=lambda x: (-x.days_overdue, x.group_code, x.loan_number))


def _groups(session: Session, codes: Iterable[str] | None) -> list[GroupRecord]:
    try:
        return groups_named(session, codes)
    except UnknownGroup as exc:
        raise PortfolioError(str(exc)) from None


def _statements_by_group(
    session: Session, groups: list[GroupRecord], as_of: dt.date
) -> Iterable[tuple[GroupRecord, list[LoanStatement]]]:
    """Every group with the statements of its lent loans, read in one pass for all."""
    loans: list[Loan] = []
    for chunk in (groups[k : k + 500] for k in range(0, len(groups), 500)):
        loans += session.execute(
            select(Loan)
            .where(
                Loan.group_id.in_([g.id for g in chunk]),
                Loan.status.in_(("disbursed", "closed", "written_off")),
            )
            .order_by(Loan.group_id, Loan.number)
        ).scalars()
    by_group: dict[int, list[LoanStatement]] = {g.id: [] for g in groups}
    for st in loan_statements(session, loans, on=as_of) if loans else []:
        by_group[st.loan.group_id].append(st)
    return [(g, by_group[g.id]) for g in groups]


def _place(group: GroupRecord, level: str) -> tuple[str, str, str]:
    if level == "group":
        return group.code, group.name, ""
    if group.commune_code is None:
        return "-", "(no location recorded)", ""
    where = location_from_codes(group.commune_code)
    return {
        "commune": (where.commune_code, where.commune, where.commune_km),
        "district": (where.district_code, where.district, where.district_km),
        "province": (where.province_code, where.province, where.province_km),
    }[level]


def group_portfolio(session: Session, group_id: int, *, as_of: dt.date) -> PortfolioFigures:
    """One group's figures (the dashboard's PAR30 and loans in arrears)."""
    return group_portfolio_with_loans(session, group_id, as_of=as_of)[0]


def group_portfolio_with_loans(
    session: Session, group_id: int, *, as_of: dt.date
) -> tuple[PortfolioFigures, list[LoanAtDate]]:
    """One group's figures and its active loans, most overdue first, from one reading of
    its loans (the dashboard needs both; reading them twice doubled its time)."""
    allow(session, "read", group_id)
    group = get_group(session, group_id)
    figures = PortfolioFigures("group", group.code, group.name, "", group.currency, as_of)
    figures.groups = 1
    lines = []
    for _group, statements in _statements_by_group(session, [group], as_of):
        for st in statements:
            figures.add(st)
            if st.state == "active":
                lines.append(_loan_line(group, st))
    return figures, _most_overdue_first(lines)
