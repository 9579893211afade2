"""Reading the Excel workbooks (.xlsx) treasurers and coordinators keep their registers in.

A treasurer who keeps the member register in Excel should not have to know what "CSV
UTF-8" means: the importers take the workbook itself. ``read_xlsx`` yields exactly what
``ledger.csvfile.read_csv`` yields — the row number as the spreadsheet shows it and
``{column: stripped text}`` — so every importer checks a cell once, whatever the file
was, and gives the same errors. ``read_table`` chooses by the file's suffix.

A cell becomes the text a person typed, never a float:

- a whole number (Excel stores every number as a float: 5000 is 5000.0) is its digits,
  "5000"; any other number is written out exactly from its shortest form (5000.5 →
  "5000.5", 1e-07 → "0.0000001"), so the amount parser refuses 5000.5 riel as it
  refuses it typed in a CSV, and reads 12.35 dollars as 1235 cents, not 1234.99…;
- a date (a number with a date format) is ISO text, 2026-03-15 (with its time, if any);
- TRUE and FALSE are "TRUE" and "FALSE", as Excel writes them to CSV.

A formula (``=SUM(B2:B9)``, with or without a value computed by the spreadsheet), an error
(``#DIV/0!``) or text holding a control character is refused like ``read_csv`` refuses
one: the file must hold the values. A file that is not a workbook, or a workbook damaged
anywhere (openpyxl then raises whatever its zip or XML parser raised), is refused with one
plain sentence naming the row where reading stopped, never a Python exception.

The workbook is opened read-only without evaluating anything; its first sheet is read, or
the sheet named like the import (a "members" sheet for the member import) when there is
one. Blank rows are skipped; a value in a column without a header is refused rather than
silently dropped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import openpyxl
from openpyxl.utils import get_column_letter

from ledger.csvfile import CONTROL, check_header, control_reason, open_refusal, read_csv
from ledger.errors import ImportRejected, LedgerError

XLSX_SUFFIXES = (".xlsx", ".xlsm")
# Spreadsheet formats openpyxl cannot read: the treasurer saves them again as .xlsx.
OTHER_SPREADSHEETS = (".xls", ".xlsb", ".ods", ".numbers")
# The first bytes of an old binary Office file (.xls, .doc), whatever its name says.
_OLE2 = b"\xd0\xcf\x11\xe0"
_FORMULA_START = ("=", "@")
# A float holds every whole number up to 2^53 exactly; beyond, its digits are made up.
_EXACT_WHOLE = 2**53


def read_table(
    path: str | Path,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    sheet: str | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of an import file: an Excel workbook by its suffix, else CSV."""
    suffix = Path(path).suffix.lower()
    start = _first_bytes(path)
    if suffix in XLSX_SUFFIXES or start == b"PK\x03\x04":
        return read_xlsx(path, required=required, optional=optional, sheet=sheet)
    if suffix in OTHER_SPREADSHEETS or start == _OLE2:
        kind = f"{suffix} files" if suffix in OTHER_SPREADSHEETS else "old Excel (.xls) files"
        raise ImportRejected(
            None,
            f"Sansam cannot read {kind}. Open it in the spreadsheet and save it as "
            "'Excel Workbook (.xlsx)' or as 'CSV UTF-8 (.csv)'.",
        )
    return read_csv(path, required=required, optional=optional)


def _first_bytes(path: str | Path) -> bytes:
    """A workbook saved under another name (an .xlsx renamed .csv) is still read as one."""
    try:
        with open(path, "rb") as handle:
            return handle.read(4)
    except OSError:
        return b""  # the CSV reader names the missing file, or the folder


def read_xlsx(
    path: str | Path,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    sheet: str | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number as the spreadsheet shows it, {column: stripped text})."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, after the last row
    except OSError as exc:
        raise open_refusal(path, exc) from None
    with handle:
        name = Path(path).name
        book = _open(handle, name)
        try:
            yield from _rows(_sheet(book, sheet), required, optional, name)
        finally:
            with contextlib.suppress(Exception):  # a damaged archive may fail to close too
                book.close()


