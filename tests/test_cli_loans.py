"""The product, loan, meeting and portfolio commands, as a treasurer and chair run them."""

from __future__ import annotations

import json
import shlex

import pytest

from tui.cli import main

pytestmark = pytest.mark.usefixtures("cli_as_tester")

MEMBERS = (
    "code,name_latin,name_khmer,sex,joined_on\n"
    "M01,Sok Dara,សុខ ដារ៉ា,F,2026-01-05\n"
    "M02,Chan Sophea,ចាន់ សុភា,F,2026-01-05\n"
)
SHEET = (
    "date,member,attended,savings,voluntary_savings,withdrawal,shares,social_fund,fine,"
    "loan_repayment,counted_cash\n"
    "2026-01-05,M01,yes,2000,100000,,,,,,\n"
    "2026-01-05,M02,yes,2000,100000,,,,,,204000\n"
)
OPENING_LOANS = "member,product,amount,disbursed_on,outstanding\nM02,W4,60000,2026-01-05,30000\n"


def run(capsys, book_url, line):
    code = main([*shlex.split(line), "--db", book_url])
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys, book_url, line):
    code, out, err = run(capsys, book_url, line)
    assert code == 0, err
    return out


def test_a_loan_from_application_to_portfolio(book_url, tmp_path, capsys):
    (tmp_path / "m.csv").write_text(MEMBERS, encoding="utf-8")
    (tmp_path / "s.csv").write_text(SHEET, encoding="utf-8")
    g = "--group PK-01"
    ok(
        capsys,
        book_url,
        "group create PK-01 --name Puok --province 'Siem Reap' --district Puok --commune Puok "
        "--day monday --cycle-start 2026-01-05 --share-price 5000",
    )
    ok(capsys, book_url, f"member import {tmp_path / 'm.csv'} {g}")
    out = ok(
        capsys,
        book_url,
        f"product create W4 {g} --name 'Four weeks' --rate 1.3 --term 4 --frequency weekly "
        "--rounding 100 --late-penalty 1000",
    )
    assert "1.3 % a month (15.6 % a year)" in out and "late penalty 1,000 KHR" in out
    code, _, err = run(
        capsys,
        book_url,
        f"product create F4 {g} --name Flat --rate 3 --term 4 --frequency weekly --method flat",
    )
    assert code == 2 and "Flat interest" in err and "record the reason" in err
    ok(capsys, book_url, f"meeting import {tmp_path / 's.csv'} {g}")
    out = ok(
        capsys,
        book_url,
        f"loan apply {g} --member M01 --product W4 --amount 100,000 --purpose Piglets "
        "--on 2026-01-05",
    )
    assert "Recorded loan #1" in out
    code, _, err = run(capsys, book_url, f"loan approve 1 {g} --on 2026-01-05")
    assert code == 2 and "cannot approve it" in err
    ok(capsys, book_url, f"loan approve 1 {g} --user chair --on 2026-01-05")
    ok(capsys, book_url, f"meeting cancel 2026-01-19 {g} --reason 'Village festival'")
    ok(capsys, book_url, f"loan disburse 1 {g} --meeting 2026-01-12")
    out = ok(capsys, book_url, f"meeting close 2026-01-12 {g} --counted 104,000")
    assert "expected 104,000 KHR" in out
    out = ok(capsys, book_url, f"loan show 1 {g} --as-of 2026-01-12")
    # 19 January was called off: the second instalment falls on 2 February.
    assert "1 2026-01-26" in out and "2 2026-02-02" in out
    out = ok(capsys, book_url, f"loan repay 1 20000 {g} --meeting 2026-01-26")
    assert "100,300 KHR settles it then" in out
    ok(capsys, book_url, f"meeting close 2026-01-26 {g} --counted 124000")
    data = json.loads(ok(capsys, book_url, f"loan show 1 {g} --as-of 2026-02-20 --json"))
    assert data["principal_outstanding"] == "80300" and data["days_overdue"] == 25
    assert data["penalty_due"] == "4000" and data["instalments"][0]["status"] == "overdue"
    out = ok(capsys, book_url, "portfolio --as-of 2026-03-01")
    assert "PK-01 Puok" in out and "100.0%" in out  # PAR30: 34 days late
    rows = json.loads(ok(capsys, book_url, "portfolio --as-of 2026-03-01 --by province --json"))
    assert rows[0]["name"] == "Siemreap" and rows[0]["par30"] == "1.0000"
    out = ok(
        capsys,
        book_url,
        f"loan reschedule 1 {g} --on 2026-03-01 --instalments 6 --reason 'Pigs sick'",
    )
    assert "stays flagged as rescheduled" in out and "\n 10 2026-04-06" in out
    out = ok(capsys, book_url, f"loan write-off 1 {g} --on 2026-03-02 --reason 'Moved away'")
    assert "80,300 KHR written off" in out
    out = ok(capsys, book_url, f"loan list {g} --as-of 2026-03-02")
    assert "written off (rescheduled)" in out
    code, out, _ = run(capsys, book_url, f"verify {g}")
    assert code == 0


def test_loans_from_the_paper_books_on_the_command_line(book_url, tmp_path, capsys):
    (tmp_path / "m.csv").write_text(MEMBERS, encoding="utf-8")
    (tmp_path / "l.csv").write_text(OPENING_LOANS, encoding="utf-8")
    g = "--group PK-02"
    ok(
        capsys,
        book_url,
        "group create PK-02 --name Puok --province 'Siem Reap' --district Puok --commune Puok "
        "--day monday --cycle-start 2026-01-05",
    )
    ok(capsys, book_url, f"member import {tmp_path / 'm.csv'} {g}")
    ok(
        capsys,
        book_url,
        f"product create W4 {g} --name W4 --rate 1 --term 4 --frequency weekly",
    )
    out = ok(capsys, book_url, f"opening loans {tmp_path / 'l.csv'} {g} --as-of 2026-02-01")
    assert "1 carried over" in out
    out = ok(capsys, book_url, f"loan show 1 {g} --as-of 2026-02-01")
    assert "carried over from paper on 2026-02-01 with 30,000 KHR owed" in out
    assert "approved by (paper books)" in out
    code, _, err = run(
        capsys, book_url, f"product create X {g} --name X --rate abc --term 4 --frequency weekly"
    )
    assert code == 2 and "--rate: 'abc' is not a percentage" in err


def test_a_loan_to_the_group_on_the_command_line(book_url, capsys):
    g = "--group PK-03"
    ok(
        capsys,
        book_url,
        "group create PK-03 --name Puok --province 'Siem Reap' --district Puok --commune Puok "
        "--day monday --cycle-start 2026-01-05",
    )
    out = ok(
        capsys,
        book_url,
        f"borrowing receive {g} --lender 'Prasac MFI' --kind loan --amount 2,000,000 "
        "--on 2026-02-01 --purpose 'On-lending' --rate 1.2 --term 6",
    )
    assert "Recorded loan #1 from Prasac MFI" in out
    out = ok(capsys, book_url, f"borrowing pay 1 358000 {g} --on 2026-03-01")
    assert "Still owed to Prasac MFI" in out
    data = json.loads(ok(capsys, book_url, f"borrowing show 1 {g} --as-of 2026-03-01 --json"))
    assert data["instalments"][0]["interest"] == "24000"
    assert data["instalments"][0]["status"] == "paid"
    out = ok(capsys, book_url, "group show PK-03")
    assert "Owed to lenders" in out
