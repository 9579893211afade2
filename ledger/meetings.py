"""The meeting: the collection sheet while it is open, the books when it closes.

While a meeting is open its sheet (one line per member, plus group-level items) is a
draft kept in the book: nothing is posted, so a treasurer can correct anything and a
crash loses nothing. Closing posts the whole sheet at once through the one write path,
one entry per member line and per item plus the cash count, all or nothing; the
database then freezes the meeting. A second close with the same count returns the first
result; mistakes are corrected by reversals in a later meeting.

Cash: expected closing cash = opening cash + everything paid in − everything paid out.
The counted cash is recorded beside it; a difference needs a comment and is posted to
cash over/short. The next meeting opens with the cash box as this one closed it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Literal

from moneyed import Money
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.chart import GroupAccounts, balance_of, member_balances
from ledger.cycles import CycleRecord, current_cycle
from ledger.errors import MeetingError, SheetError
from ledger.groups import get_group
from ledger.loans import (
    check_bank_covers_loans,
    loan_statement,
    loan_statements,
    schedule_at_disbursement,
    split_repayment,
)
from ledger.members import MemberRecord, find_member, list_members, mark_exited
from ledger.models import (
    Account,
    Cycle,
    Group,
    JournalEntry,
    Loan,
    Meeting,
    MeetingItem,
    MeetingLine,
    MeetingRepayment,
    Member,
    Posting,
)
from ledger.money import format_minor, to_minor
from ledger.periods import closed_through
from ledger.permissions import allow
from ledger.plain_text import has_control
from ledger.posting import EntryRequest, Line, post_entries
from ledger.queries import open_meeting_of
from ledger.rice import kg
from ledger.rice_loans import rice_loans

ItemKind = Literal[
    "grant",
    "expense",
    "social_fund_payout",
    "bank_deposit",
    "bank_withdrawal",
    "member_exit",
    "reversal",
]
ITEM_LABELS: dict[str, str] = {
    "grant": "Grant received",
    "expense": "Expense paid",
    "social_fund_payout": "Social fund payout",
    "bank_deposit": "Cash taken to the bank",
    "bank_withdrawal": "Cash brought from the bank",
    "member_exit": "Member leaves (paid out)",
    "reversal": "Correction (reversal)",
}
# What each kind of item is given: (the member it is for, an amount, a journal entry to
# correct). Screens ask for exactly these fields; add_item refuses anything else.
ITEM_TAKES: dict[str, tuple[bool, bool, bool]] = {
    "grant": (False, True, False),
    "expense": (False, True, False),
    "social_fund_payout": (True, True, False),
    "bank_deposit": (False, True, False),
    "bank_withdrawal": (False, True, False),
    "member_exit": (True, False, False),
    "reversal": (False, False, True),
}
# Which way each item moves the cash box.
_ITEM_CASH_SIGN = {
    "grant": 1,
    "bank_withdrawal": 1,
    "expense": -1,
    "social_fund_payout": -1,
    "bank_deposit": -1,
    "member_exit": -1,
    "reversal": 1,  # the amount is the reversal's signed effect on the cash box
}
AMOUNT_FIELDS = (
    "savings",
    "voluntary_savings",
    "withdrawal",
    "share_money",
    "social_fund",
    "fine_late",
    "fine_absent",
    "fine_other",
)
MAX_COMMENT = 500


@dataclass(frozen=True, slots=True)
class SheetLine:
    """One member's row, amounts in minor units of the group's currency."""

    member_id: int
    member_code: str
    member_name: str
    attended: bool
    savings: int = 0
    voluntary_savings: int = 0
    withdrawal: int = 0
    share_money: int = 0
    social_fund: int = 0
    fine_late: int = 0
    fine_absent: int = 0
    fine_other: int = 0

    @property
    def cash_in(self) -> int:
        return sum(getattr(self, f) for f in AMOUNT_FIELDS if f != "withdrawal")

    @property
    def cash_out(self) -> int:
        return self.withdrawal

    @property
    def fines(self) -> int:
        return self.fine_late + self.fine_absent + self.fine_other


@dataclass(frozen=True, slots=True)
class SheetItem:
    id: int
    kind: str
    amount: int
    member_id: int | None
    member_code: str | None
    memo: str
    reverses_seq: int | None = None

    @property
    def cash_delta(self) -> int:
        return _ITEM_CASH_SIGN[self.kind] * self.amount


@dataclass(frozen=True, slots=True)
class LoanMovement:
    """A loan lent, or a repayment, on a meeting's sheet."""

    loan_id: int
    loan_number: int
    member_code: str
    amount: int
    source: str = "cash_box"  # a loan lent from the bank does not touch the cash box


@dataclass(frozen=True, slots=True)
class MeetingRecord:
    id: int
    uuid: str
    group_id: int
    cycle_id: int
    number: int
    meeting_date: dt.date
    status: str
    opening_cash: int
    expected_cash: int | None
    counted_cash: int | None
    difference_comment: str | None


