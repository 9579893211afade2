"""The migrations are the schema: empty -> head works, and matches the models exactly."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from ledger import migrate
from ledger.db import Book
from ledger.errors import BookNotReady
from tests.helpers import TESTER


def test_empty_to_head_and_no_drift(blank_url):
    book = Book(blank_url)
    try:
        with pytest.raises(BookNotReady, match="sansam init"):
            migrate.ensure_ready(book)
        migrate.upgrade(book)
        assert migrate.current_revision(book) == migrate.head_revision()
        migrate.ensure_ready(book)
        migrate.check_drift(book)  # raises if the models and the schema differ
        tables = set(inspect(book.engine).get_table_names())
        assert {"groups", "accounts", "journal_entries", "postings", "period_closes"} <= tables
    finally:
        book.close()


def test_down_to_base_and_up_again(blank_url):
    book = Book(blank_url)
    try:
        migrate.upgrade(book)
        migrate.downgrade(book, "base")
        assert "journal_entries" not in inspect(book.engine).get_table_names()
        migrate.upgrade(book)
        migrate.check_drift(book)
    finally:
        book.close()


def test_upgrading_a_current_book_changes_nothing(book):
    before = migrate.current_revision(book)
    migrate.upgrade(book)
    assert migrate.current_revision(book) == before


def test_new_sqlite_book_is_private_to_its_owner(tmp_path):
    path = tmp_path / "private.sqlite"
    book = Book(f"sqlite:///{path}")
    migrate.upgrade(book)
    book.close()
    assert path.stat().st_mode & 0o077 == 0


def test_a_book_made_by_the_first_version_upgrades_with_its_data(blank_url):
    from sqlalchemy import text

    from ledger.verify import verify_book

    book = Book(blank_url).as_user(TESTER)
    try:
        migrate.upgrade(book, "0001")
        with book.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO groups (uuid, code, name, created_at) "
                    "VALUES ('g-uuid', 'OLD-01', 'Old group', '2026-01-01 00:00:00')"
                )
            )
        migrate.upgrade(book)
        with book.engine.connect() as conn:
            row = conn.execute(
                text("SELECT kind, currency, meeting_frequency FROM groups WHERE code = 'OLD-01'")
            ).one()
        assert tuple(row) == ("vsla", "KHR", "weekly")
        with book.read() as s:
            assert verify_book(s).ok
    finally:
        book.close()


def test_a_group_made_before_loans_gets_the_accounts_loans_need(blank_url):
    from ledger.chart import GroupAccounts
    from ledger.errors import UnknownAccount
    from tests.helpers import TESTER
    from tests.savings_helpers import make_vsla

    book = Book(blank_url).as_user(TESTER)
    try:
        migrate.upgrade(book)
        group = make_vsla(book).group
        migrate.downgrade(book, "0006")  # as a book of that version had it: no such accounts
        with book.read() as s, pytest.raises(UnknownAccount):
            GroupAccounts(s, group.id).get("penalty_income")
        migrate.upgrade(book)
        with book.read() as s:
            accounts = GroupAccounts(s, group.id)
            names = [
                accounts.get(r).name
                for r in ("penalty_income", "recoveries", "loan_losses", "interest_expense")
            ]
        assert names == [
            "Income:Late penalties",
            "Income:Recoveries of written-off loans",
            "Expenses:Loans written off",
            "Expenses:Interest on borrowings",
        ]
    finally:
        book.close()
