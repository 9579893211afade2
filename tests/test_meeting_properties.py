"""Property-based: any run of meetings of a small VSLA keeps its books as a plain model says.

Hypothesis writes the collection sheets: per member, attendance, compulsory and voluntary
savings, withdrawals (never more than the member has), share money (any amount, so money
is often held toward the next share), social fund and fines; per meeting, group items
(expenses and bank deposits within the cash, grants, bank withdrawals within the bank,
social fund payouts, now and then a member leaving) and a count that may be a little
over or short, with a comment. After every close:

* the expected cash is opening + ins - outs, and the cash box holds what was counted;
* the next meeting opens with the last count;
* every member account and every group account equals the model (shares are whole shares
  at the price, the rest is held for the member);

and at the end the group's hash chain and balances verify and its trial balance is zero.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field, replace
from functools import partial

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from ledger.chart import MEMBER_ACCOUNTS, GroupAccounts, balance_of
from ledger.db import Book
from ledger.meetings import (
    MeetingSummary,
    add_item,
    close_meeting,
    meeting_summary,
    open_meeting,
    set_line,
)
from ledger.models import DEBIT_NORMAL
from ledger.queries import trial_balance
from ledger.verify import verify_book
from tests.savings_helpers import CYCLE_START, TODAY, khr, make_vsla

PRICE = 5_000
MAX_SHARES = 5
WEEK = dt.timedelta(days=7)
GROUP_ROLES = (
    "cash_box",
    "bank",
    "social_fund",
    "fines_late",
    "fines_absent",
    "fines_other",
    "grants",
    "expenses",
    "cash_over_short",
)
_codes = itertools.count(1)


@dataclass
class MemberModel:
    """What a member holds, in riel, on the natural side of each account."""

    compulsory_savings: int = 0
    voluntary_savings: int = 0
    shares: int = 0
    share_money_held: int = 0

    def total(self) -> int:
        return (
            self.compulsory_savings + self.voluntary_savings + self.shares + self.share_money_held
        )


@dataclass
class GroupModel:
    """The group's accounts, natural side, and its members (who has left)."""

    accounts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUP_ROLES, 0))
    members: dict[str, MemberModel] = field(default_factory=dict)
    gone: dict[str, MemberModel] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """One member's row of the sheet, in riel."""

    attended: bool
    savings: int
    voluntary_savings: int
    withdrawal: int
    share_money: int
    social_fund: int
    fine_late: int
    fine_absent: int
    fine_other: int

    def amounts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if k != "attended"}

    @property
    def cash_in(self) -> int:
        return sum(self.amounts().values()) - self.withdrawal


@dataclass(frozen=True)
class Sheet:
    lines: dict[str, Row]  # by member code
    items: list[tuple[str, int, str | None]]  # kind, amount, member code
    leaving: str | None


amounts = st.one_of(st.just(0), st.integers(1, 20_000))
small = st.one_of(st.just(0), st.integers(1, 2_000))