@dataclass(frozen=True, slots=True)
class MeetingSummary:
    """The sheet with its totals, as the treasurer sees it before and after closing."""

    meeting: MeetingRecord
    currency: str
    lines: tuple[SheetLine, ...]
    items: tuple[SheetItem, ...]
    totals: dict[str, int]
    cash_in: int
    cash_out: int
    expected_cash: int
    attended: int
    members: int
    loans_lent: tuple[LoanMovement, ...] = ()
    repayments: tuple[LoanMovement, ...] = ()

    @property
    def counted_cash(self) -> int | None:
        return self.meeting.counted_cash

    @property
    def difference(self) -> int | None:
        counted = self.meeting.counted_cash
        return None if counted is None else counted - self.expected_cash


def _meeting_record(m: Meeting) -> MeetingRecord:
    return MeetingRecord(
        m.id,
        m.uuid,
        m.group_id,
        m.cycle_id,
        m.number,
        m.meeting_date,
        m.status,
        m.opening_cash,
        m.expected_cash,
        m.counted_cash,
        m.difference_comment,
    )


# --- opening -------------------------------------------------------------------------------


def open_meeting(
    session: Session,
    group_id: int,
    meeting_date: dt.date,
    *,
    today: dt.date | None = None,
) -> MeetingRecord:
    """Open the group's next meeting, with the cash box as the last meeting left it."""
    actor = allow(session, "record", group_id, audit=f"opened the meeting of {meeting_date}")
    today = today or dt.date.today()
    cycle = current_cycle(session, group_id)
    assert cycle is not None
    still_open = open_meeting_of(session, group_id)
    if still_open is not None:
        number, day = still_open
        raise MeetingError(
            f"Meeting #{number} of {day.isoformat()} is still open; close it before opening "
            "another."
        )
    if meeting_date > today:
        raise MeetingError(f"A meeting cannot be dated in the future ({meeting_date.isoformat()}).")
    if meeting_date < cycle.starts_on:
        raise MeetingError(
            f"The cycle started on {cycle.starts_on.isoformat()}; a meeting of this cycle "
            f"cannot be dated {meeting_date.isoformat()}."
        )
    last = session.execute(
        select(Meeting.number, Meeting.meeting_date)
        .where(Meeting.group_id == group_id)
        .order_by(Meeting.number.desc())
        .limit(1)
    ).first()
    if last is not None and meeting_date <= last.meeting_date:
        raise MeetingError(
            f"The last meeting was on {last.meeting_date.isoformat()}; the next one must be "
            "dated after it."
        )
    closed = closed_through(session, group_id)
    if closed is not None and meeting_date <= closed:
        raise MeetingError(f"The books are closed up to {closed.isoformat()}.")
    accounts = GroupAccounts(session, group_id)
    meeting = Meeting(
        group_id=group_id,
        cycle_id=cycle.id,
        number=(last.number if last else 0) + 1,
        meeting_date=meeting_date,
        status="open",
        opening_cash=balance_of(session, accounts.get("cash_box").id),
        opened_by=actor.username,
    )
    session.add(meeting)
    session.flush()
    return _meeting_record(meeting)


def get_meeting(session: Session, meeting_id: int) -> MeetingRecord:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise MeetingError(f"There is no meeting #{meeting_id}.")
    allow(session, "read", meeting.group_id)
    return _meeting_record(meeting)


def find_meeting(session: Session, group_id: int, meeting_date: dt.date) -> MeetingRecord | None:
    allow(session, "read", group_id)
    meeting = session.execute(
        select(Meeting).where(Meeting.group_id == group_id, Meeting.meeting_date == meeting_date)
    ).scalar_one_or_none()
    return _meeting_record(meeting) if meeting else None


def _open_for_changes(session: Session, meeting_id: int) -> Meeting:
    meeting = session.execute(
        select(Meeting).where(Meeting.id == meeting_id).with_for_update()
    ).scalar_one_or_none()
    if meeting is None:
        raise MeetingError(f"There is no meeting #{meeting_id}.")
    allow(session, "record", meeting.group_id)
    if meeting.status != "open":
        raise MeetingError(
            f"Meeting #{meeting.number} of {meeting.meeting_date.isoformat()} is closed; "
            "correct it by a reversal at the next meeting."
        )
    return meeting


# --- the sheet -----------------------------------------------------------------------------


