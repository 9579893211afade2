"""The rice bank: paddy lent in the lean months and repaid in kind after the harvest.

Rice is its own commodity (``RICE``, counted in grams, shown in kg) and never mixes with
money in an entry:

- **Stock in**: opening stock and members' contributions go to ``Assets:Rice stock``
  against ``Equity:Rice capital``.
- **Loans**: each rice loan has its own account (``Assets:Rice loans:<member>:R0001``);
  lending moves rice out of stock into it. Interest is a share of the quantity for the
  whole loan (100 kg at 20 % owes 120 kg), income in kg when repaid.
- **Repayments** in kind pay interest first, then principal, back into stock. If the
  product allows it, a member may repay in cash at a price the group records that day.
- **Counts**: a physical count that differs from the books posts the difference to a
  losses account for its reason (pests, damp, theft, other).
- **Purchases and sales** for cash at a recorded price go through ``Equity:Trading:Rice``,
  which has a rice side and a money side, so each entry balances in each commodity and
  the price is kept in the books rather than converted silently.

Every operation posts through the one write path and records what happened in an
append-only table. Operations that move cash are refused while a meeting is open, since
its expected cash was worked out from the cash box when it opened.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_module
from dataclasses import dataclass
from decimal import Decimal

from moneyed import Money
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.accounts import open_account
from ledger.chart import GroupAccounts, balance_of
from ledger.errors import LedgerError
from ledger.groups import get_group
from ledger.members import MemberRecord, find_member, get_member
from ledger.models import (
    Account,
    JournalEntry,
    Meeting,
    Posting,
    RiceEvent,
    RiceLoan,
    RiceProduct,
    RiceRepayment,
)
from ledger.money import format_minor, to_minor
from ledger.posting import EntryRequest, Line, PostedEntry, post_entry
from ledger.rice_state import (
    PPM,
    RicePayment,
    RiceStanding,
    rice_interest,
    rice_standing,
    split_rice_repayment,
)

RICE = "RICE"
GRAMS_PER_KG = 1000
LOSS_REASONS = ("pests", "damp", "theft", "other")


class RiceError(LedgerError):
    """A rice bank operation that cannot be recorded as asked."""


def kg(grams: int) -> str:
    """Grams as the kilograms people read ("1,250.5 kg")."""
    text = f"{Decimal(grams) / GRAMS_PER_KG:,.3f}".rstrip("0").rstrip(".")
    return f"{text} kg"


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


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _grams(quantity: Money, label: str) -> int:
    grams = to_minor(quantity, expected=RICE)
    if grams <= 0:
        raise RiceError(f"The {label} must be more than 0 kg.")
    return grams


def _check_date(on: dt.date, today: dt.date | None) -> None:
    if on > (today or dt.date.today()):
        raise RiceError(f"Rice movements cannot be dated in the future ({on.isoformat()}).")


def _no_open_meeting(session: Session, group_id: int) -> None:
    """Cash moved outside a meeting would make an open meeting's expected cash wrong."""
    open_meeting = session.execute(
        select(Meeting.number, Meeting.meeting_date).where(
            Meeting.group_id == group_id, Meeting.status == "open"
        )
    ).first()
    if open_meeting is not None:
        raise RiceError(
            f"Meeting #{open_meeting.number} of {open_meeting.meeting_date.isoformat()} is "
            "open; close it first, then record rice bought, sold or repaid in cash."
        )


def _post(
    session: Session,
    group_id: int,
    on: dt.date,
    memo: str,
    lines: list[tuple[int, str, int]],
    author: str,
    key: str | None,
) -> PostedEntry:
    return post_entry(
        session,
        EntryRequest(
            group_id=group_id,
            entry_date=on,
            memo=memo[:500],
            lines=tuple(Line(a, c, m) for a, c, m in lines if m),
            idempotency_key=f"rice:{key or uuid_module.uuid4()}",
            author=author,
        ),
    )


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
    created_by: str,
) -> RiceProductRecord:
    """A kind of rice loan, e.g. consumption rice at 20 % for 180 days.

    ``interest`` is a fraction of the quantity lent for the whole loan (0.20 for 20 %).
    """
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
        created_at=_now(),
    )
    session.add(row)
    session.flush()
    return _product_record(row)


def _product_record(p: RiceProduct) -> RiceProductRecord:
    return RiceProductRecord(
        p.id, p.group_id, p.code, p.name, p.interest_ppm, p.term_days, p.cash_repayment
    )


