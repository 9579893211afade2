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

from ledger.accounts import open_account
from ledger.cancellations import cancelled_days
from ledger.chart import GroupAccounts, balance_of
from ledger.errors import LedgerError
from ledger.groups import get_group
from ledger.loan_products import ProductRecord, get_product, list_products, products_by_id
from ledger.loan_schedule import build_schedule
from ledger.loan_state import Instalment, InstalmentStatus, Payment, Standing, allocate, standing
from ledger.meeting_calendar import meeting_dates
from ledger.members import MemberRecord, find_member, get_member
from ledger.models import (
    Group,
    Loan,
    LoanEvent,
    LoanInstalment,
    Meeting,
    MeetingItem,
    MeetingRepayment,
    Member,
    Shareout,
    ShareoutDeduction,
    new_uuid,
)
from ledger.money import format_minor, to_minor
from ledger.permissions import Actor, PermissionDenied, allow
from ledger.plain_text import has_control


class LoanError(LedgerError):
    """A loan step that cannot be taken as asked."""


SOURCES = ("cash_box", "bank")


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
    approved_as: str | None  # the approver's role: chair or coordinator
    disbursed_on: dt.date | None
    account_id: int | None
    rescheduled: bool
    disburse_from: str
    opening_principal: int | None
    opening_on: dt.date | None
    rescheduled_on: dt.date | None
    written_off_on: dt.date | None

    @property
    def principal_lent(self) -> int:
        """The principal the book lent, or took over from the paper books."""
        return self.amount if self.opening_principal is None else self.opening_principal

    @property
    def starts_on(self) -> dt.date | None:
        """From when the book holds the loan: lent here, or the paper books' cut-off."""
        return self.opening_on or self.disbursed_on


@dataclass(frozen=True, slots=True)
class LoanStatement:
    """A loan as it stood on ``on``: its schedule in force, payments and what is owed.

    ``state`` is "not lent", "active", "closed" or "written off" on that date. A
    written-off loan owes nothing to the portfolio; what it still owes the group
    (``written_off - recovered``) is collected as a recovery.
    """

    loan: LoanRecord
    currency: str
    on: dt.date
    state: str
    version: int
    rescheduled: bool
    standing: Standing
    principal_paid: int  # over the whole loan, all schedules
    interest_paid: int
    penalty_paid: int
    written_off: int
    recovered: int
    allocation_order: str

    @property
    def instalments(self) -> tuple[InstalmentStatus, ...]:
        return self.standing.instalments

    @property
    def principal_outstanding(self) -> int:
        return self.standing.principal_outstanding if self.state == "active" else 0

    @property
    def interest_due(self) -> int:
        return self.standing.interest_due if self.state == "active" else 0

    @property
    def penalty_due(self) -> int:
        return self.standing.penalty_due if self.state == "active" else 0

    @property
    def days_overdue(self) -> int:
        return self.standing.days_overdue if self.state == "active" else 0

    @property
    def principal_in_arrears(self) -> int:
        return self.standing.principal_in_arrears if self.state == "active" else 0

    @property
    def due_now(self) -> int:
        """What the member must pay on the date to be up to date with the schedule."""
        return self.standing.due_now if self.state == "active" else 0

    @property
    def owed_now(self) -> int:
        """What settles the loan on the date (or, written off, what is left to recover)."""
        if self.state == "written off":
            return self.written_off - self.recovered
        return self.standing.owed_now if self.state == "active" else 0


def _record(
    session: Session,
    loan: Loan,
    *,
    member_code: str | None = None,
    product: ProductRecord | None = None,
) -> LoanRecord:
    code = member_code or get_member(session, loan.member_id).code
    product = product or get_product(session, loan.product_id)
    return LoanRecord(
        loan.id,
        loan.group_id,
        loan.number,
        loan.member_id,
        code,
        product.code,
        loan.amount,
        loan.purpose,
        loan.status,
        loan.recorded_by,
        loan.approved_by,
        loan.approved_as,
        loan.disbursed_on,
        loan.account_id,
        loan.rescheduled,
        loan.disburse_from,
        loan.opening_principal,
        loan.opening_on,
        loan.rescheduled_on,
        loan.written_off_on,
    )


