"""The rice, share-out, cycle and period commands, as a treasurer and chair run them."""

from __future__ import annotations

import json

import pytest

from tests.test_cli_loans import MEMBERS, ok, run

pytestmark = pytest.mark.usefixtures("cli_as_tester")

SHEET = (
    "date,member,attended,savings,voluntary_savings,withdrawal,shares,social_fund,fine,"
    "loan_repayment,counted_cash\n"
    "2026-01-05,M01,yes,,,,25000,500,,,\n"
    "2026-01-05,M02,yes,,,,15000,500,1000,,42000\n"
)
G = "--group PK-01"


def setup(capsys, book_url, tmp_path):
    (tmp_path / "m.csv").write_text(MEMBERS, encoding="utf-8")
    (tmp_path / "s.csv").write_text(SHEET, encoding="utf-8")
    ok(
        capsys,
        book_url,
        "group create PK-01 --name Puok --province 'Siem Reap' --district Puok --commune Puok "
        "--day monday --cycle-start 2026-01-05 --share-price 5000",
    )
    ok(capsys, book_url, f"member import {tmp_path / 'm.csv'} {G}")
    ok(capsys, book_url, f"meeting import {tmp_path / 's.csv'} {G}")


def test_a_rice_bank_season(book_url, tmp_path, capsys):
    setup(capsys, book_url, tmp_path)
    out = ok(
        capsys,
        book_url,
        f"rice product create CONS {G} --name 'Consumption rice' --interest 20 --days 180",
    )
    assert "20 % interest in kg, due 180 days" in out
    assert "Received 1,000 kg" in ok(capsys, book_url, f"rice receive 1000 {G} --on 2026-01-05")
    out = ok(
        capsys,
        book_url,
        f"rice lend M01 100 {G} --product CONS --purpose 'Lean season' --approver chair "
        "--on 2026-05-04",
    )
    assert "owes 120 kg (20 kg interest)" in out
    assert "owes 60 kg" in ok(capsys, book_url, f"rice repay 1 60 {G} --on 2026-10-30")
    code, _, err = run(capsys, book_url, f"rice repay 1 1 {G} --on 2026-10-30 --cash 1200")
    assert code == 2 and "not allowed cash" in err
    out = ok(capsys, book_url, f"rice repay 1 60 {G} --on 2026-10-30")
    assert "owes 0 kg" in out and "repaid" in out
    code, _, err = run(capsys, book_url, f"rice repay 1 1 {G} --on 2026-10-30")
    assert code == 2 and "repaid in full" in err
    code, _, err = run(capsys, book_url, f"rice count 990 {G} --on 2026-11-01")
    assert code == 2 and "30 kg short; give the reason" in err
    out = ok(capsys, book_url, f"rice count 990 {G} --on 2026-11-01 --reason damp")
    assert "loss of 30 kg (damp)" in out
    shown = json.loads(ok(capsys, book_url, f"rice show {G} --on 2026-11-02 --json"))
    assert shown["stock"] == "990.000" and shown["losses"]["damp"] == "30.000"
    assert shown["interest_earned"] == "20.000"
    code, _, err = run(capsys, book_url, f"rice sell 2000 {G} --price 100 --with Market")
    assert code == 2 and "cannot sell 2,000 kg" in err


def test_share_out_preview_post_and_the_next_cycle(book_url, tmp_path, capsys):
    setup(capsys, book_url, tmp_path)
    preview = json.loads(ok(capsys, book_url, f"shareout preview {G} --on 2026-01-05 --json"))
    assert preview["pool"] == "41000" and preview["total_shares"] == 8
    assert preview["value_per_share"] == "5125.00"
    assert [m["payout"] for m in preview["members"]] == ["25600", "15300"]
    assert preview["leftover"] == "100"
    out = ok(capsys, book_url, f"shareout post {G} --on 2026-01-05")
    assert "Cycle 1 is closed" in out and "Write in the minutes: entry #" in out
    code, _, err = run(capsys, book_url, f"shareout post {G} --on 2026-01-05")
    assert code == 2 and "already shared out" in err
    assert "Through 2026-01-05" in ok(capsys, book_url, f"period list {G}")
    code, _, err = run(capsys, book_url, f"cycle open {G} --start 2026-01-05 --share-price 6000")
    assert code == 2 and "closed up to 2026-01-05" in err
    out = ok(capsys, book_url, f"cycle open {G} --start 2026-01-12 --share-price 6000")
    assert "Cycle 2 starts 2026-01-12; share price: 6,000 KHR" in out


def test_closing_a_month_prints_the_head_hash(book_url, tmp_path, capsys):
    setup(capsys, book_url, tmp_path)
    closed = json.loads(ok(capsys, book_url, f"period close {G} --month 2026-01 --json"))
    assert closed["closed_through"] == "2026-01-31" and len(closed["head_hash"]) == 64
    assert closed["balances_kept"] > 0
    code, _, err = run(capsys, book_url, f"period close {G} --month 2026-13")
    assert code == 2 and "not a month" in err
    code, _, err = run(capsys, book_url, f"period close {G} --to 2026-01-15")
    assert code == 2 and "already closed up to 2026-01-31" in err
