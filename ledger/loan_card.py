"""A loan card, as data: what the borrower's printed card shows about one loan.

The card is the loan as ``ledger.loans`` states it on a date (the schedule in force
with each instalment paid, due or overdue, and what is owed), the product's terms the
group agreed to, and every payment made on it by then: the meetings' repayments as they
were split when the meeting closed, and a settlement from a share-out payout. The
schedule and the amounts owed come from the same ``LoanStatement`` the meeting sheet and
the portfolio read, so the card can never disagree with them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.groups import GroupRecord, get_group
from ledger.loan_products import ProductRecord, get_product
from ledger.loan_state import InstalmentStatus
from ledger.loans import LoanStatement, loan_by_number, loan_statements
from ledger.members import MemberRecord, get_member
from ledger.models import Meeting, MeetingRepayment, Shareout, ShareoutDeduction
from ledger.queries import chain_head


@dataclass(frozen=True, slots=True)
class LoanPayment:
    """One payment on the loan, split as it was applied."""

    paid_on: dt.date
    meeting_number: int | None  # None: settled from a share-out payout
    penalty: int
    interest: int
    principal: int

    @property
    def total(self) -> int:
        return self.penalty + self.interest + self.principal


@dataclass(frozen=True, slots=True)
class LoanCard:
    group: GroupRecord
    member: MemberRecord
    statement: LoanStatement  # the loan as it stood on ``on``
    product: ProductRecord
    applied_on: dt.date
    approved_on: dt.date | None
    guarantors: str | None
    votes_for: int | None
    votes_against: int | None
    payments: tuple[LoanPayment, ...]  # made on or before ``on``, oldest first
    head_seq: int  # the group's chain head when the card was made
    head_hash: str

    @property
    def on(self) -> dt.date:
        return self.statement.on

    @property
    def currency(self) -> str:
        return self.statement.currency

    @property
    def instalments(self) -> tuple[InstalmentStatus, ...]:
        return self.statement.instalments

    @property
    def scheduled(self) -> int:
        """Principal and interest of the schedule in force."""
        return sum(i.total for i in self.instalments)

    @property
    def paid_on_schedule(self) -> int:
        """How much of the schedule in force is paid (oldest instalments first)."""
        return sum(i.paid for i in self.instalments)

    @property
    def paid(self) -> int:
        """Everything paid on the loan by ``on``: penalties, interest and principal."""
        return sum(p.total for p in self.payments)


def loan_card(session: Session, group_id: int, loan_number: int, *, on: dt.date) -> LoanCard:
    """The card of the group's loan ``loan_number`` as it stood on ``on``."""
    loan = loan_by_number(session, group_id, loan_number)
    (statement,) = loan_statements(session, [loan], on=on)
    head = chain_head(session, group_id)
    return LoanCard(
        group=get_group(session, group_id),
        member=get_member(session, loan.member_id),
        statement=statement,
        product=get_product(session, loan.product_id),
        applied_on=loan.applied_on,
        approved_on=loan.approved_on,
        guarantors=loan.guarantors,
        votes_for=loan.votes_for,
        votes_against=loan.votes_against,
        payments=_payments(session, loan.id, on),
        head_seq=head[0],
        head_hash=head[1],
    )


def _payments(session: Session, loan_id: int, on: dt.date) -> tuple[LoanPayment, ...]:
    """Repayments at closed meetings and share-out settlements, made by ``on``.

    The same payments ``ledger.loans`` counts: a repayment on a sheet still open has not
    been paid yet (the cash moves when the meeting closes).
    """
    found = [
        LoanPayment(day, number, penalty or 0, interest or 0, principal or 0)
        for day, number, penalty, interest, principal in session.execute(
            select(
                Meeting.meeting_date,
                Meeting.number,
                MeetingRepayment.penalty_paid,
                MeetingRepayment.interest_paid,
                MeetingRepayment.principal_paid,
            )
            .join(Meeting, Meeting.id == MeetingRepayment.meeting_id)
            .where(
                MeetingRepayment.loan_id == loan_id,
                Meeting.status == "closed",
                Meeting.meeting_date <= on,
            )
        )
    ]
    found += [
        LoanPayment(day, None, penalty, interest, principal)
        for day, penalty, interest, principal in session.execute(
            select(
                Shareout.shared_on,
                ShareoutDeduction.penalty,
                ShareoutDeduction.interest,
                ShareoutDeduction.principal,
            )
            .join(Shareout, Shareout.id == ShareoutDeduction.shareout_id)
            .where(ShareoutDeduction.loan_id == loan_id, Shareout.shared_on <= on)
        )
    ]
    # A share-out is the last thing on its day: after that day's meeting.
    return tuple(sorted(found, key=lambda p: (p.paid_on, p.meeting_number is None)))