def draw_sheet(data: st.DataObject, model: GroupModel) -> tuple[Sheet, int]:
    """A random sheet that a careful treasurer could write, and its expected cash."""
    cash = model.accounts["cash_box"]
    lines: dict[str, Row] = {}
    for code, mine in model.members.items():
        if not data.draw(st.booleans(), label=f"{code} on the sheet"):
            continue
        attended = data.draw(st.booleans(), label="attended")
        savings = data.draw(st.one_of(st.just(2_000), amounts), label="savings")
        voluntary = data.draw(amounts, label="voluntary savings")
        available = mine.voluntary_savings + voluntary
        withdrawal = data.draw(
            st.one_of(st.just(0), st.just(available), st.integers(0, available)),
            label="withdrawal",
        )
        # At most five shares a meeting, counting what is already held toward one.
        most = (MAX_SHARES + 1) * PRICE - 1 - mine.share_money_held
        share_money = data.draw(
            st.one_of(st.integers(0, MAX_SHARES).map(lambda n: n * PRICE), st.integers(0, most)),
            label="share money",
        )
        row = Row(
            attended,
            savings,
            voluntary,
            withdrawal,
            share_money,
            *(data.draw(small, label=name) for name in ("social fund", "late", "absent", "other")),
        )
        if row.withdrawal > cash + row.cash_in:
            # A careful treasurer pays out no more than the box holds, even when the
            # member's savings are larger (the group has spent or lent the rest).
            row = replace(row, withdrawal=cash + row.cash_in)
        lines[code] = row
        cash += row.cash_in - row.withdrawal

    items: list[tuple[str, int, str | None]] = []
    bank_left = model.accounts["bank"]
    # Payouts only from what the fund held at the opening (a payout from this meeting's
    # contributions is its own test, below).
    fund_left = model.accounts["social_fund"]
    for _ in range(data.draw(st.integers(0, 3), label="items")):
        kind = data.draw(
            st.sampled_from(
                ["expense", "grant", "bank_deposit", "bank_withdrawal", "social_fund_payout"]
            ),
            label="item",
        )
        if kind == "grant":
            amount = data.draw(st.integers(1, 100_000), label="grant")
            cash += amount
            items.append((kind, amount, None))
        elif kind == "bank_withdrawal" and bank_left > 0:
            amount = data.draw(st.integers(1, bank_left), label="bank withdrawal")
            bank_left -= amount
            cash += amount
            items.append((kind, amount, None))
        elif kind in ("expense", "bank_deposit") and cash > 0:
            amount = data.draw(st.integers(1, cash), label=kind)
            cash -= amount
            items.append((kind, amount, None))
        elif kind == "social_fund_payout" and min(fund_left, cash) > 0:
            amount = data.draw(st.integers(1, min(fund_left, cash)), label="payout")
            member = data.draw(st.sampled_from(sorted(model.members)), label="for")
            fund_left -= amount
            cash -= amount
            items.append((kind, amount, member))

    leaving = None
    if len(model.members) > 1 and data.draw(st.booleans(), label="someone leaves"):
        code = data.draw(st.sampled_from(sorted(model.members)), label="leaver")
        payout = _after_line(model.members[code], lines.get(code)).total()
        if payout <= cash:
            leaving = code
            cash -= payout
    return Sheet(lines, items, leaving), cash


def _after_line(mine: MemberModel, line: Row | None) -> MemberModel:
    """The member's holdings once their line is posted: whole shares at the price, the
    rest of the share money held toward the next one."""
    if line is None:
        return MemberModel(**vars(mine))
    pool = mine.share_money_held + line.share_money
    return MemberModel(
        compulsory_savings=mine.compulsory_savings + line.savings,
        voluntary_savings=mine.voluntary_savings + line.voluntary_savings - line.withdrawal,
        shares=mine.shares + pool // PRICE * PRICE,
        share_money_held=pool % PRICE,
    )


def write_sheet(session: Session, meeting_id: int, sheet: Sheet) -> MeetingSummary:
    for code, row in sheet.lines.items():
        kwargs = {name: khr(amount) for name, amount in row.amounts().items()}
        set_line(session, meeting_id, code, attended=row.attended, **kwargs)
    for kind, amount, member in sheet.items:
        add_item(session, meeting_id, kind, khr(amount), member_code=member, memo=f"{kind} memo")  # type: ignore[arg-type]
    if sheet.leaving:
        add_item(session, meeting_id, "member_exit", member_code=sheet.leaving)
    return meeting_summary(session, meeting_id)


def apply_sheet(model: GroupModel, sheet: Sheet, counted: int, expected: int) -> None:
    """What the books should say once the sheet is closed with ``counted`` in the box."""
    acc = model.accounts
    for code, line in sheet.lines.items():
        model.members[code] = _after_line(model.members[code], line)
        acc["social_fund"] += line.social_fund
        acc["fines_late"] += line.fine_late
        acc["fines_absent"] += line.fine_absent
        acc["fines_other"] += line.fine_other
    for kind, amount, _member in sheet.items:
        if kind == "grant":
            acc["grants"] += amount
        elif kind == "expense":
            acc["expenses"] += amount
        elif kind == "bank_deposit":
            acc["bank"] += amount
        elif kind == "bank_withdrawal":
            acc["bank"] -= amount
        elif kind == "social_fund_payout":
            acc["social_fund"] -= amount
    if sheet.leaving:
        model.gone[sheet.leaving] = MemberModel()
        del model.members[sheet.leaving]
    acc["cash_over_short"] += expected - counted  # a shortage is an expense
    acc["cash_box"] = counted


