"""Backups of an SQLite book: consistent while treasurers post, owner-only on disk,
pruned to the last ones and one a day, and restored only when they verify."""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from ledger import migrate
from ledger.backup import (
    KEEP_RECENT,
    BackupError,
    check_backup,
    list_backups,
    restore_backup,
    take_backup,
)
from ledger.db import Book
from ledger.queries import trial_balance
from ledger.verify import verify_book
from tests.helpers import TESTER, make_group, new_key, post, transfer


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def village(tmp_path: Path):
    """A village PC's book: an SQLite file with one group and a few entries."""
    path = tmp_path / "data" / "book.sqlite"
    path.parent.mkdir()
    with Book(f"sqlite:///{path}") as fresh:
        migrate.upgrade(fresh)
    book = Book(f"sqlite:///{path}").as_user(TESTER)
    g = make_group(book)
    for n in range(5):
        post(book, transfer(g.group.id, g.cash, g.savings, 1000 + n, key=new_key()))
    yield path, book, g
    book.close()


def test_the_book_and_its_backups_are_readable_by_their_owner_only(village):
    path, _book, _g = village
    assert mode(path) == 0o600
    backup = take_backup(path, "manual")
    assert mode(backup) == 0o600 and mode(backup.parent) == 0o700
    assert check_backup(backup).problem is None


def test_a_backup_taken_while_a_treasurer_posts_restores_to_a_book_that_verifies(village, tmp_path):
    path, book, g = village
    stop = threading.Event()
    posted: list[int] = []

    def treasurer() -> None:
        while not stop.is_set():
            post(book, transfer(g.group.id, g.cash, g.savings, 100, key=new_key()))
            posted.append(1)

    writer = threading.Thread(target=treasurer)
    writer.start()
    try:
        backups = []
        while len(backups) < 3:
            if len(posted) > 10 * (len(backups) + 1):
                backups.append(take_backup(path, "close"))
    finally:
        stop.set()
        writer.join()
    for backup in backups:
        check = check_backup(backup)
        assert check.problem is None and check.entries >= 5
    target = tmp_path / "restored" / "book.sqlite"
    check, safety = restore_backup(target, backups[1])
    assert safety is None and check.problem is None
    with Book(f"sqlite:///{target}").as_user(TESTER) as restored, restored.read() as s:
        assert verify_book(s).ok
        assert trial_balance(s).balanced
        assert verify_book(s).entries == check.entries


def test_restore_refuses_a_tampered_backup_and_leaves_the_book_alone(village):
    path, book, _g = village
    backup = take_backup(path, "manual")
    with sqlite3.connect(backup) as c:
        c.execute("DROP TRIGGER IF EXISTS trg_postings_no_update")
        triggers = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
        for name in triggers:
            c.execute(f'DROP TRIGGER "{name}"')
        c.execute("UPDATE postings SET amount = amount + 100 WHERE entry_seq = 2 AND amount > 0")
    with book.read() as s:
        before = trial_balance(s)
    with pytest.raises(BackupError, match=r"does not verify: group SR-01.*Nothing was restored"):
        restore_backup(path, backup)
    with book.read() as s:
        assert trial_balance(s) == before
    not_a_book = path.parent / "notes.txt"
    not_a_book.write_text("savings 5000", encoding="utf-8")
    with pytest.raises(BackupError, match="not a Sansam book"):
        restore_backup(path, not_a_book)


def test_restoring_keeps_the_replaced_book(village):
    path, book, g = village
    first = take_backup(path, "manual")
    post(book, transfer(g.group.id, g.cash, g.savings, 999, key=new_key()))
    _check, safety = restore_backup(path, first)
    assert safety is not None and check_backup(safety).entries == 6
    with book.read() as s:
        assert verify_book(s).entries == 5


def test_old_backups_are_pruned_to_the_recent_ones_and_one_a_day(village):
    path, _book, _g = village
    start = dt.datetime(2026, 10, 1, 8)
    for day in range(3):
        for hour in range(KEEP_RECENT):
            take_backup(path, "close", now=start + dt.timedelta(days=day, hours=hour))
    kept = list_backups(path)
    assert len(kept) == KEEP_RECENT + 2  # today's ten, and the last of each earlier day
    assert all(mode(p) == 0o600 for p in kept)


def test_an_upgrade_backs_the_book_up_first(village):
    path, _book, _g = village
    with Book(f"sqlite:///{path}") as book:
        migrate.downgrade(book, "0008")
        migrate.upgrade(book)
    taken = [p.name for p in list_backups(path)]
    assert len(taken) == 1 and taken[0].endswith("-before-upgrade.sqlite")


def test_a_new_books_folder_is_its_owners_only(tmp_path):
    path = tmp_path / "sansam" / "book.sqlite"
    with Book(f"sqlite:///{path}") as book:
        migrate.upgrade(book)
    assert mode(path.parent) == 0o700 and mode(path) == 0o600
