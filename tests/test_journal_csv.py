"""Importing and exporting the general journal CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.errors import JournalImportError
from ledger.journal_csv import HEADER, export_journal, import_journal
from ledger.queries import trial_balance
from ledger.verify import verify_book
from tests.helpers import TESTER

GOOD = """txn_id,date,group,description,account,commodity,amount
t1,2026-01-05,SR-01,Opening cash,Assets:Cash box,KHR,"150,000"
t1,2026-01-05,SR-01,Opening cash,Equity:Opening,KHR,-150000
t2,2026-01-12,SR-01,Savings ដារ៉ា,Assets:Cash box,KHR,5000
t2,2026-01-12,SR-01,Savings ដារ៉ា,Liabilities:Savings:Dara,KHR,-5000
t3,2026-01-12,SR-02,Rice and dollars,Assets:Rice stock,RICE,120.5
t3,2026-01-12,SR-02,Rice and dollars,Equity:Opening,RICE,-120.500
t3,2026-01-12,SR-02,Rice and dollars,Assets:Bank,USD,10.25
t3,2026-01-12,SR-02,Rice and dollars,Equity:Opening,USD,-10.25
"""


def write(tmp_path: Path, text: str, name: str = "journal.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def do_import(book, path):
    return book.write(lambda s: import_journal(s, path))


def balances(book):
    with book.read() as s:
        return {
            (r.group_code, r.account, r.commodity): r.balance_minor for r in trial_balance(s).rows
        }


def test_import_creates_groups_accounts_and_balanced_entries(book, tmp_path):
    summary = do_import(book, write(tmp_path, GOOD))
    assert summary.entries_posted == 3
    assert summary.groups_created == ("SR-01", "SR-02")
    assert summary.accounts_created == 7  # SR-01: 3, SR-02: 4 (one per commodity)
    b = balances(book)
    assert b[("SR-01", "Assets:Cash box", "KHR")] == 155_000
    assert b[("SR-02", "Assets:Rice stock", "RICE")] == 120_500
    assert b[("SR-02", "Equity:Opening", "USD")] == -1025
    with book.read() as s:
        assert trial_balance(s).balanced
        assert verify_book(s).ok


def test_importing_the_same_file_twice_changes_nothing(book, tmp_path):
    path = write(tmp_path, GOOD)
    do_import(book, path)
    before = balances(book)
    again = do_import(book, path)
    assert (again.entries_posted, again.entries_already_present) == (0, 3)
    assert balances(book) == before


def test_export_then_import_into_a_new_book_gives_the_same_balances(
    book, tmp_path, sqlite_template
):
    import shutil

    from ledger.db import Book

    do_import(book, write(tmp_path, GOOD))
    out = tmp_path / "export.csv"
    with book.read() as s:
        assert export_journal(s, out) == 8
    assert out.read_text(encoding="utf-8").splitlines()[0] == ",".join(HEADER)
    other_path = tmp_path / "other.sqlite"
    shutil.copyfile(sqlite_template, other_path)
    other = Book(f"sqlite:///{other_path}").as_user(TESTER)
    do_import(other, out)
    assert balances(other) == balances(book)
    other.close()


BAD_ROWS = [
    ("t9,2026-13-01,SR-01,x,Assets:Cash box,KHR,5", 4, "not a date written as YYYY-MM-DD"),
    ("t9,2026-01-01,SR-01,x,Cash box,KHR,5", 4, "must start with one of Assets"),
    ("t9,2026-01-01,SR-01,x,Assets::Cash,KHR,5", 4, "not a usable account name"),
    ("t9,2026-01-01,SR-01,x,Assets:Cash box,EUR,5", 4, "Unknown commodity 'EUR'"),
    ("t9,2026-01-01,SR-01,x,Assets:Cash box,KHR,5.5", 4, "more decimals than Cambodian riel"),
    ("t9,2026-01-01,SR-01,x,Assets:Cash box,KHR,abc", 4, "is not a number"),
    ("t9,2026-01-01,SR-01,x,Assets:Cash box,KHR,0", 4, "amount is zero"),
    ("t9,2026-01-01,SR-01,x,Assets:Cash box,KHR,1e30", 4, "beyond the largest amount"),
    (",2026-01-01,SR-01,x,Assets:Cash box,KHR,5", 4, "txn_id is empty"),
    ("t9,2026-01-01,,x,Assets:Cash box,KHR,5", 4, "group is empty"),
    ("t9,2026-01-01,SR 01,x,Assets:Cash box,KHR,5", 4, "not a usable group code"),
    ("t9,2026-01-01,SR-01,x,Assets:Cash box,KHR", 4, "Expected 7 fields, found 6"),
    (
        "t9,1900-01-01,SR-01,x,Assets:Cash box,KHR,5\nt9,1900-01-01,SR-01,x,Equity:O,KHR,-5",
        4,
        "out of range",
    ),
]


@pytest.mark.parametrize(("row", "row_number", "reason"), BAD_ROWS)
def test_one_bad_row_rejects_the_whole_file_naming_the_row(book, tmp_path, row, row_number, reason):
    text = (
        "txn_id,date,group,description,account,commodity,amount\n"
        "t1,2026-01-05,SR-01,ok,Assets:Cash box,KHR,100\n"
        "t1,2026-01-05,SR-01,ok,Equity:Opening,KHR,-100\n"
        f"{row}\n"
        "t2,2026-01-06,SR-01,ok,Assets:Cash box,KHR,100\n"
        "t2,2026-01-06,SR-01,ok,Equity:Opening,KHR,-100\n"
    )
    with pytest.raises(JournalImportError) as caught:
        do_import(book, write(tmp_path, text))
    assert caught.value.row == row_number
    assert reason in str(caught.value)
    assert str(caught.value).endswith("Nothing was imported.")
    assert balances(book) == {}


def test_an_unbalanced_entry_names_its_first_row(book, tmp_path):
    text = (
        GOOD
        + "t4,2026-02-01,SR-01,short,Assets:Cash box,KHR,500\n"
        + "t4,2026-02-01,SR-01,short,Equity:Opening,KHR,-400\n"
    )
    with pytest.raises(JournalImportError, match=r"Row 10: Entry 't4'.*does not balance"):
        do_import(book, write(tmp_path, text))
    assert balances(book) == {}


def test_rows_of_one_entry_with_different_dates_are_refused(book, tmp_path):
    text = (
        GOOD
        + "t4,2026-02-01,SR-01,x,Assets:Cash box,KHR,5\n"
        + "t4,2026-02-02,SR-01,x,Equity:Opening,KHR,-5\n"
    )
    with pytest.raises(JournalImportError, match=r"Row 11: .*different dates"):
        do_import(book, write(tmp_path, text))


def test_a_changed_row_under_an_imported_txn_id_is_refused(book, tmp_path):
    do_import(book, write(tmp_path, GOOD))
    changed = GOOD.replace(
        "Liabilities:Savings:Dara,KHR,-5000", "Liabilities:Savings:Dara,KHR,-5001"
    ).replace("Assets:Cash box,KHR,5000", "Assets:Cash box,KHR,5001")
    with pytest.raises(
        JournalImportError, match=r"Row 4: Entry 't2'.*already used for a different entry"
    ):
        do_import(book, write(tmp_path, changed, "changed.csv"))


def test_an_overdraft_is_refused_not_half_imported(book, tmp_path):
    # Withdrawing more than was saved takes an asset account below zero only if flagged;
    # journal-created accounts carry no flag, so this imports. A missing header does not.
    with pytest.raises(JournalImportError, match="header lacks amount"):
        do_import(book, write(tmp_path, "txn_id,date,group,description,account,commodity\n"))


def test_not_utf8_is_explained(book, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        GOOD.replace("ដារ៉ា", "Dara").encode("utf-8")
        + "t5,2026-02-01,SR-01,caf\xe9,Assets:Cash box,KHR,5\n".encode("latin-1")
    )
    with pytest.raises(JournalImportError, match="not UTF-8 text"):
        do_import(book, path)
    assert balances(book) == {}


def test_empty_file_and_missing_file(book, tmp_path):
    with pytest.raises(JournalImportError, match="empty"):
        do_import(book, write(tmp_path, ""))
    with pytest.raises(JournalImportError, match="There is no file"):
        do_import(book, tmp_path / "nope.csv")


def test_byte_order_mark_and_blank_lines_are_fine(book, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (GOOD + "\n").encode("utf-8"))
    assert do_import(book, path).entries_posted == 3
