"""Backups of an SQLite book, taken and restored so that members' savings survive a
broken PC, a wrong upgrade or a careless delete.

A backup is made with SQLite's online backup API, page by page under SQLite's own
locks, so it is a consistent copy even while a treasurer is posting; copying the file of
a live book could catch half a transaction (and miss the WAL file entirely). Backups
sit in a ``backups`` folder beside the book, readable by the owning OS user only. The
newest ``KEEP_RECENT`` are kept, and the newest of each of the last ``KEEP_DAILY`` days.

``restore_backup`` refuses a file that does not verify (every hash chain, every cached
balance, the audit trail) and backs up the book it replaces first, so a restore can
itself be undone.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from ledger.audit import verify_audit
from ledger.db import Book
from ledger.errors import LedgerError
from ledger.migrate import current_revision, head_revision
from ledger.permissions import Actor
from ledger.verify import verify_book

KEEP_RECENT = 10
KEEP_DAILY = 30
FOLDER = "backups"
_STAMP = "%Y%m%dT%H%M%S%f"
_STAMP_IN_NAME = re.compile(r"-(\d{8}T\d{12})-[a-z-]+$")
# Checking a backup reads every group: it runs for the book as a whole, not for a user.
_CHECKER = Actor(0, "sansam-backup", "Backup check", False, {}, frozenset({"coordinator"}))


class BackupError(LedgerError):
    """A backup that cannot be taken, or a file that cannot be restored."""


@dataclass(frozen=True, slots=True)
class BackupCheck:
    groups: int
    entries: int
    problem: str | None  # the first thing that does not verify, or None


def book_file(url: str) -> Path | None:
    """The book's file, for an SQLite book on disk (None for PostgreSQL or memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def backup_folder(book_path: Path) -> Path:
    folder = book_path.parent / FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def copy_book(source: Path, target: Path) -> None:
    """A consistent copy of the live book ``source`` into ``target`` (owner-only)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()
    os.chmod(partial, 0o600)
    partial.replace(target)  # a backup is there whole or not at all


def take_backup(book_path: Path, reason: str, *, now: dt.datetime | None = None) -> Path:
    """Back up the book now (``reason`` goes into the name: close, before-upgrade...)
    and prune the old ones."""
    if not book_path.exists():
        raise BackupError(f"There is no book at {book_path} to back up.")
    at = now or dt.datetime.now()
    target = backup_folder(book_path) / f"{book_path.stem}-{at.strftime(_STAMP)}-{reason}.sqlite"
    copy_book(book_path, target)
    prune_backups(book_path)
    return target


def list_backups(book_path: Path) -> list[Path]:
    """The book's backups, newest first."""
    folder = book_path.parent / FOLDER
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob(f"{book_path.stem}-*.sqlite") if _taken_at(p) is not None]
    return sorted(found, key=lambda p: _taken_at(p) or dt.datetime.min, reverse=True)


def prune_backups(book_path: Path) -> list[Path]:
    """Delete all but the newest ``KEEP_RECENT`` and the newest of each of the last
    ``KEEP_DAILY`` days that have one; returns what was deleted."""
    backups = list_backups(book_path)
    keep = set(backups[:KEEP_RECENT])
    days: set[dt.date] = set()
    for path in backups:  # newest first: the first seen of a day is its newest
        taken = _taken_at(path)
        assert taken is not None
        if taken.date() not in days and len(days) < KEEP_DAILY:
            days.add(taken.date())
            keep.add(path)
    deleted = [p for p in backups if p not in keep]
    for path in deleted:
        path.unlink(missing_ok=True)
    return deleted


def check_backup(path: Path) -> BackupCheck:
    """Verify a backup as ``sansam verify`` would, without changing it."""
    if not path.is_file():
        raise BackupError(f"There is no file {path}.")
    with path.open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path.name} is not a Sansam book (not an SQLite database).")
    with tempfile.TemporaryDirectory(prefix="sansam-check-") as scratch:
        # Check a copy: opening a book sets it up for writing, and a backup stays as taken.
        copy = Path(scratch) / "check.sqlite"
        try:
            copy_book(path, copy)
        except sqlite3.DatabaseError as exc:
            return BackupCheck(0, 0, f"it cannot be read ({exc})")
        return _check_copy(copy)


def _check_copy(copy: Path) -> BackupCheck:
    book = Book(f"sqlite:///{copy}").as_user(_CHECKER)
    try:
        revision = current_revision(book)
        if revision is None:
            return BackupCheck(0, 0, "it holds no Sansam book")
        if revision != head_revision():
            return BackupCheck(0, 0, f"it was made by another version (schema {revision})")
        with book.read() as session:
            report = verify_book(session)
            trail = verify_audit(session)
    except Exception as exc:  # a damaged file fails in SQLAlchemy or sqlite3 alike
        return BackupCheck(0, 0, f"it cannot be read ({str(exc).splitlines()[0]})")
    finally:
        book.close()
    problem = None
    if report.problems:
        first = report.first_breaks()[0]
        problem = f"group {first.group_code}: {first.message}"
    elif trail is not None:
        problem = f"audit trail event {trail} does not match its hash chain"
    return BackupCheck(report.groups, report.entries, problem)


def restore_backup(book_path: Path, backup: Path) -> tuple[BackupCheck, Path | None]:
    """Put ``backup`` in place of the book, if it verifies; the book it replaces is
    backed up first. Returns the check and that safety backup."""
    check = check_backup(backup)
    if check.problem:
        raise BackupError(f"{backup.name} does not verify: {check.problem}. Nothing was restored.")
    safety = take_backup(book_path, "before-restore") if book_path.exists() else None
    src = sqlite3.connect(f"file:{backup.resolve()}?mode=ro", uri=True)
    book_path.parent.mkdir(parents=True, exist_ok=True)
    if not book_path.exists():
        book_path.touch(mode=0o600)
    dst = sqlite3.connect(book_path, timeout=30)
    try:
        dst.execute("PRAGMA journal_mode = WAL")
        src.backup(dst)  # replaces every page, under the book's write lock
    finally:
        dst.close()
        src.close()
    return check, safety


def _taken_at(path: Path) -> dt.datetime | None:
    match = _STAMP_IN_NAME.search(path.stem)
    return dt.datetime.strptime(match.group(1), _STAMP) if match else None
