"""A group's dashboard: the figures a treasurer checks before a meeting, and what needs
action, read in a few indexed queries so it opens as fast on a big book as on a new one.

The terminal app shows this; it is data only (no Textual here), so it is tested directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.collection_sheet import next_meeting_date
from ledger.models import Loan, Meeting
from ledger.money import format_minor
from ledger.portfolio import PortfolioFigures, group_portfolio_with_loans
from ledger.positions import GroupPosition, group_position
from ledger.queries import open_meeting_of

OVERDUE_WARNING_DAYS = 30


@dataclass(frozen=True, slots=True)
class Dashboard:
    position: GroupPosition
    portfolio: PortfolioFigures
    members_in_arrears: int
    open_meeting: tuple[int, dt.date] | None  # (number, date) of a meeting not yet closed
    next_meeting: dt.date | None
    warnings: tuple[str, ...]

    @property
    def currency(self) -> str:
        return self.position.group.currency


def group_dashboard(session: Session, group_id: int, *, today: dt.date) -> Dashboard:
    """The group as it stands on ``today``, with the warnings that need someone to act."""
    position = group_position(session, group_id, on=today)
    group = position.group
    figures, late = group_portfolio_with_loans(session, group_id, as_of=today)
    in_arrears = {x.member_code for x in late if x.days_overdue > 0}
    draft = open_meeting_of(session, group_id)
    next_day = None if draft else next_meeting_date(session, group_id, today - dt.timedelta(1))
    warnings: list[str] = []
    if draft:
        warnings.append(
            f"Meeting #{draft[0]} of {draft[1].isoformat()} is open: finish its sheet and "
            "close it (nothing is posted until then)."
        )
    very_late = [x for x in late if x.days_overdue > OVERDUE_WARNING_DAYS]
    if very_late:
        owed = sum(x.principal_outstanding for x in very_late)
        warnings.append(
            f"{len(very_late)} loan(s) more than {OVERDUE_WARNING_DAYS} days overdue "
            f"({format_minor(owed, group.currency)} outstanding): visit the members."
        )
    waiting = dict(
        session.execute(
            select(Loan.status, func.count())
            .where(Loan.group_id == group_id, Loan.status.in_(("applied", "approved")))
            .group_by(Loan.status)
        ).all()
    )
    if waiting.get("applied"):
        warnings.append(f"{waiting['applied']} loan application(s) wait for approval.")
    if waiting.get("approved"):
        warnings.append(f"{waiting['approved']} approved loan(s) wait to be lent at a meeting.")
    last_difference = session.execute(
        select(Meeting.number, Meeting.counted_cash - Meeting.expected_cash)
        .where(Meeting.group_id == group_id, Meeting.status == "closed")
        .order_by(Meeting.number.desc())
        .limit(1)
    ).first()
    if last_difference and last_difference[1]:
        warnings.append(
            f"The cash count at meeting #{last_difference[0]} differed from the sheet by "
            f"{format_minor(last_difference[1], group.currency)}."
        )
    last = position.last_meeting
    if draft is None and last is not None:
        missed = next_meeting_date(session, group_id, last)
        if missed < today:
            warnings.append(
                f"No meeting is recorded since {last.isoformat()}: the meeting of "
                f"{missed.isoformat()} is missing (record it, or mark it called off)."
            )
    return Dashboard(
        position=position,
        portfolio=figures,
        members_in_arrears=len(in_arrears),
        open_meeting=draft,
        next_meeting=next_day,
        warnings=tuple(warnings),
    )