def _product(session: Session, group_id: int, code: str) -> ProductRecord:
    for p in list_products(session, group_id):
        if p.code == code:
            return p
    raise LoanError(f"The group has no loan product {code!r}.")


def loan_row(session: Session, loan_id: int, *, lock: bool = False) -> Loan:
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
    applied_on: dt.date,
    votes_for: int | None = None,
    votes_against: int | None = None,
    guarantors: str | None = None,
) -> LoanRecord:
    """Record a member's application; the signed-in treasurer is its recorder."""
    actor = allow(session, "record", group_id)
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
    if has_control(purpose):
        raise LoanError("The purpose contains control characters (such as tabs); type it again.")
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
        recorded_by=actor.username,
        status="applied",
    )
    session.add(loan)
    session.flush()
    allow(
        session,
        "record",
        group_id,
        audit=f"recorded loan application #{number} of {member.code} for "
        f"{format_minor(minor, group.currency)}",
    )
    return _record(session, loan)


def approve_loan(session: Session, loan_id: int, *, on: dt.date) -> LoanRecord:
    """Approve an application as the signed-in chair or coordinator, who cannot be the
    person who recorded it (maker ≠ checker, by user, checked here and by the database).

    Above the group's coordinator threshold only a coordinator of the group approves:
    the NGO looks at large loans before the group's cash leaves (checked here and by
    the database, which also keeps the role the approver acted in).
    """
    loan = loan_row(session, loan_id, lock=True)
    actor = allow(session, "approve_loan", loan.group_id)
    if loan.status != "applied":
        raise LoanError(f"Loan #{loan.number} is {loan.status}; only an application is approved.")
    if actor.username == loan.recorded_by:
        raise LoanError(
            f"{actor.username} recorded this application and so cannot approve it; another "
            "officer of the group (usually the chair) must."
        )
    role = _approving_role(session, actor, loan)
    loan.status = "approved"
    loan.approved_by = actor.username
    loan.approved_as = role
    loan.approved_on = on
    session.flush()
    allow(
        session,
        "approve_loan",
        loan.group_id,
        audit=f"approved loan #{loan.number} on {on} as {role}",
    )
    return _record(session, loan)


def _approving_role(session: Session, actor: Actor, loan: Loan) -> str:
    """The role ``actor`` approves ``loan`` in, or a kept refusal when the loan is above
    the group's threshold and they are not its coordinator."""
    roles = actor.roles_in(loan.group_id)
    group = session.get(Group, loan.group_id)
    assert group is not None  # the loan's foreign key holds it
    limit = group.coordinator_approval_above
    if limit is not None and loan.amount > limit:
        if "coordinator" not in roles:
            raise PermissionDenied(
                f"Loan #{loan.number} is for {format_minor(loan.amount, group.currency)}, above "
                f"group {group.code}'s threshold of {format_minor(limit, group.currency)}: a "
                "coordinator of the group approves it, not the chair alone.",
                actor=actor.username,
                action="approve_loan",
                group_id=loan.group_id,
            )
        return "coordinator"
    return "chair" if "chair" in roles else "coordinator"


def reject_loan(session: Session, loan_id: int) -> LoanRecord:
    loan = loan_row(session, loan_id, lock=True)
    allow(session, "approve_loan", loan.group_id, audit=f"rejected loan #{loan.number}")
    if loan.status not in ("applied", "approved") or loan.disburse_meeting_id is not None:
        raise LoanError(f"Loan #{loan.number} is {loan.status} and can no longer be rejected.")
    loan.status = "rejected"
    session.flush()
    return _record(session, loan)


# --- at a meeting --------------------------------------------------------------------------


def lend_at_meeting(
    session: Session, meeting_id: int, loan_id: int, *, source: str = "cash_box"
) -> LoanRecord:
    """Put an approved loan on an open meeting's sheet; the money leaves at close.

    ``source`` is "cash_box" (the usual case) or "bank". Lending from the bank is
    refused if the bank account does not hold the amount now.
    """
    meeting = _open_meeting(session, meeting_id)
    loan = loan_row(session, loan_id, lock=True)
    if loan.group_id != meeting.group_id:
        raise LoanError("That loan belongs to another group.")
    if loan.status != "approved":
        raise LoanError(f"Loan #{loan.number} is {loan.status}; only an approved loan is lent.")
    if loan.disburse_meeting_id not in (None, meeting_id):
        raise LoanError(f"Loan #{loan.number} is already on another meeting's sheet.")
    if source not in SOURCES:
        raise LoanError(f"A loan is lent from the cash box or the bank, not {source!r}.")
    if loan.account_id is None:
        loan.account_id = open_loan_account(session, loan)
    loan.disburse_meeting_id = meeting_id
    loan.disburse_from = source
    session.flush()
    if source == "bank":
        check_bank_covers_loans(session, meeting)
    return _record(session, loan)


