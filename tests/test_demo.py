"""The demo federation, checked the way a trainer showing it would look at it.

A full year on SQLite; fewer weeks on PostgreSQL, where every statement is a round trip
(the story is told at fractions of the cycle, so the short demo has all its events).
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger.chart import GroupAccounts, balance_of
from ledger.db import Book
from ledger.demo import DemoSummary, load_demo, meeting_days
from ledger.errors import InvalidEntry
from ledger.groups import list_groups
from ledger.members import list_members
from ledger.models import Loan, Meeting, MeetingItem, MeetingLine
from ledger.portfolio import portfolio
from ledger.queries import trial_balance
from ledger.rice_position import rice_position
from ledger.verify import verify_book
from tests.helpers import TESTER

TODAY = dt.date(2026, 11, 22)  # a Sunday
WEEKS = {"sqlite": 52, "postgresql": 20}
MEMBERS = {"SR-PUOK-01": 15, "SR-ACHM-01": 13, "SR-BKNG-01": 18}  # AC13 joins mid-cycle


def test_the_demo_federation(book: Book, engine_name: str):
    """One load (it takes seconds), then what a trainer would show, then its story."""
    weeks = WEEKS[engine_name]
    started = time.perf_counter()
    summary = book.write(lambda s: load_demo(s, today=TODAY, weeks=weeks))
    print(
        f"demo on {engine_name}, {weeks} weeks: {summary} in {time.perf_counter() - started:.1f} s"
    )
    _what_a_trainer_would_show(book, summary, weeks)
    _the_story_of_the_year(book, weeks)


def _what_a_trainer_would_show(book: Book, summary: DemoSummary, weeks: int) -> None:
    days = {code: meeting_days(code, TODAY, weeks) for code in MEMBERS}
    assert summary.groups == 3
    assert summary.members == sum(MEMBERS.values())
    assert summary.meetings == sum(len(d) for d in days.values())

    with book.read() as s:
        groups = {g.code: g for g in list_groups(s)}
        assert sorted(groups) == sorted(MEMBERS)
        assert [groups[c].kind for c in MEMBERS] == ["vsla", "vsla", "shg"]
        assert groups["SR-BKNG-01"].meeting_frequency == "monthly"
        assert {g.province_code for g in groups.values()} == {"17"}  # Siem Reap
        assert groups["SR-PUOK-01"].commune_code == "170710"  # Puok commune, Puok district

        for code, group in groups.items():
            members = list_members(s, group.id)
            assert len(members) == MEMBERS[code]
            assert all(m.name_khmer and m.name_latin for m in members)
            assert sum(m.sex == "F" for m in members) > 0.8 * len(members)
            assert any(m.id_poor for m in members)
            assert {m.role for m in members} >= {"chair", "treasurer", "secretary"}

            meetings = (
                s.execute(
                    select(Meeting).where(Meeting.group_id == group.id).order_by(Meeting.number)
                )
                .scalars()
                .all()
            )
            assert [m.meeting_date for m in meetings] == days[code]
            assert all(m.status == "closed" for m in meetings)
            assert all(m.expected_cash is not None and m.expected_cash >= 0 for m in meetings)
            # The cash box carries over from one meeting to the next ...
            opening = [m.opening_cash for m in meetings]
            assert opening == [0] + [m.counted_cash for m in meetings[:-1]]
            # ... and is, today, what was counted at the last meeting.
            accounts = GroupAccounts(s, group.id)
            assert balance_of(s, accounts.get("cash_box").id) == meetings[-1].counted_cash
            if group.meeting_frequency == "weekly":
                assert {m.meeting_date.weekday() for m in meetings} == {group.meeting_day}
            assert days[code][0] >= TODAY - dt.timedelta(weeks=weeks)

            kinds = {i.kind for i in _items(s, group.id)}
            assert {"expense", "social_fund_payout"} <= kinds

        report = verify_book(s)
        assert report.ok, report.problems
        assert report.entries == summary.entries
        assert trial_balance(s).balanced


def _the_story_of_the_year(book: Book, weeks: int) -> None:
    with book.read() as s:
        groups = {g.code: g for g in list_groups(s)}
        puok, achm, bakong = (groups[c] for c in MEMBERS)

        # Meas Kunthea left Puok mid-cycle and was paid out everything she held.
        leaver = next(m for m in list_members(s, puok.id) if m.code == "PK11")
        assert leaver.exited_on is not None and leaver.exited_on < TODAY
        accounts = GroupAccounts(s, puok.id)
        assert all(balance_of(s, a) == 0 for a in accounts.ids(leaver.id).values())
        exit_item = next(i for i in _items(s, puok.id) if i.kind == "member_exit")
        assert exit_item.amount > 0
        assert not any(m.code == "PK11" for m in list_members(s, puok.id, on=TODAY))

        # Heng Davy joined Angkor Chum mid-cycle and has saved since.
        joiner = next(m for m in list_members(s, achm.id) if m.code == "AC13")
        assert meeting_days("SR-ACHM-01", TODAY, weeks)[0] < joiner.joined_on < TODAY
        assert balance_of(s, GroupAccounts(s, achm.id).get("compulsory_savings", joiner.id).id) < 0

        # Two counts were off, each with its reason.
        off = s.execute(
            select(Meeting).where(Meeting.counted_cash != Meeting.expected_cash)
        ).scalars()
        differences = {
            m.group_id: (m.counted_cash - m.expected_cash, m.difference_comment) for m in off
        }
        assert {g: d for g, (d, _c) in differences.items()} == {puok.id: -500, achm.id: 1_000}
        assert all(comment for _d, comment in differences.values())

        # The self-help group got its grant and keeps its surplus at the bank.
        bk = GroupAccounts(s, bakong.id)
        assert balance_of(s, bk.get("grants").id) == -400_000
        assert balance_of(s, bk.get("bank").id) > 0

        # The self-help group keeps a rice bank: 2 t from the NGO, lent in the lean season,
        # mostly repaid with interest after the harvest; rats took 25.5 kg.
        rice = rice_position(s, bakong.id, on=TODAY)
        assert rice.capital == 2_000_000 and rice.losses["pests"] == 25_500
        assert rice.interest_earned > 0 and len(rice.loans) == 8
        assert {x.standing.state for x in rice.loans} >= {"repaid"}
        assert any(x.standing.owed for x in rice.loans)
        if weeks == 52:
            assert len(rice.overdue) == 2
        assert rice.stock + rice.principal_outstanding + 25_500 == (
            rice.capital + rice.interest_earned
        )

        # VSLA shares are whole shares; some members hold money toward their next share.
        for group, price in ((puok, 5_000), (achm, 10_000)):
            ga = GroupAccounts(s, group.id)
            lines = s.execute(
                select(MeetingLine.share_money).where(MeetingLine.group_id == group.id)
            ).scalars()
            assert any(amount % price for amount in lines)
            for member in list_members(s, group.id):
                ids = ga.ids(member.id)
                assert -balance_of(s, ids["shares"]) % price == 0
                assert 0 <= -balance_of(s, ids["share_money_held"]) < price

        # Every group lends; most loans are repaid, one member per group stopped paying.
        rows = {r.key: r for r in portfolio(s, as_of=TODAY)}
        for code in MEMBERS:
            assert rows[code].loans_active >= 1
            if weeks == 52:  # over a whole year her arrears are months old, and rare
                assert rows[code].at_risk_30 > 0 and rows[code].repayment_rate > Decimal("0.75")
        closed = s.execute(select(Loan).where(Loan.status == "closed")).scalars().all()
        assert len(closed) >= 3
        assert balance_of(s, GroupAccounts(s, puok.id).get("interest_income").id) < 0


def test_the_demo_is_the_same_every_time(tmp_path: Path, sqlite_template: Path):
    """Two loads into two books: same members, same meetings, same balances."""

    def load(name: str) -> tuple[DemoSummary, list[tuple[object, ...]], list[tuple[object, ...]]]:
        path = tmp_path / f"{name}.sqlite"
        shutil.copyfile(sqlite_template, path)
        with Book(f"sqlite:///{path}").as_user(TESTER) as book:
            summary = book.write(lambda s: load_demo(s, today=TODAY, weeks=13))
            with book.read() as s:
                balances = [
                    (r.group_code, r.account, r.balance_minor) for r in trial_balance(s).rows
                ]
                people = [
                    (m.code, m.name_latin, m.name_khmer, m.phone, m.household, m.exited_on)
                    for g in list_groups(s)
                    for m in list_members(s, g.id)
                ]
        return summary, balances, people

    assert load("first") == load("second")


def test_a_demo_is_loaded_once_per_book(book):
    with pytest.raises(InvalidEntry, match="8 to 52 weeks, not 53"):
        book.write(lambda s: load_demo(s, today=TODAY, weeks=53))
    first = book.write(lambda s: load_demo(s, today=TODAY, weeks=8))
    with pytest.raises(InvalidEntry, match="already a group with code SR-PUOK-01"):
        book.write(lambda s: load_demo(s, today=TODAY, weeks=8))
    with book.read() as s:
        assert len(list_groups(s)) == 3
        assert verify_book(s).entries == first.entries


def _items(session, group_id):
    return session.execute(select(MeetingItem).where(MeetingItem.group_id == group_id)).scalars()
