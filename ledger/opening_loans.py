"""Starting from paper: the loans members still owe on the cut-off date.

A CSV file or Excel workbook (a "loans" sheet, or its first) with header
``member,product,amount,disbursed_on,outstanding`` and optionally
``instalments_left,purpose``, one row per loan (a member may have several). Each loan
is recorded as lent on its paper date for its original amount, with the principal still
``outstanding`` on the cut-off date carried into the book: posted to the loan's own
account against ``Equity:Opening balances`` through the one write path, and scheduled
by its product over ``instalments_left`` meetings after the cut-off (the product's term
if left empty). Interest from the cut-off is worked out on the outstanding principal by
the product's method; interest owed on paper before the cut-off is not carried over.

The approval happened on paper, so it is recorded as by "(paper books)" — never by the
person importing. Re-importing the same file changes nothing; a row that differs from
a loan already carried over is refused. All rows or none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.chart import GroupAccounts
from ledger.csvfile import cell_amount, cell_code, cell_count, cell_date
from ledger.errors import ImportRejected, LedgerError, UnknownMember
from ledger.groups import get_group
from ledger.loan_products import ProductRecord, list_products
from ledger.loans import open_loan_account, store_schedule
from ledger.members import find_member
from ledger.models import Loan, new_uuid
from ledger.money import format_minor
from ledger.permissions import allow
from ledger.posting import EntryRequest, Line, post_entries
from ledger.xlsxfile import read_table

REQUIRED = ("member", "product", "amount", "disbursed_on", "outstanding")
OPTIONAL = ("instalments_left", "purpose")
PAPER_APPROVAL = "(paper books)"


@dataclass(frozen=True, slots=True)
class OpeningLoansSummary:
    loans_created: int
    loans_already_present: int
    principal_carried: int


@dataclass(frozen=True, slots=True)
class _Row:
    row: int
    member_id: int
    member_code: str
    product: ProductRecord
    amount: int
    disbursed_on: dt.date
    outstanding: int
    instalments: int
    purpose: str


def import_opening_loans(
    session: Session, group_id: int, path: str | Path, *, as_of: dt.date
) -> OpeningLoansSummary:
    author = allow(
        session, "record", group_id, audit=f"imported opening loans as of {as_of}"
    ).username
    group = get_group(session, group_id)
    products = {p.code: p for p in list_products(session, group_id)}
    rows = [
        _parse(session, group_id, group.currency, products, as_of, row, values)
        for row, values in read_table(path, required=REQUIRED, optional=OPTIONAL, sheet="loans")
    ]
    if not rows:
        raise ImportRejected(None, "The file has no loans.")
    created, present, carried = [], 0, 0
    seen: dict[tuple[int, dt.date, int], int] = {}
    for r in rows:
        key = (r.member_id, r.disbursed_on, r.amount)
        if key in seen:
            raise ImportRejected(
                r.row, f"The same loan of {r.member_code} is already on row {seen[key]}."
            )
        seen[key] = r.row
        existing = _existing(session, group_id, r)
        if existing is None:
            created.append(r)
        elif (existing.opening_principal, existing.opening_on) == (r.outstanding, as_of):
            present += 1
        else:
            raise ImportRejected(
                r.row,
                f"{r.member_code}'s loan of {r.disbursed_on.isoformat()} was already carried "
                f"over with {format_minor(existing.opening_principal or 0, group.currency)} "
                "outstanding; correct it by a reversal, not by importing again.",
            )
    accounts = GroupAccounts(session, group_id)
    requests: list[tuple[int, EntryRequest]] = []
    number = (
        session.execute(select(func.max(Loan.number)).where(Loan.group_id == group_id)).scalar()
        or 0
    )
    for r in created:
        number += 1
        loan = Loan(
            group_id=group_id,
            uuid=new_uuid(),
            number=number,
            member_id=r.member_id,
            product_id=r.product.id,
            amount=r.amount,
            purpose=r.purpose,
            applied_on=r.disbursed_on,
            recorded_by=author,
            status="disbursed",
            approved_by=PAPER_APPROVAL,
            approved_on=r.disbursed_on,
            disbursed_on=r.disbursed_on,
            opening_principal=r.outstanding,
            opening_on=as_of,
        )
        session.add(loan)
        session.flush()
        loan.account_id = open_loan_account(session, loan)
        store_schedule(
            session,
            loan,
            r.product,
            principal=r.outstanding,
            start=as_of,
            version=1,
            term_periods=r.instalments,
        )
        carried += r.outstanding
        requests.append(
            (
                r.row,
                EntryRequest(
                    group_id=group_id,
                    entry_date=as_of,
                    memo=(
                        f"Opening balances from the paper books: {r.member_code} loan "
                        f"#{number} of {r.disbursed_on.isoformat()}"
                    ),
                    lines=(
                        Line(loan.account_id, group.currency, r.outstanding),
                        Line(accounts.get("opening_balances").id, group.currency, -r.outstanding),
                    ),
                    idempotency_key=f"opening-loan:{loan.uuid}",
                    author=author,
                ),
            )
        )
    try:
        post_entries(session, [request for _row, request in requests])
    except LedgerError as exc:
        index = exc.entry_index or 0
        raise ImportRejected(requests[index][0] if requests else None, str(exc)) from None
    return OpeningLoansSummary(len(created), present, carried)


def _parse(
    session: Session,
    group_id: int,
    currency: str,
    products: dict[str, ProductRecord],
    as_of: dt.date,
    row: int,
    values: dict[str, str],
) -> _Row:
    code = cell_code(row, values, "member")
    try:
        member = find_member(session, group_id, code)
    except UnknownMember as exc:
        raise ImportRejected(row, f"{exc} Import the members first.") from None
    product = products.get(values["product"])
    if product is None:
        known = ", ".join(sorted(products)) or "none yet"
        raise ImportRejected(
            row, f"product {values['product']!r} is not one of the group's ({known})."
        )
    amount = cell_amount(row, values, "amount", currency)
    outstanding = cell_amount(row, values, "outstanding", currency)
    disbursed_on = cell_date(row, values, "disbursed_on")
    if amount <= 0:
        raise ImportRejected(row, "amount, the sum lent, must be more than zero.")
    if not 0 < outstanding <= amount:
        raise ImportRejected(
            row,
            f"outstanding must be more than zero and at most the amount lent "
            f"({format_minor(amount, currency)}); a repaid loan is not carried over.",
        )
    if disbursed_on > as_of:
        raise ImportRejected(row, "disbursed_on is after the cut-off date.")
    if member.joined_on and disbursed_on < member.joined_on:
        raise ImportRejected(
            row, f"{code} joined on {member.joined_on.isoformat()}, after the loan was lent."
        )
    instalments = cell_count(row, values, "instalments_left", 1, 520) or product.term_periods
    purpose = values.get("purpose", "").strip() or "Carried over from the paper books"
    if len(purpose) > 500:
        raise ImportRejected(row, "purpose is longer than 500 characters.")
    return _Row(
        row,
        member.id,
        member.code,
        product,
        amount,
        disbursed_on,
        outstanding,
        instalments,
        purpose,
    )


def _existing(session: Session, group_id: int, r: _Row) -> Loan | None:
    return session.execute(
        select(Loan).where(
            Loan.group_id == group_id,
            Loan.member_id == r.member_id,
            Loan.disbursed_on == r.disbursed_on,
            Loan.amount == r.amount,
            Loan.opening_principal.is_not(None),
        )
    ).scalar_one_or_none()