def _open(handle: BinaryIO, name: str) -> Any:
    # From the open file, not the name: openpyxl would refuse a workbook by its suffix.
    try:
        return openpyxl.load_workbook(handle, read_only=True, data_only=False)
    except Exception:  # see _damaged
        raise _damaged(name, None) from None


def _damaged(name: str, row: int | None) -> ImportRejected:
    """A file openpyxl cannot read. A damaged or foreign file makes it raise almost any
    exception (a bad zip, XML or number, a missing part, a key, an index...): each one
    means the same to the treasurer, so each is said the same way."""
    if row is None:
        return ImportRejected(
            None,
            f"{name} is not an Excel workbook (.xlsx) Sansam can read. Save it from the "
            "spreadsheet as 'Excel Workbook (.xlsx)' or as 'CSV UTF-8 (.csv)'.",
        )
    return ImportRejected(
        row,
        f"{name} is damaged here and cannot be read further. Open it in the spreadsheet "
        "and save it again as 'Excel Workbook (.xlsx)' or as 'CSV UTF-8 (.csv)'.",
    )


def _cells(ws: Any, name: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The sheet's rows, numbered as the spreadsheet shows them. In read-only mode the
    sheet's XML is parsed as it is read, so a damaged part fails here, mid-sheet."""
    rows = iter(ws.iter_rows())
    number = 0
    while True:
        number += 1
        try:
            cells = next(rows)
        except StopIteration:
            return
        except LedgerError:
            raise
        except Exception:  # see _damaged
            raise _damaged(name, number) from None
        yield number, cells


def _sheet(book: Any, wanted: str | None) -> Any:
    sheets = list(book.worksheets)
    if not sheets:
        raise ImportRejected(None, "The workbook has no sheet to read.")
    if wanted:
        for ws in sheets:
            if ws.title.strip().lower() == wanted.lower():
                return ws
    return sheets[0]


def _rows(
    ws: Any, required: Sequence[str], optional: Sequence[str], name: str
) -> Iterator[tuple[int, dict[str, str]]]:
    ws.reset_dimensions()  # some programs write a wrong size: read every cell there is
    header: list[str] | None = None
    for number, cells in _cells(ws, name):
        if header is None:
            texts = [_text(number, cell, index) for index, cell in enumerate(cells)]
            if any(texts):
                header = check_header(number, texts, required, optional, sheet=ws.title)
            continue
        values = dict.fromkeys((c for c in header if c), "")
        filled = False
        for index, cell in enumerate(cells):
            column = header[index] if index < len(header) else ""
            text = _text(number, cell, index, column)
            if not text:
                continue
            if not column:
                raise ImportRejected(
                    number,
                    f"Cell {get_column_letter(index + 1)}{number} holds {text[:20]!r} but its "
                    "column has no header; name the column or clear it.",
                )
            values[column] = text
            filled = True
        if filled:
            yield number, values
    if header is None:
        raise ImportRejected(None, f"The sheet {ws.title!r} is empty; expected a header row.")


def _text(row: int, cell: Any, index: int, column: str = "") -> str:
    """What the person typed in the cell, as text (see the module's docstring)."""
    value = cell.value
    if value is None:
        return ""
    ref = f"{get_column_letter(index + 1)}{row}"
    where = f"{column} (cell {ref})" if column else f"Cell {ref}"
    kind = getattr(cell, "data_type", None)
    if kind == "f" or (isinstance(value, str) and value.lstrip().startswith(_FORMULA_START)):
        raise ImportRejected(
            row,
            f"{where} is a spreadsheet formula ({str(value)[:20]!r}); "
            "save the values, not the formulas (copy the column and paste values only).",
        )
    if kind == "e":
        raise ImportRejected(row, f"{where} shows the spreadsheet error {value}; correct it first.")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = str(value).strip()
    if CONTROL.search(text):
        raise ImportRejected(row, control_reason(where, text))
    return text


def _number(value: float) -> str:
    """A float as the shortest decimal that reads back as it (Python's repr), in plain
    digits: exact, never a binary expansion such as 12.3499999."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)  # the amount parser refuses it by name
    if value.is_integer() and abs(value) < _EXACT_WHOLE:
        return str(int(value))
    return format(Decimal(repr(value)), "f")
