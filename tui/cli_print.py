"""Printing on the command line: ``sansam print statement ...`` and the other documents,
and ``sansam verify-statement CODE`` for a coordinator holding a member's paper.

Each command reads the book in one read-only unit of work, hands the records to
``reports/`` and writes the PDF next to a ``.partial`` file first, so a file named on the
command line is either the whole document or untouched. Printing members' statements is
kept in the audit trail (personal financial data leaves the book).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from ledger.cycles import current_cycle
from ledger.errors import InvalidEntry
from ledger.groups import GroupRecord, find_group, list_groups
from ledger.locations import location_from_codes
from ledger.member_statement import member_statement, member_statements, members_in_period
from ledger.permissions import log_reading
from ledger.statement_check import check_statement
from reports.batch import statements_pdf, statements_to_files
from reports.layout import PAGE_SIZES
from reports.member_statement import statement_pdf
from reports.text import LANGS, Words
from tui.cli_common import Opener, bind, date_arg


def register(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    *,
    db: argparse.ArgumentParser,
    open_book: Opener,
) -> None:
    handler = bind(open_book)
    paper = argparse.ArgumentParser(add_help=False)
    paper.add_argument("--out", type=Path, required=True, metavar="FILE.pdf")
    paper.add_argument(
        "--lang", choices=LANGS, default="both", help="Khmer with English (both), km or en"
    )
    paper.add_argument("--khmer-digits", action="store_true", help="print ០១២៣ for 0123")
    paper.add_argument("--size", choices=sorted(PAGE_SIZES), default="A4")

    printing = commands.add_parser("print", help="print statements and reports to PDF")
    docs = printing.add_subparsers(title="documents", metavar="DOCUMENT")
    docs.required = True
    statement = docs.add_parser(
        "statement",
        parents=[db, paper],
        help="member statements: one member, a whole group, or a commune's groups",
    )
    whose = statement.add_mutually_exclusive_group(required=True)
    whose.add_argument("--group", metavar="CODE", help="the group (with --member: one member)")
    whose.add_argument("--commune", metavar="CODE|NAME", help="every group of a commune")
    statement.add_argument("--member", metavar="CODE", help="one member (else all of them)")
    statement.add_argument("--from", dest="start", type=date_arg, metavar="YYYY-MM-DD")
    statement.add_argument("--to", dest="end", type=date_arg, metavar="YYYY-MM-DD")
    statement.add_argument(
        "--one-per-member",
        action="store_true",
        help="write one PDF per member into the directory --out names",
    )
    statement.set_defaults(handler=handler(cmd_print_statement))

    check = commands.add_parser(
        "verify-statement",
        parents=[db],
        help="check a printed statement's code (under its QR code) against the book",
    )
    check.add_argument("code", help='the code as printed, in quotes: "SANSAM-ST1;..."')
    check.set_defaults(handler=handler(cmd_verify_statement))


def _words(args: argparse.Namespace) -> Words:
    return Words(args.lang, khmer_digits=args.khmer_digits)


def _period(
    session: Session, group: GroupRecord, args: argparse.Namespace
) -> tuple[dt.date, dt.date]:
    """The period asked for; by default the current cycle up to today."""
    end = args.end or dt.date.today()
    start = args.start
    if start is None:
        cycle = current_cycle(session, group.id, required=False)
        start = cycle.starts_on if cycle else end.replace(month=1, day=1)
    if end < start:
        raise InvalidEntry(f"--to ({end}) is before --from ({start}).")
    return start, end


def _commune_groups(session: Session, wanted: str) -> list[GroupRecord]:
    """The groups (that the user may read) of a commune, given its code or its name."""
    key = wanted.strip().casefold()
    found = []
    for g in list_groups(session):
        if not g.commune_code:
            continue
        place = location_from_codes(g.commune_code)
        if key in (g.commune_code, place.commune.casefold(), place.commune_km.casefold()):
            found.append(g)
    if not found:
        raise InvalidEntry(
            f"No group you may read is in a commune {wanted!r}; give the commune's code "
            "(6 digits) or its name as `sansam group list` shows it."
        )
    return found


def _check_out(path: Path) -> None:
    """Refuse a file name that is not a PDF before any work is done."""
    if path.suffix.lower() != ".pdf":
        raise InvalidEntry(f"{path} does not end in .pdf; name the file to write, e.g. out.pdf.")


def _write(path: Path, pdf: bytes) -> None:
    """Write the whole file or nothing: a .partial file, renamed when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(pdf)
    partial.replace(path)


