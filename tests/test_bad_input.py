"""Bad input, catalogued: every import refuses a malformed file with a sentence naming the
row and the field, and writes nothing (issue #10, part 3).

Each case is a file a treasurer could really bring — saved in the wrong encoding, typed
with Khmer digits or thousands separators, with a formula, an escape sequence or a SQL
fragment in a cell, a date in year 1 or 9999, an amount past what a 64-bit integer holds,
a member the group does not have, a row twice, a column renamed, a folder instead of a
file — given to the importer on a real book. The refusal must be the project's own
``ImportRejected`` (never a Python exception), say where and what, and leave every table
as it was. The book is built once per engine for the module: a refused import writes
nothing, which is the very thing each case checks.

The typed-value parsers the importers and the app's input fields share (amounts, dates,
member codes, rice kilograms) are catalogued at the end.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from ledger.csvfile import cell_code, parse_date
from ledger.db import Book
from ledger.errors import ImportRejected, InvalidAmount, InvalidDate
from ledger.journal_csv import import_journal
from ledger.loan_products import create_product
from ledger.member_import import import_members
from ledger.members import list_members
from ledger.models import (
    Account,
    AuditEvent,
    Group,
    JournalEntry,
    Loan,
    LoanInstalment,
    Meeting,
    MeetingLine,
    Member,
    Posting,
)
from ledger.money import MAX_POSTING_MINOR, latin_digits, parse_amount
from ledger.opening_import import import_opening_balances
from ledger.opening_loans import import_opening_loans
from ledger.positions import member_position
from ledger.sheet_import import import_meetings
from tests.conftest import NO_POSTGRES, POSTGRES_URL, PgDatabases, _pg_url
from tests.helpers import TESTER
from tests.savings_helpers import CYCLE_START, TODAY, make_vsla

CUT_OFF = dt.date(2026, 3, 1)
BIGINT_PLUS_ONE = "9223372036854775808"  # one past the largest signed 64-bit integer
SQL = "'; DROP TABLE members;--"

HEADERS = {
    "members": "code,name_latin,sex,phone,id_poor,joined_on",
    "opening": "member,compulsory_savings,voluntary_savings,share_value,share_money_held",
    "loans": "member,product,amount,disbursed_on,outstanding,instalments_left,purpose",
    "sheet": "date,member,attended,savings,voluntary_savings,withdrawal,shares,social_fund,"
    "fine,loan_repayment,counted_cash,comment",
    "journal": "txn_id,date,group,description,account,commodity,amount",
}
# One good row each (row 2), so a bad row 3 proves the reader got past a good one.
GOOD = {
    "members": "M10,Heng Sreyneang,F,012 345 678,1,2026-01-05",
    "opening": "M01,120000,15000,50000,2000",
    "loans": "M01,M6,600000,2026-01-05,400000,4,Rice seed",
    "sheet": "2026-01-05,M01,yes,2000,,,5000,500,,,,",
    "journal": "t1,2026-01-05,JR-01,ok,Assets:Cash box,KHR,100\n"
    "t1,2026-01-05,JR-01,ok,Equity:Opening,KHR,-100",
}
SUFFIX = {"members": "m", "opening": "o", "loans": "l", "sheet": "s", "journal": "j"}


def sheet_row(
    member: str = "M02",
    *,
    date: str = "2026-01-05",
    attended: str = "yes",
    savings: str = "2000",
    shares: str = "",
    social: str = "500",
    fine: str = "",
    repay: str = "",
    counted: str = "10000",
    comment: str = "",
) -> str:
    cells = (date, member, attended, savings, "", "", shares, social, fine, repay, counted, comment)
    return ",".join(cells)


def journal_row(amount: str = "5", *, date: str = "2026-01-06", desc: str = "x") -> str:
    return (
        f"t2,{date},JR-01,{desc},Assets:Cash box,KHR,{amount}\n"
        f"t2,{date},JR-01,{desc},Equity:Opening,KHR,-5"
    )


def csv_bytes(kind: str, *rows: str, encoding: str = "utf-8", good: bool = True) -> bytes:
    lines = [HEADERS[kind], *([GOOD[kind]] if good else []), *rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def xlsx_bytes(kind: str, *rows: list[Any], good: bool = True) -> Callable[[], bytes]:
    """A workbook (made when the case runs) with the header, the good row, then ``rows``."""

    def make() -> bytes:
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(HEADERS[kind].split(","))
        if good:
            sheet.append([_typed(v) for v in GOOD[kind].split(",")])
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    return make


def _typed(text: str) -> object:
    """A good CSV cell as a spreadsheet keeps it: numbers as numbers, dates as dates."""
    if text.isdigit() and not text.startswith("0"):
        return int(text)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return text or None


def zip_bytes(**members: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # which importer
    content: bytes | Callable[[], bytes] | None  # None: a folder instead of a file
    phrases: tuple[str, ...]
    row: int | None
    suffix: str = ".csv"


def case(
    id: str,
    kind: str,
    content: bytes | Callable[[], bytes] | None,
    *phrases: str,
    row: int | None,
    suffix: str = ".csv",
) -> Any:
    return pytest.param(Case(id, kind, content, phrases, row, suffix), id=f"{kind}-{id}")


XLSX = ".xlsx"
NOT_UTF8 = "not UTF-8 text"

MEMBER_CASES = [
    # Encodings
    case(
        "latin-1",
        "members",
        csv_bytes("members", "M11,Chantha Café,F,,0,2026-01-05", encoding="latin-1"),
        NOT_UTF8,
        "name_latin",
        "CSV UTF-8",
        row=3,
    ),
    case(
        "latin-1-far-down",
        "members",
        csv_bytes(
            "members",
            *[f"M{n},Member {n},F,,0,2026-01-05" for n in range(20, 50)],
            "M99,Chantha Café,F,,0,2026-01-05",
            encoding="latin-1",
        ),
        NOT_UTF8,
        "name_latin",
        row=33,  # the decoder fails reading ahead, at the header: the row is still named
    ),
    case(
        "utf-16-with-bom",
        "members",
        csv_bytes("members", encoding="utf-16"),
        "UTF-16",
        "CSV UTF-8",
        row=None,
    ),
    case(
        "utf-16-without-bom",
        "members",
        csv_bytes("members", encoding="utf-16-le"),
        "UTF-16",
        row=1,
    ),
    case(
        "bom-then-a-bad-date",
        "members",
        b"\xef\xbb\xbf" + csv_bytes("members", "M11,Ly Chantha,F,,0,22/11/2026"),
        "joined_on '22/11/2026' is not a date written as YYYY-MM-DD",
        row=3,
    ),
    # Khmer digits are read as digits: a good row written in them, then a bad one.
    case(
        "khmer-digits-then-a-bad-id-poor",
        "members",
        csv_bytes(
            "members",
            "M១១,Ly Chantha,F,០១២ ៣៤៥ ៦៧៨,២,២០២៦-០១-០៥",
            "M12,Mao Vanna,M,,៣,2026-01-05",
        ),
        "id_poor is '៣'; write 0 (none), 1 or 2",
        row=4,
    ),
    case(
        "khmer-digit-code-twice",
        "members",
        csv_bytes("members", "M១០,Heng Sreyneang,F,,0,2026-01-05"),
        "Member M10 appears twice (first at row 2)",
        row=3,
    ),
    # Dates
    case(
        "year-1",
        "members",
        csv_bytes("members", "M11,Ly Chantha,F,,0,0001-01-01"),
        "joined_on 0001-01-01 is out of range",
        "1900-01-01 and 2099-12-31",
        row=3,
    ),
    case(
        "year-9999",
        "members",
        csv_bytes("members", "M11,Ly Chantha,F,,0,9999-12-31"),
        "joined_on 9999-12-31 is out of range",
        row=3,
    ),
    case(
        "february-30",
        "members",
        csv_bytes("members", "M11,Ly Chantha,F,,0,2026-02-30"),
        "joined_on '2026-02-30' is not a date",
        "February 2026 has 28 days",
        row=3,
    ),
    case(
        "month-13",
        "members",
        csv_bytes("members", "M11,Ly Chantha,F,,0,2026-13-01"),
        "joined_on '2026-13-01'",
        "no month 13",
        row=3,
    ),
    case(
        "week-date",
        "members",
        csv_bytes("members", "M11,Ly Chantha,F,,0,2026-W11-1"),
        "joined_on '2026-W11-1' is not a date written as YYYY-MM-DD",
        row=3,
    ),
    # Injected SQL as a code (as a name it is stored as text: see the test below).
    case(
        "sql-as-code",
        "members",
        csv_bytes("members", f'"{SQL}",Sok,F,,0,2026-01-05'),
        "is not a usable member code",
        row=3,
    ),
    case(
        "bad-phone",
        "members",
        csv_bytes("members", "M11,Ly Chantha,F,call me,0,2026-01-05"),
        "is not a phone number",
        row=3,
    ),
    # Control characters
    case(
        "nul-in-name",
        "members",
        csv_bytes("members", "M11,Ly\x00Chantha,F,,0,2026-01-05"),
        "name_latin holds a NUL character",
        row=3,
    ),
    case(
        "escape-sequence-in-name",
        "members",
        csv_bytes("members", "M11,\x1b[2J\x1b[31mLy Chantha,F,,0,2026-01-05"),
        "name_latin holds an escape sequence",
        row=3,
    ),
    case(
        "carriage-return-in-name",
        "members",
        csv_bytes("members", 'M11,"Ly\rChantha",F,,0,2026-01-05'),
        "name_latin holds a line break",
        row=3,
    ),
    case(
        "line-break-in-quoted-name",
        "members",
        csv_bytes("members", 'M11,"Ly\nChantha",F,,0,2026-01-05'),
        "name_latin holds a line break",
        row=3,  # where a spreadsheet shows it, though the file's line 4 ends it
    ),
    # Formulas
    case(
        "formula-text",
        "members",
        csv_bytes("members", "M11,=SUM(A1),F,,0,2026-01-05"),
        "name_latin is a spreadsheet formula ('=SUM(A1)')",
        row=3,
    ),
    case(
        "at-formula",
        "members",
        csv_bytes("members", "M11,@SUM(A1),F,,0,2026-01-05"),
        "name_latin is a spreadsheet formula",
        row=3,
    ),
    # Duplicates
    case(
        "code-twice",
        "members",
        csv_bytes("members", "M10,Heng Sreyneang,F,,1,2026-01-05"),
        "Member M10 appears twice (first at row 2)",
        row=3,
    ),
    case(
        "already-there-with-other-details",
        "members",
        csv_bytes("members", "M01,Somebody Else,F,,0,2026-01-05"),
        "already in the book with name_latin",
        row=3,
    ),
    # The file's shape
    case("empty-file", "members", b"", "The file is empty; expected a header row", row=None),
    case(
        "blank-lines-only",
        "members",
        b"\n\n\n",
        "The header lacks code, name_latin, joined_on",
        row=1,
    ),
    case(
        "header-only",
        "members",
        csv_bytes("members", good=False),
        "header but no members",
        row=None,
    ),
    case(
        "missing-column",
        "members",
        b"code,name_latin\nM11,Ly Chantha\n",
        "The header lacks joined_on",
        row=1,
    ),
    case(
        "extra-column",
        "members",
        b"code,name_latin,joined_on,nickname\nM11,Ly Chantha,2026-01-05,Dee\n",
        "unknown column(s) 'nickname'",
        row=1,
    ),
    case(
        "renamed-column",
        "members",
        b"code,name,joined\nM11,Ly Chantha,2026-01-05\n",
        "lacks name_latin, joined_on",
        "unknown column(s) 'name', 'joined'",
        row=1,
    ),
    case(
        "column-twice",
        "members",
        b"code,name_latin,joined_on,name_latin\nM11,Ly Chantha,2026-01-05,Other\n",
        "names name_latin twice",
        row=1,
    ),
    case(
        "value-under-no-header",
        "members",
        b"code,name_latin,joined_on,\nM11,Ly Chantha,2026-01-05,surprise\n",
        "Field 4 holds 'surprise' but its column has no header",
        row=2,
    ),
    case(
        "too-few-fields",
        "members",
        csv_bytes("members", "M11,Ly Chantha,F,,2026-01-05"),
        "Expected 6 fields, found 5",
        row=3,
    ),
    case(
        "unclosed-quote",
        "members",
        csv_bytes("members", 'M11,"Ly Chantha,F,,0,2026-01-05'),
        "Not valid CSV",
        row=3,
    ),
    # Not a CSV at all
    case("a-folder", "members", None, "is a folder, not a file", row=None),
    case(
        "a-png-image",
        "members",
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        NOT_UTF8,
        row=1,
    ),
    case(
        "a-pdf",
        "members",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        NOT_UTF8,
        row=2,
    ),
    case(
        "an-old-xls-renamed-csv",
        "members",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
        "cannot read old Excel (.xls) files",
        row=None,
    ),
    case(
        "a-zip-renamed-csv",
        "members",
        zip_bytes(**{"notes.txt": b"hello"}),
        "is not an Excel workbook (.xlsx) Sansam can read",
        row=None,
    ),
    # The workbook forms
    case(
        "xlsx-random-bytes",
        "members",
        bytes(range(256)) * 4,
        "is not an Excel workbook",
        row=None,
        suffix=XLSX,
    ),
    case(
        "xlsx-a-zip-that-is-not-a-workbook",
        "members",
        zip_bytes(**{"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
        "is not an Excel workbook",
        row=None,
        suffix=XLSX,
    ),
    case(
        "xlsx-truncated",
        "members",
        lambda: xlsx_bytes("members")()[:900],
        "is not an Excel workbook",
        row=None,
        suffix=XLSX,
    ),
    case(
        "xlsx-a-folder",
        "members",
        None,
        "is a folder, not a file",
        row=None,
        suffix=XLSX,
    ),
    case(
        "xlsx-formula-without-cached-value",
        "members",
        xlsx_bytes("members", ["M11", "=PROPER(A2)", "F", None, 0, CYCLE_START]),
        "name_latin (cell B3) is a spreadsheet formula ('=PROPER(A2)')",
        row=3,
        suffix=XLSX,
    ),
    case(
        "xlsx-error-cell",
        "members",
        xlsx_bytes("members", ["M11", "Ly Chantha", "F", None, 0, "#N/A"]),
        "joined_on (cell F3) shows the spreadsheet error #N/A",
        row=3,
        suffix=XLSX,
    ),
    case(
        "xlsx-line-break-in-name",
        "members",
        xlsx_bytes("members", ["M11", "Ly\r\nChantha", "F", None, 0, CYCLE_START]),
        "name_latin (cell B3) holds a line break",
        row=3,
        suffix=XLSX,
    ),
    case(
        "xlsx-date-cell-in-year-9999",
        "members",
        xlsx_bytes("members", ["M11", "Ly Chantha", "F", None, 0, dt.datetime(9999, 12, 31)]),
        "joined_on 9999-12-31 is out of range",
        row=3,
        suffix=XLSX,
    ),
    case(
        "xlsx-date-as-text",
        "members",
        xlsx_bytes("members", ["M11", "Ly Chantha", "F", None, 0, "5/1/2026"]),
        "joined_on '5/1/2026' is not a date written as YYYY-MM-DD",
        row=3,
        suffix=XLSX,
    ),
    case(
        "xlsx-header-only",
        "members",
        xlsx_bytes("members", good=False),
        "header but no members",
        row=None,
        suffix=XLSX,
    ),
    case(
        "xlsx-renamed-column",
        "members",
        lambda: _workbook([["Code", "Name", "joined_on"], ["M11", "Ly", CYCLE_START]]),
        "lacks name_latin",
        "unknown column(s) 'name'",
        row=1,
        suffix=XLSX,
    ),
    case(
        "xlsx-value-under-no-header",
        "members",
        xlsx_bytes("members", ["M11", "Ly Chantha", "F", None, 0, CYCLE_START, "x"]),
        "Cell G3 holds 'x' but its column has no header",
        row=3,
        suffix=XLSX,
    ),
]


def _workbook(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


AMOUNT_CASES = [
    case(
        "thousands-with-dots",
        "opening",
        csv_bytes("opening", "M02,1.000,,,"),
        "compulsory_savings: '1.000' is ambiguous",
        "1000 (or 1,000)",
        row=3,
    ),
    case(
        "dots-between-thousands",
        "opening",
        csv_bytes("opening", "M02,1.000.000,,,"),
        "compulsory_savings: '1.000.000' has dots between thousands",
        row=3,
    ),
    case(
        "decimal-comma",
        "opening",
        csv_bytes("opening", 'M02,"1,5",,,'),
        "compulsory_savings: '1,5': commas or spaces go between thousands",
        row=3,
    ),
    case(
        "badly-spaced-thousands",
        "opening",
        csv_bytes("opening", "M02,10 00,,,"),
        "compulsory_savings: '10 00': commas or spaces go between thousands",
        row=3,
    ),
    case(
        "negative",
        "opening",
        csv_bytes("opening", "M02,-5000,,,"),
        "compulsory_savings cannot be negative (-5000)",
        row=3,
    ),
    case(
        "riel-with-decimals",
        "opening",
        csv_bytes("opening", "M02,5000.5,,,"),
        "compulsory_savings: 5000.5 KHR has more decimals than Cambodian riel allows",
        row=3,
    ),
    case(
        "bigint-plus-one",
        "opening",
        csv_bytes("opening", f"M02,{BIGINT_PLUS_ONE},,,"),
        "compulsory_savings: 9,223,372,036,854,775,808 KHR is beyond the largest amount",
        row=3,
    ),
    case(
        "forty-digits",
        "opening",
        csv_bytes("opening", "M02," + "9" * 40 + ",,,"),
        "compulsory_savings:",
        "is beyond the largest amount",
        row=3,
    ),
    case(
        "scientific-notation",
        "opening",
        csv_bytes("opening", "M02,1.2E+11,,,"),
        "compulsory_savings: '1.2E+11' is written in scientific notation",
        row=3,
    ),
    case(
        "sql-as-amount",
        "opening",
        csv_bytes("opening", f'M02,"{SQL}",,,'),
        'compulsory_savings: "\'; DROP TABLE members;--" is not a number',
        row=3,
    ),
    case(
        "currency-sign",
        "opening",
        csv_bytes("opening", "M02,5000៛,,,"),
        "compulsory_savings: '5000៛': write the number alone",
        row=3,
    ),
    case(
        "arabic-indic-digits",
        "opening",
        csv_bytes("opening", "M02,٥٠٠٠,,,"),
        "has digits of another script",
        row=3,
    ),
    case(
        "formula-in-amount",
        "opening",
        csv_bytes("opening", "M02,=SUM(B2:B2),,,"),
        "compulsory_savings is a spreadsheet formula",
        row=3,
    ),
    case(
        "unknown-member",
        "opening",
        csv_bytes("opening", "M99,1000,,,"),
        "The group has no member with code 'M99'",
        "Import the members first",
        row=3,
    ),
    case(
        "member-twice",
        "opening",
        csv_bytes("opening", "M០១,1000,,,"),
        "Member M01 appears twice (first at row 2)",
        row=3,
    ),
    case(
        "empty-member",
        "opening",
        csv_bytes("opening", ",1000,,,"),
        "member is empty",
        row=3,
    ),
    case(
        "shares-not-whole",
        "opening",
        csv_bytes("opening", "M02,,,7000,"),
        "share_value 7,000 KHR is not a whole number of shares",
        row=3,
    ),
    case(
        "header-only",
        "opening",
        csv_bytes("opening", good=False),
        "nothing to import",
        row=None,
    ),
    case(
        "unquoted-thousands-comma",
        "opening",
        csv_bytes("opening", "M02,៩៨,០០០,,,", "M03,abc,,,"),
        "Expected 5 fields, found 6",  # an unquoted comma splits the Khmer-digit amount
        row=3,
    ),
    case(
        "quoted-khmer-digits-then-a-bad-amount",
        "opening",
        csv_bytes("opening", 'M02,"៩៨,០០០",,,', "M03,abc,,,"),
        "compulsory_savings: 'abc' is not a number",
        row=4,
    ),
    case(
        "xlsx-float-riel",
        "opening",
        xlsx_bytes("opening", ["M02", 5000.5, None, None, None]),
        "compulsory_savings: 5000.5 KHR has more decimals",
        row=3,
        suffix=XLSX,
    ),
    case(
        "xlsx-huge-number",
        "opening",
        xlsx_bytes("opening", ["M02", 1e20, None, None, None]),
        "compulsory_savings:",
        "beyond the largest amount",
        row=3,
        suffix=XLSX,
    ),
    case(
        "xlsx-true-as-amount",
        "opening",
        xlsx_bytes("opening", ["M02", True, None, None, None]),
        "compulsory_savings: 'TRUE' is not a number",
        row=3,
        suffix=XLSX,
    ),
    case(
        "xlsx-formula-in-amount",
        "opening",
        xlsx_bytes("opening", ["M02", "=B2*2", None, None, None]),
        "compulsory_savings (cell B3) is a spreadsheet formula",
        row=3,
        suffix=XLSX,
    ),
    case(
        "xlsx-sql-as-amount",
        "opening",
        xlsx_bytes("opening", ["M02", SQL, None, None, None]),
        "is not a number",
        row=3,
        suffix=XLSX,
    ),
]

LOAN_CASES = [
    case(
        "zero-amount",
        "loans",
        csv_bytes("loans", "M02,W4,0,2026-02-16,0,,"),
        "amount, the sum lent, must be more than zero",
        row=3,
    ),
    case(
        "negative-amount",
        "loans",
        csv_bytes("loans", "M02,W4,-1000,2026-02-16,500,,"),
        "amount cannot be negative",
        row=3,
    ),
    case(
        "zero-outstanding",
        "loans",
        csv_bytes("loans", "M02,W4,1000,2026-02-16,0,,"),
        "a repaid loan is not carried over",
        row=3,
    ),
    case(
        "huge-amount",
        "loans",
        csv_bytes("loans", f"M02,W4,{BIGINT_PLUS_ONE},2026-02-16,500,,"),
        "amount: 9,223,372,036,854,775,808 KHR is beyond the largest amount",
        row=3,
    ),
    case(
        "unknown-member",
        "loans",
        csv_bytes("loans", "M99,W4,1000,2026-02-16,500,,"),
        "no member with code 'M99'",
        row=3,
    ),
    case(
        "unknown-product",
        "loans",
        csv_bytes("loans", "M02,Q9,1000,2026-02-16,500,,"),
        "product 'Q9' is not one of the group's (M6, W4)",
        row=3,
    ),
    case(
        "the-same-loan-twice",
        "loans",
        csv_bytes("loans", "M០១,M6,600000,2026-01-05,400000,4,Rice seed"),
        "The same loan of M01 is already on row 2",
        row=3,
    ),
    case(
        "year-1",
        "loans",
        csv_bytes("loans", "M02,W4,1000,0001-01-01,500,,"),
        "disbursed_on 0001-01-01 is out of range",
        row=3,
    ),
    case(
        "february-30",
        "loans",
        csv_bytes("loans", "M02,W4,1000,2026-02-30,500,,"),
        "disbursed_on '2026-02-30' is not a date",
        row=3,
    ),
    case(
        "superscript-instalments",
        "loans",
        csv_bytes("loans", "M02,W4,1000,2026-02-16,500,²,"),
        "instalments_left '²' is not a number from 1 to 520",
        row=3,
    ),
    case(
        "huge-instalments",
        "loans",
        csv_bytes("loans", "M02,W4,1000,2026-02-16,500,99999999999999999999,"),
        "instalments_left '99999999999999999999' is not a number from 1 to 520",
        row=3,
    ),
    case(
        "escape-in-purpose",
        "loans",
        csv_bytes("loans", "M02,W4,1000,2026-02-16,500,,\x1b]0;pwned\x07"),
        "purpose holds an escape sequence",
        row=3,
    ),
    case("header-only", "loans", csv_bytes("loans", good=False), "no loans", row=None),
    case("a-folder", "loans", None, "is a folder, not a file", row=None),
    case(
        "xlsx-formula-amount",
        "loans",
        xlsx_bytes("loans", ["M02", "W4", "=C2/2", CUT_OFF, 500]),
        "amount (cell C3) is a spreadsheet formula",
        row=3,
        suffix=XLSX,
    ),
    case(
        "xlsx-khmer-digits-then-an-unknown-member",
        "loans",
        xlsx_bytes(
            "loans",
            ["M02", "W4", "១០០,០០០", "២០២៦-០២-១៦", "៥០,០០០", "២", None],
            ["M99", "W4", 1000, CUT_OFF, 500],
        ),
        "no member with code 'M99'",
        row=4,
        suffix=XLSX,
    ),
]

SHEET_CASES = [
    case(
        "unknown-member",
        "sheet",
        csv_bytes("sheet", sheet_row("M99")),
        "M99",
        "no member with code 'M99'",
        row=3,
    ),
    case(
        "member-twice-in-a-meeting",
        "sheet",
        csv_bytes("sheet", sheet_row("M01")),
        "M01 has two rows for 2026-01-05",
        row=3,
    ),
    case(
        "negative-savings",
        "sheet",
        csv_bytes("sheet", sheet_row(savings="-2000")),
        "savings cannot be negative (-2000)",
        row=3,
    ),
    case(
        "thousands-with-dots",
        "sheet",
        csv_bytes("sheet", sheet_row(savings="2.000")),
        "savings: '2.000' is ambiguous",
        row=3,
    ),
    case(
        "huge-counted-cash",
        "sheet",
        csv_bytes("sheet", sheet_row(counted="9" * 30)),
        "counted_cash:",
        "is beyond the largest amount",
        row=3,
    ),
    case(
        "sql-as-amount",
        "sheet",
        csv_bytes("sheet", sheet_row(social=f'"{SQL}"')),
        "social_fund:",
        "is not a number",
        row=3,
    ),
    case(
        "attended-maybe",
        "sheet",
        csv_bytes("sheet", sheet_row(attended="maybe")),
        "attended is 'maybe'; write yes or no",
        row=3,
    ),
    case(
        "year-9999",
        "sheet",
        csv_bytes("sheet", sheet_row(date="9999-01-05")),
        "date 9999-01-05 is out of range",
        row=3,
    ),
    case(
        "february-30",
        "sheet",
        csv_bytes("sheet", sheet_row(date="2026-02-30")),
        "date '2026-02-30' is not a date written as YYYY-MM-DD",
        row=3,
    ),
    case(
        "dates-backwards",
        "sheet",
        csv_bytes("sheet", sheet_row(date="2026-01-01")),
        "Dates must go forward",
        row=3,
    ),
    case(
        "no-counted-cash",
        "sheet",
        csv_bytes("sheet", sheet_row(counted="")),
        "has no counted_cash on any row",
        row=2,
    ),
    case(
        "escape-in-comment",
        "sheet",
        csv_bytes("sheet", sheet_row(comment="\x1b[31mshort")),
        "comment holds an escape sequence",
        row=3,
    ),
    case(
        "formula-in-comment",
        "sheet",
        csv_bytes("sheet", sheet_row(comment='"=HYPERLINK(""http://x"")"')),
        "comment is a spreadsheet formula",
        row=3,
    ),
    case("header-only", "sheet", csv_bytes("sheet", good=False), "no rows of a meeting", row=None),
    case(
        "xlsx-formula-without-cached-value",
        "sheet",
        xlsx_bytes(
            "sheet",
            [CYCLE_START, "M02", "yes", "=D2", None, None, None, 500, None, None, 10000],
        ),
        "savings (cell D3) is a spreadsheet formula ('=D2')",
        row=3,
        suffix=XLSX,
    ),
    case(
        "xlsx-unknown-member",
        "sheet",
        xlsx_bytes(
            "sheet",
            [CYCLE_START, "M99", "yes", 2000, None, None, None, 500, None, None, 10000],
        ),
        "no member with code 'M99'",
        row=3,
        suffix=XLSX,
    ),
]

JOURNAL_CASES = [
    case(
        "sql-as-amount",
        "journal",
        csv_bytes("journal", journal_row(f'"{SQL}"')),
        'amount: "\'; DROP TABLE members;--" is not a number',
        row=4,
    ),
    case(
        "thousands-with-dots",
        "journal",
        csv_bytes("journal", journal_row("5.000")),
        "amount: '5.000' is ambiguous",
        row=4,
    ),
    case(
        "decimal-comma",
        "journal",
        csv_bytes("journal", journal_row('"5,5"')),
        "amount: '5,5': commas or spaces go between thousands",
        row=4,
    ),
    case(
        "bigint-plus-one",
        "journal",
        csv_bytes("journal", journal_row(BIGINT_PLUS_ONE)),
        "amount: 9,223,372,036,854,775,808 KHR is beyond the largest amount",
        row=4,
    ),
    case("zero", "journal", csv_bytes("journal", journal_row("0")), "The amount is zero", row=4),
    case(
        "unbalanced",
        "journal",
        csv_bytes("journal", journal_row("6")),
        "Entry 't2'",
        "does not balance",
        row=4,
    ),
    case(
        "year-1",
        "journal",
        csv_bytes("journal", journal_row(date="0001-01-01")),
        "date 0001-01-01 is out of range",
        row=4,
    ),
    case(
        "year-1989",
        "journal",
        csv_bytes("journal", journal_row(date="1989-12-31")),
        "Entry 't2'",
        "out of range",
        row=4,
    ),
    case(
        "february-30",
        "journal",
        csv_bytes("journal", journal_row(date="2026-02-30")),
        "date '2026-02-30' is not a date written as YYYY-MM-DD",
        row=4,
    ),
    case(
        "nul-in-description",
        "journal",
        csv_bytes("journal", journal_row(desc="a\x00b")),
        "description holds a NUL character",
        row=4,
    ),
    case(
        "formula-in-description",
        "journal",
        csv_bytes("journal", journal_row(desc="=cmd|' /C calc'!A0")),
        "description is a spreadsheet formula",
        row=4,
    ),
    case(
        "the-same-txn-twice-with-other-amounts",
        "journal",
        csv_bytes(
            "journal",
            journal_row(),
            "t1,2026-01-05,JR-01,ok,Assets:Cash box,KHR,200",
            "t1,2026-01-05,JR-01,ok,Equity:Opening,KHR,-200",
        ),
        "Entry 't1'",
        "different",
        row=6,
    ),
    case(
        "unknown-commodity",
        "journal",
        csv_bytes("journal", "t2,2026-01-06,JR-01,x,Assets:Cash box,EUR,5"),
        "commodity: Unknown commodity 'EUR'",
        row=4,
    ),
    case("empty-file", "journal", b"", "The file is empty", row=None),
    case("header-only", "journal", csv_bytes("journal", good=False), "no rows", row=None),
    case(
        "renamed-column",
        "journal",
        b"txn,date,group,description,account,commodity,amount\n",
        "lacks txn_id",
        "unknown column(s) 'txn'",
        row=1,
    ),
    case("a-folder", "journal", None, "is a folder, not a file", row=None),
    case(
        "latin-1",
        "journal",
        csv_bytes("journal", journal_row(desc="caf\xe9"), encoding="latin-1"),
        NOT_UTF8,
        "description",
        row=4,
    ),
    case(
        "utf-16",
        "journal",
        csv_bytes("journal", journal_row(), encoding="utf-16"),
        "UTF-16",
        row=None,
    ),
]

CASES = [*MEMBER_CASES, *AMOUNT_CASES, *LOAN_CASES, *SHEET_CASES, *JOURNAL_CASES]


# --- the book the cases are tried on -----------------------------------------------------------


@dataclass(frozen=True)
class Target:
    book: Book
    group_id: int


SETUP_JOURNAL = (
    HEADERS["journal"] + "\n"
    "s1,2026-01-05,JR-01,Opening cash,Assets:Cash box,KHR,150000\n"
    "s1,2026-01-05,JR-01,Opening cash,Equity:Opening,KHR,-150000\n"
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def target(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    pg_template: str | None,
    pg_databases: PgDatabases | None,
) -> Iterator[Target]:
    """One book per engine for the module: a VSLA with three members and two loan
    products, and a journal group with an entry, so every count starts above zero."""
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip(NO_POSTGRES)
        assert pg_databases is not None and pg_template is not None
        name = pg_databases.create(template=pg_template)
        url = _pg_url(name)
    else:
        path = tmp_path_factory.mktemp("bad-input") / "book.sqlite"
        shutil.copyfile(sqlite_template, path)
        url, name = f"sqlite:///{path}", ""
    book = Book(url).as_user(TESTER)
    v = make_vsla(book)

    def products(s: Any) -> None:
        for code, frequency, term in (("M6", "monthly", 6), ("W4", "weekly", 4)):
            create_product(
                s,
                v.group.id,
                code,
                code,
                rate_per_month=Decimal("0.015"),
                term_periods=term,
                frequency=frequency,
            )

    book.write(products)
    setup = tmp_path_factory.mktemp("setup") / "journal.csv"
    setup.write_text(SETUP_JOURNAL, encoding="utf-8")
    book.write(lambda s: import_journal(s, setup))
    yield Target(book, v.group.id)
    book.close()
    if name and pg_databases is not None:
        pg_databases.drop(name)


COUNTED = (
    Group,
    Member,
    Account,
    JournalEntry,
    Posting,
    Meeting,
    MeetingLine,
    Loan,
    LoanInstalment,
    AuditEvent,
)


def counts(book: Book) -> dict[str, int]:
    """How many rows each table that an import writes to holds (one query)."""
    query = select(
        *(
            select(func.count()).select_from(m).scalar_subquery().label(m.__tablename__)
            for m in COUNTED
        )
    )
    with book.read() as s:
        return dict(s.execute(query).one()._mapping)


def run_import(target: Target, kind: str, path: Path) -> object:
    gid = target.group_id
    importers: dict[str, Callable[[Any], object]] = {
        "members": lambda s: import_members(s, gid, path),
        "opening": lambda s: import_opening_balances(s, gid, path, as_of=CYCLE_START),
        "loans": lambda s: import_opening_loans(s, gid, path, as_of=CUT_OFF),
        "sheet": lambda s: import_meetings(s, gid, path, today=TODAY),
        "journal": lambda s: import_journal(s, path),
    }
    return target.book.write(importers[kind])


def place(tmp_path: Path, c: Case) -> Path:
    path = tmp_path / f"{SUFFIX[c.kind]}{c.suffix}"
    if c.content is None:
        path.mkdir()
        return path
    path.write_bytes(c.content() if callable(c.content) else c.content)
    return path


@pytest.mark.parametrize("c", CASES)
def test_a_bad_file_is_refused_naming_the_row_and_field_and_nothing_is_written(
    target: Target, tmp_path: Path, c: Case
) -> None:
    path = place(tmp_path, c)
    before = counts(target.book)
    with pytest.raises(ImportRejected) as caught:
        run_import(target, c.kind, path)
    message = str(caught.value)
    assert caught.value.row == c.row, message
    if c.row is not None:
        assert message.startswith(f"Row {c.row}: "), message
    for phrase in c.phrases:
        assert phrase in message, message
    assert message.endswith("Nothing was imported."), message
    assert "Traceback" not in message and "Error:" not in message
    assert counts(target.book) == before


def test_injected_sql_in_a_name_is_kept_as_text_and_never_run(target: Target, tmp_path: Path):
    path = tmp_path / "m.csv"
    path.write_bytes(csv_bytes("members", f'M66,"{SQL}",F,,0,2026-01-05', good=False))
    before = counts(target.book)
    summary = run_import(target, "members", path)
    assert summary.added == 1  # type: ignore[attr-defined]
    with target.book.read() as s:
        names = {m.code: m.name_latin for m in list_members(s, target.group_id)}
    assert names["M66"] == SQL
    after = counts(target.book)
    assert after["members"] == before["members"] + 1  # the table is still there, and grew


def test_khmer_digits_and_thousands_separators_import_as_numbers(book: Book, tmp_path: Path):
    """Treasurers type Khmer digits: the same file in ០-៩ and in 0-9 gives the same book."""
    v = make_vsla(book)
    members = tmp_path / "m.csv"
    members.write_text(
        HEADERS["members"] + "\nM១០,Heng Sreyneang,F,០១២ ៣៤៥ ៦៧៨,១,២០២៦-០១-០៥\n",
        encoding="utf-8",
    )
    book.write(lambda s: import_members(s, v.group.id, members))
    opening = tmp_path / "o.csv"
    opening.write_text(
        HEADERS["opening"] + '\nM១០,"១២០,០០០",15 000,៥០០០០,"2,000"\nM01,"98,000",,25\u00a0000,\n',
        encoding="utf-8-sig",
    )
    book.write(lambda s: import_opening_balances(s, v.group.id, opening, as_of=CYCLE_START))
    with book.read() as s:
        m10 = next(m for m in list_members(s, v.group.id) if m.code == "M10")
        assert (m10.phone, m10.id_poor, m10.joined_on) == ("012 345 678", 1, CYCLE_START)
        p = member_position(s, m10.id)
        assert (p.compulsory_savings, p.voluntary_savings, p.share_money_held) == (
            120_000,
            15_000,
            2_000,
        )
        m01 = next(m for m in list_members(s, v.group.id) if m.code == "M01")
        assert member_position(s, m01.id).compulsory_savings == 98_000


# --- the parsers of typed values -----------------------------------------------------------------
# What the importers' cells and the app's input fields (tui.common.read_amount and
# read_date call these) accept, and what they refuse with which sentence.

ACCEPTED_AMOUNTS = [
    ("5000", "KHR", 5000),
    ("៥០០០", "KHR", 5000),
    ("៥,០០០", "KHR", 5000),
    ("1,000", "KHR", 1000),
    ("1 000", "KHR", 1000),
    ("1\u00a0000", "KHR", 1000),  # the no-break space a spreadsheet writes
    ("1\u202f000", "KHR", 1000),
    ("1_000", "KHR", 1000),
    ("1,000,000", "KHR", 1_000_000),
    ("5000.00", "KHR", 5000),
    ("-1,500.25", "USD", -150025),
    ("+5", "KHR", 5),
    (".5", "USD", 50),
    ("0", "KHR", 0),
    ("-0", "KHR", 0),
    ("1.000", "RICE", 1000),  # a kilogram to the gram: three decimals are rice's own
    ("120.5", "RICE", 120_500),
    ("១២០.៥", "RICE", 120_500),
    ("1,000.250", "RICE", 1_000_250),
    ("0" * 5000 + "1", "KHR", 1),
    ("1." + "0" * 5000, "USD", 100),
    (str(MAX_POSTING_MINOR), "KHR", MAX_POSTING_MINOR),
    ("-" + str(MAX_POSTING_MINOR), "KHR", -MAX_POSTING_MINOR),
]


@pytest.mark.parametrize(("text", "code", "minor"), ACCEPTED_AMOUNTS)
def test_amounts_people_write_are_read_exactly(text: str, code: str, minor: int) -> None:
    assert parse_amount(text, code) == minor


REFUSED_AMOUNTS = [
    ("", "KHR", "The amount is empty"),
    ("   ", "KHR", "The amount is empty"),
    ("abc", "KHR", "'abc' is not a number"),
    (SQL, "KHR", "is not a number"),
    ("NaN", "KHR", "'NaN' is not a number"),
    ("Infinity", "KHR", "'Infinity' is not a number"),
    ("0x10", "KHR", "'0x10' is not a number"),
    ("1.2.3", "KHR", "'1.2.3' is not a number"),
    ("--5", "KHR", "'--5' is not a number"),
    ("5-", "KHR", "'5-' is not a number"),
    ("(500)", "KHR", "'(500)' is not a number"),
    ("5\x00000", "KHR", "is not a number"),
    ("1.000", "KHR", "'1.000' is ambiguous"),
    ("1.000", "USD", "or 1.00 if not"),
    ("12.500", "THB", "'12.500' is ambiguous"),
    ("1.000.000", "KHR", "dots between thousands; write 1000000 or 1,000,000"),
    ("1,5", "USD", "commas or spaces go between thousands"),
    ("1,50", "USD", "commas or spaces go between thousands"),
    ("10 00", "KHR", "commas or spaces go between thousands"),
    ("5,", "KHR", "commas or spaces go between thousands"),
    (",5", "KHR", "is not a number"),
    ("12.5", "KHR", "12.5 KHR has more decimals than Cambodian riel allows (0)"),
    ("0.001", "USD", "more decimals than US dollar allows (2)"),
    ("0.0005", "RICE", "0.0005 RICE has more decimals than Rice (kilograms) allows (3)"),
    ("1e5", "KHR", "scientific notation"),
    ("1.2E+11", "KHR", "scientific notation"),
    ("1e30", "KHR", "beyond the largest amount"),
    (BIGINT_PLUS_ONE, "KHR", "9,223,372,036,854,775,808 KHR is beyond the largest amount"),
    ("-" + BIGINT_PLUS_ONE, "KHR", "beyond the largest amount"),
    (str(MAX_POSTING_MINOR + 1), "KHR", "beyond the largest amount"),
    ("9" * 40, "KHR", "beyond the largest amount"),
    ("9" * 5000, "USD", "beyond the largest amount"),
    ("1" * 100_000 + "x", "KHR", "is not a number"),
    ("٥٠٠٠", "KHR", "digits of another script"),
    ("５０００", "KHR", "digits of another script"),
    ("$5", "USD", "write the number alone"),
    ("5000 KHR", "KHR", "write the number alone"),
    ("12 kg", "RICE", "write the number alone"),
]


@pytest.mark.parametrize(("text", "code", "phrase"), REFUSED_AMOUNTS)
def test_amounts_that_are_not_amounts_are_refused_saying_why(
    text: str, code: str, phrase: str
) -> None:
    with pytest.raises(InvalidAmount) as caught:
        parse_amount(text, code)
    assert phrase in str(caught.value)
    assert len(str(caught.value)) < 300  # a pasted novel is not quoted back whole


ACCEPTED_DATES = [
    ("2026-03-15", dt.date(2026, 3, 15)),
    (" 2026-03-15 ", dt.date(2026, 3, 15)),
    ("២០២៦-០៣-១៥", dt.date(2026, 3, 15)),
    ("2026-3-5", dt.date(2026, 3, 5)),
    ("2028-02-29", dt.date(2028, 2, 29)),
    ("1900-01-01", dt.date(1900, 1, 1)),
    ("2099-12-31", dt.date(2099, 12, 31)),
]


@pytest.mark.parametrize(("text", "day"), ACCEPTED_DATES)
def test_dates_people_write_are_read(text: str, day: dt.date) -> None:
    assert parse_date(text) == day


REFUSED_DATES = [
    ("", "'' is not a date written as YYYY-MM-DD"),
    ("22/11/2026", "'22/11/2026' is not a date written as YYYY-MM-DD"),
    ("20260315", "is not a date written as YYYY-MM-DD"),
    ("2026-W11-1", "is not a date written as YYYY-MM-DD"),
    ("2026-03-15T10:00", "is not a date written as YYYY-MM-DD"),
    ("0001-01-01", "0001-01-01 is out of range"),
    ("1899-12-31", "out of range"),
    ("9999-12-31", "9999-12-31 is out of range"),
    ("2026-02-30", "February 2026 has 28 days"),
    ("2027-02-29", "February 2027 has 28 days"),
    ("2026-04-31", "April 2026 has 30 days"),
    ("2026-00-10", "there is no month 0"),
    ("2026-13-01", "there is no month 13"),
    ("2026-01-00", "January 2026 has 31 days"),
    ("２０２６-03-15", "is not a date written as YYYY-MM-DD"),
    (SQL, "is not a date written as YYYY-MM-DD"),
    ("2026-03-15\x00", "is not a date written as YYYY-MM-DD"),
]


@pytest.mark.parametrize(("text", "phrase"), REFUSED_DATES)
def test_dates_that_are_not_days_are_refused_saying_why(text: str, phrase: str) -> None:
    with pytest.raises(InvalidDate) as caught:
        parse_date(text)
    assert phrase in str(caught.value)


@pytest.mark.parametrize(
    ("written", "code"),
    [("M01", "M01"), ("M០១", "M01"), (" ០៧ ", "07"), ("PK-01.3", "PK-01.3")],
)
def test_member_codes_read_khmer_digits_as_digits(written: str, code: str) -> None:
    assert cell_code(5, {"member": written}, "member") == code


def test_an_empty_member_code_names_its_row_and_column() -> None:
    with pytest.raises(ImportRejected, match=r"^Row 5: member is empty"):
        cell_code(5, {"member": "  "}, "member")


def test_khmer_digits_map_one_to_one() -> None:
    assert latin_digits("០១២៣៤៥៦៧៨៩") == "0123456789"
    assert latin_digits("M-០៧ ដារ៉ា") == "M-07 ដារ៉ា"  # letters are left alone