def check_bank_covers_loans(session: Session, meeting: Meeting) -> None:
    """Loans lent from the bank at this meeting must fit in what the bank will hold:
    its balance plus the sheet's deposits, less its withdrawals."""
    group = get_group(session, meeting.group_id)
    from_bank = session.execute(
        select(func.coalesce(func.sum(Loan.amount), 0)).where(
            Loan.disburse_meeting_id == meeting.id, Loan.disburse_from == "bank"
        )
    ).scalar_one()
    if not from_bank:
        return
    rows = session.execute(
        select(MeetingItem.kind, func.sum(MeetingItem.amount))
        .where(
            MeetingItem.meeting_id == meeting.id,
            MeetingItem.kind.in_(("bank_deposit", "bank_withdrawal")),
        )
        .group_by(MeetingItem.kind)
    )
    moves = {kind: int(total) for kind, total in rows}
    bank = balance_of(session, GroupAccounts(session, meeting.group_id).get("bank").id)
    available = bank + moves.get("bank_deposit", 0) - moves.get("bank_withdrawal", 0)
    if available < from_bank:
        raise LoanError(
            f"The bank account will hold {format_minor(available, group.currency)} after this "
            f"meeting's deposits and withdrawals; the loans lent from it need "
            f"{format_minor(from_bank, group.currency)}."
        )


def open_loan_account(session: Session, loan: Loan) -> int:
    """Each loan's principal lives in its own receivable account, never below zero."""
    member = get_member(session, loan.member_id)
    name = f"Assets:Loans receivable:{member.code}:L{loan.number:04d}"
    currency = get_group(session, loan.group_id).currency
    return open_account(
        session,
        loan.group_id,
        name,
        currency,
        no_negative=True,
        member_id=member.id,
        role="loan_principal",
    ).id


def repay_at_meeting(session: Session, meeting_id: int, loan_id: int, amount: Money | None) -> int:
    """Write (or with ``None``, remove) a repayment on the open meeting's sheet.

    Refused beyond what settles the loan at that meeting; returns the amount owed then.
    On a written-off loan the payment is a recovery, up to what was written off.
    """
    meeting = _open_meeting(session, meeting_id)
    loan = loan_row(session, loan_id)
    currency = get_group(session, meeting.group_id).currency
    if amount is None:
        row = session.get(MeetingRepayment, (meeting_id, loan_id))
        if row is not None:
            session.delete(row)
            session.flush()
        return loan_statement(session, loan_id, on=meeting.meeting_date).owed_now
    if loan.status not in ("disbursed", "written_off") or loan.group_id != meeting.group_id:
        raise LoanError(f"Loan #{loan.number} is {loan.status}; it has nothing to repay.")
    minor = to_minor(amount, expected=currency)
    owed = loan_statements(session, [loan], on=meeting.meeting_date)[0]
    return _put_repayment(session, meeting, loan, minor, owed)


def _put_repayment(
    session: Session, meeting: Meeting, loan: Loan, minor: int, owed: LoanStatement
) -> int:
    """The sheet's repayment row of one loan, checked against ``owed`` (the loan's
    statement on the meeting's date, worked out once by the caller)."""
    currency = owed.currency
    if minor <= 0:
        raise LoanError("A repayment must be more than zero.")
    if minor > owed.owed_now:
        what = "has" if owed.state == "written off" else "is settled by"
        left = " left to recover" if owed.state == "written off" else " at this meeting"
        raise LoanError(
            f"Loan #{loan.number} {what} {format_minor(owed.owed_now, currency)}{left}; "
            f"{format_minor(minor, currency)} is more than is owed."
        )
    row = session.get(MeetingRepayment, (meeting.id, loan.id))
    if row is None:
        row = MeetingRepayment(meeting_id=meeting.id, loan_id=loan.id, group_id=meeting.group_id)
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
    member = find_member(session, meeting.group_id, member_code)
    _repay_member(session, meeting, member, amount)


