"""Builders for savings-group tests: a VSLA in Puok commune with a few members."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ledger.cycles import open_cycle
from ledger.db import Book
from ledger.groups import GroupRecord, create_group
from ledger.locations import resolve_location
from ledger.members import MemberRecord, add_member
from ledger.money import money

CYCLE_START = dt.date(2026, 1, 5)  # a Monday
TODAY = dt.date(2026, 11, 22)


def khr(amount: int | str):
    return money(amount, "KHR")


@dataclass(frozen=True)
class Vsla:
    group: GroupRecord
    members: dict[str, MemberRecord]


MEMBERS = [
    ("M01", "Sok Dara", "សុខ ដារ៉ា", "F"),
    ("M02", "Chan Sophea", "ចាន់ សុភា", "F"),
    ("M03", "Keo Vuthy", "កែវ វុទ្ធី", "M"),
]


def make_vsla(book: Book, code: str = "PK-01", *, share_price: int = 5000) -> Vsla:
    def build(session):  # type: ignore[no-untyped-def]
        group = create_group(
            session,
            code,
            "Puok Women's Savings",
            kind="vsla",
            meeting_day=0,
            location=resolve_location("Siem Reap", "Puok", "Puok"),
        )
        open_cycle(
            session,
            group.id,
            CYCLE_START,
            share_price=khr(share_price),
            compulsory_savings=khr(2000),
            social_fund_contribution=khr(500),
            fine_absent=khr(1000),
        )
        members = {
            c: add_member(
                session,
                group.id,
                c,
                name_latin=latin,
                name_khmer=khmer,
                sex=sex,
                joined_on=CYCLE_START,
            )
            for c, latin, khmer, sex in MEMBERS
        }
        return Vsla(group, members)

    return book.write(build)
