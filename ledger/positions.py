"""Where a member and a group stand: plain records for screens, statements and exports.

Balances come from the accounts' cached balances, found by role, so a position costs a
handful of indexed reads however long the group's history is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from ledger.cycles import current_cycle
from ledger.groups import GroupRecord, get_group
from ledger.members import MemberRecord, get_member, list_members
from ledger.models import Account, Meeting, MeetingLine
from ledger.permissions import allow

_FREQUENCY_DAYS = {"weekly": 7, "fortnightly": 14, "monthly": 30}


@dataclass(frozen=True, slots=True)
class MemberPosition:
    member: MemberRecord
    currency: str
    compulsory_savings: int
    voluntary_savings: int
    shares: int  # whole shares held in the current cycle
    shares_value: int
    share_money_held: int
    social_fund_paid: int
    fines_paid: int
    loans_outstanding: int
    meetings_attended: int
    meetings_held: int  # since the member joined

    @property
    def total_savings(self) -> int:
        return self.compulsory_savings + self.voluntary_savings


@dataclass(frozen=True, slots=True)
class GroupPosition:
    group: GroupRecord
    cash_box: int
    bank: int
    compulsory_savings: int
    voluntary_savings: int
    shares_value: int
    share_money_held: int
    social_fund: int
    loans_outstanding: int
    rice_stock_grams: int
    members: int
    women: int
    id_poor_households: int
    meetings_held: int
    last_meeting: dt.date | None
    next_meeting: dt.date | None
    borrowings_outstanding: int = 0  # what the group owes banks, MFIs and projects

    @property
    def total_savings(self) -> int:
        return self.compulsory_savings + self.voluntary_savings


def _natural_by_role(
    session: Session, group_id: int, member_id: int | None = None
) -> dict[str, int]:
    """Sum of balances per role, on each account's natural side (what is held/owed)."""
    query = (
        select(Account.role, Account.type, func.sum(Account.balance))
        .where(Account.group_id == group_id, Account.role.is_not(None))
        .group_by(Account.role, Account.type)
    )
    if member_id is not None:
        query = query.where(Account.member_id == member_id)
    totals: dict[str, int] = {}
    for role, kind, total in session.execute(query):
        natural = int(total or 0) * (1 if kind in ("asset", "expense") else -1)
        totals[role] = totals.get(role, 0) + natural
    return totals


@dataclass(frozen=True, slots=True)
class MeetingPayments:
    """What a member paid at closed meetings, and her attendance, over some time."""

    social_fund: int
    fines: int
    attended: int
    held: int  # meetings the group held while she was a member


def meeting_payments(
    session: Session,
    member: MemberRecord,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> MeetingPayments:
    """Social fund and fines paid and meetings attended at closed meetings, from
    ``start`` to ``end`` (both included; None: without that bound)."""
    return members_meeting_payments(session, [member], start, end)[member.id]


def members_meeting_payments(
    session: Session,
    members: Sequence[MemberRecord],
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> dict[int, MeetingPayments]:
    """``meeting_payments`` of many members at once (a batch of statements): the sums
    grouped by member, and the days their groups met, in two queries per 500 members."""
    held_when = Meeting.status == "closed"
    if start is not None:
        held_when &= Meeting.meeting_date >= start
    if end is not None:
        held_when &= Meeting.meeting_date <= end
    paid: dict[int, tuple[int, int, int]] = {}
    ids = sorted({member.id for member in members})
    for k in range(0, len(ids), 500):
        rows = session.execute(
            select(
                MeetingLine.member_id,
                func.coalesce(func.sum(MeetingLine.social_fund), 0),
                func.coalesce(
                    func.sum(
                        MeetingLine.fine_late + MeetingLine.fine_absent + MeetingLine.fine_other
                    ),
                    0,
                ),
                func.coalesce(func.sum(func.cast(MeetingLine.attended, Integer)), 0),
            )
            .join(Meeting, Meeting.id == MeetingLine.meeting_id)
            .where(MeetingLine.member_id.in_(ids[k : k + 500]), held_when)
            .group_by(MeetingLine.member_id)
        )
        for member_id, fund, fines, attended in rows:
            paid[member_id] = (int(fund), int(fines), int(attended))
    met: dict[int, list[dt.date]] = {}
    for group_id in sorted({member.group_id for member in members}):
        met[group_id] = list(
            session.execute(
                select(Meeting.meeting_date).where(Meeting.group_id == group_id, held_when)
            ).scalars()
        )
    result = {}
    for member in members:
        held = sum(
            1
            for day in met[member.group_id]
            if (member.joined_on is None or day >= member.joined_on)
            and (member.exited_on is None or day <= member.exited_on)
        )
        result[member.id] = MeetingPayments(*paid.get(member.id, (0, 0, 0)), held)
    return result


def member_position(session: Session, member_id: int) -> MemberPosition:
    member = get_member(session, member_id)
    group = get_group(session, member.group_id)
    held = _natural_by_role(session, member.group_id, member.id)
    cycle = current_cycle(session, member.group_id, required=False)
    price = cycle.share_price if cycle else None
    paid = meeting_payments(session, member)
    shares_value = held.get("shares", 0)
    return MemberPosition(
        member=member,
        currency=group.currency,
        compulsory_savings=held.get("compulsory_savings", 0),
        voluntary_savings=held.get("voluntary_savings", 0),
        shares=shares_value // price if price else 0,
        shares_value=shares_value,
        share_money_held=held.get("share_money_held", 0),
        social_fund_paid=paid.social_fund,
        fines_paid=paid.fines,
        loans_outstanding=held.get("loans_receivable", 0) + held.get("loan_principal", 0),
        meetings_attended=paid.attended,
        meetings_held=paid.held,
    )


def group_position(session: Session, group_id: int, *, on: dt.date | None = None) -> GroupPosition:
    allow(session, "read", group_id)
    group = get_group(session, group_id)
    held = _natural_by_role(session, group_id)
    members = list_members(session, group_id, on=on or dt.date.today())
    meetings = session.execute(
        select(func.count(), func.max(Meeting.meeting_date)).where(
            Meeting.group_id == group_id, Meeting.status == "closed"
        )
    ).one()
    last = meetings[1]
    step = _FREQUENCY_DAYS[group.meeting_frequency]
    return GroupPosition(
        group=group,
        cash_box=held.get("cash_box", 0),
        bank=held.get("bank", 0),
        compulsory_savings=held.get("compulsory_savings", 0),
        voluntary_savings=held.get("voluntary_savings", 0),
        shares_value=held.get("shares", 0),
        share_money_held=held.get("share_money_held", 0),
        social_fund=held.get("social_fund", 0),
        loans_outstanding=held.get("loans_receivable", 0) + held.get("loan_principal", 0),
        rice_stock_grams=held.get("rice_stock", 0),
        members=len(members),
        women=sum(1 for m in members if m.sex == "F"),
        id_poor_households=len({m.household or m.code for m in members if m.id_poor}),
        meetings_held=meetings[0],
        last_meeting=last,
        next_meeting=last + dt.timedelta(days=step) if last else None,
        borrowings_outstanding=held.get("borrowing", 0),
    )