def _repay_member(session: Session, meeting: Meeting, member: MemberRecord, amount: Money) -> None:
    """Spread ``amount`` over the member's loans, oldest first; each loan's statement is
    worked out once, for all her loans together."""
    currency = get_group(session, meeting.group_id).currency
    remaining = to_minor(amount, expected=currency)
    loans = list(
        session.execute(
            select(Loan)
            .where(Loan.member_id == member.id, Loan.status == "disbursed")
            .order_by(Loan.number)
        ).scalars()
    )
    if not loans:
        raise LoanError(f"{member.code} has no loan to repay.")
    owed_total = 0
    for loan, statement in zip(
        loans, loan_statements(session, loans, on=meeting.meeting_date), strict=True
    ):
        owed_total += statement.owed_now
        part = min(remaining, statement.owed_now)
        if part:
            _put_repayment(session, meeting, loan, part, statement)
            remaining -= part
    if remaining:
        raise LoanError(
            f"{format_minor(owed_total, currency)} settles all of {member.code}'s loans; "
            f"{format_minor(owed_total + remaining, currency)} is more than is owed."
        )


def set_member_repayment(
    session: Session, meeting_id: int, member_code: str, amount: Money | None
) -> None:
    """The sheet's repayment cell for one member, typed again: it replaces whatever her
    loans had on this meeting's sheet (``None`` or zero clears it), oldest loan first."""
    meeting = _open_meeting(session, meeting_id)
    member = find_member(session, meeting.group_id, member_code)
    theirs = select(Loan.id).where(Loan.member_id == member.id).scalar_subquery()
    for row in session.execute(
        select(MeetingRepayment).where(
            MeetingRepayment.meeting_id == meeting_id, MeetingRepayment.loan_id.in_(theirs)
        )
    ).scalars():
        session.delete(row)
    session.flush()
    if amount is not None and amount.amount > 0:
        _repay_member(session, meeting, member, amount)


def split_repayment(statement: LoanStatement, amount: int) -> dict[str, int]:
    """How a repayment is applied: in the product's order (penalty, interest, principal
    by default). A payment on a written-off loan is all recovery (kept as principal)."""
    if statement.state == "written off":
        return {"penalty": 0, "interest": 0, "principal": amount}
    return allocate(statement.standing, amount, statement.allocation_order)


def schedule_at_disbursement(session: Session, loan: Loan, meeting: Meeting) -> None:
    """Make and store the schedule: instalments on the meetings after this one."""
    product = get_product(session, loan.product_id)
    store_schedule(
        session, loan, product, principal=loan.amount, start=meeting.meeting_date, version=1
    )
    loan.status = "disbursed"
    loan.disbursed_on = meeting.meeting_date
    session.flush()


def store_schedule(
    session: Session,
    loan: Loan,
    product: ProductRecord,
    *,
    principal: int,
    start: dt.date,
    version: int,
    term_periods: int | None = None,
    carried_interest: int = 0,
) -> None:
    """Store a schedule version: ``principal`` over the meetings after ``start``.

    ``carried_interest`` (interest and penalties owed when a loan is rescheduled) is
    added to the first instalment, so nothing owed is forgotten or charged twice.
    """
    group = get_group(session, loan.group_id)
    periods = 1 if product.frequency == "bullet" else (term_periods or product.term_periods)
    rhythm = group.meeting_frequency if product.frequency == "bullet" else product.frequency
    dates = meeting_dates(
        start,
        periods,
        frequency=rhythm,
        meeting_day=group.meeting_day,
        anchor=_last_meeting_day(session, loan.group_id) or start,
        cancelled=cancelled_days(session, loan.group_id),
    )
    rows = build_schedule(
        principal,
        method=product.method,
        rate_per_month=product.rate_per_month,
        frequency=product.frequency,
        due_dates=dates,
        disbursed_on=start,
        rounding_unit=product.rounding_unit,
        grace_periods=min(product.grace_periods, periods - 1),
    )
    first = (
        session.execute(
            select(func.max(LoanInstalment.number)).where(LoanInstalment.loan_id == loan.id)
        ).scalar()
        or 0
    )
    for k, r in enumerate(rows):
        session.add(
            LoanInstalment(
                loan_id=loan.id,
                number=first + r.number,
                group_id=loan.group_id,
                due_on=r.due,
                principal=r.principal,
                interest=r.interest + (carried_interest if k == 0 else 0),
                version=version,
            )
        )
    session.flush()


