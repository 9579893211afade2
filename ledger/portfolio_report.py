"""The portfolio report for coordinators, as data: what the printed page shows.

Its figures are ``ledger.portfolio``'s, by group or by commune, district or province
(gross outstanding, ageing, PAR30/PAR90, arrears and repayment rates), with a total row
for the whole book, one per currency since groups keep their own, summed from the same
rows so the total is their sum by construction. Beside them, the loans behind the risk:
every loan overdue or rescheduled on the date, most overdue first, which is where a
coordinator goes next.

A portfolio spans many groups and each group has its own hash chain, so the report is
tied to the book by a fingerprint of every group's chain head: the number of entries
across the groups and a hash over each group's code, last entry number and hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.groups import GroupRecord, list_groups
from ledger.permissions import allow
from ledger.portfolio import (
    BUCKETS,
    LEVELS,
    LoanAtDate,
    PortfolioError,
    PortfolioFigures,
    portfolio_with_loans,
)
from ledger.queries import chain_head

TOTAL_LEVEL = "book"
# The whole-number fields of a portfolio row, summed for the total row.
_SUMMED = (
    "groups",
    "loans_active",
    "gross_outstanding",
    "at_risk_30",
    "at_risk_90",
    "rescheduled_outstanding",
    "principal_in_arrears",
    "due_to_date",
    "paid_towards_due",
    "written_off",
    "recovered",
)


@dataclass(frozen=True, slots=True)
class PortfolioReport:
    as_of: dt.date
    by: str  # group, commune, district or province
    groups: tuple[GroupRecord, ...]  # the groups the report covers
    rows: tuple[PortfolioFigures, ...]  # one per place (or group) and currency, by key
    totals: tuple[PortfolioFigures, ...]  # the whole report, one per currency
    at_risk: tuple[LoanAtDate, ...]  # loans overdue or rescheduled, most overdue first
    head_seq: int  # entries across the groups when the report was made
    head_hash: str  # fingerprint of every group's chain head

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(t.currency for t in self.totals)

    def currency_of(self, group_code: str) -> str:
        return next(g.currency for g in self.groups if g.code == group_code)


def portfolio_report(
    session: Session,
    *,
    as_of: dt.date,
    by: str = "group",
    codes: Iterable[str] | None = None,
) -> PortfolioReport:
    """The portfolio on ``as_of`` by ``by``, over the groups with ``codes`` (default:
    every group the signed-in user may read)."""
    if by not in LEVELS:
        raise PortfolioError(f"The portfolio is by {', '.join(LEVELS)}; not {by!r}.")
    wanted = None if codes is None else sorted(set(codes))
    rows, loans = portfolio_with_loans(session, as_of=as_of, by=by, group_codes=wanted)
    groups = [g for g in list_groups(session) if wanted is None or g.code in wanted]
    seq, fingerprint = book_fingerprint(session, groups)
    return PortfolioReport(
        as_of=as_of,
        by=by,
        groups=tuple(groups),
        rows=tuple(rows),
        totals=tuple(total_row(rows, c, as_of) for c in sorted({r.currency for r in rows})),
        at_risk=tuple(x for x in loans if x.days_overdue > 0 or x.rescheduled),
        head_seq=seq,
        head_hash=fingerprint,
    )


def total_row(rows: Iterable[PortfolioFigures], currency: str, as_of: dt.date) -> PortfolioFigures:
    """The sum of the rows in one currency (the ratios follow from the sums)."""
    total = PortfolioFigures(TOTAL_LEVEL, "", "Total", "", currency, as_of)
    for row in rows:
        if row.currency != currency:
            continue
        for name in _SUMMED:
            setattr(total, name, getattr(total, name) + getattr(row, name))
        for bucket, _low, _high in BUCKETS:
            count, principal = total.buckets[bucket]
            more_count, more_principal = row.buckets[bucket]
            total.buckets[bucket] = (count + more_count, principal + more_principal)
    return total


def book_fingerprint(session: Session, groups: Iterable[GroupRecord]) -> tuple[int, str]:
    """(entries across the groups, a SHA-256 over each group's code and chain head): a
    changed or added entry in any group changes it."""
    digest = hashlib.sha256()
    entries = 0
    for group in sorted(groups, key=lambda g: g.code):
        allow(session, "read", group.id)
        seq, head = chain_head(session, group.id)
        entries += seq
        digest.update(f"{group.code}:{seq}:{head}\n".encode())
    return entries, digest.hexdigest()