def set_line(
    session: Session,
    meeting_id: int,
    member_code: str,
    *,
    attended: bool = True,
    savings: Money | None = None,
    voluntary_savings: Money | None = None,
    withdrawal: Money | None = None,
    share_money: Money | None = None,
    social_fund: Money | None = None,
    fine_late: Money | None = None,
    fine_absent: Money | None = None,
    fine_other: Money | None = None,
) -> SheetLine:
    """Write (or rewrite) one member's row of the open meeting's sheet.

    Each amount is checked as it is entered, so a mistake is shown on its row at once:
    negative amounts, a withdrawal beyond the member's voluntary savings, more shares
    than a meeting allows, shares in a group without a share price.
    """
    meeting = _open_for_changes(session, meeting_id)
    member = find_member(session, meeting.group_id, member_code)
    if not member.active_on(meeting.meeting_date):
        raise SheetError(
            f"{member.code} {member.name_latin} is not a member on "
            f"{meeting.meeting_date.isoformat()} (joined {_date(member.joined_on)}, "
            f"left {_date(member.exited_on)})."
        )
    cycle, currency = session.execute(
        select(Cycle, Group.currency)
        .join(Group, Group.id == Cycle.group_id)
        .where(Cycle.id == meeting.cycle_id)
    ).one()
    given = {
        "savings": savings,
        "voluntary_savings": voluntary_savings,
        "withdrawal": withdrawal,
        "share_money": share_money,
        "social_fund": social_fund,
        "fine_late": fine_late,
        "fine_absent": fine_absent,
        "fine_other": fine_other,
    }
    amounts: dict[str, int] = {}
    for name, value in given.items():
        amount = 0 if value is None else to_minor(value, expected=currency)
        if amount < 0:
            raise SheetError(f"{_label(name)} cannot be negative.")
        amounts[name] = amount
    line = SheetLine(member.id, member.code, member.name_latin, attended, **amounts)
    _check_line(session, line, member, cycle, currency)

    row = session.get(MeetingLine, (meeting_id, member.id))
    if row is None:
        row = MeetingLine(meeting_id=meeting_id, member_id=member.id, group_id=meeting.group_id)
        session.add(row)
    row.attended = attended
    for name, amount in amounts.items():
        setattr(row, name, amount)
    session.flush()
    return line


def clear_line(session: Session, meeting_id: int, member_code: str) -> None:
    meeting = _open_for_changes(session, meeting_id)
    member = find_member(session, meeting.group_id, member_code)
    row = session.get(MeetingLine, (meeting_id, member.id))
    if row is not None:
        session.delete(row)
        session.flush()


def add_item(
    session: Session,
    meeting_id: int,
    kind: ItemKind,
    amount: Money | None = None,
    *,
    member_code: str | None = None,
    memo: str = "",
    entry_seq: int | None = None,
) -> SheetItem:
    """Record a group-level movement at the open meeting.

    ``member_exit`` takes no amount: the member is paid out everything they hold (both
    savings, shares at the price paid, share money held), worked out when the meeting
    closes so it includes what they paid in at this very meeting.

    ``reversal`` takes ``entry_seq``, the journal entry to correct: it is reversed when
    the meeting closes, and its effect on the cash box counts in the expected cash.
    """
    meeting = _open_for_changes(session, meeting_id)
    if kind not in ITEM_LABELS:
        raise MeetingError(f"Unknown kind of item {kind!r}; use one of {', '.join(ITEM_LABELS)}.")
    memo = (memo or "").strip()
    if len(memo) > 500:
        raise MeetingError("The note is longer than 500 characters.")
    member: MemberRecord | None = None
    needs_member = ITEM_TAKES[kind][0]
    if needs_member:
        if not member_code:
            raise MeetingError(f"{ITEM_LABELS[kind]} needs the member it is for.")
        member = find_member(session, meeting.group_id, member_code)
        if not member.active_on(meeting.meeting_date):
            raise MeetingError(f"{member.code} is not a member on this meeting's date.")
    elif member_code:
        raise MeetingError(f"{ITEM_LABELS[kind]} is for the group, not for one member.")
    if kind == "reversal":
        if amount is not None or member_code:
            raise MeetingError("A reversal takes the entry number only.")
        minor, memo = _reversal_effect(session, meeting, entry_seq, memo)
    elif entry_seq is not None:
        raise MeetingError(f"{ITEM_LABELS[kind]} does not name an entry.")
    elif kind == "member_exit":
        if amount is not None:
            raise MeetingError("A member leaving is paid out what they hold; give no amount.")
        assert member is not None
        already = session.execute(
            select(MeetingItem.id).where(
                MeetingItem.meeting_id == meeting_id,
                MeetingItem.kind == "member_exit",
                MeetingItem.member_id == member.id,
            )
        ).first()
        if already:
            raise MeetingError(f"{member.code} is already leaving at this meeting.")
        minor = 0  # worked out when the meeting closes (see meeting_summary)
    else:
        if amount is None:
            raise MeetingError(f"{ITEM_LABELS[kind]} needs an amount.")
        currency = get_group(session, meeting.group_id).currency
        minor = to_minor(amount, expected=currency)
        if minor <= 0:
            raise MeetingError(f"{ITEM_LABELS[kind]} must be more than zero.")
        if kind == "social_fund_payout":
            available = _social_fund_available(session, meeting)
            if minor > available:
                raise MeetingError(
                    f"The social fund has {format_minor(available, currency)} (with this "
                    f"meeting's contributions and payouts); {format_minor(minor, currency)} "
                    "cannot be paid out."
                )
    item = MeetingItem(
        meeting_id=meeting_id,
        group_id=meeting.group_id,
        kind=kind,
        member_id=member.id if member else None,
        amount=minor,
        memo=memo,
        reverses_seq=entry_seq if kind == "reversal" else None,
    )
    session.add(item)
    session.flush()
    return SheetItem(
        item.id,
        kind,
        minor,
        item.member_id,
        member.code if member else None,
        memo,
        item.reverses_seq,
    )