def rice_products(session: Session, group_id: int) -> list[RiceProductRecord]:
    rows = session.execute(
        select(RiceProduct).where(RiceProduct.group_id == group_id).order_by(RiceProduct.code)
    ).scalars()
    return [_product_record(p) for p in rows]


def find_rice_product(session: Session, group_id: int, code: str) -> RiceProductRecord:
    for product in rice_products(session, group_id):
        if product.code == code.strip().upper():
            return product
    raise RiceError(f"The group has no rice product {code.strip().upper()!r}.")


# --- stock in ------------------------------------------------------------------------------


def receive_rice(
    session: Session,
    group_id: int,
    quantity: Money,
    *,
    on: dt.date,
    recorded_by: str,
    member_code: str | None = None,
    note: str = "",
    key: str | None = None,
    today: dt.date | None = None,
) -> int:
    """Opening stock (no member) or a member's contribution, into stock as rice capital.

    Returns the grams received.
    """
    grams = _grams(quantity, "quantity received")
    _check_date(on, today)
    accounts = GroupAccounts(session, group_id)
    member = _active_member(session, group_id, member_code, on) if member_code else None
    what = f"Rice contributed by {member.code} {member.name_latin}" if member else "Rice stock"
    entry = _post(
        session,
        group_id,
        on,
        f"{what}: {kg(grams)}" + (f" — {note.strip()}" if note.strip() else ""),
        [
            (accounts.get("rice_stock").id, RICE, grams),
            (accounts.get("rice_capital").id, RICE, -grams),
        ],
        recorded_by,
        key,
    )
    if not entry.replayed:
        _event(
            session,
            group_id,
            "contribution" if member else "opening",
            on,
            grams,
            recorded_by,
            entry.seq,
            member_id=member.id if member else None,
            note=note,
        )
    return grams


def _active_member(session: Session, group_id: int, code: str, on: dt.date) -> MemberRecord:
    member = find_member(session, group_id, code)
    if not member.active_on(on):
        raise RiceError(f"{member.code} is not a member of the group on {on.isoformat()}.")
    return member


def _event(
    session: Session,
    group_id: int,
    kind: str,
    on: dt.date,
    quantity: int,
    recorded_by: str,
    entry_seq: int | None,
    **details: object,
) -> None:
    session.add(
        RiceEvent(
            group_id=group_id,
            kind=kind,
            event_date=on,
            quantity=quantity,
            recorded_by=recorded_by,
            entry_seq=entry_seq,
            created_at=_now(),
            **{k: v for k, v in details.items() if k != "note"},
            note=str(details.get("note") or "").strip()[:500],
        )
    )
    session.flush()


# --- loans ---------------------------------------------------------------------------------


def lend_rice(
    session: Session,
    group_id: int,
    member_code: str,
    product_code: str,
    quantity: Money,
    *,
    on: dt.date,
    recorded_by: str,
    approved_by: str,
    purpose: str,
    due_on: dt.date | None = None,
    key: str | None = None,
    today: dt.date | None = None,
) -> RiceLoanStatement:
    """Lend rice from stock; it is owed back with the product's interest by ``due_on``
    (the product's term after ``on`` if not given). The approver is not the recorder."""
    grams = _grams(quantity, "quantity lent")
    _check_date(on, today)
    if approved_by.strip() == recorded_by.strip():
        raise RiceError("A rice loan is approved by someone other than the person recording it.")
    if not purpose.strip():
        raise RiceError("Write what the rice is for (e.g. seed for the wet season).")
    member = _active_member(session, group_id, member_code, on)
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
    entry = _post(
        session,
        group_id,
        on,
        f"Rice loan #{number} to {member.code} {member.name_latin}: {kg(grams)}, "
        f"{kg(grams + interest)} due {due.isoformat()} — {purpose.strip()}",
        [(account.id, RICE, grams), (accounts.get("rice_stock").id, RICE, -grams)],
        recorded_by,
        key,
    )
    if entry.replayed:
        existing = session.execute(
            select(RiceLoan.id).where(
                RiceLoan.group_id == group_id, RiceLoan.account_id == account.id
            )
        ).scalar_one()
        return rice_loan_statement(session, existing, on=on)
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
        created_at=_now(),
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
    recorded_by: str,
    cash: Money | None = None,
    key: str | None = None,
    today: dt.date | None = None,
) -> RiceLoanStatement:
    """Repay ``quantity`` of a rice loan, interest first. In kind the rice goes back into
    stock; with ``cash`` the member pays that money instead of the rice (the price per kg
    is cash ÷ quantity), if the product allows it."""
    grams = _grams(quantity, "quantity repaid")
    _check_date(on, today)
    loan = _loan_row(session, group_id, number)
    if on < loan.lent_on:
        raise RiceError(f"Rice loan #{number} was lent on {loan.lent_on.isoformat()}.")
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
        _no_open_meeting(session, group_id)
        lines += [
            (accounts.get("rice_trading").id, RICE, grams),
            (accounts.get("cash_box").id, currency, cash_minor),
            (accounts.get("rice_trading_money").id, currency, -cash_minor),
        ]
        price = _price(cash_minor, grams, currency)
        memo = f"{who} paid in cash, {format_minor(cash_minor, currency)} ({price})"
    entry = _post(session, group_id, on, memo, lines, recorded_by, key)
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
                created_at=_now(),
            )
        )
        session.flush()
    return rice_loan_statement(session, loan.id, on=on)


