"""Starting a group from paper: members, opening balances and meeting sheets from CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.chart import GroupAccounts, balance_of
from ledger.errors import ImportRejected
from ledger.member_import import import_members
from ledger.members import list_members
from ledger.opening_import import import_opening_balances
from ledger.sheet_import import import_meetings
from ledger.verify import verify_book
from tests.savings_helpers import CYCLE_START, TODAY, make_vsla

MEMBERS = """code,name_latin,name_khmer,sex,phone,household,id_poor,id_poor_number,role,joined_on
M10,Heng Sreyneang,ហេង ស្រីនាង,F,012 345 678,HH-7,1,IDP-0007,treasurer,2026-01-05
M11,Ly Chantha,លី ចន្ថា,f,,HH-8,0,,member,2026-01-05
M12,Mao Vanna,,M,+855 97 123 4567,,2,,chair,2026-02-02
"""

SHEET_HEADER = (
    "date,member,attended,savings,voluntary_savings,withdrawal,shares,social_fund,fine,"
    "loan_repayment,counted_cash,comment\n"
)
SHEET = SHEET_HEADER + (
    "2026-01-05,M01,yes,2000,,,10000,500,,,,\n"
    "2026-01-05,M02,yes,2000,1000,,5000,500,,,,\n"
    "2026-01-05,M03,no,,,,,,1000,,22000,\n"
    "2026-01-12,M01,yes,2000,,,7000,500,,,,\n"
    "2026-01-12,M02,y,2000,,1000,,500,200,,,Short 100: torn note\n"
    "2026-01-12,M03,yes,2000,,,5000,500,,,40600,Short 100: torn note\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def natural(s, group_id, role, member_id=None):
    account = GroupAccounts(s, group_id).get(role, member_id)
    value = balance_of(s, account.id)
    return value if account.type in ("asset", "expense") else -value


def test_members_from_the_paper_register(book, tmp_path):
    v = make_vsla(book)
    path = write(tmp_path, "members.csv", MEMBERS)
    summary = book.write(lambda s: import_members(s, v.group.id, path))
    assert (summary.added, summary.unchanged) == (3, 0)
    again = book.write(lambda s: import_members(s, v.group.id, path))
    assert (again.added, again.unchanged) == (0, 3)
    with book.read() as s:
        members = {m.code: m for m in list_members(s, v.group.id)}
    assert members["M10"].name_khmer == "ហេង ស្រីនាង" and members["M10"].role == "treasurer"
    assert members["M11"].sex == "F" and members["M12"].id_poor == 2


MEMBER_ERRORS = [
    ("M20,,,F,,,0,,member,2026-01-05", "Latin-script name is empty"),
    ("M20,Sok,,F,,,0,,member,05/01/2026", "not a date written as YYYY-MM-DD"),
    ("M20,Sok,,Q,,,0,,member,2026-01-05", "Sex 'Q' is not F, M or X"),
    ("M20,Sok,,F,call me,,0,,member,2026-01-05", "is not a phone number"),
    ("M20,Sok,,F,,,3,,member,2026-01-05", "id_poor is '3'"),
    ("M20,Sok,,F,,,0,,boss,2026-01-05", "Role 'boss' is not one of"),
    ("M20,សុខ,,F,,,0,,member,2026-01-05", "Latin-script name contains Khmer letters"),
    ("M20,Sok,Sok,F,,,0,,member,2026-01-05", "Khmer name has no Khmer letters"),
    ("M 20,Sok,,F,,,0,,member,2026-01-05", "not a usable member code"),
    ("M20,=HYPERLINK(1),,F,,,0,,member,2026-01-05", "spreadsheet formula"),
    ("M01,Somebody Else,,F,,,0,,member,2026-01-05", "already in the book with name_latin"),
    ("M10,Dup,,F,,,0,,member,2026-01-05", "appears twice"),
]


@pytest.mark.parametrize(("row", "reason"), MEMBER_ERRORS)
def test_a_bad_member_row_rejects_the_file(book, tmp_path, row, reason):
    v = make_vsla(book)
    text = MEMBERS.splitlines()[0] + "\n" + MEMBERS.splitlines()[1] + "\n" + row + "\n"
    with pytest.raises(ImportRejected) as caught:
        book.write(lambda s: import_members(s, v.group.id, write(tmp_path, "m.csv", text)))
    assert caught.value.row == 3
    assert reason in str(caught.value)
    with book.read() as s:
        assert [m.code for m in list_members(s, v.group.id)] == ["M01", "M02", "M03"]


def test_an_unknown_column_is_refused(book, tmp_path):
    v = make_vsla(book)
    text = "code,name_latin,joined_on,nickname\nM20,Sok,2026-01-05,Dee\n"
    with pytest.raises(ImportRejected, match=r"unknown column.*nickname"):
        book.write(lambda s: import_members(s, v.group.id, write(tmp_path, "m.csv", text)))


OPENING = """member,compulsory_savings,voluntary_savings,share_value,share_money_held
M01,"120,000",15000,50000,2000
M02,98000,,25000,
M03,110000,3000,,
"""


def test_opening_balances_from_paper(book, tmp_path):
    v = make_vsla(book)
    path = write(tmp_path, "opening.csv", OPENING)

    def load(s):
        return import_opening_balances(
            s,
            v.group.id,
            path,
            as_of=CYCLE_START,
            cash_box=250_000,
            bank=200_000,
            social_fund=30_000,
        )

    summary = book.write(load)
    assert (summary.members, summary.entries_posted) == (3, 4)
    again = book.write(load)
    assert (again.entries_posted, again.entries_already_present) == (0, 4)
    with book.read() as s:
        dara = v.members["M01"].id
        assert natural(s, v.group.id, "compulsory_savings", dara) == 120_000
        assert natural(s, v.group.id, "shares", dara) == 50_000
        assert natural(s, v.group.id, "cash_box") == 250_000
        assert natural(s, v.group.id, "social_fund") == 30_000
        # What the paper books owed members and the fund exceeds the cash and bank here:
        # the opening equity shows it, so nobody's money disappears.
        owed = 120_000 + 15_000 + 50_000 + 2_000 + 98_000 + 25_000 + 110_000 + 3_000 + 30_000
        assert natural(s, v.group.id, "opening_balances") == 450_000 - owed
        assert verify_book(s).ok


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("M09,1000,,,", "no member with code 'M09'"),
        ("M01,-5,,,", "cannot be negative"),
        ("M01,,,7000,", "not a whole number of shares"),
        ("M01,12.5,,,", "more decimals than Cambodian riel"),
        ("M01,abc,,,", "compulsory_savings: 'abc' is not a number"),
    ],
)
def test_bad_opening_rows(book, tmp_path, row, reason):
    v = make_vsla(book)
    text = OPENING.splitlines()[0] + "\n" + row + "\n"
    with pytest.raises(ImportRejected) as caught:
        book.write(
            lambda s: import_opening_balances(
                s,
                v.group.id,
                write(tmp_path, "o.csv", text),
                as_of=CYCLE_START,
            )
        )
    assert caught.value.row == 2 and reason in str(caught.value)
    with book.read() as s:
        assert verify_book(s).entries == 0


def test_meetings_from_the_collection_sheet(book, tmp_path):
    v = make_vsla(book)
    path = write(tmp_path, "sheet.csv", SHEET)
    summary = book.write(lambda s: import_meetings(s, v.group.id, path, today=TODAY))
    assert (summary.meetings_recorded, summary.rows) == (2, 6)
    again = book.write(lambda s: import_meetings(s, v.group.id, path, today=TODAY))
    assert (again.meetings_recorded, again.meetings_already_present) == (0, 2)
    with book.read() as s:
        assert natural(s, v.group.id, "cash_box") == 40600
        assert natural(s, v.group.id, "cash_over_short") == 100
        assert natural(s, v.group.id, "fines_absent") == 1000
        assert natural(s, v.group.id, "fines_other") == 200
        dara = v.members["M01"].id
        assert natural(s, v.group.id, "shares", dara) == 15000
        assert natural(s, v.group.id, "share_money_held", dara) == 2000
        assert verify_book(s).ok


def _sheet_with(row: str) -> str:
    return SHEET_HEADER + "2026-01-05,M01,yes,2000,,,,,,,2000,\n" + row + "\n"


SHEET_ERRORS = [
    ("2026-01-05,M02,maybe,2000,,,,,,,,", "attended is 'maybe'"),
    ("2026-01-05,M02,yes,-2000,,,,,,,,", "savings cannot be negative"),
    ("2026-01-05,M02,yes,2000.5,,,,,,,,", "more decimals"),
    ("2026-01-05,M02,yes,,,5000,,,,,,", "cannot be withdrawn"),
    ("2026-01-05,M02,yes,,,,30000,,,,,", "would buy 6 shares"),
    ("2026-01-05,M02,yes,,,,,,,5000,,", "M02: M02 has no loan to repay"),
    ("2026-01-05,M09,yes,2000,,,,,,,,", "no member with code 'M09'"),
    ("2026-01-05,M01,yes,2000,,,,,,,,", "M01 has two rows"),
    ("2026-01-05,M02,yes,2000,,,,,,,9999,", "counted_cash for 2026-01-05 is 9,999 KHR"),
    ("2025-12-29,M02,yes,2000,,,,,,,,", "Dates must go forward"),
    ("2026-02-30,M02,yes,2000,,,,,,,,", "not a date written as YYYY-MM-DD"),
]


@pytest.mark.parametrize(("row", "reason"), SHEET_ERRORS)
def test_a_bad_sheet_row_rejects_the_file(book, tmp_path, row, reason):
    v = make_vsla(book)
    path = write(tmp_path, "sheet.csv", _sheet_with(row))
    with pytest.raises(ImportRejected) as caught:
        book.write(lambda s: import_meetings(s, v.group.id, path, today=TODAY))
    assert caught.value.row == 3
    assert reason in str(caught.value)
    with book.read() as s:
        assert verify_book(s).entries == 0


def test_a_meeting_without_a_count_or_with_an_unexplained_difference(book, tmp_path):
    v = make_vsla(book)
    no_count = SHEET_HEADER + "2026-01-05,M01,yes,2000,,,,,,,,\n"
    with pytest.raises(
        ImportRejected, match="Row 2: The meeting of 2026-01-05 has no counted_cash"
    ):
        book.write(
            lambda s: import_meetings(
                s, v.group.id, write(tmp_path, "a.csv", no_count), today=TODAY
            )
        )
    unexplained = SHEET_HEADER + "2026-01-05,M01,yes,2000,,,,,,,1500,\n"
    with pytest.raises(ImportRejected, match="500 KHR less than expected"):
        book.write(
            lambda s: import_meetings(
                s, v.group.id, write(tmp_path, "b.csv", unexplained), today=TODAY
            )
        )


def test_a_changed_sheet_for_a_recorded_meeting_is_refused(book, tmp_path):
    v = make_vsla(book)
    book.write(
        lambda s: import_meetings(s, v.group.id, write(tmp_path, "s.csv", SHEET), today=TODAY)
    )
    changed = SHEET.replace("2026-01-05,M01,yes,2000,,,10000", "2026-01-05,M01,yes,3000,,,10000")
    with pytest.raises(ImportRejected, match="already recorded with other amounts for M01"):
        book.write(
            lambda s: import_meetings(s, v.group.id, write(tmp_path, "c.csv", changed), today=TODAY)
        )
