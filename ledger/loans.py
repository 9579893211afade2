"""Loans to members: application, approval, lending at a meeting, repayment at meetings.

The steps, each by the people who do them in a group:

1. A loan is applied for, and recorded by the treasurer with the group's vote.
2. It is approved by someone else (maker is not checker), which the database enforces
   too.
3. It is lent at a meeting. The cash leaves the box when that meeting closes, and the
   schedule is made then, with instalments on the meetings that follow.
4. It is repaid at meetings, as rows of the meeting's sheet.

Repayments are applied interest first, then principal. A partial payment always splits
the same way, and a payment beyond what is owed is refused with the amount owed.
Interest is income when it is paid. An early full repayment pays the interest due so
far and all the principal; later interest is not charged.

The cash itself only moves when a meeting closes (see ``ledger.meetings``). This module
checks, records and describes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from moneyed import Money
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.accounts import account_type
from ledger.errors import LedgerError
from ledger.groups import get_group
from ledger.loan_products import ProductRecord, get_product, list_products
from ledger.loan_schedule import build_schedule
from ledger.meeting_calendar import meeting_dates
from ledger.members import find_member, get_member
from ledger.models import (
    Account,
    Loan,
    LoanInstalment,
    Meeting,
    MeetingRepayment,
    new_uuid,
)
from ledger.money import format_minor, from_minor, to_minor


class LoanError(LedgerError):
    """A loan step that cannot be taken as asked."""


@dataclass(frozen=True, slots=True)
class LoanRecord:
    id: int
    group_id: int
    number: int
    member_id: int
    member_code: str
    product_code: str
    amount: int
    purpose: str
    status: str
    recorded_by: str
    approved_by: str | None
    disbursed_on: dt.date | None
    account_id: int | None
    rescheduled: bool


@dataclass(frozen=True, slots=True)
class InstalmentStatus:
    number: int
    due_on: dt.date
    principal: int
    interest: int
    paid: int  # of this instalment's total, oldest instalments paid first
    status: str  # "paid", "partly paid", "due", "overdue", "not yet due"

    @property
    def total(self) -> int:
        return self.principal + self.interest


@dataclass(frozen=True, slots=True)
class LoanStatement:
    loan: LoanRecord
    currency: str
    instalments: tuple[InstalmentStatus, ...]
    principal_paid: int
    interest_paid: int
    principal_outstanding: int
    interest_due: int  # due on or before the date, not yet paid
    days_overdue: int

    @property
    def owed_now(self) -> int:
        """What settles the loan today: interest due so far and all the principal."""
        return self.interest_due + self.principal_outstanding


def _record(session: Session, loan: Loan) -> LoanRecord:
    member = get_member(session, loan.member_id)
    product = get_product(session, loan.product_id)
    return LoanRecord(
        loan.id,
        loan.group_id,
        loan.number,
        loan.member_id,
        member.code,
        product.code,
        loan.amount,
        loan.purpose,
        loan.status,
        loan.recorded_by,
        loan.approved_by,
        loan.disbursed_on,
        loan.account_id,
        loan.rescheduled,
    )


def _product(session: Session, group_id: int, code: str) -> ProductRecord:
    for p in list_products(session, group_id):
        if p.code == code:
            return p
    raise LoanError(f"The group has no loan product {code!r}.")


def _loan(session: Session, loan_id: int, *, lock: bool = False) -> Loan:
    query = select(Loan).where(Loan.id == loan_id)
    loan = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if loan is None:
        raise LoanError(f"There is no loan #{loan_id}.")
    return loan


# --- application and approval --------------------------------------------------------------


def apply_for_loan(
    session: Session,
    group_id: int,
    member_code: str,
    product_code: str,
    amount: Money,
    *,
    purpose: str,
    recorded_by: str,
    applied_on: dt.date,
    votes_for: int | None = None,
    votes_against: int | None = None,
    guarantors: str | None = None,
) -> LoanRecord:
    group = get_group(session, group_id)
    member = find_member(session, group_id, member_code)
    if not member.active_on(applied_on):
        raise LoanError(f"{member.code} is not a member on {applied_on.isoformat()}.")
    product = _product(session, group_id, product_code)
    minor = to_minor(amount, expected=group.currency)
    if minor <= 0:
        raise LoanError("The amount of a loan must be more than zero.")
    if product.max_amount is not None and minor > product.max_amount:
        raise LoanError(
            f"{product.code} lends at most {format_minor(product.max_amount, group.currency)}."
        )
    purpose = (purpose or "").strip()
    if not purpose or len(purpose) > 500:
        raise LoanError("Write the loan's purpose (up to 500 characters).")
    for label, votes in (("for", votes_for), ("against", votes_against)):
        if votes is not None and votes < 0:
            raise LoanError(f"Votes {label} cannot be negative.")
    number = (
        session.execute(select(func.max(Loan.number)).where(Loan.group_id == group_id)).scalar()
        or 0
    ) + 1
    loan = Loan(
        group_id=group_id,
        uuid=new_uuid(),
        number=number,
        member_id=member.id,
        product_id=product.id,
        amount=minor,
        purpose=purpose,
        guarantors=(guarantors or "").strip() or None,
        votes_for=votes_for,
        votes_against=votes_against,
        applied_on=applied_on,
        recorded_by=recorded_by,
        status="applied",
    )
    session.add(loan)
    session.flush()
    return _record(session, loan)


def approve_loan(session: Session, loan_id: int, approved_by: str, *, on: dt.date) -> LoanRecord:
    """Approve an application. The approver cannot be the person who recorded it."""
    loan = _loan(session, loan_id, lock=True)
    if loan.status != "applied":
        raise LoanError(f"Loan #{loan.number} is {loan.status}; only an application is approved.")
    if approved_by == loan.recorded_by:
        raise LoanError(
            f"{approved_by} recorded this application and so cannot approve it; another "
            "officer of the group (usually the chair) must."
        )
    loan.status = "approved"
    loan.approved_by = approved_by
    loan.approved_on = on
    session.flush()
    return _record(session, loan)


def reject_loan(session: Session, loan_id: int, rejected_by: str) -> LoanRecord:
    loan = _loan(session, loan_id, lock=True)
    if loan.status not in ("applied", "approved") or loan.disburse_meeting_id is not None:
        raise LoanError(f"Loan #{loan.number} is {loan.status} and can no longer be rejected.")
    loan.status = "rejected"
    session.flush()
    return _record(session, loan)


# --- at a meeting --------------------------------------------------------------------------


def lend_at_meeting(session: Session, meeting_id: int, loan_id: int) -> LoanRecord:
    """Put an approved loan on an open meeting's sheet; the cash leaves at close."""
    meeting = _open_meeting(session, meeting_id)
    loan = _loan(session, loan_id, lock=True)
    if loan.group_id != meeting.group_id:
        raise LoanError("That loan belongs to another group.")
    if loan.status != "approved":
        raise LoanError(f"Loan #{loan.number} is {loan.status}; only an approved loan is lent.")
    if loan.disburse_meeting_id not in (None, meeting_id):
        raise LoanError(f"Loan #{loan.number} is already on another meeting's sheet.")
    member = get_member(session, loan.member_id)
    if loan.account_id is None:
        name = f"Assets:Loans receivable:{member.code}:L{loan.number:04d}"
        currency = get_group(session, loan.group_id).currency
        account = Account(
            group_id=loan.group_id,
            uuid=new_uuid(),
            name=name,
            commodity=currency,
            type=account_type(name),
            member_id=member.id,
            role="loan_principal",
            no_negative=True,
            balance=0,
            last_seq=0,
        )
        session.add(account)
        session.flush()
        loan.account_id = account.id
    loan.disburse_meeting_id = meeting_id
    session.flush()
    return _record(session, loan)