def _last_meeting_day(session: Session, group_id: int) -> dt.date | None:
    """A day the group met: it fixes which weeks a fortnightly group meets."""
    return session.execute(
        select(func.max(Meeting.meeting_date)).where(Meeting.group_id == group_id)
    ).scalar()


# --- the statement -------------------------------------------------------------------------


@dataclass(slots=True)
class _LoanData:
    schedules: dict[int, list[Instalment]]
    reschedules: list[dt.date]  # the day each version after the first took effect
    written_off: int
    payments: list[Payment]


def _load(session: Session, loans: list[Loan]) -> dict[int, _LoanData]:
    """Schedules, reschedules, closed-meeting payments and share-out settlements of many
    loans, in four queries."""
    ids = [loan.id for loan in loans]
    data = {i: _LoanData({}, [], 0, []) for i in ids}
    for chunk in _chunks(ids):
        for row in session.execute(
            select(LoanInstalment)
            .where(LoanInstalment.loan_id.in_(chunk))
            .order_by(LoanInstalment.loan_id, LoanInstalment.number)
        ).scalars():
            data[row.loan_id].schedules.setdefault(row.version, []).append(
                Instalment(row.number, row.due_on, row.principal, row.interest)
            )
        for event in session.execute(
            select(LoanEvent)
            .where(LoanEvent.loan_id.in_(chunk))
            .order_by(LoanEvent.loan_id, LoanEvent.event_date, LoanEvent.id)
        ).scalars():
            if event.kind == "reschedule":
                data[event.loan_id].reschedules.append(event.event_date)
            else:
                data[event.loan_id].written_off = event.amount
        for loan_id, day, penalty, interest, principal in session.execute(
            select(
                MeetingRepayment.loan_id,
                Meeting.meeting_date,
                MeetingRepayment.penalty_paid,
                MeetingRepayment.interest_paid,
                MeetingRepayment.principal_paid,
            )
            .join(Meeting, Meeting.id == MeetingRepayment.meeting_id)
            .where(MeetingRepayment.loan_id.in_(chunk), Meeting.status == "closed")
            .order_by(Meeting.meeting_date)
        ):
            data[loan_id].payments.append(Payment(day, penalty or 0, interest or 0, principal or 0))
        # A loan settled from its borrower's share-out payout.
        for loan_id, day, penalty, interest, principal in session.execute(
            select(
                ShareoutDeduction.loan_id,
                Shareout.shared_on,
                ShareoutDeduction.penalty,
                ShareoutDeduction.interest,
                ShareoutDeduction.principal,
            )
            .join(Shareout, Shareout.id == ShareoutDeduction.shareout_id)
            .where(ShareoutDeduction.loan_id.in_(chunk))
        ):
            data[loan_id].payments.append(Payment(day, penalty, interest, principal))
            data[loan_id].payments.sort(key=lambda p: p.paid_on)
    return data


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[k : k + size] for k in range(0, len(ids), size)] or [[]]


