"""Rice loans: kinds of rice loan (products), lending from stock, repaying in kind or
in cash, and where each loan stands on a day.

Each rice loan has its own account (``Assets:Rice loans:<member>:R0001``); lending moves
rice out of stock into it. Interest is a share of the quantity for the whole loan
(100 kg at 20 % owes 120 kg), income in kg when repaid. Repayments pay interest first,
then principal, back into stock; where the product allows it, a member may repay in
cash at a price the group records that day, through the trading account (see
``ledger.rice``). The lender is never the approver.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from moneyed import Money
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.accounts import open_account
from ledger.chart import GroupAccounts, balance_of
from ledger.groups import get_group
from ledger.members import find_member
from ledger.models import Member, RiceLoan, RiceProduct, RiceRepayment
from ledger.money import format_minor, to_minor
from ledger.permissions import Actor, allow, require
from ledger.rice import (
    RICE,
    RiceError,
    active_member,
    already_posted,
    check_rice_day,
    kg,
    post_rice_entry,
    price_per_kg,
    refuse_during_meeting,
    rice_grams,
    utc_now,
)
from ledger.rice_state import (
    PPM,
    RicePayment,
    RiceStanding,
    rice_interest,
    rice_standing,
    split_rice_repayment,
)


@dataclass(frozen=True, slots=True)
class RiceProductRecord:
    id: int
    group_id: int
    code: str
    name: str
    interest_ppm: int
    term_days: int
    cash_repayment: bool

    @property
    def interest_percent(self) -> Decimal:
        return Decimal(self.interest_ppm) / (PPM // 100)


@dataclass(frozen=True, slots=True)
class RiceLoanStatement:
    id: int
    number: int
    member_id: int
    member_code: str
    product_code: str
    lent_on: dt.date
    purpose: str
    standing: RiceStanding
    payments: tuple[RicePayment, ...]


# --- products ------------------------------------------------------------------------------


def create_rice_product(
    session: Session,
    group_id: int,
    code: str,
    name: str,
    *,
    interest: Decimal,
    term_days: int,
    cash_repayment: bool = False,
) -> RiceProductRecord:
    """A kind of rice loan, e.g. consumption rice at 20 % for 180 days.

    ``interest`` is a fraction of the quantity lent for the whole loan (0.20 for 20 %).
    """
    created_by = allow(session, "decide", group_id, audit="created a rice loan product").username
    code = code.strip().upper()
    if not code or len(code) > 32:
        raise RiceError("A rice product needs a code of 1 to 32 characters.")
    if not name.strip():
        raise RiceError("A rice product needs a name.")
    if not isinstance(interest, Decimal):
        raise RiceError(f"The interest must be exact (a Decimal such as 0.2), not {interest!r}.")
    scaled = interest * PPM
    if scaled != scaled.to_integral_value() or not 0 <= scaled <= PPM:
        raise RiceError(
            f"The interest must be 0 % to 100 % with at most four decimals; got {interest * 100} %."
        )
    if not 1 <= term_days <= 730:
        raise RiceError("A rice loan is due 1 to 730 days after it is lent.")
    taken = session.execute(
        select(RiceProduct.id).where(RiceProduct.group_id == group_id, RiceProduct.code == code)
    ).first()
    if taken is not None:
        raise RiceError(f"The group already has a rice product {code}.")
    row = RiceProduct(
        group_id=group_id,
        code=code,
        name=name.strip()[:200],
        interest_ppm=int(scaled),
        term_days=term_days,
        cash_repayment=cash_repayment,
        created_by=created_by,
        created_at=utc_now(),
    )
    session.add(row)
    session.flush()
    return _product_record(row)


def _product_record(p: RiceProduct) -> RiceProductRecord:
    return RiceProductRecord(
        p.id, p.group_id, p.code, p.name, p.interest_ppm, p.term_days, p.cash_repayment
    )


def rice_products(session: Session, group_id: int) -> list[RiceProductRecord]:
    allow(session, "read", group_id)
    rows = session.execute(
        select(RiceProduct).where(RiceProduct.group_id == group_id).order_by(RiceProduct.code)
    ).scalars()
    return [_product_record(p) for p in rows]


def find_rice_product(session: Session, group_id: int, code: str) -> RiceProductRecord:
    allow(session, "read", group_id)
    for product in rice_products(session, group_id):
        if product.code == code.strip().upper():
            return product
    raise RiceError(f"The group has no rice product {code.strip().upper()!r}.")


# --- loans ---------------------------------------------------------------------------------


def lend_rice(
    session: Session,
    group_id: int,
    member_code: str,
    product_code: str,
    quantity: Money,
    *,
    on: dt.date,
    approver: Actor,
    purpose: str,
    due_on: dt.date | None = None,
    key: str | None = None,
    today: dt.date | None = None,
) -> RiceLoanStatement:
    """Lend rice from stock; it is owed back with the product's interest by ``due_on``
    (the product's term after ``on`` if not given).

    The signed-in user records it; ``approver`` is the chair (or coordinator) who
    countersigned it on the same screen with her own PIN, and cannot be the recorder.
    """
    recorded_by = allow(
        session, "record", group_id, audit=f"lent rice to {member_code} on {on}"
    ).username
    require(approver, "approve_loan", group_id, group_code=get_group(session, group_id).code)
    approved_by = approver.username
    grams = rice_grams(quantity, "quantity lent")
    check_rice_day(on, today)
    seq = already_posted(session, group_id, key)
    if seq is not None:
        first = session.execute(
            select(RiceLoan.id).where(RiceLoan.group_id == group_id, RiceLoan.entry_seq == seq)
        ).scalar_one()
        return rice_loan_statement(session, first, on=on)
    if approved_by == recorded_by:
        raise RiceError("A rice loan is approved by someone other than the person recording it.")
    if not purpose.strip():
        raise RiceError("Write what the rice is for (e.g. seed for the wet season).")
    member = active_member(session, group_id, member_code, on)
    product = find_rice_product(session, group_id, product_code)
    due = due_on or on + dt.timedelta(days=product.term_days)
    if due <= on:
        raise RiceError("A rice loan falls due after the day it is lent.")
    accounts = GroupAccounts(session, group_id)
    stock = balance_of(session, accounts.get("rice_stock").id)
    if grams > stock:
        raise RiceError(f"The rice bank holds {kg(stock)}; it cannot lend {kg(grams)}.")
    number = (
        session.execute(
            select(func.max(RiceLoan.number)).where(RiceLoan.group_id == group_id)
        ).scalar()
        or 0
    ) + 1
    account = open_account(
        session,
        group_id,
        f"Assets:Rice loans:{member.code}:R{number:04d}",
        RICE,
        no_negative=True,
        member_id=member.id,
        role="rice_loan",
    )
    interest = rice_interest(grams, product.interest_ppm)
    entry = post_rice_entry(
        session,
        group_id,
        on,
        f"Rice loan #{number} to {member.code} {member.name_latin}: {kg(grams)}, "
        f"{kg(grams + interest)} due {due.isoformat()} — {purpose.strip()}",
        [(account.id, RICE, grams), (accounts.get("rice_stock").id, RICE, -grams)],
        recorded_by,
        key,
    )
    loan = RiceLoan(
        group_id=group_id,
        number=number,
        member_id=member.id,
        product_id=product.id,
        quantity=grams,
        interest=interest,
        lent_on=on,
        due_on=due,
        purpose=purpose.strip()[:500],
        account_id=account.id,
        entry_seq=entry.seq,
        recorded_by=recorded_by,
        approved_by=approved_by,
        created_at=utc_now(),
    )
    session.add(loan)
    session.flush()
    return rice_loan_statement(session, loan.id, on=on)


def repay_rice(
    session: Session,
    group_id: int,
    number: int,
    quantity: Money,
    *,
    on: dt.date,
    cash: Money | None = None,
    key: str | None = None,
    today: dt.date | None = None,
) -> RiceLoanStatement:
    """Repay ``quantity`` of a rice loan, interest first. In kind the rice goes back into
    stock; with ``cash`` the member pays that money instead of the rice (the price per kg
    is cash ÷ quantity), if the product allows it."""
    recorded_by = allow(
        session, "record", group_id, audit=f"rice loan #{number} repaid on {on}"
    ).username
    grams = rice_grams(quantity, "quantity repaid")
    check_rice_day(on, today)
    loan = _loan_row(session, group_id, number)
    if already_posted(session, group_id, key) is not None:
        return rice_loan_statement(session, loan.id, on=on)
    if on < loan.lent_on:
        raise RiceError(f"Rice loan #{number} was lent on {loan.lent_on.isoformat()}.")
    last = session.execute(
        select(func.max(RiceRepayment.repaid_on)).where(RiceRepayment.loan_id == loan.id)
    ).scalar()
    if last is not None and on < last:
        # Split against the repayments recorded so far, whatever their dates: an earlier
        # date would split it as if later repayments had not happened.
        raise RiceError(
            f"Rice loan #{number} was last repaid on {last.isoformat()}; a repayment is "
            "recorded on or after that day."
        )
    before = rice_loan_statement(session, loan.id, on=on)
    if before.standing.owed == 0:
        raise RiceError(f"Rice loan #{number} is repaid in full; nothing is owed on it.")
    if grams > before.standing.owed:
        raise RiceError(
            f"Rice loan #{number} is settled by {kg(before.standing.owed)}; "
            f"{kg(grams)} is more than that."
        )
    interest, principal = split_rice_repayment(before.standing, grams)
    accounts = GroupAccounts(session, group_id)
    currency = get_group(session, group_id).currency
    who = f"{before.member_code} repays rice loan #{number}: {kg(grams)}"
    lines = [
        (accounts.get("rice_interest").id, RICE, -interest),
        (loan.account_id, RICE, -principal),
    ]
    cash_minor = None
    if cash is None:
        lines.append((accounts.get("rice_stock").id, RICE, grams))
        memo = who
    else:
        product = session.get(RiceProduct, loan.product_id)
        assert product is not None
        if not product.cash_repayment:
            raise RiceError(
                f"Rice product {product.code} is repaid in rice; the group has not allowed "
                "cash repayments for it."
            )
        cash_minor = to_minor(cash, expected=currency)
        if cash_minor <= 0:
            raise RiceError("The cash paid must be more than 0.")
        refuse_during_meeting(session, group_id)
        lines += [
            (accounts.get("rice_trading").id, RICE, grams),
            (accounts.get("cash_box").id, currency, cash_minor),
            (accounts.get("rice_trading_money").id, currency, -cash_minor),
        ]
        price = price_per_kg(cash_minor, grams, currency)
        memo = f"{who} paid in cash, {format_minor(cash_minor, currency)} ({price})"
    entry = post_rice_entry(session, group_id, on, memo, lines, recorded_by, key)
    if not entry.replayed:
        session.add(
            RiceRepayment(
                group_id=group_id,
                loan_id=loan.id,
                repaid_on=on,
                interest=interest,
                principal=principal,
                cash_amount=cash_minor,
                entry_seq=entry.seq,
                recorded_by=recorded_by,
                created_at=utc_now(),
            )
        )
        session.flush()
    return rice_loan_statement(session, loan.id, on=on)


def _loan_row(session: Session, group_id: int, number: int) -> RiceLoan:
    loan = session.execute(
        select(RiceLoan).where(RiceLoan.group_id == group_id, RiceLoan.number == number)
    ).scalar_one_or_none()
    if loan is None:
        raise RiceError(f"The group has no rice loan #{number}.")
    return loan


def rice_loan_statement(session: Session, loan_id: int, *, on: dt.date) -> RiceLoanStatement:
    loan = session.get(RiceLoan, loan_id)
    if loan is None:
        raise RiceError(f"There is no rice loan #{loan_id}.")
    allow(session, "read", loan.group_id)
    return _statements(session, [loan], on=on)[0]


def rice_loans(
    session: Session, group_id: int, *, on: dt.date, member_code: str | None = None
) -> list[RiceLoanStatement]:
    """The group's rice loans lent by ``on`` as they stand that day, oldest first."""
    allow(session, "read", group_id)
    query = select(RiceLoan).where(RiceLoan.group_id == group_id, RiceLoan.lent_on <= on)
    if member_code:
        query = query.where(RiceLoan.member_id == find_member(session, group_id, member_code).id)
    return _statements(
        session, list(session.execute(query.order_by(RiceLoan.number)).scalars()), on=on
    )


def _statements(session: Session, loans: list[RiceLoan], *, on: dt.date) -> list[RiceLoanStatement]:
    ids = [loan.id for loan in loans]
    payments: dict[int, list[RicePayment]] = {i: [] for i in ids}
    if ids:
        for row in session.execute(
            select(RiceRepayment)
            .where(RiceRepayment.loan_id.in_(ids))
            .order_by(RiceRepayment.repaid_on, RiceRepayment.id)
        ).scalars():
            payments[row.loan_id].append(
                RicePayment(row.repaid_on, row.interest, row.principal, row.cash_amount)
            )
    products = dict(
        session.execute(
            select(RiceProduct.id, RiceProduct.code).where(
                RiceProduct.id.in_({loan.product_id for loan in loans})
            )
        ).all()
    )
    members = dict(
        session.execute(
            select(Member.id, Member.code).where(Member.id.in_({loan.member_id for loan in loans}))
        ).all()
    )
    out = []
    for loan in loans:
        made = tuple(p for p in payments[loan.id] if p.repaid_on <= on)
        out.append(
            RiceLoanStatement(
                loan.id,
                loan.number,
                loan.member_id,
                members[loan.member_id],
                products[loan.product_id],
                loan.lent_on,
                loan.purpose,
                rice_standing(loan.quantity, loan.interest, loan.due_on, made, on=on),
                made,
            )
        )
    return out