def repay_at_meeting(session: Session, meeting_id: int, loan_id: int, amount: Money | None) -> int:
    """Write (or with ``None``, remove) a repayment on the open meeting's sheet.

    Refused beyond what settles the loan at that meeting; returns the amount owed then.
    """
    meeting = _open_meeting(session, meeting_id)
    loan = _loan(session, loan_id)
    currency = get_group(session, meeting.group_id).currency
    row = session.get(MeetingRepayment, (meeting_id, loan_id))
    if amount is None:
        if row is not None:
            session.delete(row)
            session.flush()
        return loan_statement(session, loan_id, on=meeting.meeting_date).owed_now
    if loan.status != "disbursed" or loan.group_id != meeting.group_id:
        raise LoanError(f"Loan #{loan.number} is {loan.status}; it has nothing to repay.")
    minor = to_minor(amount, expected=currency)
    if minor <= 0:
        raise LoanError("A repayment must be more than zero.")
    owed = loan_statement(session, loan_id, on=meeting.meeting_date)
    if minor > owed.owed_now:
        raise LoanError(
            f"Loan #{loan.number} is settled by {format_minor(owed.owed_now, currency)} at this "
            f"meeting; {format_minor(minor, currency)} is more than is owed."
        )
    if row is None:
        row = MeetingRepayment(meeting_id=meeting_id, loan_id=loan_id, group_id=meeting.group_id)
        session.add(row)
    row.amount = minor
    session.flush()
    return owed.owed_now


