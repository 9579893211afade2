"""Decisions about a loan in trouble: rescheduling it, or writing it off.

Both are decisions of the group, recorded with who decided, when and why (the
``loan_events`` table, which the database keeps append-only).

- **Reschedule**: the principal still owed is spread over a new schedule on the meetings
  after the decision; interest and penalties owed by then are added to the first new
  instalment. The old schedule stays as it was, and the loan is flagged as rescheduled
  for good: the standard portfolio-at-risk definition counts it at risk.
- **Write-off**: the principal still owed moves from the loan's account to
  ``Expenses:Loans written off``. The member still owes it; what is paid later at a
  meeting is a recovery, income of the group (see ``ledger.meetings``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.chart import GroupAccounts, balance_of
from ledger.groups import get_group
from ledger.loan_products import get_product
from ledger.loans import LoanError, LoanStatement, loan_row, loan_statement, store_schedule
from ledger.models import Loan, LoanEvent, Meeting, MeetingRepayment
from ledger.permissions import allow, current_actor
from ledger.posting import EntryRequest, Line, post_entry


def reschedule_loan(
    session: Session,
    loan_id: int,
    *,
    on: dt.date,
    term_periods: int,
    reason: str,
) -> LoanStatement:
    """Spread what is owed on ``on`` over ``term_periods`` new instalments (the chair's
    decision, made as the signed-in chair)."""
    loan = _checked(session, loan_id, on, reason, "rescheduled")
    decided_by = current_actor(session).username
    if not 1 <= term_periods <= 520:
        raise LoanError("A new schedule has 1 to 520 instalments.")
    before = loan_statement(session, loan_id, on=on)
    if before.principal_outstanding == 0:
        raise LoanError(f"Loan #{loan.number} has no principal left to reschedule.")
    version = loan.schedule_version + 1
    store_schedule(
        session,
        loan,
        get_product(session, loan.product_id),
        principal=before.principal_outstanding,
        start=on,
        version=version,
        term_periods=term_periods,
        carried_interest=before.interest_due + before.penalty_due,
    )
    loan.schedule_version = version
    loan.rescheduled = True
    loan.rescheduled_on = on
    _record_event(session, loan, "reschedule", on, before.principal_outstanding, decided_by, reason)
    return loan_statement(session, loan_id, on=on)


def write_off_loan(session: Session, loan_id: int, *, on: dt.date, reason: str) -> LoanStatement:
    """Write off the principal still owed on ``on``; later payments are recoveries."""
    loan = _checked(session, loan_id, on, reason, "written off")
    decided_by = current_actor(session).username
    owed = loan_statement(session, loan_id, on=on).principal_outstanding
    assert loan.account_id is not None
    if owed == 0 or balance_of(session, loan.account_id) != owed:
        raise LoanError(f"Loan #{loan.number} has no principal left to write off on {on}.")
    group = get_group(session, loan.group_id)
    losses = GroupAccounts(session, loan.group_id).get("loan_losses").id
    posted = post_entry(
        session,
        EntryRequest(
            group_id=loan.group_id,
            entry_date=on,
            memo=f"Loan #{loan.number} written off: {reason.strip()}"[:500],
            lines=(
                Line(losses, group.currency, owed),
                Line(loan.account_id, group.currency, -owed),
            ),
            idempotency_key=f"write-off:{loan.uuid}",
            author=decided_by,
        ),
    )
    loan.status = "written_off"
    loan.written_off_on = on
    _record_event(session, loan, "write_off", on, owed, decided_by, reason, posted.seq)
    return loan_statement(session, loan_id, on=on)


def _checked(session: Session, loan_id: int, on: dt.date, reason: str, action: str) -> Loan:
    """The checks both decisions share: an active loan, a reason, no payment after it."""
    loan = loan_row(session, loan_id, lock=True)
    allow(session, "decide", loan.group_id, audit=f"loan #{loan.number} {action}: {reason}")
    if loan.status != "disbursed":
        raise LoanError(
            f"Loan #{loan.number} is {loan.status}; only a loan being repaid is {action}."
        )
    if not (reason or "").strip() or len(reason) > 500:
        raise LoanError(f"Say why the loan is {action} (up to 500 characters).")
    start = loan.rescheduled_on or loan.opening_on or loan.disbursed_on
    assert start is not None
    if on < start:
        raise LoanError(f"Loan #{loan.number} cannot be {action} before {start.isoformat()}.")
    pending = session.execute(
        select(Meeting.number)
        .join(MeetingRepayment, MeetingRepayment.meeting_id == Meeting.id)
        .where(MeetingRepayment.loan_id == loan.id, Meeting.status == "open")
    ).scalar()
    if pending is not None:
        raise LoanError(
            f"Meeting #{pending} has a repayment of loan #{loan.number} on its sheet; close "
            "the meeting (or take the repayment off) first."
        )
    last_paid = session.execute(
        select(Meeting.meeting_date)
        .join(MeetingRepayment, MeetingRepayment.meeting_id == Meeting.id)
        .where(MeetingRepayment.loan_id == loan.id, Meeting.status == "closed")
        .order_by(Meeting.meeting_date.desc())
        .limit(1)
    ).scalar()
    if last_paid is not None and on < last_paid:
        raise LoanError(
            f"Loan #{loan.number} was last repaid on {last_paid.isoformat()}; it cannot be "
            f"{action} on an earlier date."
        )
    return loan


def _record_event(
    session: Session,
    loan: Loan,
    kind: str,
    on: dt.date,
    amount: int,
    decided_by: str,
    reason: str,
    entry_seq: int | None = None,
) -> None:
    session.add(
        LoanEvent(
            group_id=loan.group_id,
            loan_id=loan.id,
            kind=kind,
            event_date=on,
            amount=amount,
            decided_by=decided_by,
            reason=reason.strip(),
            entry_seq=entry_seq,
            created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        )
    )
    session.flush()
