"""Recording meetings from a collection-sheet spreadsheet (CSV, or the XLSX workbook).

Header: ``date,member,attended,savings,voluntary_savings,withdrawal,shares,social_fund,
fine,loan_repayment,counted_cash`` and optionally ``comment``. Each date is one meeting;
``shares`` is the money paid for shares (whole shares are bought at the cycle's price and
the rest is held for the member); ``fine`` is an absence fine for a member who did not
attend and an "other" fine otherwise; ``counted_cash`` is written on at least one row of
the meeting (the same value if on several); ``loan_repayment`` pays the member's loans,
oldest first. Each meeting is opened, filled and closed
through the meeting service, so the same rules apply as in the app.

All or nothing: the first bad row is named and nothing is written (a file with a header
and no row is refused as the wrong file). A date whose meeting
is already closed with the same sheet is skipped, so re-importing a file changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from ledger.csvfile import cell_amount, cell_bool, cell_code, cell_date
from ledger.errors import ImportRejected, LedgerError
from ledger.groups import get_group
from ledger.loans import repay_member_loans
from ledger.meetings import (
    SheetLine,
    close_meeting,
    find_meeting,
    meeting_summary,
    open_meeting,
    set_line,
)
from ledger.money import format_minor, from_minor
from ledger.permissions import allow
from ledger.xlsxfile import read_table

REQUIRED = (
    "date",
    "member",
    "attended",
    "savings",
    "voluntary_savings",
    "withdrawal",
    "shares",
    "social_fund",
    "fine",
    "loan_repayment",
    "counted_cash",
)

OPTIONAL = ("comment",)


@dataclass(frozen=True, slots=True)
class SheetImportSummary:
    meetings_recorded: int
    meetings_already_present: int
    rows: int


@dataclass
class _Sheet:
    date: dt.date
    first_row: int
    rows: list[tuple[int, str, dict[str, object]]]
    counted: int | None = None
    counted_row: int | None = None
    comment: str = ""
    repayments: dict[str, int] = field(default_factory=dict)


def import_meetings(
    session: Session,
    group_id: int,
    path: str | Path,
    *,
    today: dt.date | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> SheetImportSummary:
    """``on_progress`` is told the number of rows handled after each meeting (recording
    the meetings is the slow part; reading the file is not)."""
    allow(session, "record", group_id, audit=f"imported meeting sheets from {Path(path).name}")
    currency = get_group(session, group_id).currency
    sheets: list[_Sheet] = []
    rows = 0
    for row, values in read_table(path, required=REQUIRED, optional=OPTIONAL, sheet="sheets"):
        rows += 1
        date = cell_date(row, values, "date")
        if not sheets or sheets[-1].date != date:
            if sheets and date < sheets[-1].date:
                raise ImportRejected(
                    row,
                    f"Dates must go forward: {date.isoformat()} comes after "
                    f"{sheets[-1].date.isoformat()}.",
                )
            if any(s.date == date for s in sheets):
                raise ImportRejected(row, f"The rows of {date.isoformat()} must be together.")
            sheets.append(_Sheet(date, row, []))
        sheet = sheets[-1]
        member = cell_code(row, values, "member")
        if any(code == member for _r, code, _a in sheet.rows):
            raise ImportRejected(row, f"{member} has two rows for {date.isoformat()}.")
        attended = cell_bool(row, values, "attended")
        fine = cell_amount(row, values, "fine", currency)
        amounts: dict[str, object] = {
            "attended": attended,
            "savings": cell_amount(row, values, "savings", currency),
            "voluntary_savings": cell_amount(row, values, "voluntary_savings", currency),
            "withdrawal": cell_amount(row, values, "withdrawal", currency),
            "share_money": cell_amount(row, values, "shares", currency),
            "social_fund": cell_amount(row, values, "social_fund", currency),
            "fine_absent": 0 if attended else fine,
            "fine_other": fine if attended else 0,
        }
        sheet.rows.append((row, member, amounts))
        sheet.repayments[member] = cell_amount(row, values, "loan_repayment", currency)
        if values["counted_cash"]:
            counted = cell_amount(row, values, "counted_cash", currency)
            if sheet.counted is not None and counted != sheet.counted:
                raise ImportRejected(
                    row,
                    f"counted_cash for {date.isoformat()} is {format_minor(counted, currency)} "
                    f"here but {format_minor(sheet.counted, currency)} at row {sheet.counted_row}.",
                )
            sheet.counted, sheet.counted_row = counted, row
        if values.get("comment"):
            sheet.comment = values["comment"]

    if not sheets:
        raise ImportRejected(None, "The file has a header but no rows of a meeting under it.")
    recorded = present = handled = 0
    for sheet in sheets:
        if sheet.counted is None:
            raise ImportRejected(
                sheet.first_row,
                f"The meeting of {sheet.date.isoformat()} has no counted_cash on any row.",
            )
        existing = find_meeting(session, group_id, sheet.date)
        if existing is not None:
            _same_sheet_or_refuse(session, existing.id, sheet, currency)
            present += 1
        else:
            _record(session, group_id, sheet, currency, today)
            recorded += 1
        handled += len(sheet.rows)
        if on_progress:
            on_progress(handled)
    return SheetImportSummary(recorded, present, rows)


def _record(
    session: Session,
    group_id: int,
    sheet: _Sheet,
    currency: str,
    today: dt.date | None,
) -> None:
    try:
        meeting = open_meeting(session, group_id, sheet.date, today=today)
    except LedgerError as exc:
        raise ImportRejected(sheet.first_row, str(exc)) from None
    for row, member, amounts in sheet.rows:
        money = {
            k: from_minor(v, currency)  # type: ignore[arg-type]
            for k, v in amounts.items()
            if k != "attended" and v
        }
        try:
            set_line(session, meeting.id, member, attended=bool(amounts["attended"]), **money)
            if sheet.repayments.get(member):
                repay_member_loans(
                    session, meeting.id, member, from_minor(sheet.repayments[member], currency)
                )
        except LedgerError as exc:
            raise ImportRejected(row, f"{member}: {exc}") from None
    try:
        close_meeting(
            session,
            meeting.id,
            from_minor(sheet.counted or 0, currency),
            comment=sheet.comment or None,
        )
    except LedgerError as exc:
        raise ImportRejected(
            sheet.counted_row, f"Meeting of {sheet.date.isoformat()}: {exc}"
        ) from None


def _same_sheet_or_refuse(session: Session, meeting_id: int, sheet: _Sheet, currency: str) -> None:
    summary = meeting_summary(session, meeting_id)
    if summary.meeting.status != "closed":
        raise ImportRejected(
            sheet.first_row,
            f"A meeting of {sheet.date.isoformat()} is open in the app; finish it there.",
        )
    have = {line.member_code: line for line in summary.lines}
    repaid: dict[str, int] = {}
    for moved in summary.repayments:
        repaid[moved.member_code] = repaid.get(moved.member_code, 0) + moved.amount
    for row, member, amounts in sheet.rows:
        line = have.get(member)
        same_repayment = repaid.get(member, 0) == sheet.repayments.get(member, 0)
        if line is None or not _same(line, amounts) or not same_repayment:
            raise ImportRejected(
                row,
                f"The meeting of {sheet.date.isoformat()} is already recorded with other "
                f"amounts for {member}; correct it by a reversal at the next meeting.",
            )
    if summary.meeting.counted_cash != sheet.counted or len(have) != len(sheet.rows):
        raise ImportRejected(
            sheet.first_row,
            f"The meeting of {sheet.date.isoformat()} is already recorded with a different "
            "sheet; correct it by a reversal at the next meeting.",
        )


def _same(line: SheetLine, amounts: dict[str, object]) -> bool:
    return line.attended == amounts["attended"] and all(
        getattr(line, k) == v for k, v in amounts.items() if k != "attended"
    )
