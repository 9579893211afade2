"""Printing on the command line: ``sansam print statement|loan-card|group|portfolio|
shareout|sheet``, and ``sansam verify-statement CODE`` for a coordinator holding a
member's paper.

Each command reads the book in one read-only unit of work, hands the records to
``reports/`` and writes the PDF as a ``.partial`` file renamed when complete, so a file
named on the command line is either the whole document or untouched. Every printing is
kept in the audit trail (members' financial data leaves the book).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ledger.collection_sheet import collection_sheet, next_meeting_date
from ledger.cycles import current_cycle
from ledger.errors import InvalidEntry
from ledger.group_report import group_report
from ledger.groups import GroupRecord, find_group, list_groups
from ledger.loan_card import loan_card
from ledger.locations import location_from_codes
from ledger.member_statement import member_statement, member_statements, members_in_period
from ledger.permissions import log_reading
from ledger.portfolio import LEVELS
from ledger.portfolio_report import portfolio_report
from ledger.shareout import METHODS
from ledger.shareout_sheet import shareout_sheet
from ledger.statement_check import check_statement
from reports.options import LANGS, PAGE_SIZE_NAMES
from tui.cli_common import Opener, amount_arg, bind, date_arg

if TYPE_CHECKING:
    from reports.text import Words


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
    # No default here: a parent's actions are shared by every document's parser, so a
    # default set on one (the landscape collection sheet) would become everyone's.
    paper.add_argument("--size", choices=PAGE_SIZE_NAMES, help="A4 (the sheet: A4-landscape)")
    period = argparse.ArgumentParser(add_help=False)
    period.add_argument("--from", dest="start", type=date_arg, metavar="YYYY-MM-DD")
    period.add_argument("--to", dest="end", type=date_arg, metavar="YYYY-MM-DD")

    printing = commands.add_parser("print", help="print statements and reports to PDF")
    docs = printing.add_subparsers(title="documents", metavar="DOCUMENT")
    docs.required = True
    statement = docs.add_parser(
        "statement",
        parents=[db, paper, period],
        help="member statements: one member, a whole group, or a commune's groups",
    )
    whose = statement.add_mutually_exclusive_group(required=True)
    whose.add_argument("--group", metavar="CODE", help="the group (with --member: one member)")
    whose.add_argument("--commune", metavar="CODE|NAME", help="every group of a commune")
    statement.add_argument("--member", metavar="CODE", help="one member (else all of them)")
    statement.add_argument(
        "--one-per-member",
        action="store_true",
        help="write one PDF per member into the directory --out names",
    )
    statement.set_defaults(handler=handler(cmd_print_statement))

    group_opt = argparse.ArgumentParser(add_help=False)
    group_opt.add_argument("--group", metavar="CODE", required=True, help="the group's code")
    card = docs.add_parser(
        "loan-card", parents=[db, paper, group_opt], help="a loan's schedule and payments"
    )
    card.add_argument("number", type=int, help="the loan's number in the group")
    card.add_argument("--on", type=date_arg, metavar="YYYY-MM-DD", help="as of (today)")
    card.set_defaults(handler=handler(cmd_print_loan_card))
    report = docs.add_parser(
        "group", parents=[db, paper, period, group_opt], help="the group report for a period"
    )
    report.set_defaults(handler=handler(cmd_print_group))
    folio = docs.add_parser(
        "portfolio", parents=[db, paper], help="loans and arrears across your groups"
    )
    folio.add_argument("--as-of", type=date_arg, metavar="YYYY-MM-DD", help="(today)")
    folio.add_argument("--by", choices=LEVELS, default="group")
    folio.add_argument("--groups", nargs="+", metavar="CODE", help="only these groups")
    folio.set_defaults(handler=handler(cmd_print_portfolio))
    share = docs.add_parser(
        "shareout",
        parents=[db, paper, group_opt],
        help="the share-out sheet with signature boxes: a preview, or as posted",
    )
    share.add_argument("--on", type=date_arg, metavar="YYYY-MM-DD", help="share-out day (today)")
    share.add_argument("--posted", action="store_true", help="the share-out posted that day")
    share.add_argument("--method", choices=METHODS, default="shares")
    share.add_argument("--deduct-loans", action="store_true")
    share.add_argument("--cash-unit", help="round payouts down to this (default 100 riel)")
    share.set_defaults(handler=handler(cmd_print_shareout))
    sheet = docs.add_parser(
        "sheet",
        parents=[db, paper, group_opt],
        help="a blank collection sheet for a meeting, with what is due (landscape)",
    )
    sheet.add_argument("--date", type=date_arg, metavar="YYYY-MM-DD", help="(next meeting)")
    sheet.set_defaults(handler=handler(cmd_print_sheet))

    check = commands.add_parser(
        "verify-statement",
        parents=[db],
        help="check a printed statement's code (under its QR code) against the book",
    )
    check.add_argument("code", help='the code as printed, in quotes: "SANSAM-ST1;..."')
    check.set_defaults(handler=handler(cmd_verify_statement))


def _size(args: argparse.Namespace, usual: str = "A4") -> str:
    return args.size or usual


def _words(args: argparse.Namespace) -> Words:
    from reports.text import Words  # ReportLab loads only when something is printed

    return Words(args.lang, khmer_digits=args.khmer_digits)


def _period(
    session: Session, group: GroupRecord, args: argparse.Namespace
) -> tuple[dt.date, dt.date]:
    return period(session, group, args.start, args.end or dt.date.today())


def period(
    session: Session, group: GroupRecord, start: dt.date | None, end: dt.date
) -> tuple[dt.date, dt.date]:
    """The period of a group's documents; from the start of the current cycle unless
    ``start`` is given (the command line's --from, the print screen's first date)."""
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


def check_pdf_name(path: Path) -> None:
    """Refuse a file name that is not a PDF before any work is done."""
    if path.suffix.lower() != ".pdf":
        raise InvalidEntry(f"{path} does not end in .pdf; name the file to write, e.g. out.pdf.")


def write_whole(path: Path, pdf: bytes) -> None:
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
    from reports.member_statement import statement_pdf

    words = _words(args)
    if args.member and args.one_per_member:
        raise InvalidEntry("--one-per-member prints a batch; leave out --member.")
    if args.commune and args.member:
        raise InvalidEntry("--member goes with --group, not with --commune.")
    if not args.one_per_member:
        check_pdf_name(args.out)
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
                write_whole(args.out, statement_pdf(s, words=words, size=_size(args)))
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
    from reports.batch import statements_pdf, statements_to_files

    members = [members_in_period(session, g.id, s, e) for g, s, e in batches]
    counts = [len(m) for m in members]
    total = sum(counts)
    if not total:
        raise InvalidEntry("No member belonged to the group(s) in that period.")
    statements = (
        statement
        for (g, s, e), who in zip(batches, members, strict=True)
        for statement in member_statements(session, g.id, s, e, members=who)
    )
    progress = _progress(total)
    traces = [
        (g.id, f"printed the statements of {n} members for {s}..{e}")
        for (g, s, e), n in zip(batches, counts, strict=True)
    ]
    if args.one_per_member:
        paths = statements_to_files(
            statements, args.out, words=words, size=_size(args), on_progress=progress
        )
        return f"Wrote {len(paths)} statements into {args.out}.", traces
    pdf, count = statements_pdf(statements, words=words, size=_size(args), on_progress=progress)
    write_whole(args.out, pdf)
    return f"Wrote {args.out}: {count} statements from {len(batches)} group(s).", traces


def _one_document(
    args: argparse.Namespace,
    open_book: Opener,
    make: Callable[[Session, GroupRecord | None], tuple[bytes, str, int | None]],
) -> int:
    """Read, lay out and write one document, and keep a trace of what was printed."""
    check_pdf_name(args.out)
    with open_book(args) as book:
        with book.read() as session:
            group = find_group(session, args.group) if getattr(args, "group", None) else None
            pdf, what, group_id = make(session, group)
        write_whole(args.out, pdf)
        book.write(lambda s: log_reading(s, "export", group_id, f"printed {what}"))
    print(f"Wrote {args.out}: {what}.")
    return 0


def cmd_print_loan_card(args: argparse.Namespace, open_book: Opener) -> int:
    from reports.loan_card import loan_card_pdf

    def make(session: Session, group: GroupRecord | None) -> tuple[bytes, str, int | None]:
        assert group is not None
        card = loan_card(session, group.id, args.number, on=args.on or dt.date.today())
        pdf = loan_card_pdf(card, words=_words(args), size=_size(args))
        return pdf, f"the card of loan #{args.number}", group.id

    return _one_document(args, open_book, make)


def cmd_print_group(args: argparse.Namespace, open_book: Opener) -> int:
    from reports.group_report import group_report_pdf

    def make(session: Session, group: GroupRecord | None) -> tuple[bytes, str, int | None]:
        assert group is not None
        start, end = _period(session, group, args)
        report = group_report(session, group.id, start, end)
        pdf = group_report_pdf(report, words=_words(args), size=_size(args))
        return pdf, f"the report of {group.code} for {start} to {end}", group.id

    return _one_document(args, open_book, make)


def cmd_print_portfolio(args: argparse.Namespace, open_book: Opener) -> int:
    from reports.portfolio_report import portfolio_report_pdf

    def make(session: Session, group: GroupRecord | None) -> tuple[bytes, str, int | None]:
        on = args.as_of or dt.date.today()
        report = portfolio_report(session, as_of=on, by=args.by, codes=args.groups)
        pdf = portfolio_report_pdf(report, words=_words(args), size=_size(args))
        return pdf, f"the portfolio by {args.by} as of {on}", None

    return _one_document(args, open_book, make)


def cmd_print_shareout(args: argparse.Namespace, open_book: Opener) -> int:
    from reports.shareout_sheet import shareout_sheet_pdf

    def make(session: Session, group: GroupRecord | None) -> tuple[bytes, str, int | None]:
        assert group is not None
        unit = None
        if args.cash_unit:
            unit = amount_arg(args.cash_unit, group.currency, "--cash-unit")
            if unit < 1:
                raise InvalidEntry("--cash-unit: the cash unit must be more than 0.")
        on = args.on or dt.date.today()
        sheet = shareout_sheet(
            session,
            group.id,
            on=on,
            posted=args.posted,
            method=args.method,
            deduct_loans=args.deduct_loans,
            cash_unit=unit,
        )
        pdf = shareout_sheet_pdf(sheet, words=_words(args), size=_size(args))
        kind = "posted share-out" if args.posted else "share-out preview"
        return pdf, f"the {kind} of {group.code} on {on}", group.id

    return _one_document(args, open_book, make)


def cmd_print_sheet(args: argparse.Namespace, open_book: Opener) -> int:
    from reports.collection_sheet import collection_sheet_pdf

    def make(session: Session, group: GroupRecord | None) -> tuple[bytes, str, int | None]:
        assert group is not None
        day = args.date or next_meeting_date(session, group.id, dt.date.today())
        sheet = collection_sheet(session, group.id, day)
        pdf = collection_sheet_pdf(sheet, words=_words(args), size=_size(args, "A4-landscape"))
        return pdf, f"the collection sheet of {group.code} for {day}", group.id

    return _one_document(args, open_book, make)


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