def _social_fund_available(session: Session, meeting: Meeting) -> int:
    """The fund as it would stand after this sheet's contributions and payouts so far."""
    fund = -balance_of(session, GroupAccounts(session, meeting.group_id).get("social_fund").id)
    paid_in = session.execute(
        select(func.coalesce(func.sum(MeetingLine.social_fund), 0)).where(
            MeetingLine.meeting_id == meeting.id
        )
    ).scalar_one()
    paid_out = session.execute(
        select(func.coalesce(func.sum(MeetingItem.amount), 0)).where(
            MeetingItem.meeting_id == meeting.id, MeetingItem.kind == "social_fund_payout"
        )
    ).scalar_one()
    return fund + int(paid_in) - int(paid_out)


def _reversal_effect(
    session: Session, meeting: Meeting, entry_seq: int | None, memo: str
) -> tuple[int, str]:
    """The cash-box effect of reversing entry ``entry_seq``, and a memo naming it."""
    if entry_seq is None:
        raise MeetingError("Say which entry (its number) the correction reverses.")
    original = session.execute(
        select(JournalEntry.memo).where(
            JournalEntry.group_id == meeting.group_id, JournalEntry.seq == entry_seq
        )
    ).scalar_one_or_none()
    if original is None:
        raise MeetingError(f"There is no entry #{entry_seq} in this group to reverse.")
    reversed_by = session.execute(
        select(JournalEntry.seq).where(
            JournalEntry.group_id == meeting.group_id, JournalEntry.reverses_seq == entry_seq
        )
    ).scalar_one_or_none()
    pending = session.execute(
        select(MeetingItem.id).where(
            MeetingItem.group_id == meeting.group_id,
            MeetingItem.reverses_seq == entry_seq,
            MeetingItem.meeting_id == meeting.id,
        )
    ).first()
    if reversed_by is not None or pending is not None:
        where = f" by entry #{reversed_by}" if reversed_by else " on this sheet"
        raise MeetingError(f"Entry #{entry_seq} has already been reversed{where}.")
    cash = GroupAccounts(session, meeting.group_id).get("cash_box").id
    effect = session.execute(
        select(func.coalesce(func.sum(Posting.amount), 0)).where(
            Posting.group_id == meeting.group_id,
            Posting.entry_seq == entry_seq,
            Posting.account_id == cash,
        )
    ).scalar_one()
    return -int(effect), memo or f"Reverses #{entry_seq}: {original}"


def remove_item(session: Session, meeting_id: int, item_id: int) -> None:
    _open_for_changes(session, meeting_id)
    item = session.get(MeetingItem, item_id)
    if item is None or item.meeting_id != meeting_id:
        raise MeetingError(f"Meeting #{meeting_id} has no item #{item_id}.")
    session.delete(item)
    session.flush()


# --- summary -------------------------------------------------------------------------------


def meeting_summary(session: Session, meeting_id: int) -> MeetingSummary:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise MeetingError(f"There is no meeting #{meeting_id}.")
    record = _meeting_record(meeting)
    group = get_group(session, meeting.group_id)
    lines = _lines(session, meeting_id)
    items = _items(session, meeting_id)
    if record.status == "open":
        items = _with_exit_payouts(session, meeting, lines, items)
    totals = {name: sum(getattr(line, name) for line in lines) for name in AMOUNT_FIELDS}
    lent, repaid = _loan_movements(session, meeting)
    cash_in = (
        sum(line.cash_in for line in lines)
        + sum(i.cash_delta for i in items if i.cash_delta > 0)
        + sum(r.amount for r in repaid)
    )
    cash_out = (
        sum(line.cash_out for line in lines)
        - sum(i.cash_delta for i in items if i.cash_delta < 0)
        + sum(x.amount for x in lent if x.source == "cash_box")
    )
    return MeetingSummary(
        meeting=record,
        currency=group.currency,
        lines=lines,
        items=items,
        totals=totals,
        cash_in=cash_in,
        cash_out=cash_out,
        expected_cash=record.opening_cash + cash_in - cash_out,
        attended=sum(1 for line in lines if line.attended),
        members=len(list_members(session, meeting.group_id, on=meeting.meeting_date)),
        loans_lent=lent,
        repayments=repaid,
    )


def _loan_movements(
    session: Session, meeting: Meeting
) -> tuple[tuple[LoanMovement, ...], tuple[LoanMovement, ...]]:
    lent = session.execute(
        select(Loan.id, Loan.number, Member.code, Loan.amount, Loan.disburse_from)
        .join(Member, Member.id == Loan.member_id)
        .where(Loan.disburse_meeting_id == meeting.id)
        .order_by(Loan.number)
    ).all()
    repaid = session.execute(
        select(Loan.id, Loan.number, Member.code, MeetingRepayment.amount)
        .join(Loan, Loan.id == MeetingRepayment.loan_id)
        .join(Member, Member.id == Loan.member_id)
        .where(MeetingRepayment.meeting_id == meeting.id)
        .order_by(Loan.number)
    ).all()
    return tuple(LoanMovement(*row) for row in lent), tuple(LoanMovement(*row) for row in repaid)


