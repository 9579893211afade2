"""The ``sansam`` command line: one entry point for the app and every command.

Each command takes ``--db URL_OR_PATH`` (else ``SANSAM_DB``, else the default book in the
user's data directory). Errors a user can act on are printed as one plain sentence; an
unexpected failure is written with its traceback to the log file, never to the screen.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from ledger import migrate
from ledger.audit import verify_audit
from ledger.book_identity import book_key
from ledger.db import Book
from ledger.errors import LedgerError
from ledger.groups import find_group
from ledger.journal_csv import export_journal, import_journal
from ledger.journal_text import TEXT_FORMATS, export_journal_text
from ledger.money import decimal_text, format_minor
from ledger.permissions import log_reading
from ledger.queries import trial_balance
from ledger.summary import book_summary
from ledger.users import has_groups, has_users
from ledger.verify import verify_book
from tui import (
    cli_auth,
    cli_backup,
    cli_closing,
    cli_exchange,
    cli_groups,
    cli_loans,
    cli_print,
    cli_rice,
    cli_sync,
    cli_users,
)
from tui.app_settings import idle_minutes

EXIT_OK, EXIT_FAILED_CHECK, EXIT_ERROR = 0, 1, 2
log = logging.getLogger("sansam")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = getattr(args, "handler", cmd_app)
    try:
        code = handler(args)
        sys.stdout.flush()  # a closed pipe shows up here, inside the try
        cli_backup.on_close()
        return code
    except LedgerError as exc:
        print(f"sansam: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader went away (``sansam loan show 3 | head``): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("sansam: stopped; nothing of the unfinished command was saved.", file=sys.stderr)
        return EXIT_ERROR
    except Exception:
        where = _log_unexpected()
        print(
            "sansam: something went wrong that Sansam did not expect; nothing of the unfinished "
            f"command was saved. Details for support are in {where}.",
            file=sys.stderr,
        )
        return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument(
        "--db",
        metavar="URL_OR_PATH",
        default=argparse.SUPPRESS,
        help="the book: an SQLite file path or a postgresql:// URL "
        "(default: $SANSAM_DB, else the book in your data directory)",
    )
    db.add_argument(
        "--user",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="who signs in (default: $SANSAM_USER, else asked); the password or PIN is "
        "asked, or read from $SANSAM_PASSWORD in scripts",
    )
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON for other programs")
    group = argparse.ArgumentParser(add_help=False)
    group.add_argument("--group", metavar="CODE", help="only this group")

    parser = argparse.ArgumentParser(
        prog="sansam",
        description="Sansam: the books of savings groups, VSLAs and rice banks.",
        parents=[db],
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    init = commands.add_parser("init", parents=[db], help="create or upgrade a book")
    init.add_argument("--admin", metavar="USERNAME", help="the new book's administrator")
    init.add_argument("--admin-name", metavar="NAME", help="the administrator's full name")
    init.add_argument(
        "--demo-if-new",
        action="store_true",
        help="when this creates a new book, fill it with a demo federation to explore",
    )
    init.set_defaults(handler=cmd_init)

    journal = commands.add_parser("journal", help="import or export the general journal")
    journal_commands = journal.add_subparsers(title="journal commands", metavar="COMMAND")
    journal_commands.required = True
    imp = journal_commands.add_parser(
        "import", parents=[db], help="import a journal CSV (all rows or none)"
    )
    imp.add_argument("file", type=Path)
    imp.set_defaults(handler=cmd_journal_import)
    exp = journal_commands.add_parser(
        "export", parents=[db, group], help="export to CSV, or for ledger-cli/hledger or beancount"
    )
    exp.add_argument(
        "--format",
        choices=("csv", *TEXT_FORMATS),
        default="csv",
        help="csv (Sansam's own, re-importable; the default), ledger (ledger-cli and hledger) "
        "or beancount",
    )
    exp.add_argument("file", type=Path)
    exp.set_defaults(handler=cmd_journal_export)

    balances = commands.add_parser(
        "balances", parents=[db, group, as_json], help="print the trial balance"
    )
    balances.set_defaults(handler=cmd_balances)

    verify = commands.add_parser(
        "verify",
        parents=[db, group, as_json],
        help="recompute every hash chain and cached balance",
    )
    verify.set_defaults(handler=cmd_verify)
    summary = commands.add_parser("summary", parents=[db], help="print the book's groups")
    summary.set_defaults(handler=cmd_summary)
    cli_groups.register(commands, db=db, as_json=as_json, open_book=_open)
    cli_loans.register(commands, db=db, as_json=as_json, open_book=_open)
    cli_rice.register(commands, db=db, as_json=as_json, open_book=_open)
    cli_closing.register(commands, db=db, as_json=as_json, open_book=_open)
    cli_users.register(commands, db=db, as_json=as_json, open_book=_open)
    cli_backup.register(commands, db=db, open_book=_open)
    cli_print.register(commands, db=db, open_book=_open)
    cli_sync.register(commands, db=db, as_json=as_json, open_book=_open)
    cli_exchange.register(commands, db=db, as_json=as_json, open_book=_open)
    return parser


def _ask_book(book: Book, question: Callable[[Session], bool]) -> bool:
    """A yes/no question about the book, answered in a read (no write lock)."""
    with book.read() as session:
        return question(session)


def _open(args: argparse.Namespace, *, ready: bool = True) -> Book:
    """The book the command names, with its user signed in (``ready=False``: as it is,
    for ``init``)."""
    book = Book.open(getattr(args, "db", None))
    if not ready:
        return book
    cli_backup.remember(book)
    try:
        migrate.ensure_ready(book)
        if not _ask_book(book, has_users):
            raise LedgerError(
                "This book has no users yet: run `sansam init` to create its administrator."
            )
        return cli_auth.signed_in(book, args)
    except BaseException:
        book.close()
        raise


# --- commands ----------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    with _open(args, ready=False) as book:
        before = migrate.current_revision(book)
        migrate.upgrade(book)
        after = migrate.current_revision(book)
        where = book.location
        if before is None:
            print(f"Created a new book at {where} (schema {after}).")
        elif before != after:
            print(f"Upgraded the book at {where} from schema {before} to {after}.")
        else:
            print(f"The book at {where} is ready (schema {after}).")
        key = book.write(book_key)  # made once: it signs this book's sync bundles
        if before is None:
            print(f"The book's signing key: {key.fingerprint} (sansam sync key shows it).")
        if not _ask_book(book, has_users):
            print("Every book has an administrator, who adds the other users.")
            admin = cli_auth.create_administrator(book, args)
            print(f"Created the administrator {admin.username}.")
            # A book still without groups is new, even if an earlier init stopped before
            # its administrator was made.
            if args.demo_if_new and not _ask_book(book, has_groups):
                _load_demo(book.as_user(admin))
    return EXIT_OK


def _load_demo(book: Book) -> None:
    import datetime as dt

    from ledger.demo import DEMO_ROLES, load_demo

    print("Loading a demo federation (three groups near Siem Reap, a year of meetings)...")
    demo = book.write(lambda session: load_demo(session, today=dt.date.today()))
    print(
        f"Demo loaded: {demo.groups} groups, {demo.members} members, {demo.meetings} meetings, "
        f"{demo.entries:,} entries. It is for exploring; create a new book for real groups."
    )
    assert book.actor is not None
    print(
        f"{book.actor.username} is {' and '.join(DEMO_ROLES)} of every demo group, to try "
        "everything; add users for the others with `sansam user add`."
    )


def cmd_app(args: argparse.Namespace) -> int:
    """``sansam`` alone: the treasurer's app on the book (the summary when not at a
    terminal, e.g. in a script or a pipe)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return cmd_summary(args)
    from tui.app import run_app

    with _open(args, ready=False) as book:
        migrate.ensure_ready(book)
        if not _ask_book(book, has_users):
            raise LedgerError(
                "This book has no users yet: run `sansam init` to create its administrator."
            )
        cli_backup.remember(book)  # the treasurer's day of work is backed up when she quits
        return run_app(book, idle_minutes=idle_minutes())


