"""Exports for coordinators and funders: the files open, and their totals are the ledger's."""

from __future__ import annotations

import csv
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from ledger.audit_view import group_trail
from ledger.cycles import open_cycle
from ledger.groups import create_group, find_group, list_groups
from ledger.indicators import indicator_report, quarter
from ledger.members import add_member, list_members
from ledger.money import money
from ledger.opening_import import import_opening_balances
from ledger.portfolio import group_portfolio, loans_at_date
from ledger.portfolio_report import portfolio_report
from ledger.positions import group_position, member_position
from reports.exchange import (
    ExportError,
    indicators_sheets,
    loans_sheet,
    members_sheet,
    portfolio_sheets,
    write_export,
)
from tests.conftest import DEMO_TODAY
from tests.loan_helpers import make_lent
from tests.savings_helpers import CYCLE_START
from tui.cli import main

Q4 = quarter("2026Q4")


def sheet_rows(path: Path, title: str) -> tuple[list[str], list[dict], list[dict]]:
    """(header, data rows, total rows) of one sheet, rows as {column: value}."""
    ws = openpyxl.load_workbook(path)[title]
    values = list(ws.iter_rows(values_only=True))
    header = list(values[0])
    # Rows with values beyond their first cell: blank rows and notes are left out.
    rows = [dict(zip(header, v, strict=True)) for v in values[1:] if any(v[1:])]

    def is_total(row: dict) -> bool:
        return row[header[0]] == "Total" or (row[header[0]] is None and row.get("name") == "Total")

    return header, [r for r in rows if not is_total(r)], [r for r in rows if is_total(r)]