def _lines(session: Session, meeting_id: int) -> tuple[SheetLine, ...]:
    rows = session.execute(
        select(MeetingLine, Member.code, Member.name_latin)
        .join(Member, Member.id == MeetingLine.member_id)
        .where(MeetingLine.meeting_id == meeting_id)
        .order_by(Member.code)
    ).all()
    return tuple(
        SheetLine(
            line.member_id,
            code,
            name,
            line.attended,
            **{f: getattr(line, f) for f in AMOUNT_FIELDS},
        )
        for line, code, name in rows
    )


def _items(session: Session, meeting_id: int) -> tuple[SheetItem, ...]:
    rows = session.execute(
        select(MeetingItem, Member.code)
        .outerjoin(Member, Member.id == MeetingItem.member_id)
        .where(MeetingItem.meeting_id == meeting_id)
        .order_by(MeetingItem.id)
    ).all()
    return tuple(
        SheetItem(
            item.id, item.kind, item.amount, item.member_id, code, item.memo, item.reverses_seq
        )
        for item, code in rows
    )


# --- closing -------------------------------------------------------------------------------


def close_meeting(
    session: Session,
    meeting_id: int,
    counted_cash: Money,
    *,
    comment: str | None = None,
) -> MeetingSummary:
    """Post the whole sheet and freeze the meeting. Idempotent for the same count."""
    meeting = session.execute(
        select(Meeting).where(Meeting.id == meeting_id).with_for_update()
    ).scalar_one_or_none()
    if meeting is None:
        raise MeetingError(f"There is no meeting #{meeting_id}.")
    actor = allow(session, "record", meeting.group_id)
    group = get_group(session, meeting.group_id)
    counted = to_minor(counted_cash, expected=group.currency)
    if meeting.status == "closed":
        if meeting.counted_cash == counted:
            return meeting_summary(session, meeting_id)
        raise MeetingError(
            f"Meeting #{meeting.number} was already closed with "
            f"{format_minor(meeting.counted_cash or 0, group.currency)} counted."
        )
    if counted < 0:
        raise MeetingError("The counted cash cannot be negative.")
    summary = meeting_summary(session, meeting_id)
    if summary.expected_cash < 0:
        raise MeetingError(
            "The sheet pays out more than the cash box holds: expected closing cash would be "
            f"{format_minor(summary.expected_cash, group.currency)}. Check withdrawals and "
            "payouts."
        )
    difference = counted - summary.expected_cash
    note = (comment or "").strip()
    if has_control(note):
        raise MeetingError("The comment contains control characters (such as tabs); type it again.")
    if difference and not note:
        raise MeetingError(
            f"The counted cash is {format_minor(abs(difference), group.currency)} "
            f"{'more' if difference > 0 else 'less'} than expected "
            f"({format_minor(summary.expected_cash, group.currency)}); write a comment saying "
            "why before closing."
        )
    if len(note) > MAX_COMMENT:
        raise MeetingError(f"The comment is longer than {MAX_COMMENT} characters.")

    _check_leavers_owe_nothing(session, meeting, summary)
    # Exit payouts as worked out now, stored on their items so the frozen sheet shows them.
    for item in summary.items:
        if item.kind == "member_exit":
            row = session.get(MeetingItem, item.id)
            assert row is not None
            row.amount = item.amount
    check_bank_covers_loans(session, meeting)
    _allocate_repayments(session, meeting)
    allow(
        session,
        "record",
        meeting.group_id,
        audit=f"closed the meeting of {meeting.meeting_date} with "
        f"{format_minor(counted, group.currency)} counted",
    )
    requests = _entries(session, meeting, group.currency, summary, counted, note, actor.username)
    post_entries(session, requests)
    _settle_loans(session, meeting, summary)
    for item in summary.items:
        if item.kind == "member_exit" and item.member_id is not None:
            mark_exited(session, item.member_id, meeting.meeting_date)
    meeting.status = "closed"
    meeting.expected_cash = summary.expected_cash
    meeting.counted_cash = counted
    meeting.difference_comment = note or None
    meeting.closed_by = actor.username
    meeting.closed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    session.flush()
    return meeting_summary(session, meeting_id)


