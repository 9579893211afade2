"""Command-line exports for coordinators and funders.

``sansam export members|loans|portfolio|indicators (--group CODE | --all)
[--from YYYY-MM-DD --to YYYY-MM-DD | --quarter 2026Q3] FILE.xlsx|FILE.csv``

The format follows the file's suffix. Members, loans and the portfolio are as they
stood on the period's last day (``--to``, the quarter's end, else today); the indicators
cover the whole period, which they need. Every export is kept in the audit trail.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from ledger.errors import InvalidEntry
from ledger.groups import GroupRecord, find_group, list_groups
from ledger.indicators import indicator_report, quarter
from ledger.permissions import log_reading
from ledger.portfolio import LEVELS
from ledger.portfolio_report import portfolio_report
from reports.exchange import (
    Sheet,
    check_format,
    indicators_sheets,
    loans_sheet,
    members_sheet,
    portfolio_sheets,
    write_export,
)
from tui.cli_common import Opener, bind, date_arg, print_json

KINDS = ("members", "loans", "portfolio", "indicators")


def register(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    *,
    db: argparse.ArgumentParser,
    as_json: argparse.ArgumentParser,
    open_book: Opener,
) -> None:
    export = commands.add_parser(
        "export",
        parents=[db, as_json],
        help="members, loans, the portfolio or the indicators to an .xlsx or .csv file",
        description="Write members (with their balances), loans with their status, the "
        "portfolio report or the savings-group indicators (SAVIX data items and SEEP "
        "ratios) to FILE.xlsx or FILE.csv. Members, loans and the portfolio are as of the "
        "period's last day (default today); the indicators need a period.",
    )
    export.add_argument("kind", choices=KINDS, help="what to export")
    export.add_argument("file", type=Path, metavar="FILE", help="FILE.xlsx or FILE.csv")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--group", metavar="CODE", help="one group")
    which.add_argument("--all", action="store_true", help="every group you may read")
    export.add_argument("--from", dest="start", type=date_arg, metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="end", type=date_arg, metavar="YYYY-MM-DD")
    export.add_argument("--quarter", metavar="YYYYQn", help="a calendar quarter, e.g. 2026Q3")
    export.add_argument(
        "--by", choices=LEVELS, default="group", help="the portfolio's rows (default: group)"
    )
    export.set_defaults(handler=bind(open_book)(cmd_export))


def _period(args: argparse.Namespace) -> tuple[dt.date | None, dt.date]:
    """(first day or None, last day) the command asks for; a quarter not over yet ends
    today (its loans are not late yet on days still to come)."""
    if args.quarter:
        if args.start or args.end:
            raise InvalidEntry("Give either --quarter or --from/--to, not both.")
        start, end = quarter(args.quarter)
        today = dt.date.today()
        if start > today:
            raise InvalidEntry(f"The quarter {args.quarter} has not started yet.")
        return start, min(end, today)
    end = args.end or dt.date.today()
    if args.start and args.start > end:
        raise InvalidEntry(
            f"--from {args.start.isoformat()} is after --to {end.isoformat()}; "
            "the period ends before it starts."
        )
    return args.start, end


def cmd_export(args: argparse.Namespace, open_book: Opener) -> int:
    check_format(args.file)
    start, end = _period(args)
    if args.kind == "indicators" and start is None:
        raise InvalidEntry(
            "The indicators are for a period: give --quarter (e.g. 2026Q3) or --from and --to."
        )
    if args.kind != "portfolio" and args.by != "group":
        raise InvalidEntry("--by is for the portfolio export only.")
    with open_book(args) as book, book.read() as session:
        groups = [find_group(session, args.group)] if args.group else list_groups(session)
        if not groups:
            raise InvalidEntry("You may read no group's books, so there is nothing to export.")
        sheets, what = _tables(args, session, groups, start, end)
        written = write_export(args.file, sheets, stamp=end)
        group_id = groups[0].id if args.group else None
        detail = f"{what} to {written.path.name} ({written.rows:,} rows)"
        book.write(lambda s: log_reading(s, "export", group_id, detail))
    if args.json:
        print_json(
            {
                "file": str(written.path),
                "export": args.kind,
                "rows": written.rows,
                "groups": [g.code for g in groups],
                "start": start.isoformat() if start else None,
                "end": end.isoformat(),
            }
        )
    else:
        print(f"Wrote {what}: {written.rows:,} rows to {written.path}.")
    return 0


def _tables(
    args: argparse.Namespace,
    session: Session,
    groups: list[GroupRecord],
    start: dt.date | None,
    end: dt.date,
) -> tuple[list[Sheet], str]:
    codes = [g.code for g in groups] if args.group else None
    on = f"as of {end.isoformat()}"
    first = start or end  # the indicators always have a start (checked by the caller)
    makers: dict[str, Callable[[], tuple[list[Sheet], str]]] = {
        "members": lambda: ([members_sheet(session, groups, as_of=end)], f"members {on}"),
        "loans": lambda: ([loans_sheet(session, groups, as_of=end)], f"loans {on}"),
        "portfolio": lambda: (
            portfolio_sheets(portfolio_report(session, as_of=end, by=args.by, codes=codes)),
            f"the portfolio by {args.by} {on}",
        ),
        "indicators": lambda: (
            indicators_sheets(indicator_report(session, start=first, end=end, codes=codes)),
            f"indicators {first} to {end}",
        ),
    }
    return makers[args.kind]()