def repay_member_loans(session: Session, meeting_id: int, member_code: str, amount: Money) -> None:
    """A member's repayment from the collection sheet, oldest loan first.

    The sheet has one repayment column per member; a member with two loans repays the
    older one fully before the newer one gets anything.
    """
    meeting = _open_meeting(session, meeting_id)
    currency = get_group(session, meeting.group_id).currency
    member = find_member(session, meeting.group_id, member_code)
    remaining = to_minor(amount, expected=currency)
    loans = [x for x in loans_of_member(session, member.id) if x.status == "disbursed"]
    if not loans:
        raise LoanError(f"{member.code} has no loan to repay.")
    owed_total = 0
    for loan in loans:
        owed = loan_statement(session, loan.id, on=meeting.meeting_date).owed_now
        owed_total += owed
        part = min(remaining, owed)
        if part:
            repay_at_meeting(session, meeting_id, loan.id, from_minor(part, currency))
            remaining -= part
    if remaining:
        raise LoanError(
            f"{format_minor(owed_total, currency)} settles all of {member.code}'s loans; "
            f"{format_minor(owed_total + remaining, currency)} is more than is owed."
        )


def allocate(statement: LoanStatement, amount: int) -> tuple[int, int]:
    """(interest, principal): interest due first, then principal. Always the same split."""
    interest = min(amount, statement.interest_due)
    return interest, amount - interest


def schedule_at_disbursement(session: Session, loan: Loan, meeting: Meeting) -> None:
    """Make and store the schedule: instalments on the meetings after this one."""
    group = get_group(session, loan.group_id)
    product = get_product(session, loan.product_id)
    count = 1 if product.frequency == "bullet" else product.term_periods
    rhythm = group.meeting_frequency if product.frequency == "bullet" else product.frequency
    dates = meeting_dates(
        meeting.meeting_date,
        count,
        frequency=rhythm,
        meeting_day=group.meeting_day,
        anchor=meeting.meeting_date,
    )
    rows = build_schedule(
        loan.amount,
        method=product.method,
        rate_per_month=product.rate_per_month,
        frequency=product.frequency,
        due_dates=dates,
        disbursed_on=meeting.meeting_date,
        rounding_unit=product.rounding_unit,
        grace_periods=product.grace_periods,
    )
    for r in rows:
        session.add(
            LoanInstalment(
                loan_id=loan.id,
                number=r.number,
                group_id=loan.group_id,
                due_on=r.due,
                principal=r.principal,
                interest=r.interest,
            )
        )
    loan.status = "disbursed"
    loan.disbursed_on = meeting.meeting_date
    session.flush()


# --- the statement -------------------------------------------------------------------------


def loan_statement(
    session: Session,
    loan_id: int,
    *,
    on: dt.date,
) -> LoanStatement:
    """The schedule with paid, due and overdue instalments as of ``on``.

    Payments count once their meeting has closed; an open sheet's rows do not.
    """
    loan = _loan(session, loan_id)
    record = _record(session, loan)
    currency = get_group(session, loan.group_id).currency
    instalments = (
        session.execute(
            select(LoanInstalment)
            .where(LoanInstalment.loan_id == loan_id)
            .order_by(LoanInstalment.number)
        )
        .scalars()
        .all()
    )
    paid_rows = (
        session.execute(
            select(MeetingRepayment)
            .join(Meeting, Meeting.id == MeetingRepayment.meeting_id)
            .where(MeetingRepayment.loan_id == loan_id, Meeting.status == "closed")
        )
        .scalars()
        .all()
    )
    interest_paid = sum(r.interest_paid or 0 for r in paid_rows)
    principal_paid = sum(r.principal_paid or 0 for r in paid_rows)
    interest_due_total = sum(i.interest for i in instalments if i.due_on <= on)
    interest_due = max(interest_due_total - interest_paid, 0)
    outstanding = (loan.amount - principal_paid) if loan.status == "disbursed" else 0
    # Oldest instalments are paid first, for the statement's paid/overdue column.
    pool = interest_paid + principal_paid
    statuses = []
    oldest_unpaid: dt.date | None = None
    for i in instalments:
        total = i.principal + i.interest
        share = min(pool, total)
        pool -= share
        if share == total:
            status = "paid"
        elif i.due_on > on:
            status = "partly paid" if share else "not yet due"
        elif i.due_on == on:
            status = "due"
        else:
            status = "overdue"
            oldest_unpaid = oldest_unpaid or i.due_on
        statuses.append(
            InstalmentStatus(i.number, i.due_on, i.principal, i.interest, share, status)
        )
    return LoanStatement(
        loan=record,
        currency=currency,
        instalments=tuple(statuses),
        principal_paid=principal_paid,
        interest_paid=interest_paid,
        principal_outstanding=outstanding,
        interest_due=interest_due,
        days_overdue=(on - oldest_unpaid).days if oldest_unpaid else 0,
    )


def loans_of_member(session: Session, member_id: int) -> list[LoanRecord]:
    rows = session.execute(
        select(Loan).where(Loan.member_id == member_id).order_by(Loan.number)
    ).scalars()
    return [_record(session, loan) for loan in rows]


def _open_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise LoanError(f"There is no meeting #{meeting_id}.")
    if meeting.status != "open":
        raise LoanError(f"Meeting #{meeting.number} is closed.")
    return meeting