def _price(cash_minor: int, grams: int, currency: str) -> str:
    per_kg = Decimal(cash_minor) * GRAMS_PER_KG / grams
    return f"{per_kg.quantize(Decimal('0.01')):,} {currency} per kg"


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
    return _statements(session, [loan], on=on)[0]


def rice_loans(
    session: Session, group_id: int, *, on: dt.date, member_code: str | None = None
) -> list[RiceLoanStatement]:
    """The group's rice loans lent by ``on`` as they stand that day, oldest first."""
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
    products = {p.id: p.code for p in session.execute(select(RiceProduct)).scalars()}
    members: dict[int, str] = {}
    out = []
    for loan in loans:
        if loan.member_id not in members:
            members[loan.member_id] = get_member(session, loan.member_id).code
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


# --- counts and trade ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CountResult:
    counted: int
    expected: int

    @property
    def difference(self) -> int:
        return self.counted - self.expected


def count_stock(
    session: Session,
    group_id: int,
    counted: Money,
    *,
    on: dt.date,
    recorded_by: str,
    reason: str | None = None,
    note: str = "",
    key: str | None = None,
    today: dt.date | None = None,
) -> CountResult:
    """Record a physical count. A difference from the books is posted to the losses
    account for ``reason`` (a surplus is posted there too, as a negative loss)."""
    grams = to_minor(counted, expected=RICE)
    if grams < 0:
        raise RiceError("The counted stock cannot be negative.")
    _check_date(on, today)
    accounts = GroupAccounts(session, group_id)
    stock = accounts.get("rice_stock").id
    last = _last_movement(session, stock)
    if last is not None and last > on:
        raise RiceError(
            f"The rice stock moved on {last.isoformat()}; a count must be dated on or after "
            "the last movement."
        )
    expected = balance_of(session, stock)
    difference = grams - expected
    seq = None
    if difference:
        if reason not in LOSS_REASONS:
            raise RiceError(
                f"The count is {kg(abs(difference))} {'over' if difference > 0 else 'short'}; "
                f"give the reason: {', '.join(LOSS_REASONS)}."
            )
        if reason == "other" and not note.strip():
            raise RiceError("For a loss of reason 'other', write what happened in a note.")
        entry = _post(
            session,
            group_id,
            on,
            f"Rice count {kg(grams)}, books {kg(expected)}: "
            f"{'surplus' if difference > 0 else 'loss'} of {kg(abs(difference))} ({reason})"
            + (f" — {note.strip()}" if note.strip() else ""),
            [
                (stock, RICE, difference),
                (accounts.get(f"rice_losses_{reason}").id, RICE, -difference),
            ],
            recorded_by,
            key,
        )
        if entry.replayed:
            return CountResult(grams, grams - difference)
        seq = entry.seq
    _event(
        session,
        group_id,
        "count",
        on,
        grams,
        recorded_by,
        seq,
        expected=expected,
        reason=reason if difference else None,
        note=note,
    )
    return CountResult(grams, expected)


def _last_movement(session: Session, account_id: int) -> dt.date | None:
    return session.execute(
        select(func.max(JournalEntry.entry_date))
        .join(
            Posting,
            (Posting.group_id == JournalEntry.group_id) & (Posting.entry_seq == JournalEntry.seq),
        )
        .where(Posting.account_id == account_id)
    ).scalar()