def _statement(
    record: LoanRecord,
    product: ProductRecord,
    currency: str,
    data: _LoanData,
    on: dt.date,
) -> LoanStatement:
    start = record.starts_on
    written_off_on = record.written_off_on if data.written_off else None
    if start is None or start > on:
        empty = standing((), (), on=on)
        return LoanStatement(
            record,
            currency,
            on,
            "not lent",
            1,
            False,
            empty,
            0,
            0,
            0,
            0,
            0,
            product.allocation_order,
        )
    # The schedule in force on ``on``: one more version for each reschedule by then.
    version = 1 + sum(1 for day in data.reschedules if day <= on)
    version = min(version, max(data.schedules, default=1))
    opened = data.reschedules[version - 2] if version > 1 else None
    closes = data.reschedules[version - 1] if version - 1 < len(data.reschedules) else None
    ends = [d for d in (closes, written_off_on) if d is not None]
    window_end = min(ends) if ends else None
    counted = [
        p
        for p in data.payments
        if p.paid_on <= on and (written_off_on is None or p.paid_on <= written_off_on)
    ]
    in_force = [
        p
        for p in counted
        if (opened is None or p.paid_on > opened)
        and (window_end is None or p.paid_on <= window_end)
    ]
    now = standing(
        data.schedules.get(version, []),
        in_force,
        on=on,
        penalty_per_late=product.late_penalty,
    )
    if written_off_on is not None and written_off_on <= on:
        state = "written off"
    elif now.principal_outstanding == 0 and data.schedules:
        state = "closed"
    else:
        state = "active"
    recovered = sum(
        p.principal
        for p in data.payments
        if written_off_on is not None and written_off_on < p.paid_on <= on
    )
    return LoanStatement(
        loan=record,
        currency=currency,
        on=on,
        state=state,
        version=version,
        rescheduled=version > 1,
        standing=now,
        principal_paid=sum(p.principal for p in counted),
        interest_paid=sum(p.interest for p in counted),
        penalty_paid=sum(p.penalty for p in counted),
        written_off=data.written_off if state == "written off" else 0,
        recovered=recovered,
        allocation_order=product.allocation_order,
    )


def loan_statement(session: Session, loan_id: int, *, on: dt.date) -> LoanStatement:
    """The schedule in force with paid, due and overdue instalments as of ``on``.

    Payments count once their meeting has closed, and only those made by ``on``.
    """
    loan = loan_row(session, loan_id)
    allow(session, "read", loan.group_id)
    return loan_statements(session, [loan], on=on)[0]


def loan_statements(session: Session, loans: list[Loan], *, on: dt.date) -> list[LoanStatement]:
    """Statements of many loans at once (the portfolio report reads thousands)."""
    for group_id in {loan.group_id for loan in loans}:
        allow(session, "read", group_id)
    data = _load(session, loans)
    products = products_by_id(session, {loan.product_id for loan in loans})
    codes = _member_codes(session, [loan.member_id for loan in loans])
    currencies = dict(
        session.execute(
            select(Group.id, Group.currency).where(
                Group.id.in_(sorted({loan.group_id for loan in loans}))
            )
        ).all()
    )
    result = []
    for loan in loans:
        product = products[loan.product_id]
        record = _record(session, loan, member_code=codes[loan.member_id], product=product)
        result.append(_statement(record, product, currencies[loan.group_id], data[loan.id], on))
    return result


def _member_codes(session: Session, member_ids: list[int]) -> dict[int, str]:
    codes: dict[int, str] = {}
    for chunk in _chunks(sorted(set(member_ids))):
        rows = session.execute(select(Member.id, Member.code).where(Member.id.in_(chunk)))
        codes.update({member_id: code for member_id, code in rows})
    return codes


def loan_by_number(session: Session, group_id: int, number: int) -> Loan:
    """The row of a loan by the number the group knows it by (loan #3)."""
    allow(session, "read", group_id)
    loan = session.execute(
        select(Loan).where(Loan.group_id == group_id, Loan.number == number)
    ).scalar_one_or_none()
    if loan is None:
        raise LoanError(f"The group has no loan #{number}.")
    return loan


def find_loan(session: Session, group_id: int, number: int) -> LoanRecord:
    """A loan by the number the group knows it by (loan #3)."""
    return _record(session, loan_by_number(session, group_id, number))


def loans_of_group(session: Session, group_id: int) -> list[Loan]:
    allow(session, "read", group_id)
    return list(
        session.execute(select(Loan).where(Loan.group_id == group_id).order_by(Loan.number))
        .scalars()
        .all()
    )


def loans_of_member(session: Session, member_id: int) -> list[LoanRecord]:
    rows = session.execute(
        select(Loan).where(Loan.member_id == member_id).order_by(Loan.number)
    ).scalars()
    loans = list(rows)
    for group_id in {loan.group_id for loan in loans}:
        allow(session, "read", group_id)
    return [_record(session, loan) for loan in loans]


def _open_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise LoanError(f"There is no meeting #{meeting_id}.")
    allow(session, "record", meeting.group_id)
    if meeting.status != "open":
        raise LoanError(f"Meeting #{meeting.number} is closed.")
    return meeting
