"""Exports for coordinators and funders: members, loans, the portfolio and the indicators,
as Excel workbooks (.xlsx) or CSV files.

Coordinators pass figures on in the spreadsheets funders open, so each export is a table
of the ledger's own records (``ledger.portfolio_report``, ``ledger.indicators``, the
loan statements, the trial balance): nothing is recomputed here, only laid out.

- **XLSX** (openpyxl): one sheet per table with its title, a bold header row that stays
  in view (frozen), set column widths, and numbers as numbers — counts and riel as
  integers, dollars and baht as exact decimals shown with 2 decimals, kilograms with 3,
  ratios as decimals (6 places) shown as percentages, dates as dates. No float is made
  here; openpyxl writes each number as its shortest decimal digits (1234.5, 0.1), exact
  up to the 15 significant digits a spreadsheet cell holds. Total
  rows (one per currency, since groups keep their own) are in bold below the data. The
  file is deterministic: the same figures give the same bytes (the workbook's dates are
  the report's date, not the time it was written).
- **CSV**: the first table only, written as the journal export writes CSV (UTF-8
  without a byte-order mark, "\\n" line ends, quoted only where needed), amounts as
  plain decimals ("1500.25"), ratios as decimal fractions (0.0512), dates as
  YYYY-MM-DD. Member and loan lists hold one row per record; the portfolio and the
  indicators keep their total rows, which are part of the report.

Khmer names are written as they are, in both. A text cell that a spreadsheet would take
for a formula (starting with =, +, -, @) is written as text in XLSX and behind an
apostrophe in CSV, so an export never runs anything when it is opened. Files are written
to ``FILE.partial`` and renamed when complete: an interrupted export leaves no half file
under the real name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.xml.functions import tostring
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.cycles import current_cycle
from ledger.errors import LedgerError
from ledger.groups import GroupRecord
from ledger.indicators import TOTAL_CODE, GroupIndicators, IndicatorReport
from ledger.loans import loan_statements, loans_of_group
from ledger.members import list_members
from ledger.models import Account
from ledger.money import commodity
from ledger.portfolio import BUCKETS, PortfolioFigures, bucket_of
from ledger.portfolio_report import PortfolioReport
from ledger.positions import meeting_payments
from ledger.statements import period_trial_balance

FORMATS = (".xlsx", ".csv")
RATIO_PLACES = Decimal("0.000001")  # ratios in files: 6 decimals (0.0001 %)
_MONEY_FORMATS = {0: "#,##0", 2: "#,##0.00", 3: "#,##0.000"}
_RATIO_FORMAT = "0.00%"
_DATE_FORMAT = "yyyy-mm-dd"
_FORMULA_LIKE = ("=", "+", "-", "@", "\t", "\r")
_BOLD = Font(bold=True)
_MAX_WIDTH = 48


class ExportError(LedgerError):
    """An export that cannot be written as asked."""


# --- the neutral table ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount in minor units of a commodity (or a fraction of one: an average)."""

    minor: int | Decimal
    commodity: str

    def value(self) -> int | Decimal:
        """The amount in the commodity's unit, exact: an int for riel, else a Decimal
        with the commodity's decimals (an average is rounded to them, half up)."""
        exponent = commodity(self.commodity).exponent
        amount = Decimal(self.minor).scaleb(-exponent)
        amount = amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)
        return int(amount) if exponent == 0 else amount


@dataclass(frozen=True, slots=True)
class Ratio:
    """A ratio (0.05 is 5 %); None when it has no denominator."""

    fraction: Decimal | None

    def value(self) -> Decimal | None:
        if self.fraction is None:
            return None
        return self.fraction.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


Cell = str | int | dt.date | Amount | Ratio | None


@dataclass(frozen=True, slots=True)
class Sheet:
    """One table: a sheet of a workbook, or a CSV file."""

    title: str  # at most 31 characters (Excel's limit)
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    totals: tuple[tuple[Cell, ...], ...] = ()
    totals_in_csv: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    rows: int  # data rows of the first table (totals not counted)


