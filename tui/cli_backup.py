"""Backups on the command line: ``sansam backup`` and ``sansam restore FILE``, and the
automatic backup when a command that changed an SQLite book ends (the app's close).

A command that only read (a report, a balance, a check) leaves no backup behind: its
sign-in is audited, but the records are as the last backup left them, and copying a
big book takes seconds (7.7 s at a million entries) that the user would wait for after
every report."""

from __future__ import annotations

import argparse
from pathlib import Path

from ledger.backup import BackupError, book_file, check_backup, restore_backup, take_backup
from ledger.db import Book, resolve_url
from ledger.permissions import allow
from tui.cli_common import Opener, bind

_opened: list[tuple[Path, Book]] = []


def remember(book: Book) -> None:
    """Note a book a command opened, to back it up when the command ends if it changed."""
    path = book_file(book.url)
    if path is not None and all(path != seen for seen, _book in _opened):
        _opened.append((path, book))


def on_close() -> None:
    """Back up every SQLite book the command changed (keeping the last ones)."""
    while _opened:
        path, book = _opened.pop()
        if book.changes and path.exists():
            take_backup(path, "close")


def register(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    *,
    db: argparse.ArgumentParser,
    open_book: Opener,
) -> None:
    handler = bind(open_book)
    backup = commands.add_parser(
        "backup", parents=[db], help="back up the book now (consistent, owner-only)"
    )
    backup.set_defaults(handler=handler(cmd_backup))
    restore = commands.add_parser(
        "restore",
        parents=[db],
        help="put a backup in place of the book (administrators; it must verify)",
    )
    restore.add_argument("file", type=Path)
    restore.set_defaults(handler=handler(cmd_restore))


def _sqlite_path(args: argparse.Namespace) -> Path:
    path = book_file(resolve_url(getattr(args, "db", None)))
    if path is None:
        raise BackupError(
            "Backups here are of an SQLite book; back up a PostgreSQL book with pg_dump."
        )
    return path


def cmd_backup(args: argparse.Namespace, open_book: Opener) -> int:
    path = _sqlite_path(args)
    with open_book(args) as book:
        book.write(lambda s: allow(s, "manage_users", None, audit=f"backup of {path.name}"))
    _opened.clear()  # this command's own backup is the one below
    target = take_backup(path, "manual")
    check = check_backup(target)
    state = "verifies" if check.problem is None else f"DOES NOT VERIFY: {check.problem}"
    print(f"Backed up to {target} ({check.groups} groups, {check.entries:,} entries; {state}).")
    return 0 if check.problem is None else 1


def cmd_restore(args: argparse.Namespace, open_book: Opener) -> int:
    path = _sqlite_path(args)
    backup: Path = args.file
    if path.exists():
        with open_book(args) as book:  # an administrator of the book being replaced
            book.write(lambda s: allow(s, "manage_users", None, audit=f"restore {backup.name}"))
    _opened.clear()
    check, safety = restore_backup(path, backup)
    print(f"Restored {backup.name}: {check.groups} groups, {check.entries:,} entries, verified.")
    if safety is not None:
        print(f"The book it replaced is kept in {safety}.")
    return 0
