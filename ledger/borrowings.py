"""Loans and grants the group receives: from a bank, an MFI or a development project.

A group that borrows from an MFI, or receives a project's matching grant, must show it in
its books: the money in the bank, what is owed and when, and the interest it costs
(which is an expense, and lowers what members share out).

- A **loan** to the group is owed on its own account ``Liabilities:Borrowings:<lender>``
  and has a schedule on the lender's calendar (monthly on the day it was received, or
  weekly/fortnightly from that day, or a single bullet payment after ``term`` months),
  worked out exactly like members' loans (``ledger.loan_schedule``).
- A **grant** is income (``Income:Grants``) and owes nothing.

The money arrives in, and is repaid from, the group's bank account; a cash grant handed
over at a meeting is a grant item on the meeting's sheet instead. A payment is split
interest due first, then principal; more than is owed is refused.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from moneyed import Money
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.accounts import open_account
from ledger.chart import GroupAccounts, balance_of
from ledger.errors import LedgerError
from ledger.groups import get_group
from ledger.loan_schedule import METHODS, build_schedule
from ledger.loan_state import Instalment, Payment, Standing, allocate, standing
from ledger.models import (
    GroupBorrowing,
    GroupBorrowingInstalment,
    GroupBorrowingPayment,
    new_uuid,
)
from ledger.money import format_minor, to_minor
from ledger.permissions import allow
from ledger.posting import EntryRequest, Line, post_entry

PPM = 1_000_000
STEPS = {"weekly": 7, "fortnightly": 14}
FREQUENCIES = ("monthly", "weekly", "fortnightly", "bullet")


class BorrowingError(LedgerError):
    """A loan or grant to the group that cannot be recorded as asked."""


@dataclass(frozen=True, slots=True)
class BorrowingRecord:
    id: int
    group_id: int
    number: int
    lender: str
    kind: str
    amount: int
    received_on: dt.date
    purpose: str
    rate_per_month: Decimal | None
    term_periods: int | None
    frequency: str | None
    account_id: int | None


@dataclass(frozen=True, slots=True)
class BorrowingStatement:
    borrowing: BorrowingRecord
    currency: str
    on: dt.date
    standing: Standing

    @property
    def owed_now(self) -> int:
        return self.standing.interest_due + self.standing.principal_outstanding


def _record(b: GroupBorrowing) -> BorrowingRecord:
    return BorrowingRecord(
        b.id,
        b.group_id,
        b.number,
        b.lender,
        b.kind,
        b.amount,
        b.received_on,
        b.purpose,
        Decimal(b.rate_ppm_per_month) / PPM if b.rate_ppm_per_month is not None else None,
        b.term_periods,
        b.frequency,
        b.account_id,
    )


def receive_borrowing(
    session: Session,
    group_id: int,
    *,
    lender: str,
    kind: str,
    amount: Money,
    received_on: dt.date,
    purpose: str,
    rate_per_month: Decimal = Decimal(0),
    term_periods: int | None = None,
    frequency: str = "monthly",
    method: str = "declining_equal_instalments",
) -> BorrowingRecord:
    """Record money received into the bank: a loan (with its schedule) or a grant."""
    recorded_by = allow(
        session, "record", group_id, audit=f"received a {kind} from {lender} on {received_on}"
    ).username
    group = get_group(session, group_id)
    lender = (lender or "").strip()
    purpose = (purpose or "").strip()
    if not lender or len(lender) > 200:
        raise BorrowingError("Name the lender or donor (up to 200 characters).")
    if not purpose or len(purpose) > 500:
        raise BorrowingError("Say what the money is for (up to 500 characters).")
    if kind not in ("loan", "grant"):
        raise BorrowingError(f"The group receives a loan or a grant, not {kind!r}.")
    minor = to_minor(amount, expected=group.currency)
    if minor <= 0:
        raise BorrowingError("The amount received must be more than zero.")
    number = (
        session.execute(
            select(func.max(GroupBorrowing.number)).where(GroupBorrowing.group_id == group_id)
        ).scalar()
        or 0
    ) + 1
    row = GroupBorrowing(
        group_id=group_id,
        uuid=new_uuid(),
        number=number,
        lender=lender,
        kind=kind,
        amount=minor,
        received_on=received_on,
        purpose=purpose,
        recorded_by=recorded_by,
        created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )
    accounts = GroupAccounts(session, group_id)
    if kind == "loan":
        _check_terms(rate_per_month, term_periods, frequency, method)
        assert term_periods is not None
        row.method = method
        row.rate_ppm_per_month = int(rate_per_month * PPM)
        row.term_periods = term_periods
        row.frequency = frequency
        row.account_id = _open_account(session, group_id, group.currency, lender, number)
        credit = row.account_id
    else:
        credit = accounts.get("grants").id
    session.add(row)
    session.flush()
    if kind == "loan":
        _store_schedule(session, row)
    post_entry(
        session,
        EntryRequest(
            group_id=group_id,
            entry_date=received_on,
            memo=f"{kind.capitalize()} #{number} received from {lender}: {purpose}"[:500],
            lines=(
                Line(accounts.get("bank").id, group.currency, minor),
                Line(credit, group.currency, -minor),
            ),
            idempotency_key=f"borrowing:{row.uuid}",
            author=recorded_by,
        ),
    )
    return _record(row)


def pay_borrowing(
    session: Session,
    group_id: int,
    number: int,
    amount: Money,
    *,
    paid_on: dt.date,
) -> BorrowingStatement:
    """Pay the lender from the bank: interest due first, then principal."""
    recorded_by = allow(
        session, "record", group_id, audit=f"paid borrowing #{number} on {paid_on}"
    ).username
    group = get_group(session, group_id)
    row = _find(session, group_id, number, lock=True)
    if row.kind != "loan":
        raise BorrowingError(f"#{number} is a grant; nothing is repaid.")
    minor = to_minor(amount, expected=group.currency)
    if minor <= 0:
        raise BorrowingError("A payment must be more than zero.")
    last = session.execute(
        select(func.max(GroupBorrowingPayment.paid_on)).where(
            GroupBorrowingPayment.borrowing_id == row.id
        )
    ).scalar()
    if paid_on < row.received_on or (last is not None and paid_on < last):
        raise BorrowingError(
            f"A payment on loan #{number} cannot be dated before "
            f"{(last or row.received_on).isoformat()}."
        )
    owed = borrowing_statement(session, group_id, number, on=paid_on)
    currency = group.currency
    if minor > owed.owed_now:
        raise BorrowingError(
            f"{format_minor(owed.owed_now, currency)} settles loan #{number} on "
            f"{paid_on.isoformat()}; {format_minor(minor, currency)} is more than is owed."
        )
    accounts = GroupAccounts(session, group_id)
    bank = accounts.get("bank").id
    if balance_of(session, bank) < minor:
        raise BorrowingError(
            f"The bank account holds {format_minor(balance_of(session, bank), currency)}; "
            f"the payment is {format_minor(minor, currency)}."
        )
    split = allocate(owed.standing, minor, "interest,principal,penalty")
    assert row.account_id is not None
    paid_before = session.execute(
        select(func.count()).where(GroupBorrowingPayment.borrowing_id == row.id)
    ).scalar_one()
    posted = post_entry(
        session,
        EntryRequest(
            group_id=group_id,
            entry_date=paid_on,
            memo=f"Payment on loan #{number} from {row.lender}",
            lines=tuple(
                Line(a, currency, m)
                for a, m in (
                    (row.account_id, split["principal"]),
                    (accounts.get("interest_expense").id, split["interest"]),
                    (bank, -minor),
                )
                if m
            ),
            idempotency_key=f"borrowing:{row.uuid}:payment:{paid_before + 1}",
            author=recorded_by,
        ),
    )
    session.add(
        GroupBorrowingPayment(
            borrowing_id=row.id,
            paid_on=paid_on,
            principal=split["principal"],
            interest=split["interest"],
            entry_seq=posted.seq,
            recorded_by=recorded_by,
        )
    )
    session.flush()
    return borrowing_statement(session, group_id, number, on=paid_on)


def borrowing_statement(
    session: Session, group_id: int, number: int, *, on: dt.date
) -> BorrowingStatement:
    allow(session, "read", group_id)
    row = _find(session, group_id, number)
    schedule = [
        Instalment(i.number, i.due_on, i.principal, i.interest)
        for i in session.execute(
            select(GroupBorrowingInstalment)
            .where(GroupBorrowingInstalment.borrowing_id == row.id)
            .order_by(GroupBorrowingInstalment.number)
        ).scalars()
    ]
    payments = [
        Payment(p.paid_on, 0, p.interest, p.principal)
        for p in session.execute(
            select(GroupBorrowingPayment)
            .where(GroupBorrowingPayment.borrowing_id == row.id)
            .order_by(GroupBorrowingPayment.id)
        ).scalars()
    ]
    currency = get_group(session, group_id).currency
    return BorrowingStatement(_record(row), currency, on, standing(schedule, payments, on=on))


def list_borrowings(session: Session, group_id: int) -> list[BorrowingRecord]:
    allow(session, "read", group_id)
    rows = session.execute(
        select(GroupBorrowing)
        .where(GroupBorrowing.group_id == group_id)
        .order_by(GroupBorrowing.number)
    ).scalars()
    return [_record(b) for b in rows]


def _find(session: Session, group_id: int, number: int, *, lock: bool = False) -> GroupBorrowing:
    query = select(GroupBorrowing).where(
        GroupBorrowing.group_id == group_id, GroupBorrowing.number == number
    )
    row = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if row is None:
        raise BorrowingError(f"The group has received no loan or grant #{number}.")
    return row


def _check_terms(rate: Decimal, term: int | None, frequency: str, method: str) -> None:
    if not isinstance(rate, Decimal) or not 0 <= rate < 1:
        raise BorrowingError("The lender's rate is an exact monthly rate, e.g. 0.012 for 1.2 %.")
    if (rate * PPM) != (rate * PPM).to_integral_value():
        raise BorrowingError("The lender's rate has more than four decimals of a percent.")
    if term is None or not 1 <= term <= 520:
        raise BorrowingError("A loan to the group has 1 to 520 repayments (its term).")
    if frequency not in FREQUENCIES:
        raise BorrowingError(f"Repayments are {', '.join(FREQUENCIES)}; not {frequency!r}.")
    if method not in METHODS:
        raise BorrowingError(f"Unknown method {method!r}; use one of {', '.join(METHODS)}.")


def _open_account(session: Session, group_id: int, currency: str, lender: str, number: int) -> int:
    name = f"Liabilities:Borrowings:{lender.replace(':', ' ')}:B{number:03d}"
    return open_account(
        session, group_id, name[:200], currency, no_negative=True, role="borrowing"
    ).id


def _store_schedule(session: Session, row: GroupBorrowing) -> None:
    assert row.term_periods is not None and row.frequency is not None
    if row.frequency == "bullet":
        dates = [add_months(row.received_on, row.term_periods)]
    elif row.frequency == "monthly":
        dates = [add_months(row.received_on, k) for k in range(1, row.term_periods + 1)]
    else:
        step = STEPS[row.frequency]
        dates = [
            row.received_on + dt.timedelta(days=step * k) for k in range(1, row.term_periods + 1)
        ]
    for r in build_schedule(
        row.amount,
        method=row.method,  # type: ignore[arg-type]
        rate_per_month=Decimal(row.rate_ppm_per_month or 0) / PPM,
        frequency=row.frequency,  # type: ignore[arg-type]
        due_dates=dates,
        disbursed_on=row.received_on,
    ):
        session.add(
            GroupBorrowingInstalment(
                borrowing_id=row.id,
                number=r.number,
                due_on=r.due,
                principal=r.principal,
                interest=r.interest,
            )
        )
    session.flush()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the month's last day (31 January -> 28 February)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