def cmd_summary(args: argparse.Namespace) -> int:
    with _open(args) as book, book.read() as session:
        summary = book_summary(session)
    print(f"Sansam book: {book.location}")
    if not summary.groups:
        print(
            "It holds no groups yet. Register one with: sansam group create CODE --name ... "
            "(see sansam group create --help)"
        )
    else:
        print(f"{'Group':<16} {'Name':<30} {'Entries':>9} {'Accounts':>9}  Last entry")
        for g in summary.groups:
            last = g.last_entry_date.isoformat() if g.last_entry_date else "-"
            print(f"{g.code:<16} {g.name[:30]:<30} {g.entries:>9,} {g.accounts:>9,}  {last}")
    print(
        "\nCommands: sansam group list|show | sansam member list|show|import | "
        "sansam meeting import|list|show|open|close | sansam loan list|show | "
        "sansam portfolio | sansam rice show | sansam shareout preview | sansam period close | "
        "sansam print statement|loan-card|group|portfolio|shareout|sheet | "
        "sansam verify-statement | sansam balances | sansam verify | sansam --help"
    )
    return EXIT_OK


def cmd_journal_import(args: argparse.Namespace) -> int:
    started = time.monotonic()
    progress = _ProgressLine()
    with _open(args) as book:
        summary = book.write(
            lambda session: import_journal(session, args.file, on_progress=progress)
        )
    progress.done()
    seconds = time.monotonic() - started
    print(
        f"Imported {args.file}: {summary.rows:,} rows, {summary.entries_posted:,} new entries, "
        f"{summary.entries_already_present:,} already in the book ({seconds:.1f} s)."
    )
    if summary.groups_created:
        print(f"New groups: {', '.join(summary.groups_created)}")
    if summary.accounts_created:
        print(f"New accounts: {summary.accounts_created:,}")
    return EXIT_OK


