"""The group, member, opening and meeting commands as a coordinator runs them."""

from __future__ import annotations

import json

import pytest

from tui.cli import main

pytestmark = pytest.mark.usefixtures("cli_as_tester")

MEMBERS = (
    "code,name_latin,name_khmer,sex,joined_on\n"
    "M01,Sok Dara,សុខ ដារ៉ា,F,2026-01-05\n"
    "M02,Chan Sophea,ចាន់ សុភា,F,2026-01-05\n"
)
OPENING = "member,compulsory_savings,share_value\nM01,50000,10000\nM02,40000,\n"
SHEET = (
    "date,member,attended,savings,voluntary_savings,withdrawal,shares,social_fund,fine,"
    "loan_repayment,counted_cash,comment\n"
    "2026-01-12,M01,yes,2000,,,12000,500,,,,\n"
    "2026-01-12,M02,no,,,,,,1000,,115500,\n"
)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_from_registration_to_a_recorded_meeting(book_url, tmp_path, capsys):
    db = ("--db", book_url)
    for name, text in (("m.csv", MEMBERS), ("o.csv", OPENING), ("s.csv", SHEET)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    code, out, _ = run(
        capsys,
        "group",
        "create",
        "SR-PUOK-01",
        "--name",
        "Puok Savings",
        "--province",
        "Siem Reap",
        "--district",
        "Puok",
        "--commune",
        "Puok",
        "--day",
        "Monday",
        "--cycle-start",
        "2026-01-05",
        "--share-price",
        "5,000",
        *db,
    )
    assert code == 0 and "in Puok, Puok, Siemreap" in out
    assert (
        run(capsys, "member", "import", str(tmp_path / "m.csv"), "--group", "SR-PUOK-01", *db)[0]
        == 0
    )
    code, out, _ = run(
        capsys,
        "opening",
        "import",
        str(tmp_path / "o.csv"),
        "--group",
        "SR-PUOK-01",
        "--as-of",
        "2026-01-05",
        "--cash-box",
        "100000",
        *db,
    )
    assert code == 0 and "3 entries posted" in out
    code, out, _ = run(
        capsys, "meeting", "import", str(tmp_path / "s.csv"), "--group", "SR-PUOK-01", *db
    )
    assert code == 0 and "1 meeting(s) recorded" in out
    code, out, _ = run(capsys, "member", "show", "M01", "--group", "SR-PUOK-01", "--json", *db)
    data = json.loads(out)
    assert data["compulsory_savings"] == "52000" and data["shares"] == 4
    assert data["member"]["name_khmer"] == "សុខ ដារ៉ា"
    code, out, _ = run(capsys, "member", "show", "M01", "--group", "SR-PUOK-01", *db)
    assert code == 0 and "Compulsory savings" in out and "52,000 KHR" in out
    assert "Attended 1 of 1 meetings" in out
    code, out, _ = run(capsys, "group", "show", "SR-PUOK-01", "--json", *db)
    data = json.loads(out)
    assert data["cash_box"] == "115500" and data["location"] == "Puok, Puok, Siemreap"
    code, out, _ = run(capsys, "meeting", "show", "1", "--group", "SR-PUOK-01", *db)
    assert "1 of 2 members present" in out and "expected 115,500 KHR" in out
    code, out, _ = run(capsys, "member", "list", "--group", "SR-PUOK-01", *db)
    assert "Sok Dara" in out and "ដារ៉ា" not in out  # tables stay in Latin script
    assert run(capsys, "verify", *db)[0] == 0


def test_a_wrong_place_is_explained(book_url, capsys):
    code, _, err = run(
        capsys,
        "group",
        "create",
        "X",
        "--name",
        "X",
        "--province",
        "Siem Reap",
        "--district",
        "Puok",
        "--commune",
        "Nowhere",
        "--cycle-start",
        "2026-01-05",
        "--db",
        book_url,
    )
    assert code == 2 and "no commune 'Nowhere' in Puok district; it has" in err
