"""Fuzzing the readers of files that come from outside: CSV, XLSX and sync bundles
(issue #10, part 3).

Whatever bytes a file holds, reading it has two outcomes only: the rows (or the bundle's
document), or the project's own refusal — a ``LedgerError`` whose message is a plain
sentence. A raw Python exception (``UnicodeDecodeError``, ``KeyError``,
``zipfile.BadZipFile``, ``zlib.error``, ``RecursionError``...) would reach the treasurer
as a crash, so Hypothesis hunts for one: arbitrary bytes, text in every encoding, CSV
cells with quotes, commas, control characters and formulas, workbooks of arbitrary cell
values and types, workbooks cut short or with a damaged part, gzip of arbitrary JSON, and
a real bundle from the demo book cut short or with a byte changed.

The readers touch no database, so these tests run once, not once per engine; the demo
bundle is exported from a copy of the demo book on SQLite.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ledger.csvfile import CONTROL, parse_date, read_csv
from ledger.db import Book
from ledger.errors import InvalidAmount, InvalidDate, LedgerError
from ledger.groups import find_group
from ledger.money import MAX_POSTING_MINOR, parse_amount
from ledger.sync import export_bundle, read_bundle
from ledger.xlsxfile import read_table, read_xlsx
from tests.conftest import DemoBooks
from tests.helpers import TESTER

REQUIRED = ("code", "name_latin", "joined_on")
OPTIONAL = ("sex", "phone", "savings")
COLUMNS = {"required": REQUIRED, "optional": OPTIONAL}
FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def outcome(read: Callable[[], Any]) -> Any:
    """Read; a refusal must be ours and readable. Anything else propagates and fails."""
    try:
        return read()
    except LedgerError as exc:
        message = str(exc)
        assert message.strip(), f"{type(exc).__name__} with an empty message"
        assert not CONTROL.search(message), f"unprintable message: {message!r}"
        assert len(message) < 1200, f"a message of {len(message)} characters"
        assert "Traceback" not in message
        return exc


def check_rows(rows: Any) -> None:
    """What a reader that did not refuse promises each importer."""
    if isinstance(rows, LedgerError):
        return
    last = 0
    for number, values in rows:
        assert number > last
        last = number
        assert set(values) <= {*REQUIRED, *OPTIONAL}
        for value in values.values():
            assert isinstance(value, str)
            assert value == value.strip()
            assert not CONTROL.search(value)
            assert not value.startswith(("=", "@"))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# --- CSV -----------------------------------------------------------------------------------

# Text a spreadsheet cell may hold, with what breaks readers: quotes, commas, line breaks,
# NUL and escape characters, formula starts, Khmer, byte-order marks, lone surrogates are
# left out (no encoder writes them).
CELL_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(',"\r\n\x00\x1b\t=@-+ .;៥០ក\ufeff\u00a0')),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=12,
)


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


HEADERS = st.one_of(
    st.permutations([*REQUIRED, *OPTIONAL]).map(list),
    st.lists(st.sampled_from([*REQUIRED, *OPTIONAL, "Code", " name_latin ", "", "x"]), max_size=8),
    st.lists(CELL_TEXT, max_size=5),
)


@FIXTURES
@given(data=st.binary(max_size=400))
@example(data=b"")
@example(data=b"\xff\xfe" + "code,name_latin,joined_on\n".encode("utf-16-le"))
@example(data=b"code,name_latin,joined_on\nM1,\xe9,2026-01-05\n")
@example(data=b"PK\x03\x04garbage")
@example(data=b"\xd0\xcf\x11\xe0")
def test_any_bytes_read_as_csv_give_rows_or_a_plain_refusal(scratch: Path, data: bytes) -> None:
    path = scratch / "any.csv"
    path.write_bytes(data)
    check_rows(outcome(lambda: list(read_csv(path, **COLUMNS))))
    check_rows(outcome(lambda: list(read_table(path, **COLUMNS))))


@FIXTURES
@given(
    header=HEADERS,
    rows=st.lists(st.lists(CELL_TEXT, max_size=8), max_size=6),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252"]),
)
def test_spreadsheet_like_csv_in_any_encoding_gives_rows_or_a_plain_refusal(
    scratch: Path, header: list[str], rows: list[list[str]], encoding: str
) -> None:
    path = scratch / "sheet.csv"
    path.write_bytes(csv_text(header, rows).encode(encoding, errors="replace"))
    check_rows(outcome(lambda: list(read_csv(path, **COLUMNS))))


@FIXTURES
@given(rows=st.lists(st.lists(CELL_TEXT, min_size=6, max_size=6), min_size=1, max_size=6))
def test_a_good_header_over_any_cells_gives_rows_or_names_the_row(
    scratch: Path, rows: list[list[str]]
) -> None:
    """Past a good header, a refusal always names its row."""
    path = scratch / "cells.csv"
    path.write_text(csv_text([*REQUIRED, *OPTIONAL], rows), encoding="utf-8")
    result = outcome(lambda: list(read_csv(path, **COLUMNS)))
    check_rows(result)
    if isinstance(result, LedgerError):
        assert str(result).startswith("Row "), str(result)


# --- the typed values inside the cells -------------------------------------------------------


@given(text=st.text(max_size=40))
@example(text="1" * 5000)
@example(text="9" * 30 + "x")
@example(text="1e999999")
def test_any_text_is_an_amount_or_refused_as_one(text: str) -> None:
    for code in ("KHR", "USD", "RICE"):
        try:
            minor = parse_amount(text, code)
        except InvalidAmount as exc:
            assert str(exc).strip() and len(str(exc)) < 400
        else:
            assert abs(minor) <= MAX_POSTING_MINOR


KHMER = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


@given(
    minor=st.integers(-MAX_POSTING_MINOR, MAX_POSTING_MINOR),
    code=st.sampled_from(["KHR", "USD", "THB", "RICE"]),
    khmer=st.booleans(),
    separator=st.sampled_from(["", ",", " ", "\u00a0"]),
)
def test_every_amount_written_out_reads_back_exactly(
    minor: int, code: str, khmer: bool, separator: str
) -> None:
    """However a treasurer writes it — Khmer digits, thousands separated — it is exact."""
    exponent = {"KHR": 0, "USD": 2, "THB": 2, "RICE": 3}[code]
    whole, part = divmod(abs(minor), 10**exponent)
    text = f"{whole:,}".replace(",", separator)
    if exponent:
        text += f".{part:0{exponent}d}"
    text = ("-" if minor < 0 else "") + text
    if khmer:
        text = text.translate(KHMER)
    assert parse_amount(text, code) == minor


@given(text=st.text(max_size=20))
@example(text="2026-02-30")
@example(text="0000-00-00")
def test_any_text_is_a_date_or_refused_as_one(text: str) -> None:
    try:
        day = parse_date(text)
    except InvalidDate as exc:
        assert str(exc).strip()
    else:
        assert dt.date(1900, 1, 1) <= day <= dt.date(2099, 12, 31)


@given(day=st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)), khmer=st.booleans())
def test_every_date_written_out_reads_back(day: dt.date, khmer: bool) -> None:
    text = day.isoformat()
    assert parse_date(text.translate(KHMER) if khmer else text) == day


# --- XLSX ----------------------------------------------------------------------------------

XLSX_TEXT = CELL_TEXT.map(lambda s: ILLEGAL_CHARACTERS_RE.sub("", s))
CELL_VALUES = st.one_of(
    st.none(),
    XLSX_TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, max_value=10**12),
    st.booleans(),
    st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(9999, 12, 31)),
    st.times(),
    st.sampled_from(["=SUM(A1:A2)", "=1/0", "@x", "#DIV/0!", "=B2*2", "5000", "៥០០០"]),
)


def workbook_bytes(rows: list[list[Any]], *, title: str = "Sheet1") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@FIXTURES
@given(
    header=st.one_of(HEADERS, st.lists(CELL_VALUES, max_size=5)),
    rows=st.lists(st.lists(CELL_VALUES, max_size=8), max_size=6),
    title=st.sampled_from(["Sheet1", "members", "ដារ៉ា"]),
)
def test_any_workbook_gives_rows_or_a_plain_refusal(
    scratch: Path, header: list[Any], rows: list[list[Any]], title: str
) -> None:
    clean = [ILLEGAL_CHARACTERS_RE.sub("", h) if isinstance(h, str) else h for h in header]
    path = scratch / "any.xlsx"
    path.write_bytes(workbook_bytes([clean, *rows], title=title))
    result = outcome(lambda: list(read_xlsx(path, **COLUMNS, sheet="members")))
    check_rows(result)


@pytest.fixture(scope="module")
def good_workbook() -> bytes:
    return workbook_bytes(
        [
            [*REQUIRED, *OPTIONAL],
            ["M01", "Sok Dara", dt.date(2026, 1, 5), "F", "012 345 678", 5000],
            ["M02", "Chan Sophea", dt.date(2026, 1, 5), "F", None, 2500.5],
            ["M03", "Keo Vuthy", "2026-01-05", "M", None, "=F2+F3"],
        ]
    )


@FIXTURES
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".xlsx", ".xlsm", ".csv", ".xls"]))
def test_any_bytes_read_as_a_workbook_give_a_plain_refusal(
    scratch: Path, data: bytes, suffix: str
) -> None:
    path = scratch / f"bytes{suffix}"
    path.write_bytes(data)
    check_rows(outcome(lambda: list(read_table(path, **COLUMNS))))


@FIXTURES
@given(cut=st.integers(min_value=0, max_value=10_000), flips=st.lists(st.integers(0, 10**6)))
def test_a_workbook_cut_short_or_with_bytes_changed_gives_a_plain_refusal(
    scratch: Path, good_workbook: bytes, cut: int, flips: list[int]
) -> None:
    data = bytearray(good_workbook[: len(good_workbook) - cut % len(good_workbook)])
    for flip in flips:
        if data:
            data[flip % len(data)] ^= 1 + flip % 255
    path = scratch / "damaged.xlsx"
    path.write_bytes(bytes(data))
    check_rows(outcome(lambda: list(read_xlsx(path, **COLUMNS))))


def _rezip(good: bytes, part: str, replace: Callable[[bytes], bytes]) -> bytes:
    """The same workbook with one part (an XML file inside the zip) replaced."""
    source = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, replace(data) if item.filename == part else data)
    return out.getvalue()


PARTS = st.sampled_from(
    [
        "xl/worksheets/sheet1.xml",
        "xl/workbook.xml",
        "xl/styles.xml",
        "xl/sharedStrings.xml",
        "[Content_Types].xml",
        "xl/_rels/workbook.xml.rels",
        "docProps/app.xml",
    ]
)


@FIXTURES
@given(
    part=PARTS,
    cut=st.integers(min_value=0, max_value=4000),
    junk=st.binary(max_size=40),
    at=st.integers(min_value=0, max_value=4000),
)
@example(part="xl/worksheets/sheet1.xml", cut=200, junk=b"", at=0)
@example(part="xl/worksheets/sheet1.xml", cut=0, junk=b"<c r='B2' t='d'><v>x</v></c>", at=900)
@example(part="xl/worksheets/sheet1.xml", cut=0, junk=b'<c r="A9" s="1"><v>9e999</v></c>', at=900)
@example(part="xl/workbook.xml", cut=0, junk=b"\xff\xfe", at=0)
def test_a_workbook_with_a_damaged_part_gives_a_plain_refusal(
    scratch: Path, good_workbook: bytes, part: str, cut: int, junk: bytes, at: int
) -> None:
    """Read-only openpyxl parses a sheet's XML as the rows are read: damage deep inside
    the sheet fails mid-way, after rows were handed out, and is refused there too."""

    def damage(xml: bytes) -> bytes:
        kept = xml[: max(len(xml) - cut, 0)]
        where = at % (len(kept) + 1)
        return kept[:where] + junk + kept[where:]

    path = scratch / "part.xlsx"
    path.write_bytes(_rezip(good_workbook, part, damage))
    check_rows(outcome(lambda: list(read_xlsx(path, **COLUMNS))))


@FIXTURES
@given(members=st.dictionaries(st.sampled_from(list(PARTS.elements)), st.binary(max_size=60)))
def test_a_zip_of_arbitrary_parts_gives_a_plain_refusal(
    scratch: Path, members: dict[str, bytes]
) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    path = scratch / "zip.xlsx"
    path.write_bytes(out.getvalue())
    check_rows(outcome(lambda: list(read_xlsx(path, **COLUMNS))))


# --- sync bundles ----------------------------------------------------------------------------


class Bundle(bytes):
    """A bundle's bytes, shown by its size in Hypothesis's reports (not 90 kB of repr)."""

    def __repr__(self) -> str:
        return f"<a demo bundle of {len(self)} bytes>"


@pytest.fixture(scope="module")
def bundle(demo_books: DemoBooks, tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """A real bundle: the last entries of a demo group, exported from a copy of the demo
    book (exporting records a reading in the audit trail, and the demo book is shared)."""
    folder = tmp_path_factory.mktemp("bundle")
    copy = folder / "village.sqlite"
    shutil.copyfile(Path(demo_books.url("sqlite").removeprefix("sqlite:///")), copy)
    book = Book(f"sqlite:///{copy}").as_user(TESTER)
    path = folder / "group.sansam"

    def export(s: Any) -> None:
        export_bundle(s, find_group(s, "SR-ACHM-01").id, path, since=1)

    book.write(export)
    book.close()
    data = path.read_bytes()
    assert isinstance(read_bundle(path), dict)  # the fuzzed reader takes the real thing
    return Bundle(data)


def read_bytes_as_bundle(scratch: Path, data: bytes) -> Any:
    path = scratch / "bundle.sansam"
    path.write_bytes(data)
    return outcome(lambda: read_bundle(path))


@FIXTURES
@given(data=st.binary(max_size=300))
@example(data=b"")
@example(data=b"\x1f\x8b")
@example(data=gzip.compress(b"")[:12])
def test_any_bytes_read_as_a_bundle_give_a_plain_refusal(scratch: Path, data: bytes) -> None:
    assert isinstance(read_bytes_as_bundle(scratch, data), LedgerError | dict)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
DOCUMENTS = st.one_of(
    JSON,
    st.fixed_dictionaries({"payload": JSON}),
    st.fixed_dictionaries({"payload": st.fixed_dictionaries({"format": JSON}), "signature": JSON}),
    st.fixed_dictionaries(
        {
            "payload": st.fixed_dictionaries(
                {"format": st.just("sansam-sync/1")}, optional={"x": JSON}
            )
        }
    ),
)


@FIXTURES
@given(document=DOCUMENTS)
def test_gzip_of_any_json_gives_a_document_or_a_plain_refusal(scratch: Path, document: Any) -> None:
    data = gzip.compress(json.dumps(document).encode())
    result = read_bytes_as_bundle(scratch, data)
    if isinstance(result, dict):
        assert result["payload"]["format"] == "sansam-sync/1"


@FIXTURES
@given(text=st.binary(max_size=200))
def test_gzip_of_any_bytes_gives_a_plain_refusal(scratch: Path, text: bytes) -> None:
    read_bytes_as_bundle(scratch, gzip.compress(text))


@FIXTURES
@given(keep=st.floats(min_value=0, max_value=1, exclude_max=True))
def test_a_real_bundle_cut_short_gives_a_plain_refusal(
    scratch: Path, bundle: bytes, keep: float
) -> None:
    result = read_bytes_as_bundle(scratch, bundle[: int(len(bundle) * keep)])
    assert isinstance(result, LedgerError)


# The first byte of the deflate stream (after gzip's 10-byte header) set to 0x07 declares a
# block of the reserved type 3: zlib refuses it whatever the bundle holds, so the example
# fails the same way on every run, while the generated changes explore the rest.
INVALID_BLOCK = (10, 0x07)


@FIXTURES
@given(changes=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1))
@example(changes=[INVALID_BLOCK])
def test_a_real_bundle_with_bytes_changed_gives_a_plain_refusal(
    scratch: Path, bundle: bytes, changes: list[tuple[int, int]]
) -> None:
    data = bytearray(bundle)
    for where, value in changes:
        data[where % len(data)] = value
    read_bytes_as_bundle(scratch, bytes(data))


def test_deeply_nested_json_in_a_bundle_gives_a_plain_refusal(scratch: Path) -> None:
    read_bytes_as_bundle(scratch, gzip.compress(b"[" * 100_000 + b"]" * 100_000))


def test_a_folder_given_as_a_bundle_is_refused_plainly(scratch: Path) -> None:
    folder = scratch / "a-folder.sansam"
    folder.mkdir(exist_ok=True)
    assert isinstance(outcome(lambda: read_bundle(folder)), LedgerError)