def cmd_journal_export(args: argparse.Namespace) -> int:
    """Write the whole file or nothing: a .partial file, renamed once the export is kept
    in the audit trail."""
    partial = args.file.with_name(args.file.name + ".partial")
    with _open(args) as book, book.read() as session:
        group_id = find_group(session, args.group).id if args.group else None
        try:
            if args.format == "csv":
                count = export_journal(session, partial, group_id=group_id)
                what, done = f"journal CSV, {count:,} postings", f"{count:,} postings"
            else:
                count = export_journal_text(session, partial, fmt=args.format, group_id=group_id)
                what = f"journal in {args.format} format, {count:,} entries"
                done = f"{count:,} entries ({args.format} format)"
            book.write(lambda s: log_reading(s, "export", group_id, what))
            partial.replace(args.file)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    print(f"Wrote {done} to {args.file}.")
    return EXIT_OK


def cmd_balances(args: argparse.Namespace) -> int:
    with _open(args) as book, book.read() as session:
        group_id = find_group(session, args.group).id if args.group else None
        tb = trial_balance(session, group_id)
    if args.json:
        print(
            json.dumps(
                {
                    "accounts": [
                        {
                            "group": r.group_code,
                            "account": r.account,
                            "type": r.type,
                            "commodity": r.commodity,
                            "balance": decimal_text(r.balance_minor, r.commodity),
                            "balance_minor": r.balance_minor,
                        }
                        for r in tb.rows
                    ],
                    "totals": {c: decimal_text(t, c) for c, t in tb.totals_minor.items()},
                    "balanced": tb.balanced,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return EXIT_OK
    if not tb.rows:
        print("No accounts yet.")
        return EXIT_OK
    width = max(32, *(len(r.account) for r in tb.rows))
    print(f"{'Group':<12} {'Account':<{width}} {'Debit':>22} {'Credit':>22}")
    debit_totals: dict[str, int] = {}
    credit_totals: dict[str, int] = {}
    for r in tb.rows:
        debit = format_minor(r.balance_minor, r.commodity) if r.balance_minor > 0 else ""
        credit = format_minor(-r.balance_minor, r.commodity) if r.balance_minor < 0 else ""
        debit_totals[r.commodity] = debit_totals.get(r.commodity, 0) + max(r.balance_minor, 0)
        credit_totals[r.commodity] = credit_totals.get(r.commodity, 0) + max(-r.balance_minor, 0)
        print(f"{r.group_code:<12} {r.account:<{width}} {debit:>22} {credit:>22}")
    print("-" * (12 + width + 48))
    for code in tb.totals_minor:
        print(
            f"{'Total':<12} {code:<{width}} {format_minor(debit_totals[code], code):>22} "
            f"{format_minor(credit_totals[code], code):>22}"
        )
    if not tb.balanced:
        print("WARNING: debits and credits differ; run `sansam verify`.", file=sys.stderr)
        return EXIT_FAILED_CHECK
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    progress = _ProgressLine(unit="entries checked")
    with _open(args) as book, book.read() as session:
        group_id = find_group(session, args.group).id if args.group else None
        report = verify_book(session, group_id, on_progress=lambda n: progress(n, n))
        trail_break = verify_audit(session)
        outcome = "ok" if report.ok and trail_break is None else "problems found"
        book.write(lambda s: log_reading(s, "verify", group_id, outcome))
    progress.done()
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok and trail_break is None,
                    "audit_trail_first_break": trail_break,
                    "groups": report.groups,
                    "entries": report.entries,
                    "postings": report.postings,
                    "problems": [
                        {"group": p.group_code, "entry": p.seq, "message": p.message}
                        for p in report.problems
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    elif report.ok and trail_break is None:
        print(
            f"OK: {report.groups:,} group(s), {report.entries:,} entries and "
            f"{report.postings:,} postings verified; every chain and balance matches."
        )
    else:
        print("VERIFY FAILED: the book does not match its hash chains.")
        for p in report.first_breaks():
            print(f"  group {p.group_code}: first break — {p.message}")
        extra = len(report.problems) - len(report.first_breaks())
        if extra:
            print(f"  ({extra} further problem(s); use --json to list them all)")
    if trail_break is not None and not args.json:
        print(f"AUDIT TRAIL BROKEN: event {trail_break} does not match its hash chain.")
    return EXIT_OK if report.ok and trail_break is None else EXIT_FAILED_CHECK


# --- helpers -----------------------------------------------------------------------------


class _ProgressLine:
    """Progress on stderr for long work: a live line on a terminal, a line a second else."""

    def __init__(self, unit: str = "entries") -> None:
        self.unit = unit
        self.last = time.monotonic()
        self.shown = False

    def __call__(self, rows: int, entries: int) -> None:
        now = time.monotonic()
        if now - self.last < (0.2 if sys.stderr.isatty() else 5.0):
            return
        self.last = now
        self.shown = True
        text = f"  … {entries:,} {self.unit}" + (
            f" ({rows:,} rows read)" if rows != entries else ""
        )
        if sys.stderr.isatty():
            print("\r" + text, end="", file=sys.stderr, flush=True)
        else:
            print(text, file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.shown and sys.stderr.isatty():
            print(file=sys.stderr)


def _log_unexpected() -> Path:
    from platformdirs import user_log_path

    path = user_log_path("sansam", appauthor=False) / "sansam.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.exception("unexpected error in: sansam %s", " ".join(sys.argv[1:]))
    handler.close()
    return path


if __name__ == "__main__":
    sys.exit(main())
