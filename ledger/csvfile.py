"""Reading the CSV files treasurers and coordinators make in spreadsheets.

One reader for every import, so each gives the same clear errors, naming the row and the
column: the file must be UTF-8 (with or without the byte-order mark Excel writes; a
UTF-16 "Unicode Text" file or a Latin-1 one is named as such, at the row and column of
the first byte that is not UTF-8), the header must name the expected columns, no unknown
ones and none twice (a typo in a column name would otherwise silently drop a column),
every row must have as many fields as the header, a value under a column without a
header is refused rather than dropped, a cell that is a spreadsheet formula is refused
rather than imported as text, and so is a cell holding a control character (NUL, an
escape sequence, a line break inside a name), which no field of the ledger accepts.

The cell readers (``cell_amount``, ``cell_date``, ``cell_code``...) turn one cell into
a value or refuse it naming the row and the column. Khmer digits are read as digits in
every one of them, as in the app's input fields: treasurers type both.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from ledger.errors import ImportRejected, InvalidDate, LedgerError
from ledger.money import latin_digits, parse_amount
from ledger.plain_text import CONTROL

_FORMULA_START = ("=", "@")
_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", re.ASCII)
# Dates an import may name: wide enough for any member's joining, narrow enough to catch
# 0001 and 9999 typed by mistake. Posting, meeting and loan rules narrow it further.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)
_NOT_UTF8 = "Save it from the spreadsheet as 'CSV UTF-8'."


def read_csv(
    path: str | Path, *, required: Sequence[str], optional: Sequence[str] = ()
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number as a spreadsheet shows it, {column: stripped text})."""
    row_number = 1
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            try:
                header = next(reader, None)
            except csv.Error as exc:
                raise ImportRejected(1, f"The header cannot be read as CSV ({exc}).") from None
            if header is None:
                raise ImportRejected(None, "The file is empty; expected a header row.")
            columns = check_header(1, header, required, optional)
            width = len(columns)
            unnamed = [i for i, c in enumerate(columns) if not c]
            while True:
                # A row starts on the line after the last one read: where a spreadsheet
                # shows it, even when a quoted value runs over several lines.
                row_number = reader.line_num + 1
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise ImportRejected(row_number, f"Not valid CSV: {exc}.") from None
                if len(fields) != width:
                    if not any(f.strip() for f in fields):
                        continue  # a blank line
                    raise ImportRejected(
                        row_number,
                        f"Expected {width} fields, found {len(fields)} "
                        "(a comma inside a value must be in quotes).",
                    )
                # The hot loop of million-row imports: C-level map, join and search; the
                # slow search for the cell at fault runs only once something is wrong.
                cells = list(map(str.strip, fields))
                if unnamed:
                    _refuse_unnamed(row_number, cells, unnamed)
                    for index in unnamed:
                        cells[index] = ""
                text = "".join(cells)
                if not text:
                    continue  # a row of empty cells
                if not text.isprintable() and CONTROL.search(text):
                    index = next(i for i, v in enumerate(cells) if CONTROL.search(v))
                    raise ImportRejected(row_number, control_reason(columns[index], cells[index]))
                starts = "\n" + "\n".join(cells)  # a formula starts a cell: after a \n here
                if "\n=" in starts or "\n@" in starts:
                    index = next(i for i, v in enumerate(cells) if v.startswith(_FORMULA_START))
                    raise ImportRejected(
                        row_number,
                        f"{columns[index]} is a spreadsheet formula ({cells[index][:20]!r}); "
                        "save the values, not the formulas.",
                    )
                values = dict(zip(columns, cells, strict=True))
                if unnamed:
                    values.pop("", None)
                yield row_number, values
    except UnicodeDecodeError:
        raise _not_utf8(path, (*required, *optional)) from None
    except OSError as exc:
        raise open_refusal(path, exc) from None