def _entries(
    session: Session,
    meeting: Meeting,
    currency: str,
    summary: MeetingSummary,
    counted: int,
    note: str,
    author: str,
) -> list[EntryRequest]:
    accounts = GroupAccounts(session, meeting.group_id)
    cycle = session.get(Cycle, meeting.cycle_id)
    assert cycle is not None
    cash = accounts.get("cash_box").id
    title = f"Meeting #{meeting.number} {meeting.meeting_date.isoformat()}"
    # (phase, request), posted in phase order: 0 everything that pays in (contributions,
    # grants, reversals that bring cash back), 1 cash taken to and brought from the bank,
    # in an order where each fits (``_fitting_bank_order``), 2 loans lent from the bank,
    # 3 everything else that pays out (withdrawals, expenses, payouts), 4 members leaving,
    # 5 the cash count. The social fund and members' savings only rise before phase 3 and
    # only fall in it, towards a final state that is valid, so no entry in between takes
    # one below zero. That is why a member's withdrawal is its own entry, apart from what
    # the member paid in at the same meeting.
    planned: list[tuple[int, EntryRequest]] = []

    def request(key: str, memo: str, lines: list[tuple[int, int]]) -> EntryRequest:
        merged: dict[int, int] = {}
        for account_id, minor in lines:
            merged[account_id] = merged.get(account_id, 0) + minor
        return EntryRequest(
            group_id=meeting.group_id,
            entry_date=meeting.meeting_date,
            memo=memo[:500],
            lines=tuple(Line(a, currency, m) for a, m in merged.items() if m),
            idempotency_key=f"meeting:{meeting.uuid}:{key}",
            author=author,
        )

    # The lines' members and their share money held, in two queries for the whole sheet.
    line_members = [line.member_id for line in summary.lines]
    uuids = dict(
        session.execute(select(Member.id, Member.uuid).where(Member.id.in_(line_members))).all()
    )
    held_by_account = dict(
        session.execute(
            select(Account.id, Account.balance).where(
                Account.member_id.in_(line_members), Account.role == "share_money_held"
            )
        ).all()
    )
    for line in summary.lines:
        ids = accounts.ids(line.member_id)
        held_before = -held_by_account[ids["share_money_held"]]  # credit-normal
        bought, held_after = _shares_bought(line.share_money, held_before, cycle)
        who = f"{title}: {line.member_code} {line.member_name}"
        member_uuid = uuids[line.member_id]
        paid_in = request(
            f"line:{member_uuid}",
            who,
            [
                (cash, line.cash_in),
                (ids["compulsory_savings"], -line.savings),
                (ids["voluntary_savings"], -line.voluntary_savings),
                (ids["shares"], -bought * (cycle.share_price or 0)),
                (ids["share_money_held"], held_before - held_after),
                (accounts.get("social_fund").id, -line.social_fund),
                (accounts.get("fines_late").id, -line.fine_late),
                (accounts.get("fines_absent").id, -line.fine_absent),
                (accounts.get("fines_other").id, -line.fine_other),
            ],
        )
        if len(paid_in.lines) >= 2:
            planned.append((0, paid_in))
        if line.withdrawal:
            withdrawal = request(
                f"withdrawal:{member_uuid}",
                f"{who}: withdrawal",
                [(ids["voluntary_savings"], line.withdrawal), (cash, -line.withdrawal)],
            )
            planned.append((3, withdrawal))

    for item in summary.items:
        label = ITEM_LABELS[item.kind]
        memo = f"{title}: {label}" + (f" {item.member_code}" if item.member_code else "")
        memo += f" — {item.memo}" if item.memo else ""
        key = f"item:{item.id}"
        if item.kind == "member_exit":
            assert item.member_id is not None
            ids = accounts.ids(item.member_id)
            holdings = _holdings_after_line(session, summary.lines, item.member_id, ids, cycle)
            # Member accounts are credit-normal: paying a holding out is a debit.
            lines = [(ids[role], amount) for role, amount in holdings.items()]
            lines.append((cash, -item.amount))
            if item.amount:
                planned.append((4, request(key, memo, lines)))
            continue
        if item.kind == "reversal":
            assert item.reverses_seq is not None
            original = session.execute(
                select(Posting.account_id, Posting.commodity, Posting.amount)
                .where(Posting.group_id == meeting.group_id, Posting.entry_seq == item.reverses_seq)
                .order_by(Posting.line_no)
            ).all()
            # Line for line, in each line's own commodity (an entry may move rice too).
            reversal = replace(
                request(key, memo, []),
                lines=tuple(Line(a, commodity, -amount) for a, commodity, amount in original),
                reverses_seq=item.reverses_seq,
            )
            planned.append((0 if item.cash_delta >= 0 else 3, reversal))
            continue
        counter = {
            "grant": accounts.get("grants").id,
            "expense": accounts.get("expenses").id,
            "social_fund_payout": accounts.get("social_fund").id,
            "bank_deposit": accounts.get("bank").id,
            "bank_withdrawal": accounts.get("bank").id,
        }[item.kind]
        delta = item.cash_delta
        moved = request(key, memo, [(cash, delta), (counter, -delta)])
        phase = {"bank_deposit": 1, "bank_withdrawal": 1}.get(item.kind, 0 if delta >= 0 else 3)
        planned.append((phase, moved))

    for moved in summary.repayments:
        loan = session.get(Loan, moved.loan_id)
        repayment = session.get(MeetingRepayment, (meeting.id, moved.loan_id))
        assert loan is not None and repayment is not None and loan.account_id is not None
        if loan.written_off_on is not None:
            memo = f"{title}: {moved.member_code} pays back written-off loan #{moved.loan_number}"
            split = [(cash, moved.amount), (accounts.get("recoveries").id, -moved.amount)]
        else:
            memo = f"{title}: {moved.member_code} repays loan #{moved.loan_number}"
            split = [
                (cash, moved.amount),
                (accounts.get("penalty_income").id, -(repayment.penalty_paid or 0)),
                (accounts.get("interest_income").id, -(repayment.interest_paid or 0)),
                (loan.account_id, -(repayment.principal_paid or 0)),
            ]
        planned.append((0, request(f"repayment:{loan.uuid}", memo, split)))
    for moved in summary.loans_lent:
        loan = session.get(Loan, moved.loan_id)
        assert loan is not None and loan.account_id is not None
        memo = f"{title}: loan #{moved.loan_number} lent to {moved.member_code} — {loan.purpose}"
        source = accounts.get(moved.source).id
        lend = request(
            f"loan:{loan.uuid}", memo, [(loan.account_id, moved.amount), (source, -moved.amount)]
        )
        # From the bank: once the bank moves of phase 1 are in (``check_bank_covers_loans``
        # has made sure the bank holds them then).
        planned.append((3 if moved.source == "cash_box" else 2, lend))

    difference = counted - summary.expected_cash
    if difference:
        over_short = accounts.get("cash_over_short").id
        memo = f"{title}: cash count {'over' if difference > 0 else 'short'} — {note}"
        counted_entry = request("count", memo, [(cash, difference), (over_short, -difference)])
        planned.append((5, counted_entry))
    planned.sort(key=lambda p: p[0])  # stable: sheet order within a phase
    paid_in = [entry for phase, entry in planned if phase == 0]
    bank_moves = [entry for phase, entry in planned if phase == 1]
    if bank_moves:
        bank = accounts.get("bank").id
        held = {cash: meeting.opening_cash, bank: balance_of(session, bank)}
        for entry in paid_in:
            for line in entry.lines:
                if line.account_id in held:
                    held[line.account_id] += line.minor
        bank_moves = _fitting_bank_order(bank_moves, cash, held)
    return [
        *paid_in,
        *bank_moves,
        *(entry for phase, entry in planned if phase > 1),
    ]