def _progress(total: int) -> Callable[[int], None]:
    """Print "12/30 statements" on one line as a batch goes (to stderr, for people)."""

    def show(done: int) -> None:
        if sys.stderr.isatty() or done == total:
            end = "\n" if done == total else "\r"
            print(f"{done}/{total} statements", end=end, file=sys.stderr, flush=True)

    return show


def cmd_print_statement(args: argparse.Namespace, open_book: Opener) -> int:
    words = _words(args)
    if args.member and args.one_per_member:
        raise InvalidEntry("--one-per-member prints a batch; leave out --member.")
    if args.commune and args.member:
        raise InvalidEntry("--member goes with --group, not with --commune.")
    if not args.one_per_member:
        _check_out(args.out)
    with open_book(args) as book:
        with book.read() as session:
            if args.commune:
                groups = _commune_groups(session, args.commune)
            else:
                groups = [find_group(session, args.group)]
            batches = [(g, *_period(session, g, args)) for g in groups]
            if args.member:
                group, start, end = batches[0]
                s = member_statement(session, group.id, args.member, start, end)
                _write(args.out, statement_pdf(s, words=words, size=args.size))
                done = f"Wrote {args.out}: the statement of {s.member.code}, {start} to {end}."
                traces = [(group.id, f"printed the statement of {s.member.code}")]
            else:
                done, traces = _print_batch(session, batches, args, words)
        for group_id, detail in traces:  # personal data left the book: keep a trace
            book.write(lambda s, g=group_id, d=detail: log_reading(s, "export", g, d))
    print(done)
    return 0


def _print_batch(
    session: Session,
    batches: list[tuple[GroupRecord, dt.date, dt.date]],
    args: argparse.Namespace,
    words: Words,
) -> tuple[str, list[tuple[int, str]]]:
    counts = [len(members_in_period(session, g.id, s, e)) for g, s, e in batches]
    total = sum(counts)
    if not total:
        raise InvalidEntry("No member belonged to the group(s) in that period.")
    statements = (
        statement for g, s, e in batches for statement in member_statements(session, g.id, s, e)
    )
    progress = _progress(total)
    traces = [
        (g.id, f"printed the statements of {n} members for {s}..{e}")
        for (g, s, e), n in zip(batches, counts, strict=True)
    ]
    if args.one_per_member:
        paths = statements_to_files(
            statements, args.out, words=words, size=args.size, on_progress=progress
        )
        return f"Wrote {len(paths)} statements into {args.out}.", traces
    pdf, count = statements_pdf(statements, words=words, size=args.size, on_progress=progress)
    _write(args.out, pdf)
    return f"Wrote {args.out}: {count} statements from {len(batches)} group(s).", traces


def cmd_verify_statement(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book:
        result = book.write(lambda session: check_statement(session, args.code))
    code = result.code
    print(f"{code.group_code} {code.member_code}, {code.start} to {code.end}: {result.verdict}")
    print(result.message)
    if result.now is not None and result.verdict != "matches":
        print(
            f"The book now shows: savings {result.now.savings:,}, shares {result.now.shares:,}, "
            f"loans {result.now.loans:,}, rice {result.now.rice:,} g; the paper says "
            f"{code.savings:,}, {code.shares:,}, {code.loans:,}, {code.rice:,} g."
        )
    return 0 if result.verdict == "matches" else 1