def check_header(
    row: int,
    names: Sequence[str],
    required: Sequence[str],
    optional: Sequence[str],
    *,
    sheet: str | None = None,
) -> list[str]:
    """The header's column names, lower case; refused if a required one is missing, one
    is unknown or one is named twice. ``sheet`` names the workbook's sheet, if any."""
    columns = [n.replace("\ufeff", "").strip().lower() for n in names]
    if any("\x00" in c for c in columns):
        raise ImportRejected(
            row,
            "The header holds NUL characters: the file looks like UTF-16 text "
            f"('Unicode Text'), not UTF-8. {_NOT_UTF8}",
        )
    if any(CONTROL.search(c) for c in columns):
        name = next(c for c in columns if CONTROL.search(c))
        raise ImportRejected(row, f"The column name {name!r} holds a control character.")
    known = (*required, *optional)
    missing = [c for c in required if c not in columns]
    unknown = [c for c in columns if c and c not in known]
    twice = sorted({c for c in columns if c and columns.count(c) > 1})
    if missing or unknown or twice:
        problems = []
        if missing:
            problems.append(f"lacks {', '.join(missing)}")
        if unknown:
            problems.append(f"has unknown column(s) {', '.join(_short(u) for u in unknown)}")
        if twice:
            problems.append(f"names {', '.join(twice)} twice")
        where = f"The header of sheet {sheet!r}" if sheet is not None else "The header"
        raise ImportRejected(
            row,
            f"{where} {' and '.join(problems)}; the columns are "
            f"{','.join(required)}" + (f" (optional: {','.join(optional)})." if optional else "."),
        )
    return columns


def control_reason(column: str, value: str) -> str:
    """Why a cell holding a control character is refused, naming the character."""
    found = CONTROL.search(value)
    char = found.group() if found else "?"
    names = {"\x00": "a NUL character", "\x1b": "an escape sequence", "\t": "a tab"}
    what = names.get(char, "a line break" if char in "\r\n" else f"the control character {char!r}")
    return (
        f"{column} holds {what} ({_short(value)}); type the value again without it "
        "(a name or a note is one line of plain text)."
    )


def _short(value: str) -> str:
    return repr(value if len(value) <= 30 else value[:27] + "...")


def _refuse_unnamed(row: int, fields: list[str], unnamed: list[int]) -> None:
    for index in unnamed:
        if fields[index].strip():
            raise ImportRejected(
                row,
                f"Field {index + 1} holds {_short(fields[index].strip())} but its column has "
                "no header; name the column or clear it.",
            )


def open_refusal(path: str | Path, exc: OSError) -> ImportRejected:
    """A file that cannot be opened, said plainly (never an OSError's traceback)."""
    if isinstance(exc, FileNotFoundError):
        return ImportRejected(None, f"There is no file {str(path)!r}.")
    if isinstance(exc, IsADirectoryError) or Path(path).is_dir():
        return ImportRejected(
            None, f"{str(path)!r} is a folder, not a file; choose the file inside it."
        )
    if isinstance(exc, PermissionError):
        return ImportRejected(
            None, f"{str(path)!r} cannot be read: this user is not allowed to open it."
        )
    return ImportRejected(None, f"{str(path)!r} cannot be read ({exc.strerror or exc}).")