def _fitting_bank_order(
    moves: list[EntryRequest], cash: int, held: dict[int, int]
) -> list[EntryRequest]:
    """Deposits and bank withdrawals in an order where each fits in what the cash box and
    the bank hold at that moment (``held``: both accounts' balances after the pay-ins,
    debit-normal; ``cash`` is the cash box's id).

    A treasurer who brings 50,000 riel from the bank and takes 80,000 to it at the same
    meeting may have less than 80,000 in the box before the withdrawal is counted; any
    fixed order (all deposits first, say) refuses a sheet like that, though it ends well.
    Deposits go first where they fit, then a withdrawal that fits; when nothing fits, the
    next in the sheet's order goes and the posting refuses it, naming the account.
    """

    def moved(entry: EntryRequest) -> dict[int, int]:
        delta = dict.fromkeys(held, 0)
        for line in entry.lines:
            if line.account_id in delta:
                delta[line.account_id] += line.minor
        return delta

    deposits_first = sorted(moves, key=lambda entry: moved(entry)[cash] > 0)  # stable
    ordered: list[EntryRequest] = []
    while deposits_first:
        fits = (
            entry
            for entry in deposits_first
            if all(held[a] + d >= 0 for a, d in moved(entry).items())
        )
        pick = next(fits, deposits_first[0])
        for account_id, delta in moved(pick).items():
            held[account_id] += delta
        ordered.append(pick)
        deposits_first.remove(pick)
    return ordered


def _shares_bought(
    share_money: int, held_before: int, cycle: Cycle | CycleRecord
) -> tuple[int, int]:
    """Whole shares bought with this meeting's share money plus what was held; the rest
    stays held for the member (never rounded away)."""
    if not share_money:
        return 0, held_before
    price = cycle.share_price
    if not price:
        raise SheetError("This group's cycle has no share price, so it does not sell shares.")
    pool = held_before + share_money
    return pool // price, pool % price


def _check_leavers_owe_nothing(session: Session, meeting: Meeting, summary: MeetingSummary) -> None:
    """A member leaves only once her loans are settled (on this sheet, or written off):
    otherwise the group would pay out savings to someone who still owes it money."""
    paying = {r.loan_id: r.amount for r in summary.repayments}
    for item in summary.items:
        if item.kind != "member_exit" or item.member_id is None:
            continue
        open_loans = session.execute(
            select(Loan.id).where(Loan.member_id == item.member_id, Loan.status == "disbursed")
        ).scalars()
        for loan_id in open_loans:
            st = loan_statement(session, loan_id, on=meeting.meeting_date)
            left = st.owed_now - paying.get(loan_id, 0)
            if left > 0:
                raise MeetingError(
                    f"{item.member_code} still owes {format_minor(left, st.currency)} on loan "
                    f"#{st.loan.number}. Put its repayment on this sheet (she can pay it from "
                    "what she is paid out), or the group writes it off, before she leaves."
                )
        for rice in rice_loans(session, meeting.group_id, on=meeting.meeting_date):
            if rice.member_id == item.member_id and rice.standing.owed:
                raise MeetingError(
                    f"{item.member_code} still owes {kg(rice.standing.owed)} on rice loan "
                    f"#{rice.number}; it is repaid (in rice, or in cash where the group allows "
                    "it) before she leaves."
                )