# --- writing -------------------------------------------------------------------------------


def check_format(path: str | Path) -> str:
    """The export format the file's suffix asks for (".xlsx" or ".csv")."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(
            f"Sansam writes exports as .xlsx or .csv files; {Path(path).name!r} is neither."
        )
    return suffix


def write_export(path: str | Path, sheets: Sequence[Sheet], *, stamp: dt.date) -> Written:
    """Write the tables to ``path`` as XLSX or CSV, chosen by its suffix."""
    target = Path(path)
    suffix = check_format(target)
    partial = target.with_name(target.name + ".partial")
    try:
        if suffix == ".xlsx":
            partial.write_bytes(xlsx_bytes(sheets, stamp=stamp))
        else:
            write_csv(partial, sheets[0])
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ExportError(f"Cannot write {target}: {exc.strerror or exc}.") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Written(target, len(sheets[0].rows))


def write_csv(path: str | Path, sheet: Sheet) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(sheet.columns)
        rows = (*sheet.rows, *sheet.totals) if sheet.totals_in_csv else sheet.rows
        for row in rows:
            writer.writerow([_csv_text(cell) for cell in row])


def _csv_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Amount):
        value = cell.value()
        return str(value) if isinstance(value, int) else f"{value:f}"
    if isinstance(cell, Ratio):
        ratio = cell.value()
        return "" if ratio is None else f"{ratio.normalize():f}"
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, str):
        return "'" + cell if cell.startswith(_FORMULA_LIKE) else cell
    return str(cell)


def xlsx_bytes(sheets: Sequence[Sheet], *, stamp: dt.date) -> bytes:
    """The workbook's bytes: the same tables and stamp always give the same bytes."""
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        _fill(book.create_sheet(sheet.title), sheet)
    when = dt.datetime.combine(max(stamp, dt.date(1980, 1, 1)), dt.time())
    book.properties.creator = "Sansam"
    buffer = io.BytesIO()
    book.save(buffer)
    # openpyxl dates the file and each part with the clock; give them the report's date.
    book.properties.created = book.properties.modified = when
    out = io.BytesIO()
    with (
        zipfile.ZipFile(buffer) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = tostring(book.properties.to_tree())
            part = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            target.writestr(part, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _fill(ws: Any, sheet: Sheet) -> None:
    ws.append(list(sheet.columns))
    for cell in ws[1]:
        cell.font = _BOLD
    widths = [len(c) for c in sheet.columns]
    for bold, row in [(False, r) for r in sheet.rows] + [(True, r) for r in sheet.totals]:
        ws.append([_xlsx_value(c) for c in row])
        for index, (target, cell) in enumerate(zip(ws[ws.max_row], row, strict=False)):
            _style(target, cell)
            if isinstance(cell, str) and cell.startswith(_FORMULA_LIKE):
                target.data_type = "s"  # text, never a formula
            if bold:
                target.font = _BOLD
            widths[index] = max(widths[index], len(_shown(cell)))
    for note in sheet.notes:
        ws.append([])
        ws.append([note])
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = min(width + 2, _MAX_WIDTH)
    ws.freeze_panes = "A2"


def _xlsx_value(cell: Cell) -> Any:
    if isinstance(cell, Amount | Ratio):
        return cell.value()
    return cell


def _style(target: Any, cell: Cell) -> None:
    if isinstance(cell, Amount):
        target.number_format = _MONEY_FORMATS[commodity(cell.commodity).exponent]
    elif isinstance(cell, Ratio):
        target.number_format = _RATIO_FORMAT
    elif isinstance(cell, dt.date):
        target.number_format = _DATE_FORMAT


def _shown(cell: Cell) -> str:
    """About what the cell shows, to size its column."""
    if isinstance(cell, Amount):
        value = cell.value()
        return f"{value:,}"
    if isinstance(cell, Ratio):
        return "100.00%"
    if isinstance(cell, dt.date):
        return "2026-01-01"
    return "" if cell is None else str(cell)


# --- the tables ----------------------------------------------------------------------------

MEMBER_COLUMNS = (
    "group",
    "code",
    "name_latin",
    "name_khmer",
    "sex",
    "role",
    "id_poor",
    "joined_on",
    "exited_on",
    "currency",
    "compulsory_savings",
    "voluntary_savings",
    "shares",
    "shares_value",
    "share_money_held",
    "total_savings",
    "social_fund_paid",
    "fines_paid",
    "loans_outstanding",
    "meetings_attended",
    "meetings_held",
)
_MEMBER_ROLES = ("compulsory_savings", "voluntary_savings", "shares", "share_money_held")


def members_sheet(session: Session, groups: Iterable[GroupRecord], *, as_of: dt.date) -> Sheet:
    """Every member registered by ``as_of`` with what she held that day (the books as
    they stood then), what she paid into the social fund and in fines, and her
    attendance; a total row per currency."""
    rows: list[tuple[Cell, ...]] = []
    sums: dict[str, list[int]] = {}
    for group in groups:
        held = _member_balances(session, group, as_of)
        cycle = current_cycle(session, group.id, required=False)
        price = cycle.share_price if cycle and cycle.starts_on <= as_of else None
        for m in list_members(session, group.id):
            if m.joined_on is not None and m.joined_on > as_of:
                continue
            mine = held.get(m.id, {})
            amounts = [mine.get(role, 0) for role in _MEMBER_ROLES]
            compulsory, voluntary, shares_value, money_held = amounts
            paid = meeting_payments(session, m, end=as_of)
            figures = [
                compulsory,
                voluntary,
                shares_value,
                money_held,
                sum(amounts),
                paid.social_fund,
                paid.fines,
                mine.get("loan_principal", 0),
            ]
            total = sums.setdefault(group.currency, [0] * len(figures))
            sums[group.currency] = [a + b for a, b in zip(total, figures, strict=True)]
            money = [Amount(x, group.currency) for x in figures]
            rows.append(
                (
                    group.code,
                    m.code,
                    m.name_latin,
                    m.name_khmer,
                    m.sex,
                    m.role,
                    m.id_poor,
                    m.joined_on,
                    m.exited_on,
                    group.currency,
                    money[0],
                    money[1],
                    shares_value // price if price else None,
                    *money[2:],
                    paid.attended,
                    paid.held,
                )
            )
    totals = tuple(
        (
            "Total",
            *([None] * 8),
            currency,
            *(Amount(x, currency) for x in figures[:2]),
            None,
            *(Amount(x, currency) for x in figures[2:]),
            None,
            None,
        )
        for currency, figures in sorted(sums.items())
    )
    return Sheet("Members", MEMBER_COLUMNS, tuple(rows), totals)


def _member_balances(
    session: Session, group: GroupRecord, as_of: dt.date
) -> dict[int, dict[str, int]]:
    """Each member's balances by role at the end of ``as_of``, on the side the group
    owes them (or, for loans, they owe the group), from the book's trial balance."""
    accounts = {
        account_id: (member_id, role)
        for account_id, member_id, role in session.execute(
            select(Account.id, Account.member_id, Account.role).where(
                Account.group_id == group.id, Account.member_id.is_not(None)
            )
        )
    }
    held: dict[int, dict[str, int]] = {}
    for line in period_trial_balance(session, group.id, as_of, as_of).lines:
        owner = accounts.get(line.account_id)
        if owner is None or line.commodity != group.currency:
            continue
        member_id, role = owner
        mine = held.setdefault(member_id, {})
        mine[role] = mine.get(role, 0) + line.natural_closing
    return held


LOAN_COLUMNS = (
    "group",
    "loan",
    "member",
    "name_latin",
    "name_khmer",
    "product",
    "currency",
    "amount",
    "disbursed_on",
    "status",
    "principal_outstanding",
    "principal_in_arrears",
    "interest_due",
    "days_late",
    "bucket",
    "rescheduled",
    "written_off",
)


def loans_sheet(session: Session, groups: Iterable[GroupRecord], *, as_of: dt.date) -> Sheet:
    """Every loan applied for by ``as_of``, as it stood that day: lent loans by their
    statement (active, closed, written off), the others by their record (applied,
    approved, rejected); a total row per currency."""
    rows: list[tuple[Cell, ...]] = []
    sums: dict[str, list[int]] = {}
    for group in groups:
        loans = [x for x in loans_of_group(session, group.id) if x.applied_on <= as_of]
        names = {m.id: m for m in list_members(session, group.id)}
        for st in loan_statements(session, loans, on=as_of) if loans else []:
            record, member = st.loan, names[st.loan.member_id]
            lent = st.state != "not lent"
            status = st.state if lent else _unlent_status(record.status)
            figures = [
                record.amount,
                st.principal_outstanding,
                st.principal_in_arrears,
                st.interest_due,
                st.written_off,
            ]
            total = sums.setdefault(group.currency, [0] * len(figures))
            sums[group.currency] = [a + b for a, b in zip(total, figures, strict=True)]
            money = [Amount(x, group.currency) for x in figures]
            rows.append(
                (
                    group.code,
                    record.number,
                    record.member_code,
                    member.name_latin,
                    member.name_khmer,
                    record.product_code,
                    group.currency,
                    money[0],
                    record.disbursed_on if lent else None,
                    status,
                    *money[1:4],
                    st.days_overdue,
                    bucket_of(st.days_overdue) if st.state == "active" else None,
                    "yes" if st.rescheduled else "no",
                    money[4],
                )
            )
    totals = tuple(
        (
            "Total",
            None,
            None,
            None,
            None,
            None,
            currency,
            Amount(figures[0], currency),
            None,
            None,
            *(Amount(x, currency) for x in figures[1:4]),
            None,
            None,
            None,
            Amount(figures[4], currency),
        )
        for currency, figures in sorted(sums.items())
    )
    return Sheet("Loans", LOAN_COLUMNS, tuple(rows), totals)


def _unlent_status(status: str) -> str:
    # Lent after the date: on that day it was approved and waiting.
    return status if status in ("applied", "approved", "rejected") else "approved"


def portfolio_sheets(report: PortfolioReport) -> list[Sheet]:
    """The portfolio report: its rows and totals, then the loans behind the risk."""
    bucket_columns = tuple(
        f"{kind}_{name.replace(' ', '_').replace('-', '_to_')}"
        for name, _low, _high in BUCKETS
        for kind in ("loans", "outstanding")
    )
    columns = (
        report.by,
        "name",
        "name_khmer",
        "currency",
        "as_of",
        "groups",
        "loans_active",
        "gross_outstanding",
        *bucket_columns,
        "at_risk_30",
        "par30",
        "at_risk_90",
        "par90",
        "rescheduled_outstanding",
        "principal_in_arrears",
        "arrears_rate",
        "due_to_date",
        "paid_towards_due",
        "repayment_rate",
        "written_off",
        "recovered",
    )

    def line(f: PortfolioFigures) -> tuple[Cell, ...]:
        def money(x: int) -> Amount:
            return Amount(x, f.currency)

        ageing: list[Cell] = []
        for name, _low, _high in BUCKETS:
            count, principal = f.buckets[name]
            ageing += [count, money(principal)]
        return (
            f.key or "Total",
            f.name,
            f.name_khmer or None,
            f.currency,
            f.as_of,
            f.groups,
            f.loans_active,
            money(f.gross_outstanding),
            *ageing,
            money(f.at_risk_30),
            Ratio(f.par30),
            money(f.at_risk_90),
            Ratio(f.par90),
            money(f.rescheduled_outstanding),
            money(f.principal_in_arrears),
            Ratio(f.arrears_rate),
            money(f.due_to_date),
            money(f.paid_towards_due),
            Ratio(f.repayment_rate),
            money(f.written_off),
            money(f.recovered),
        )

    at_risk = tuple(
        (
            x.group_code,
            x.loan_number,
            x.member_code,
            report.currency_of(x.group_code),
            Amount(x.principal_outstanding, report.currency_of(x.group_code)),
            x.days_overdue,
            x.bucket,
            "yes" if x.rescheduled else "no",
            Amount(x.principal_in_arrears, report.currency_of(x.group_code)),
        )
        for x in report.at_risk
    )
    return [
        Sheet(
            "Portfolio",
            columns,
            tuple(line(r) for r in report.rows),
            tuple(line(t) for t in report.totals),
            totals_in_csv=True,
            notes=(
                f"Portfolio on {report.as_of.isoformat()} by {report.by}; the book's "
                f"fingerprint: {report.head_seq} entries, {report.head_hash}.",
            ),
        ),
        Sheet(
            "Loans at risk",
            (
                "group",
                "loan",
                "member",
                "currency",
                "principal_outstanding",
                "days_overdue",
                "bucket",
                "rescheduled",
                "principal_in_arrears",
            ),
            at_risk,
        ),
    ]


# name, what it is, how a row gives it (None: the column is computed from the row)
_Getter = Callable[[GroupIndicators], Cell]


def _money(name: str) -> _Getter:
    return lambda r: Amount(getattr(r, name), r.currency)


def _count(name: str) -> _Getter:
    return lambda r: getattr(r, name)


def _ratio(name: str) -> _Getter:
    return lambda r: Ratio(getattr(r, name))


INDICATOR_COLUMNS: tuple[tuple[str, str, _Getter], ...] = (
    ("group", "The group's code (empty on the project's total row)", lambda r: r.group_code),
    ("name", "The group's name", lambda r: r.group_name),
    ("currency", "The currency of the group's books", lambda r: r.currency),
    ("start", "First day of the period", lambda r: r.start),
    ("end", "Last day of the period", lambda r: r.end),
    ("groups", "Groups counted in the row", _count("groups")),
    ("members_start", "Members on the day before the period", _count("members_start")),
    ("members_joined", "Members who joined in the period", _count("members_joined")),
    ("members_left", "Members who left in the period", _count("members_left")),
    ("members_end", "Members at the end of the period", _count("members_end")),
    ("women_end", "Women members at the end", _count("women_end")),
    ("men_end", "Men members at the end", _count("men_end")),
    ("dropout_rate", "Members who left ÷ members at the start", _ratio("dropout_rate")),
    ("meetings_held", "Meetings held (closed) in the period", _count("meetings_held")),
    ("attendances", "Members present, summed over those meetings", _count("attendances")),
    (
        "attendance_possible",
        "Members belonging to the group, summed over those meetings",
        _count("attendance_possible"),
    ),
    ("attendance_rate", "attendances ÷ attendance_possible", _ratio("attendance_rate")),
    (
        "compulsory_savings",
        "Compulsory savings held, on the end date",
        _money("compulsory_savings"),
    ),
    ("voluntary_savings", "Voluntary savings held, on the end date", _money("voluntary_savings")),
    ("shares_value", "Value of members' shares, on the end date", _money("shares_value")),
    ("share_money_held", "Money held towards a share, on the end date", _money("share_money_held")),
    ("savings", "Value of savings: the four columns before", _money("savings")),
    (
        "average_savings_per_member",
        "savings ÷ members_end",
        lambda r: (
            Amount(r.average_savings_per_member, r.currency)
            if r.average_savings_per_member is not None
            else None
        ),
    ),
    ("social_fund", "Social fund balance, on the end date", _money("social_fund")),
    ("cash_box", "Cash on hand, on the end date", _money("cash_box")),
    ("bank", "Cash at the bank, on the end date", _money("bank")),
    ("total_assets", "Total assets (money), on the end date", _money("total_assets")),
    ("total_liabilities", "Liabilities, on the end date", _money("total_liabilities")),
    ("total_equity", "Equity with the surplus not yet shared out", _money("total_equity")),
    ("borrowings", "What the group owes outside lenders", _money("borrowings")),
    ("loans_active", "Loans outstanding (number), on the end date", _count("loans_active")),
    (
        "loans_outstanding",
        "Loans outstanding (principal), on the end date",
        _money("loans_outstanding"),
    ),
    (
        "average_loan_outstanding",
        "loans_outstanding ÷ loans_active",
        lambda r: (
            Amount(r.average_loan_outstanding, r.currency)
            if r.average_loan_outstanding is not None
            else None
        ),
    ),
    ("borrowers", "Members with a loan outstanding, on the end date", _count("borrowers")),
    ("members_with_loans_rate", "borrowers ÷ members_end", _ratio("members_with_loans_rate")),
    (
        "at_risk_30",
        "Principal of loans over 30 days late, plus rescheduled loans",
        _money("at_risk_30"),
    ),
    ("par30", "Portfolio at risk over 30 days: at_risk_30 ÷ loans_outstanding", _ratio("par30")),
    ("loans_disbursed", "Loans disbursed in the period (number)", _count("loans_disbursed")),
    ("value_disbursed", "Loans disbursed in the period (value)", _money("value_disbursed")),
    (
        "average_loan_disbursed",
        "value_disbursed ÷ loans_disbursed",
        lambda r: (
            Amount(r.average_loan_disbursed, r.currency)
            if r.average_loan_disbursed is not None
            else None
        ),
    ),
    ("loans_written_off", "Loans written off in the period (number)", _count("loans_written_off")),
    ("value_written_off", "Principal written off in the period", _money("value_written_off")),
    (
        "interest_income",
        "Interest and late penalties earned in the period",
        _money("interest_income"),
    ),
    ("fines_income", "Fines in the period", _money("fines_income")),
    ("other_income", "Grants, recoveries and other income", _money("other_income")),
    ("total_expenses", "Expenses of the period, write-offs included", _money("total_expenses")),
    ("net_income", "Income less expenses of the period", _money("net_income")),
    (
        "return_on_assets",
        "Annualised: net_income ÷ mean total assets (day before, last day) × 365 ÷ days",
        _ratio("return_on_assets"),
    ),
    (
        "return_on_savings",
        "Annualised: net_income ÷ mean savings (day before, last day) × 365 ÷ days",
        _ratio("return_on_savings"),
    ),
    (
        "loan_fund_utilisation",
        "loans_outstanding ÷ total_assets, on the end date",
        _ratio("loan_fund_utilisation"),
    ),
)


def indicators_sheets(report: IndicatorReport) -> list[Sheet]:
    """One row per group and the project's total row (one per currency); in a workbook, a
    second sheet says what each column is."""
    columns = tuple(name for name, _what, _get in INDICATOR_COLUMNS)

    def line(row: GroupIndicators) -> tuple[Cell, ...]:
        cells = tuple(get(row) for _name, _what, get in INDICATOR_COLUMNS)
        return cells if row.group_code != TOTAL_CODE else (None, *cells[1:])

    period = f"{report.start.isoformat()} to {report.end.isoformat()}"
    return [
        Sheet(
            "Indicators",
            columns,
            tuple(line(r) for r in report.rows),
            tuple(line(t) for t in report.totals),
            totals_in_csv=True,
        ),
        Sheet(
            "Definitions",
            ("column", "meaning"),
            tuple((name, what) for name, what, _get in INDICATOR_COLUMNS),
            notes=(
                f"Period: {period}. Definitions: the SAVIX group-level data items and the "
                "SEEP Network's key ratios for savings groups (see ledger/indicators.py). "
                "The total row sums the groups and recomputes each ratio from the sums.",
            ),
        ),
    ]
