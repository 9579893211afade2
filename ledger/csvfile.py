"""Reading the CSV files treasurers and coordinators make in spreadsheets.

One reader for every import, so each gives the same clear errors: the file must be UTF-8
(with or without the byte-order mark Excel writes), the header must name the expected
columns and no unknown ones (a typo in a column name would otherwise silently drop a
column), every row must have as many fields as the header, and a cell that is a
spreadsheet formula is refused rather than imported as text.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path

from ledger.errors import ImportRejected, LedgerError
from ledger.money import parse_amount

_FORMULA_START = ("=", "@")


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
            columns = [h.strip().lower() for h in header]
            width = len(columns)
            known = (*required, *optional)
            missing = [c for c in required if c not in columns]
            unknown = [c for c in columns if c and c not in known]
            if missing or unknown:
                problems = []
                if missing:
                    problems.append(f"lacks {', '.join(missing)}")
                if unknown:
                    problems.append(f"has unknown column(s) {', '.join(unknown)}")
                raise ImportRejected(
                    1,
                    f"The header {' and '.join(problems)}; the columns are "
                    f"{','.join(required)}"
                    + (f" (optional: {','.join(optional)})." if optional else "."),
                )
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise ImportRejected(row_number + 1, f"Not valid CSV: {exc}.") from None
                row_number = reader.line_num
                if len(fields) != width:
                    if not any(f.strip() for f in fields):
                        continue  # a blank line
                    raise ImportRejected(
                        row_number,
                        f"Expected {width} fields, found {len(fields)} "
                        "(a comma inside a value must be in quotes).",
                    )
                # The hot loop of million-row imports: C-level map and zip, one pass.
                values = dict(zip(columns, map(str.strip, fields), strict=True))
                if not any(values.values()):
                    continue  # a row of empty cells
                if any(v.startswith(_FORMULA_START) for v in values.values()):
                    column, value = next(
                        (c, v) for c, v in values.items() if v.startswith(_FORMULA_START)
                    )
                    raise ImportRejected(
                        row_number,
                        f"{column} is a spreadsheet formula ({value[:20]!r}); "
                        "save the values, not the formulas.",
                    )
                yield row_number, values
    except UnicodeDecodeError:
        raise ImportRejected(
            row_number + 1,
            "The file is not UTF-8 text. Save it from the spreadsheet as 'CSV UTF-8'.",
        ) from None
    except FileNotFoundError:
        raise ImportRejected(None, f"There is no file {str(path)!r}.") from None


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
    text = values.get(column, "").strip().lower()
    if text in ("yes", "y", "1", "true", "x", "present"):
        return True
    if text in ("no", "n", "0", "false", "absent"):
        return False
    raise ImportRejected(row, f"{column} is {text!r}; write yes or no.")


def cell_date(row: int, values: dict[str, str], column: str) -> dt.date:
    text = values.get(column, "")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ImportRejected(
            row, f"{column} {text!r} is not a date written as YYYY-MM-DD (e.g. 2026-03-15)."
        ) from None