def _allocate_repayments(session: Session, meeting: Meeting) -> None:
    """Split each repayment on the sheet in its product's order (penalty, interest,
    principal by default), as the loan stands on the meeting's date."""
    pairs = session.execute(
        select(MeetingRepayment, Loan)
        .join(Loan, Loan.id == MeetingRepayment.loan_id)
        .where(MeetingRepayment.meeting_id == meeting.id)
        .order_by(Loan.number)
    ).all()
    statements = loan_statements(session, [loan for _row, loan in pairs], on=meeting.meeting_date)
    for (row, _loan), statement in zip(pairs, statements, strict=True):
        if row.amount > statement.owed_now:
            raise MeetingError(
                f"Loan #{statement.loan.number} is settled by "
                f"{format_minor(statement.owed_now, statement.currency)}; the sheet has "
                f"{format_minor(row.amount, statement.currency)}."
            )
        split = split_repayment(statement, row.amount)
        row.penalty_paid = split["penalty"]
        row.interest_paid = split["interest"]
        row.principal_paid = split["principal"]
    session.flush()


def _settle_loans(session: Session, meeting: Meeting, summary: MeetingSummary) -> None:
    """After posting: schedules for loans lent, and loans repaid in full are closed."""
    for moved in summary.loans_lent:
        loan = session.get(Loan, moved.loan_id)
        assert loan is not None
        schedule_at_disbursement(session, loan, meeting)
    for moved in summary.repayments:
        loan = session.get(Loan, moved.loan_id)
        assert loan is not None and loan.account_id is not None
        if loan.status == "disbursed" and balance_of(session, loan.account_id) == 0:
            loan.status = "closed"
    session.flush()


def _holdings_after_line(
    session: Session,
    lines: tuple[SheetLine, ...],
    member_id: int,
    ids: dict[str, int],
    cycle: Cycle,
) -> dict[str, int]:
    """What each of a member's accounts will hold (positive) once their line is posted."""
    held = {role: -balance_of(session, account_id) for role, account_id in ids.items()}
    line = next((ln for ln in lines if ln.member_id == member_id), None)
    if line is not None:
        bought, held_after = _shares_bought(line.share_money, held["share_money_held"], cycle)
        held["compulsory_savings"] += line.savings
        held["voluntary_savings"] += line.voluntary_savings - line.withdrawal
        held["shares"] += bought * (cycle.share_price or 0)
        held["share_money_held"] = held_after
    return held


def _with_exit_payouts(
    session: Session, meeting: Meeting, lines: tuple[SheetLine, ...], items: tuple[SheetItem, ...]
) -> tuple[SheetItem, ...]:
    """Exit items carry a placeholder until close: show what the member would be paid."""
    if not any(i.kind == "member_exit" for i in items):
        return items
    cycle = session.get(Cycle, meeting.cycle_id)
    assert cycle is not None
    accounts = GroupAccounts(session, meeting.group_id)
    result = []
    for item in items:
        if item.kind == "member_exit" and item.member_id is not None:
            ids = accounts.ids(item.member_id)
            payout = sum(_holdings_after_line(session, lines, item.member_id, ids, cycle).values())
            item = SheetItem(
                item.id, item.kind, payout, item.member_id, item.member_code, item.memo
            )
        result.append(item)
    return tuple(result)


def _check_line(
    session: Session,
    line: SheetLine,
    member: MemberRecord,
    cycle: Cycle,
    currency: str,
) -> None:
    """Refuse a row that buys more shares than a meeting allows, or withdraws more than
    the member's voluntary savings (her balances read once, only when they matter)."""
    needed = [
        role
        for role, amount in (
            ("share_money_held", line.share_money),
            ("voluntary_savings", line.withdrawal),
        )
        if amount
    ]
    if not needed:
        return
    balances = member_balances(session, member.id, needed)
    if line.share_money:
        held = -balances["share_money_held"]  # credit-normal
        bought, _rest = _shares_bought(line.share_money, held, cycle)
        if bought > cycle.max_shares_per_meeting:
            price = cycle.share_price or 0
            raise SheetError(
                f"{member.code} would buy {bought} shares; at most "
                f"{cycle.max_shares_per_meeting} a meeting "
                f"({format_minor(cycle.max_shares_per_meeting * price, currency)} at "
                f"{format_minor(price, currency)} a share)."
            )
    if line.withdrawal:
        available = -balances["voluntary_savings"] + line.voluntary_savings
        if line.withdrawal > available:
            raise SheetError(
                f"{member.code} has {format_minor(available, currency)} of voluntary savings; "
                f"{format_minor(line.withdrawal, currency)} cannot be withdrawn."
            )


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else "-"