def book_says(book: Book, group_id: int, member_ids: dict[str, int]) -> GroupModel:
    """The book's balances, on their natural side, in the model's shape."""
    with book.read() as s:
        accounts = GroupAccounts(s, group_id)

        def natural(role: str, member_id: int | None = None) -> int:
            account = accounts.get(role, member_id)
            value = balance_of(s, account.id)
            return value if account.type in DEBIT_NORMAL else -value

        return GroupModel(
            accounts={role: natural(role) for role in GROUP_ROLES},
            members={
                code: MemberModel(**{t.role: natural(t.role, mid) for t in MEMBER_ACCOUNTS})
                for code, mid in member_ids.items()
            },
        )


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_run_of_meetings_keeps_the_books(book: Book, data: st.DataObject) -> None:
    vsla = make_vsla(book, f"HP-{next(_codes)}", share_price=PRICE)
    group_id = vsla.group.id
    member_ids = {code: m.id for code, m in vsla.members.items()}
    model = GroupModel(members={code: MemberModel() for code in member_ids})

    for number in range(1, data.draw(st.integers(1, 5), label="meetings") + 1):
        day = CYCLE_START + (number - 1) * WEEK
        meeting = book.write(partial(_open, group_id=group_id, day=day))
        assert meeting.opening_cash == model.accounts["cash_box"]  # the last count carries over

        sheet, expected = draw_sheet(data, model)
        summary = book.write(partial(write_sheet, meeting_id=meeting.id, sheet=sheet))
        assert summary.expected_cash == expected
        assert summary.expected_cash == meeting.opening_cash + summary.cash_in - summary.cash_out

        difference = data.draw(st.integers(-min(500, expected), 500), label="count off by")
        comment = f"Counted {difference:+} riel" if difference else None
        closed = book.write(
            partial(
                close_meeting,
                meeting_id=meeting.id,
                counted_cash=khr(expected + difference),
                comment=comment,
            )
        )
        assert closed.meeting.status == "closed"
        assert (closed.expected_cash, closed.difference) == (expected, difference)

        _events(sheet, difference)
        apply_sheet(model, sheet, expected + difference, expected)
        said = book_says(book, group_id, member_ids)
        assert said.accounts == model.accounts
        for code, mine in {**model.members, **model.gone}.items():
            assert said.members[code] == mine, code

    with book.read() as s:
        report = verify_book(s, group_id)
        assert report.ok, report.problems
        assert trial_balance(s, group_id).balanced


def _events(sheet: Sheet, difference: int) -> None:
    """Say what the examples covered (pytest --hypothesis-show-statistics)."""
    for kind, _amount, _member in sheet.items:
        event(kind)
    rows = sheet.lines.values()
    if any(r.withdrawal for r in rows):
        event("withdrawal")
    if any(r.share_money % PRICE for r in rows):
        event("share money not a whole number of shares")
    if sheet.leaving:
        event("member leaves")
    if difference:
        event("count over or short")


def _open(session: Session, *, group_id: int, day: dt.date):  # type: ignore[no-untyped-def]
    return open_meeting(session, group_id, day, today=TODAY)


def test_a_payout_may_use_a_contribution_made_at_the_same_meeting(book: Book) -> None:
    vsla = make_vsla(book, "HP-SF")
    first = book.write(partial(_open, group_id=vsla.group.id, day=CYCLE_START))

    def first_sheet(s: Session) -> None:
        set_line(s, first.id, "M01", voluntary_savings=khr(10_000), social_fund=khr(500))

    book.write(first_sheet)
    book.write(partial(close_meeting, meeting_id=first.id, counted_cash=khr(10_500)))
    second = book.write(partial(_open, group_id=vsla.group.id, day=CYCLE_START + WEEK))

    def second_sheet(s: Session) -> int:
        # Dara takes her savings back and pays her 500 to the fund; Sophea is paid 1,000.
        set_line(s, second.id, "M01", withdrawal=khr(10_000), social_fund=khr(500))
        add_item(s, second.id, "social_fund_payout", khr(1_000), member_code="M02")
        return meeting_summary(s, second.id).expected_cash

    assert book.write(second_sheet) == 0
    book.write(partial(close_meeting, meeting_id=second.id, counted_cash=khr(0)))
    with book.read() as s:
        assert balance_of(s, GroupAccounts(s, vsla.group.id).get("social_fund").id) == 0