def _not_utf8(path: str | Path, known: Sequence[str]) -> ImportRejected:
    """Name the row and column of the first byte that is not UTF-8 (the decoder reads
    ahead in blocks, so where it failed is not where the reader was)."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(4)
            if start[:2] in (b"\xff\xfe", b"\xfe\xff"):
                return ImportRejected(
                    None, f"The file is UTF-16 text ('Unicode Text'), not UTF-8. {_NOT_UTF8}"
                )
            handle.seek(0)
            text = handle.read().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        return open_refusal(path, exc)
    try:
        rows = csv.reader(text.splitlines(keepends=True))
        names = [c.replace("\ufeff", "").strip().lower() for c in next(rows, [])]
        if any("\ufffd" in c for c in names):
            return ImportRejected(1, f"The file is not UTF-8 text. {_NOT_UTF8}")
        line = rows.line_num
        for fields in rows:
            for index, value in enumerate(fields):
                if "\ufffd" in value:
                    column = names[index] if index < len(names) else ""
                    column = column if column in known else ""
                    where = f"{column} is" if column else "it is"
                    return ImportRejected(
                        line + 1,
                        f"The file is not UTF-8 text ({where} written in another encoding, "
                        f"such as Latin-1). {_NOT_UTF8}",
                    )
            line = rows.line_num
    except csv.Error:
        pass
    return ImportRejected(
        None, f"The file is not UTF-8 text (it is written in another encoding). {_NOT_UTF8}"
    )


def parse_date(text: str) -> dt.date:
    """A date typed as YYYY-MM-DD (in 0-9 or Khmer digits), on the calendar and between
    1900 and 2099; refused with a sentence saying which of the three it is not."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii():
        try:  # the short way, for an import's hot loop; anything odd takes the long one
            day = dt.date.fromisoformat(text)
        except ValueError:
            pass
        else:
            if EARLIEST_DATE <= day <= LATEST_DATE:
                return day
    cleaned = latin_digits(text).strip()
    match = _DATE.fullmatch(cleaned)
    if match is None:
        raise InvalidDate(f"{_short(text)} is not a date written as YYYY-MM-DD (e.g. 2026-03-15).")
    year, month, day = (int(part) for part in match.groups())
    if not EARLIEST_DATE.year <= year <= LATEST_DATE.year:
        raise InvalidDate(
            f"{text.strip()} is out of range; write a date between "
            f"{EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}."
        )
    if not 1 <= month <= 12:
        raise InvalidDate(
            f"{_short(text)} is not a date written as YYYY-MM-DD: there is no month {month}."
        )
    days = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days:
        raise InvalidDate(
            f"{_short(text)} is not a date written as YYYY-MM-DD: "
            f"{calendar.month_name[month]} {year} has {days} days."
        )
    return dt.date(year, month, day)


def cell_amount(row: int, values: dict[str, str], column: str, currency: str) -> int:
    """A non-negative amount in minor units; an empty cell is zero."""
    text = values.get(column, "")
    if not text:
        return 0
    try:
        minor = parse_amount(text, currency)
    except LedgerError as exc:
        raise ImportRejected(row, f"{column}: {exc}") from None
    if minor < 0:
        raise ImportRejected(row, f"{column} cannot be negative ({text}).")
    return minor


def cell_bool(row: int, values: dict[str, str], column: str) -> bool:
    text = latin_digits(values.get(column, "")).strip().lower()
    if text in ("yes", "y", "1", "true", "x", "present"):
        return True
    if text in ("no", "n", "0", "false", "absent"):
        return False
    raise ImportRejected(row, f"{column} is {_short(text)}; write yes or no.")


def cell_date(row: int, values: dict[str, str], column: str) -> dt.date:
    try:
        return parse_date(values.get(column, ""))
    except InvalidDate as exc:
        raise ImportRejected(row, f"{column} {exc}") from None


def cell_code(row: int, values: dict[str, str], column: str) -> str:
    """A member's code as written, Khmer digits read as 0-9 (M០១ is M01); never empty."""
    code = latin_digits(values.get(column, "")).strip()
    if not code:
        raise ImportRejected(row, f"{column} is empty; every row names a member by code.")
    return code


def cell_count(row: int, values: dict[str, str], column: str, low: int, high: int) -> int | None:
    """A whole number from ``low`` to ``high`` (None for an empty cell)."""
    text = latin_digits(values.get(column, "")).strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 6 and low <= int(text) <= high):
        raise ImportRejected(
            row, f"{column} {_short(values[column])} is not a number from {low} to {high}."
        )
    return int(text)
