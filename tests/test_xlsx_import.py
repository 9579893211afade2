"""Members and opening balances from the Excel workbook a treasurer keeps, as from CSV."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from ledger.csvfile import read_csv
from ledger.errors import ImportRejected
from ledger.member_import import OPTIONAL as MEMBER_OPTIONAL
from ledger.member_import import REQUIRED as MEMBER_REQUIRED
from ledger.member_import import import_members
from ledger.members import list_members
from ledger.opening_import import import_opening_balances
from ledger.positions import member_position
from ledger.xlsxfile import read_table, read_xlsx
from tests.savings_helpers import CYCLE_START, make_vsla
from tui.cli import main

HEADER = ["code", "name_latin", "name_khmer", "sex", "phone", "id_poor", "role", "joined_on"]
# What a treasurer's Excel holds: dates as date cells, numbers as numbers (Excel stores
# 1 as 1.0), a phone number kept as text so its leading zero stays.
MEMBER_ROWS = [
    ["M10", "Heng Sreyneang", "ហេង ស្រីនាង", "F", "012 345 678", 1.0, "treasurer", CYCLE_START],
    ["M11", "Ly Chantha", "លី ចន្ថា", "f", None, 0, "member", dt.datetime(2026, 1, 5)],
    ["M12", "Mao Vanna", None, "M", "+855 97 123 4567", 2, "chair", dt.date(2026, 2, 2)],
]
OPENING_HEADER = ["member", "compulsory_savings", "voluntary_savings", "share_value"]
OPENING_ROWS = [["M01", 120000.0, 15000, 50000], ["M02", 98000, None, 25000]]


def workbook(path: Path, rows: list[list[object]], *, title: str = "Sheet1", first=None) -> Path:
    """Save ``rows`` as a sheet (after a sheet ``first``, if given) of a new workbook."""
    book = openpyxl.Workbook()
    sheet = book.active
    if first is not None:
        sheet.title = first
        sheet.append(["Instructions: fill in the next sheet"])
        sheet = book.create_sheet(title)
    else:
        sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_the_workbook_reads_as_its_csv_does(tmp_path):
    """The same register saved both ways gives the same rows, numbers and dates as typed."""
    csv_text = (
        "code,name_latin,name_khmer,sex,phone,id_poor,role,joined_on\n"
        "M10,Heng Sreyneang,ហេង ស្រីនាង,F,012 345 678,1,treasurer,2026-01-05\n"
        "M11,Ly Chantha,លី ចន្ថា,f,,0,member,2026-01-05\n"
        "\n"
        "M12,Mao Vanna,,M,+855 97 123 4567,2,chair,2026-02-02\n"
    )
    (tmp_path / "m.csv").write_text(csv_text, encoding="utf-8")
    rows = [HEADER, *MEMBER_ROWS[:2], [None] * 8, MEMBER_ROWS[2]]
    path = workbook(tmp_path / "m.xlsx", rows)
    columns = {"required": MEMBER_REQUIRED, "optional": MEMBER_OPTIONAL}
    from_xlsx = list(read_xlsx(path, **columns))
    assert from_xlsx == list(read_csv(tmp_path / "m.csv", **columns))
    assert [row for row, _values in from_xlsx] == [2, 3, 5]  # the blank row is skipped
    assert list(read_table(path, **columns)) == from_xlsx


def test_numbers_come_through_exactly(tmp_path):
    rows = [["member", "compulsory_savings"], ["M01", 5000.0], ["M02", 12.35], ["M03", 1e-7]]
    path = workbook(tmp_path / "o.xlsx", rows)
    got = [
        v["compulsory_savings"]
        for _r, v in read_xlsx(path, required=("member",), optional=("compulsory_savings",))
    ]
    assert got == ["5000", "12.35", "0.0000001"]


def test_members_from_a_workbook_and_again(book, tmp_path):
    v = make_vsla(book)
    path = workbook(tmp_path / "members.xlsx", [HEADER, *MEMBER_ROWS])
    summary = book.write(lambda s: import_members(s, v.group.id, path))
    assert (summary.rows, summary.added, summary.unchanged) == (3, 3, 0)
    again = book.write(lambda s: import_members(s, v.group.id, path))
    assert (again.added, again.unchanged) == (0, 3)
    with book.read() as s:
        members = {m.code: m for m in list_members(s, v.group.id)}
    assert len(members) == 6  # the group's three and the three imported, once
    assert members["M10"].name_khmer == "ហេង ស្រីនាង" and members["M10"].id_poor == 1
    assert members["M10"].phone == "012 345 678" and members["M10"].role == "treasurer"
    assert members["M11"].sex == "F" and members["M11"].joined_on == CYCLE_START
    assert members["M12"].joined_on == dt.date(2026, 2, 2) and members["M12"].id_poor == 2


def test_the_sheet_named_members_is_read_wherever_it_is(book, tmp_path):
    v = make_vsla(book)
    path = workbook(tmp_path / "register.xlsx", [HEADER, MEMBER_ROWS[0]], title="Members",
                    first="Read me")  # fmt: skip
    assert book.write(lambda s: import_members(s, v.group.id, path)).added == 1


def test_opening_balances_from_a_workbook(book, tmp_path):
    v = make_vsla(book)
    path = workbook(tmp_path / "opening.xlsx", [OPENING_HEADER, *OPENING_ROWS])

    def load(s):
        return import_opening_balances(s, v.group.id, path, as_of=CYCLE_START, cash_box=250_000)

    summary = book.write(load)
    assert (summary.members, summary.entries_posted) == (2, 3)
    again = book.write(load)
    assert (again.entries_posted, again.entries_already_present) == (0, 3)
    with book.read() as s:
        dara = member_position(s, v.members["M01"].id)
        sophea = member_position(s, v.members["M02"].id)
    assert (dara.compulsory_savings, dara.voluntary_savings, dara.shares_value) == (
        120_000,
        15_000,
        50_000,
    )
    assert (sophea.compulsory_savings, sophea.voluntary_savings) == (98_000, 0)


def _members_file(tmp_path: Path, bad: list[object]) -> Path:
    return workbook(tmp_path / "m.xlsx", [HEADER, MEMBER_ROWS[0], bad])


def _opening_file(tmp_path: Path, bad: list[object]) -> Path:
    return workbook(tmp_path / "o.xlsx", [OPENING_HEADER, OPENING_ROWS[0], bad])


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (
            lambda p: _members_file(
                p, ["M20", "=PROPER(A3)", None, "F", None, 0, None, CYCLE_START]
            ),
            "name_latin (cell B3) is a spreadsheet formula ('=PROPER(A3)')",
        ),
        (
            lambda p: _members_file(p, ["M20", "Sok", None, "F", None, 0, None, "#DIV/0!"]),
            "joined_on (cell H3) shows the spreadsheet error #DIV/0!",
        ),
        (
            lambda p: _members_file(p, ["M20", "Sok", None, "F", None, 0, None, CYCLE_START, "x"]),
            "Cell I3 holds 'x' but its column has no header",
        ),
        (
            lambda p: _members_file(p, ["M20", "Sok", None, "F", None, 0, None, "5/1/2026"]),
            "joined_on '5/1/2026' is not a date written as YYYY-MM-DD",
        ),
    ],
)
def test_a_bad_member_cell_names_its_row(book, tmp_path, make, reason):
    v = make_vsla(book)
    path = make(tmp_path)
    with pytest.raises(ImportRejected) as caught:
        book.write(lambda s: import_members(s, v.group.id, path))
    assert caught.value.row == 3
    assert reason in str(caught.value) and str(caught.value).endswith("Nothing was imported.")
    with book.read() as s:
        assert [m.code for m in list_members(s, v.group.id)] == ["M01", "M02", "M03"]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (["M02", 5000.5, None, None], "compulsory_savings: 5000.5 KHR has more decimals"),
        (["M02", dt.date(2026, 1, 5), None, None], "compulsory_savings: '2026-01-05' is not a"),
        (["M02", "=B2*2", None, None], "compulsory_savings (cell B3) is a spreadsheet formula"),
    ],
)
def test_a_bad_opening_cell_names_its_row(book, tmp_path, bad, reason):
    v = make_vsla(book)
    path = _opening_file(tmp_path, bad)
    with pytest.raises(ImportRejected) as caught:
        book.write(lambda s: import_opening_balances(s, v.group.id, path, as_of=CYCLE_START))
    assert caught.value.row == 3 and reason in str(caught.value)
    with book.read() as s:
        assert member_position(s, v.members["M01"].id).compulsory_savings == 0  # none of it


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("m.xlsx", b"code,name_latin,joined_on\nM20,Sok,2026-01-05\n", "is not an Excel workbook"),
        ("m.xlsx", b"", "is not an Excel workbook"),
        ("m.xls", b"\xd0\xcf\x11\xe0 an old binary workbook", "cannot read .xls files"),
    ],
)
def test_a_file_that_is_not_a_workbook(book, tmp_path, name, content, reason):
    v = make_vsla(book)
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportRejected, match=reason) as caught:
        book.write(lambda s: import_members(s, v.group.id, path))
    assert caught.value.row is None and "save it" in str(caught.value).lower()


def test_a_workbook_saved_under_a_csv_name_is_still_read(tmp_path):
    path = workbook(tmp_path / "m.xlsx", [HEADER, MEMBER_ROWS[0]])
    renamed = path.rename(tmp_path / "members.csv")
    rows = list(read_table(renamed, required=MEMBER_REQUIRED, optional=MEMBER_OPTIONAL))
    assert rows[0][1]["code"] == "M10"


def test_an_empty_sheet_or_a_bad_header(tmp_path):
    empty = workbook(tmp_path / "e.xlsx", [])
    with pytest.raises(ImportRejected, match="The sheet 'Sheet1' is empty"):
        list(read_xlsx(empty, required=MEMBER_REQUIRED))
    bad = workbook(tmp_path / "b.xlsx", [["Code", "Name", "joined_on", "code"]])
    with pytest.raises(ImportRejected) as caught:
        list(read_xlsx(bad, required=MEMBER_REQUIRED, optional=MEMBER_OPTIONAL))
    assert caught.value.row == 1
    assert "lacks name_latin" in str(caught.value) and "names code twice" in str(caught.value)


@pytest.mark.usefixtures("cli_as_tester")
def test_the_import_commands_take_a_workbook(book, book_url, tmp_path, capsys):
    v = make_vsla(book)
    members = workbook(tmp_path / "members.xlsx", [HEADER, *MEMBER_ROWS])
    opening = workbook(tmp_path / "opening.xlsx", [OPENING_HEADER, *OPENING_ROWS])
    db = ("--db", book_url, "--group", v.group.code)
    assert main(["member", "import", str(members), *db]) == 0
    assert "3 new member(s), 0 already in the book" in capsys.readouterr().out
    assert main(["member", "import", str(members), *db]) == 0
    assert "0 new member(s), 3 already in the book" in capsys.readouterr().out
    args = ["opening", "import", str(opening), *db, "--as-of", CYCLE_START.isoformat()]
    assert main([*args, "--cash-box", "250,000"]) == 0
    assert "2 member(s), 3 entries posted" in capsys.readouterr().out
    bad = _opening_file(tmp_path, ["M02", 5000.5, None, None])
    assert main(["opening", "import", str(bad), *db, "--as-of", "2026-01-05"]) == 2
    assert "Row 3: compulsory_savings: 5000.5 KHR" in capsys.readouterr().err