def trade_rice(
    session: Session,
    group_id: int,
    kind: str,
    quantity: Money,
    cash: Money,
    *,
    on: dt.date,
    recorded_by: str,
    counterparty: str,
    key: str | None = None,
    today: dt.date | None = None,
) -> int:
    """Buy (``kind="purchase"``) or sell (``"sale"``) rice for cash from the cash box,
    through the trading account. Returns the entry's sequence number."""
    if kind not in ("purchase", "sale"):
        raise RiceError("Rice is either bought (purchase) or sold (sale).")
    grams = _grams(quantity, "quantity")
    _check_date(on, today)
    currency = get_group(session, group_id).currency
    money = to_minor(cash, expected=currency)
    if money <= 0:
        raise RiceError("The price paid or received must be more than 0.")
    if not counterparty.strip():
        raise RiceError("Write who the rice was bought from or sold to.")
    _no_open_meeting(session, group_id)
    accounts = GroupAccounts(session, group_id)
    stock, cash_box = accounts.get("rice_stock").id, accounts.get("cash_box").id
    sign = 1 if kind == "purchase" else -1
    if kind == "sale" and grams > balance_of(session, stock):
        raise RiceError(
            f"The rice bank holds {kg(balance_of(session, stock))}; it cannot sell {kg(grams)}."
        )
    if kind == "purchase" and money > balance_of(session, cash_box):
        raise RiceError(
            f"The cash box holds {format_minor(balance_of(session, cash_box), currency)}; "
            f"it cannot pay {format_minor(money, currency)}."
        )
    verb = "bought from" if kind == "purchase" else "sold to"
    entry = _post(
        session,
        group_id,
        on,
        f"Rice {verb} {counterparty.strip()}: {kg(grams)} for {format_minor(money, currency)} "
        f"({_price(money, grams, currency)})",
        [
            (stock, RICE, sign * grams),
            (accounts.get("rice_trading").id, RICE, -sign * grams),
            (accounts.get("rice_trading_money").id, currency, sign * money),
            (cash_box, currency, -sign * money),
        ],
        recorded_by,
        key,
    )
    if not entry.replayed:
        _event(
            session,
            group_id,
            kind,
            on,
            grams,
            recorded_by,
            entry.seq,
            cash_amount=money,
            counterparty=counterparty.strip()[:200],
        )
    return entry.seq


# --- the rice bank at a glance ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RicePosition:
    """The rice bank on a day: stock, what members owe, losses, and each loan."""

    group_code: str
    on: dt.date
    stock: int
    capital: int
    interest_earned: int
    losses: dict[str, int]
    traded: int  # net kg bought (positive) or sold (negative) for money
    trading_money: int  # net money paid (positive) or received (negative) for rice
    loans: tuple[RiceLoanStatement, ...]

    @property
    def principal_outstanding(self) -> int:
        return sum(s.standing.principal_owed for s in self.loans)

    @property
    def interest_owed(self) -> int:
        return sum(s.standing.interest_owed for s in self.loans)

    @property
    def overdue(self) -> tuple[RiceLoanStatement, ...]:
        return tuple(s for s in self.loans if s.standing.state == "overdue")


def rice_position(session: Session, group_id: int, *, on: dt.date) -> RicePosition:
    """Balances are as of ``on`` (summed from postings dated by then), so a position for
    an earlier day is right even after later movements."""
    group = get_group(session, group_id)
    rows = session.execute(
        select(Account.role, func.coalesce(func.sum(Posting.amount), 0))
        .join(Posting, Posting.account_id == Account.id)
        .join(
            JournalEntry,
            (JournalEntry.group_id == Posting.group_id) & (JournalEntry.seq == Posting.entry_seq),
        )
        .where(
            Account.group_id == group_id,
            Account.commodity.in_([RICE, group.currency]),
            Account.role.like("rice%"),
            Account.member_id.is_(None),
            JournalEntry.entry_date <= on,
        )
        .group_by(Account.role)
    ).all()
    by_role = {role: int(total) for role, total in rows}
    return RicePosition(
        group_code=group.code,
        on=on,
        stock=by_role.get("rice_stock", 0),
        capital=-by_role.get("rice_capital", 0),
        interest_earned=-by_role.get("rice_interest", 0),
        losses={r: by_role.get(f"rice_losses_{r}", 0) for r in LOSS_REASONS},
        traded=-by_role.get("rice_trading", 0),
        trading_money=by_role.get("rice_trading_money", 0),
        loans=tuple(rice_loans(session, group_id, on=on)),
    )