def csv_rows(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw  # as the journal CSV
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_members_workbook_holds_the_ledgers_balances(demo_book, tmp_path):
    with demo_book.read() as s:
        groups = list_groups(s)
        sheet = members_sheet(s, groups, as_of=DEMO_TODAY)
        positions = {g.code: group_position(s, g.id, on=DEMO_TODAY) for g in groups}
        written = write_export(tmp_path / "members.xlsx", [sheet], stamp=DEMO_TODAY)
        by_member = {
            (g.code, row[1]): member_position(s, m_id)
            for g in groups
            for row, m_id in _member_ids(s, g, sheet)
        }
    assert written.rows == len(sheet.rows) == 46
    book = openpyxl.load_workbook(tmp_path / "members.xlsx")
    ws = book["Members"]
    assert ws.freeze_panes == "A2" and all(c.font.b for c in ws[1])
    assert ws.column_dimensions["C"].width > 10  # the Latin names' column was sized
    assert not any(isinstance(v, float) for row in ws.iter_rows(values_only=True) for v in row)
    _header, data, totals = sheet_rows(tmp_path / "members.xlsx", "Members")
    assert len(data) == 46 and len(totals) == 1 and ws.cell(ws.max_row, 1).font.b
    for code, position in positions.items():
        mine = [r for r in data if r["group"] == code]
        assert sum(r["compulsory_savings"] for r in mine) == position.compulsory_savings
        assert sum(r["voluntary_savings"] for r in mine) == position.voluntary_savings
        assert sum(r["shares_value"] for r in mine) == position.shares_value
        assert sum(r["loans_outstanding"] for r in mine) == position.loans_outstanding
        assert sum(r["total_savings"] for r in mine) == (
            position.compulsory_savings
            + position.voluntary_savings
            + position.shares_value
            + position.share_money_held
        )
    (total,) = totals
    everyone = list(positions.values())
    assert total["compulsory_savings"] == sum(p.compulsory_savings for p in everyone)
    for row in data:
        mine = by_member[(row["group"], row["code"])]
        assert (row["compulsory_savings"], row["shares_value"], row["fines_paid"]) == (
            mine.compulsory_savings,
            mine.shares_value,
            mine.fines_paid,
        )
        assert (row["meetings_attended"], row["meetings_held"]) == (
            mine.meetings_attended,
            mine.meetings_held,
        )
    sreyneang = next(r for r in data if r["code"] == "PK01")
    assert sreyneang["name_khmer"] == "សុខ ស្រីនាង" and sreyneang["name_latin"] == "Sok Sreyneang"


def _member_ids(session, group, sheet):
    ids = {m.code: m.id for m in list_members(session, group.id)}
    return [(row, ids[row[1]]) for row in sheet.rows if row[0] == group.code]


def test_members_csv_has_the_same_figures(demo_book, tmp_path):
    with demo_book.read() as s:
        groups = list_groups(s)
        sheet = members_sheet(s, groups, as_of=DEMO_TODAY)
        savings = sum(group_position(s, g.id).compulsory_savings for g in groups)
    write_export(tmp_path / "members.csv", [sheet], stamp=DEMO_TODAY)
    rows = csv_rows(tmp_path / "members.csv")
    assert len(rows) == 46  # one row per member: the total is for the workbook
    assert sum(int(r["compulsory_savings"]) for r in rows) == savings
    assert {r["code"]: r["name_khmer"] for r in rows}["AC01"] == "សេង ម្លិះ"
    assert next(r for r in rows if r["code"] == "PK11")["exited_on"] == "2026-10-19"


def test_loans_with_their_status(demo_book, tmp_path):
    end = Q4[1]
    with demo_book.read() as s:
        groups = list_groups(s)
        sheet = loans_sheet(s, groups, as_of=end)
        outstanding = sum(group_portfolio(s, g.id, as_of=end).gross_outstanding for g in groups)
        late = {(x.group_code, x.loan_number): x.days_overdue for x in loans_at_date(s, as_of=end)}
    write_export(tmp_path / "loans.xlsx", [sheet], stamp=end)
    write_export(tmp_path / "loans.csv", [sheet], stamp=end)
    _header, data, (total,) = sheet_rows(tmp_path / "loans.xlsx", "Loans")
    assert outstanding > 0
    assert sum(r["principal_outstanding"] for r in data) == outstanding
    assert total["principal_outstanding"] == outstanding
    assert {(r["group"], r["loan"]): r["days_late"] for r in data} == late
    assert {r["status"] for r in data} == {"active"}
    assert all(r["disbursed_on"] is not None and r["name_khmer"] for r in data)
    rows = csv_rows(tmp_path / "loans.csv")
    assert sum(int(r["principal_outstanding"]) for r in rows) == outstanding
    assert [r["member"] for r in rows] == [r["member"] for r in data]


def test_the_portfolio_report(demo_book, tmp_path):
    end = Q4[1]
    with demo_book.read() as s:
        report = portfolio_report(s, as_of=end)
    write_export(tmp_path / "portfolio.xlsx", portfolio_sheets(report), stamp=end)
    write_export(tmp_path / "portfolio.csv", portfolio_sheets(report), stamp=end)
    _header, data, (total,) = sheet_rows(tmp_path / "portfolio.xlsx", "Portfolio")
    assert [r["group"] for r in data] == [r.key for r in report.rows]
    for row, figures in zip(data, report.rows, strict=True):
        assert row["gross_outstanding"] == figures.gross_outstanding
        assert row["at_risk_30"] == figures.at_risk_30
        if figures.par30 is not None:
            assert Decimal(str(row["par30"])) == figures.par30.quantize(Decimal("0.000001"))
    (book_total,) = report.totals
    assert total["gross_outstanding"] == book_total.gross_outstanding
    assert Decimal(str(total["par30"])) == book_total.par30.quantize(Decimal("0.000001"))
    _h, at_risk, _t = sheet_rows(tmp_path / "portfolio.xlsx", "Loans at risk")
    assert [(r["group"], r["loan"], r["days_overdue"]) for r in at_risk] == [
        (x.group_code, x.loan_number, x.days_overdue) for x in report.at_risk
    ]
    rows = csv_rows(tmp_path / "portfolio.csv")
    assert len(rows) == len(report.rows) + 1 and rows[-1]["group"] == "Total"
    assert int(rows[-1]["gross_outstanding"]) == book_total.gross_outstanding


def test_the_indicators(demo_book, tmp_path):
    start, end = Q4
    with demo_book.read() as s:
        report = indicator_report(s, start=start, end=end)
    write_export(tmp_path / "ind.xlsx", indicators_sheets(report), stamp=end)
    write_export(tmp_path / "ind.csv", indicators_sheets(report), stamp=end)
    book = openpyxl.load_workbook(tmp_path / "ind.xlsx")
    assert book.sheetnames == ["Indicators", "Definitions"]
    ws = book["Indicators"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert [r["group"] for r in rows] == ["SR-ACHM-01", "SR-BKNG-01", "SR-PUOK-01", None]
    total = rows[-1]
    assert total["name"] == "Total" and total["groups"] == 3
    for row, figures in zip(rows, (*report.rows, *report.totals), strict=True):
        assert row["savings"] == figures.savings
        assert row["members_end"] == figures.members_end
        assert row["loans_outstanding"] == figures.loans_outstanding
        assert row["net_income"] == figures.net_income
    assert total["savings"] == sum(r["savings"] for r in rows[:-1])
    assert Decimal(str(total["par30"])) == report.totals[0].par30.quantize(Decimal("0.000001"))
    assert ws.cell(2, header.index("par30") + 1).number_format == "0.00%"
    defined = [r[0] for r in book["Definitions"].iter_rows(min_row=2, values_only=True) if r[1]]
    assert defined == header
    lines = csv_rows(tmp_path / "ind.csv")
    assert [r["group"] for r in lines] == ["SR-ACHM-01", "SR-BKNG-01", "SR-PUOK-01", ""]
    assert int(lines[-1]["savings"]) == report.totals[0].savings


def test_dollars_are_exact_decimals_and_text_is_never_a_formula(book, tmp_path):
    def build(s):
        group = create_group(s, "KC-USD", "Dollar Group", currency="USD")
        open_cycle(s, group.id, CYCLE_START, share_price=money("5", "USD"))
        add_member(s, group.id, "D1", name_latin="=HYPERLINK(1)", joined_on=CYCLE_START)
        add_member(
            s, group.id, "D2", name_latin="Sok Dara", name_khmer="សុខ ដារ៉ា", joined_on=CYCLE_START
        )
        opening = tmp_path / "opening.csv"
        opening.write_text("member,compulsory_savings\nD1,1234.50\nD2,0.10\n", encoding="utf-8")
        import_opening_balances(s, group.id, opening, as_of=CYCLE_START, cash_box=123460)
        return members_sheet(s, [group], as_of=CYCLE_START)

    sheet = book.write(build)
    write_export(tmp_path / "usd.xlsx", [sheet], stamp=CYCLE_START)
    write_export(tmp_path / "usd.csv", [sheet], stamp=CYCLE_START)
    ws = openpyxl.load_workbook(tmp_path / "usd.xlsx")["Members"]
    header = [c.value for c in ws[1]]
    column = header.index("compulsory_savings") + 1
    assert ws.cell(2, column).number_format == "#,##0.00"
    assert ws.cell(2, 3).value == "=HYPERLINK(1)" and ws.cell(2, 3).data_type == "s"
    with zipfile.ZipFile(tmp_path / "usd.xlsx") as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    # The shortest decimal of each amount, never a binary expansion (0.1000000000000000055).
    assert "<v>1234.5</v>" in xml and "<v>0.1</v>" in xml and "<v>1234.6</v>" in xml
    assert not re.search(r"<v>[0-9]*\.[0-9]{3,}</v>", xml)
    rows = csv_rows(tmp_path / "usd.csv")
    assert [r["compulsory_savings"] for r in rows] == ["1234.50", "0.10"]
    assert rows[0]["name_latin"] == "'=HYPERLINK(1)"


def test_files_are_deterministic_and_never_half_written(demo_book, tmp_path):
    with demo_book.read() as s:
        group = find_group(s, "SR-PUOK-01")
        sheet = members_sheet(s, [group], as_of=DEMO_TODAY)
    first = write_export(tmp_path / "a.xlsx", [sheet], stamp=DEMO_TODAY).path.read_bytes()
    second = write_export(tmp_path / "b.xlsx", [sheet], stamp=DEMO_TODAY).path.read_bytes()
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "b.xlsx"]  # no .partial
    with pytest.raises(ExportError, match="Cannot write"):
        write_export(tmp_path / "missing" / "c.csv", [sheet], stamp=DEMO_TODAY)
    with pytest.raises(ExportError, match=r"as \.xlsx or \.csv files; 'c\.pdf' is neither"):
        write_export(tmp_path / "c.pdf", [sheet], stamp=DEMO_TODAY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "b.xlsx"]


@pytest.mark.usefixtures("cli_as_tester")
def test_the_export_command_writes_both_formats(book, book_url, tmp_path, capsys):
    v, _loan = make_lent(book)
    db = ("--db", book_url)
    for kind, period in (
        ("members", ("--to", "2026-01-05")),
        ("loans", ("--to", "2026-02-28")),
        ("portfolio", ("--to", "2026-02-28")),
        ("indicators", ("--quarter", "2026Q1")),
    ):
        for suffix in ("xlsx", "csv"):
            out = tmp_path / f"{kind}.{suffix}"
            assert main(["export", kind, "--group", v.group.code, *period, str(out), *db]) == 0
            assert f"to {out}" in capsys.readouterr().out and out.exists()
    members = csv_rows(tmp_path / "members.csv")
    _h, data, _t = sheet_rows(tmp_path / "members.xlsx", "Members")
    assert [r["code"] for r in members] == [r["code"] for r in data] == ["M01", "M02", "M03"]
    assert sum(int(r["compulsory_savings"]) for r in members) == sum(
        r["compulsory_savings"] for r in data
    )
    loans = csv_rows(tmp_path / "loans.csv")
    assert [(r["member"], r["status"]) for r in loans] == [("M01", "active")]
    with book.read() as s:
        exports = [e for e in group_trail(s, v.group.id) if e.action == "export"]
    assert len(exports) == 8 and "indicators 2026-01-01 to 2026-03-31" in exports[-1].detail
    assert main(["export", "indicators", "--all", str(tmp_path / "x.csv"), *db]) == 2
    assert "The indicators are for a period" in capsys.readouterr().err
    assert main(["export", "loans", "--all", str(tmp_path / "x.txt"), *db]) == 2
    assert "as .xlsx or .csv files" in capsys.readouterr().err
