"""The collection sheet for a meeting, as data: what the blank paper sheet is printed with.

Where there is no computer at the meeting, the treasurer fills a paper sheet by hand and
types it in later. The sheet comes pre-filled with what the book already knows on the
meeting day: the members who belong to the group that day, the cycle's rules (share
price, compulsory savings, social fund, fines), what each member must repay on her
loans to be up to date (each loan's ``due_now`` on that day, the figure the meeting
screen asks for) and the cash the box should hold when the meeting opens.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.cancellations import cancelled_days
from ledger.chart import GroupAccounts
from ledger.cycles import CycleRecord, current_cycle
from ledger.groups import GroupRecord, get_group
from ledger.loans import LoanStatement, loan_statements, loans_of_group
from ledger.meeting_calendar import meeting_dates
from ledger.members import MemberRecord, list_members
from ledger.models import JournalEntry, Meeting, Posting
from ledger.permissions import allow
from ledger.queries import POSTING_ENTRY, chain_head


@dataclass(frozen=True, slots=True)
class LoanDue:
    """One active loan of a member, as it stands on the meeting day."""

    number: int
    due_now: int  # to be up to date: instalments due by the day and penalties, less paid
    owed_now: int  # what settles the loan that day
    days_overdue: int

    @classmethod
    def of(cls, statement: LoanStatement) -> LoanDue:
        return cls(
            statement.loan.number,
            statement.due_now,
            statement.owed_now,
            statement.days_overdue,
        )


@dataclass(frozen=True, slots=True)
class CollectionRow:
    member: MemberRecord
    loans: tuple[LoanDue, ...]  # active loans, oldest first (repaid in that order)

    @property
    def loan_due(self) -> int:
        return sum(loan.due_now for loan in self.loans)

    @property
    def overdue(self) -> bool:
        return any(loan.days_overdue for loan in self.loans)


@dataclass(frozen=True, slots=True)
class CollectionSheet:
    group: GroupRecord
    cycle: CycleRecord
    meeting_date: dt.date
    meeting_number: int  # the number the meeting has, or will get when it opens
    rows: tuple[CollectionRow, ...]
    opening_cash: int  # the cash box before the meeting: every entry dated before it
    head_seq: int  # the group's chain head when the sheet was made
    head_hash: str

    @property
    def currency(self) -> str:
        return self.group.currency

    @property
    def loan_due(self) -> int:
        return sum(row.loan_due for row in self.rows)

    @property
    def compulsory_savings_due(self) -> int:
        """What every member saving the compulsory amount brings in."""
        return self.cycle.compulsory_savings * len(self.rows)

    @property
    def social_fund_due(self) -> int:
        return self.cycle.social_fund_contribution * len(self.rows)


def collection_sheet(session: Session, group_id: int, meeting_date: dt.date) -> CollectionSheet:
    """The sheet of the group's meeting on ``meeting_date``, pre-filled from the book."""
    allow(session, "read", group_id)
    group = get_group(session, group_id)
    cycle = current_cycle(session, group_id)
    assert cycle is not None  # required: refused with a message when there is none
    members = list_members(session, group_id, on=meeting_date)
    due: dict[int, list[LoanDue]] = {m.id: [] for m in members}
    loans = loans_of_group(session, group_id)
    for statement in loan_statements(session, loans, on=meeting_date) if loans else []:
        if statement.state == "active" and statement.loan.member_id in due:
            due[statement.loan.member_id].append(LoanDue.of(statement))
    head = chain_head(session, group_id)
    return CollectionSheet(
        group=group,
        cycle=cycle,
        meeting_date=meeting_date,
        meeting_number=_meeting_number(session, group_id, meeting_date),
        rows=tuple(CollectionRow(m, tuple(due[m.id])) for m in members),
        opening_cash=_cash_before(session, group_id, meeting_date),
        head_seq=head[0],
        head_hash=head[1],
    )


def _meeting_number(session: Session, group_id: int, day: dt.date) -> int:
    """The meeting's number: its own if it is already open (or held), else the next."""
    held = session.execute(
        select(Meeting.number).where(Meeting.group_id == group_id, Meeting.meeting_date == day)
    ).scalar()
    if held is not None:
        return int(held)
    before = session.execute(
        select(func.max(Meeting.number)).where(
            Meeting.group_id == group_id, Meeting.meeting_date < day
        )
    ).scalar()
    return int(before or 0) + 1


def _cash_before(session: Session, group_id: int, day: dt.date) -> int:
    """The cash box as the last meeting before ``day`` left it (what opening a meeting
    that day takes as its opening cash, when nothing is dated after it)."""
    cash = GroupAccounts(session, group_id).get("cash_box").id
    total = session.execute(
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(JournalEntry, POSTING_ENTRY)
        .where(
            Posting.group_id == group_id,
            Posting.account_id == cash,
            JournalEntry.entry_date < day,
        )
    ).scalar_one()
    return int(total)


def next_meeting_date(session: Session, group_id: int, after: dt.date) -> dt.date:
    """The group's next meeting day after ``after``, from its calendar (its meeting day
    and rhythm, the weeks it met, the days it called off), for the sheet to print."""
    allow(session, "read", group_id)
    group = get_group(session, group_id)
    last_met = session.execute(
        select(func.max(Meeting.meeting_date)).where(Meeting.group_id == group_id)
    ).scalar()
    return meeting_dates(
        after,
        1,
        frequency=group.meeting_frequency,
        meeting_day=group.meeting_day,
        anchor=last_met or after,
        cancelled=cancelled_days(session, group_id),
    )[0]
