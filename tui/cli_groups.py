"""Command-line commands for groups, members, opening balances and meetings.

``sansam group create|list|show|threshold``, ``sansam cycle open``,
``sansam member list|show|import``, ``sansam opening import|loans`` and
``sansam meeting import|list|show|open|close|cancel``.
Each is a thin layer: parse the words, call the ledger's services in one unit of work,
print the records.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ledger.cancellations import cancel_meeting_day
from ledger.cycles import CycleRecord, current_cycle, open_cycle
from ledger.errors import InvalidEntry
from ledger.groups import (
    DAYS,
    FREQUENCIES,
    KINDS,
    GroupRecord,
    create_group,
    find_group,
    list_groups,
    set_coordinator_threshold,
)
from ledger.locations import SOURCE, location_from_codes, resolve_location
from ledger.meetings import (
    AMOUNT_FIELDS,
    close_meeting,
    find_meeting,
    meeting_summary,
    open_meeting,
)
from ledger.member_import import import_members
from ledger.members import find_member, list_members
from ledger.models import Meeting
from ledger.money import decimal_text, format_minor, from_minor, parse_amount
from ledger.opening_import import import_opening_balances
from ledger.opening_loans import import_opening_loans
from ledger.permissions import take_role_in_new_group
from ledger.positions import group_position, member_position
from ledger.sheet_import import import_meetings
from tui.cli_common import Opener, amount_arg, bind, date_arg, group_option, print_json


def register(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    *,
    db: argparse.ArgumentParser,
    as_json: argparse.ArgumentParser,
    open_book: Opener,
) -> None:
    """Add the commands to the ``sansam`` parser."""
    group_opt = group_option()

    handler = bind(open_book)

    group = commands.add_parser("group", help="register, list and show groups")
    group_cmds = group.add_subparsers(title="group commands", metavar="COMMAND")
    group_cmds.required = True
    rules = argparse.ArgumentParser(add_help=False)
    rules.add_argument("--share-price", metavar="AMOUNT", help="VSLA share price")
    rules.add_argument("--max-shares", type=int, default=5, help="shares per meeting at most")
    rules.add_argument("--compulsory-savings", metavar="AMOUNT")
    rules.add_argument("--social-fund", metavar="AMOUNT", help="contribution per meeting")
    rules.add_argument("--fine-late", metavar="AMOUNT")
    rules.add_argument("--fine-absent", metavar="AMOUNT")
    create = group_cmds.add_parser(
        "create", parents=[db, rules], help="register a group with its first savings cycle"
    )
    create.add_argument("code")
    create.add_argument("--name", required=True)
    create.add_argument("--kind", choices=list(KINDS), default="vsla")
    create.add_argument("--currency", default="KHR", choices=["KHR", "USD", "THB"])
    create.add_argument("--frequency", choices=FREQUENCIES, default="weekly")
    create.add_argument("--day", choices=DAYS, type=str.capitalize, help="the meeting day")
    create.add_argument("--province", required=True, help="code, Khmer or English name")
    create.add_argument("--district", required=True)
    create.add_argument("--commune", required=True)
    create.add_argument("--village")
    create.add_argument("--cycle-start", type=date_arg, required=True, metavar="YYYY-MM-DD")
    create.set_defaults(handler=handler(cmd_group_create))
    listing = group_cmds.add_parser("list", parents=[db, as_json], help="list the groups")
    listing.set_defaults(handler=handler(cmd_group_list))
    show = group_cmds.add_parser("show", parents=[db, as_json], help="a group's position")
    show.add_argument("code")
    show.set_defaults(handler=handler(cmd_group_show))
    threshold = group_cmds.add_parser(
        "threshold",
        parents=[db],
        help="loans above this amount need a coordinator's approval (coordinators set it)",
    )
    threshold.add_argument("code")
    threshold.add_argument("amount", help='an amount such as 2,000,000, or "none"')
    threshold.set_defaults(handler=handler(cmd_group_threshold))

    cycle = commands.add_parser("cycle", help="savings cycles")
    cycle_cmds = cycle.add_subparsers(title="cycle commands", metavar="COMMAND")
    cycle_cmds.required = True
    copen = cycle_cmds.add_parser(
        "open", parents=[db, group_opt, rules], help="open the next cycle after a share-out"
    )
    copen.add_argument("--start", type=date_arg, required=True, metavar="YYYY-MM-DD")
    copen.set_defaults(handler=handler(cmd_cycle_open))

    member = commands.add_parser("member", help="list, show and import members")
    member_cmds = member.add_subparsers(title="member commands", metavar="COMMAND")
    member_cmds.required = True
    mlist = member_cmds.add_parser("list", parents=[db, group_opt, as_json], help="members")
    mlist.set_defaults(handler=handler(cmd_member_list))
    mshow = member_cmds.add_parser(
        "show", parents=[db, group_opt, as_json], help="a member's position"
    )
    mshow.add_argument("code")
    mshow.set_defaults(handler=handler(cmd_member_show))
    mimport = member_cmds.add_parser(
        "import", parents=[db, group_opt], help="import members from CSV (all rows or none)"
    )
    mimport.add_argument("file", type=Path)
    mimport.set_defaults(handler=handler(cmd_member_import))

    opening = commands.add_parser("opening", help="opening balances from the paper books")
    opening_cmds = opening.add_subparsers(title="opening commands", metavar="COMMAND")
    opening_cmds.required = True
    oimport = opening_cmds.add_parser(
        "import", parents=[db, group_opt], help="each member's balances as of a cut-off date"
    )
    oimport.add_argument("file", type=Path)
    oimport.add_argument("--as-of", type=date_arg, required=True, metavar="YYYY-MM-DD")
    oimport.add_argument("--cash-box", default="0", metavar="AMOUNT")
    oimport.add_argument("--bank", default="0", metavar="AMOUNT")
    oimport.add_argument("--social-fund", default="0", metavar="AMOUNT")
    oimport.set_defaults(handler=handler(cmd_opening_import))
    oloans = opening_cmds.add_parser(
        "loans", parents=[db, group_opt], help="loans still owed on the cut-off date"
    )
    oloans.add_argument("file", type=Path)
    oloans.add_argument("--as-of", type=date_arg, required=True, metavar="YYYY-MM-DD")
    oloans.set_defaults(handler=handler(cmd_opening_loans))

    meeting = commands.add_parser("meeting", help="meetings: import sheets, list, show")
    meeting_cmds = meeting.add_subparsers(title="meeting commands", metavar="COMMAND")
    meeting_cmds.required = True
    simport = meeting_cmds.add_parser(
        "import", parents=[db, group_opt], help="record meetings from a collection-sheet CSV"
    )
    simport.add_argument("file", type=Path)
    simport.set_defaults(handler=handler(cmd_meeting_import))
    slist = meeting_cmds.add_parser("list", parents=[db, group_opt, as_json], help="meetings")
    slist.set_defaults(handler=handler(cmd_meeting_list))
    sshow = meeting_cmds.add_parser(
        "show", parents=[db, group_opt, as_json], help="one meeting's sheet and cash"
    )
    sshow.add_argument("number", type=int)
    sshow.set_defaults(handler=handler(cmd_meeting_show))
    sopen = meeting_cmds.add_parser(
        "open", parents=[db, group_opt], help="open the next meeting (cash box as last left)"
    )
    sopen.add_argument("date", type=date_arg, metavar="YYYY-MM-DD")
    sopen.set_defaults(handler=handler(cmd_meeting_open))
    sclose = meeting_cmds.add_parser(
        "close", parents=[db, group_opt], help="count the cash and post the whole meeting"
    )
    sclose.add_argument("date", type=date_arg, metavar="YYYY-MM-DD")
    sclose.add_argument("--counted", required=True, metavar="AMOUNT", help="cash counted")
    sclose.add_argument("--comment", help="why the count differs from what was expected")
    sclose.set_defaults(handler=handler(cmd_meeting_close))
    scancel = meeting_cmds.add_parser(
        "cancel", parents=[db, group_opt], help="call off a meeting in advance (a holiday)"
    )
    scancel.add_argument("date", type=date_arg, metavar="YYYY-MM-DD")
    scancel.add_argument("--reason", required=True)
    scancel.set_defaults(handler=handler(cmd_meeting_cancel))


# --- groups --------------------------------------------------------------------------------


def cmd_group_create(args: argparse.Namespace, open_book: Opener) -> int:
    location = resolve_location(args.province, args.district, args.commune, args.village)

    def work(session):  # type: ignore[no-untyped-def]
        group = create_group(
            session,
            args.code,
            args.name,
            kind=args.kind,
            currency=args.currency,
            meeting_frequency=args.frequency,
            meeting_day=DAYS.index(args.day) if args.day else None,
            location=location,
        )
        # The administrator registering the group sets its first cycle's terms, as the
        # group agreed them; she holds no role in it afterwards unless granted one.
        take_role_in_new_group(session, group.id, "chair")
        return group, _open_cycle(session, group, args, args.cycle_start)

    with open_book(args) as book:
        group, cycle = book.write(work)
    print(f"Registered {group.code} ({KINDS[group.kind]}) in {location.label()}.")
    _print_cycle(group, cycle)
    return 0


def _open_cycle(
    session: Any, group: GroupRecord, args: argparse.Namespace, start: dt.date
) -> CycleRecord:
    """Open a cycle with the rules given on the command line (the group's currency)."""

    def amount(text: str | None):  # type: ignore[no-untyped-def]
        return from_minor(parse_amount(text, group.currency), group.currency) if text else None

    return open_cycle(
        session,
        group.id,
        start,
        share_price=amount(args.share_price),
        max_shares_per_meeting=args.max_shares,
        compulsory_savings=amount(args.compulsory_savings),
        social_fund_contribution=amount(args.social_fund),
        fine_late=amount(args.fine_late),
        fine_absent=amount(args.fine_absent),
    )


def _print_cycle(group: GroupRecord, cycle: CycleRecord) -> None:
    price = format_minor(cycle.share_price, group.currency) if cycle.share_price else "no shares"
    print(f"Cycle {cycle.number} starts {cycle.starts_on.isoformat()}; share price: {price}.")


def cmd_cycle_open(args: argparse.Namespace, open_book: Opener) -> int:
    def work(session):  # type: ignore[no-untyped-def]
        group = find_group(session, args.group)
        return group, _open_cycle(session, group, args, args.start)

    with open_book(args) as book:
        group, cycle = book.write(work)
    _print_cycle(group, cycle)
    return 0


def cmd_group_list(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as session:
        groups = list_groups(session)
    if args.json:
        print_json([_group_dict(g) for g in groups])
        return 0
    if not groups:
        print("No groups yet. Register one with: sansam group create CODE --name ...")
        return 0
    print(f"{'Code':<16} {'Kind':<10} {'Name':<34} Commune")
    for g in groups:
        commune = location_from_codes(g.commune_code).commune if g.commune_code else "-"
        print(f"{g.code:<16} {g.kind:<10} {g.name[:34]:<34} {commune}")
    return 0


def cmd_group_show(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as session:
        group = find_group(session, args.code)
        position = group_position(session, group.id)
        cycle = current_cycle(session, group.id, required=False)
    where = (
        location_from_codes(group.commune_code, group.village_code) if group.commune_code else None
    )
    if args.json:
        data = _money_fields(dataclasses.asdict(position), group.currency, skip={"group"})
        data["group"] = _group_dict(group)
        data["location"] = where.label() if where else None
        print_json(data)
        return 0
    c = group.currency
    print(f"{group.code} — {group.name} ({KINDS[group.kind]})")
    if where:
        print(
            f"Meets {group.meeting_frequency}"
            + (f" on {DAYS[group.meeting_day]}" if group.meeting_day is not None else "")
            + f" in {where.label()}"
        )
    if cycle:
        price = format_minor(cycle.share_price, c) if cycle.share_price else "no shares"
        print(f"Cycle {cycle.number} since {cycle.starts_on.isoformat()}, share price {price}")
    print(_threshold_text(group))
    rows = [
        ("Cash box", position.cash_box),
        ("Bank", position.bank),
        ("Savings (compulsory)", position.compulsory_savings),
        ("Savings (voluntary)", position.voluntary_savings),
        ("Shares", position.shares_value),
        ("Share money held", position.share_money_held),
        ("Social fund", position.social_fund),
        ("Loans outstanding", position.loans_outstanding),
        ("Owed to lenders", position.borrowings_outstanding),
    ]
    for label, value in rows:
        print(f"  {label:<22} {format_minor(value, c):>20}")
    print(f"  {'Rice stock':<22} {format_minor(position.rice_stock_grams, 'RICE'):>20}")
    print(
        f"  Members {position.members} ({position.women} women, "
        f"{position.id_poor_households} ID-Poor households); "
        f"{position.meetings_held} meetings held"
        + (f", next {position.next_meeting.isoformat()}" if position.next_meeting else "")
    )
    print(f"\n{SOURCE}")
    return 0


def cmd_group_threshold(args: argparse.Namespace, open_book: Opener) -> int:
    def work(session):  # type: ignore[no-untyped-def]
        group = find_group(session, args.code)
        above = None
        if args.amount.strip().lower() not in ("none", "no", "-"):
            above = amount_arg(args.amount, group.currency, "threshold")
        return set_coordinator_threshold(session, group.id, above)

    with open_book(args) as book:
        group = book.write(work)
    print(f"{group.code}: {_threshold_text(group)}")
    return 0


def _threshold_text(group: GroupRecord) -> str:
    if group.coordinator_approval_above is None:
        return "The chair approves loans of any amount."
    limit = format_minor(group.coordinator_approval_above, group.currency)
    return f"Loans above {limit} are approved by a coordinator."


def _group_dict(group: GroupRecord) -> dict[str, Any]:
    data = dataclasses.asdict(group)
    if group.coordinator_approval_above is not None:
        data["coordinator_approval_above"] = decimal_text(
            group.coordinator_approval_above, group.currency
        )
    return data


# --- members -------------------------------------------------------------------------------


def cmd_member_list(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as session:
        group = find_group(session, args.group)
        members = list_members(session, group.id)
    if args.json:
        print_json([_member_dict(m) for m in members])
        return 0
    print(f"{'Code':<8} {'Name':<28} {'Sex':<4} {'ID-Poor':<8} {'Role':<10} {'Joined':<11} Left")
    for m in members:
        print(
            f"{m.code:<8} {m.name_latin[:28]:<28} {m.sex:<4} {m.id_poor or '-':<8} {m.role:<10} "
            f"{_d(m.joined_on):<11} {_d(m.exited_on)}"
        )
    return 0


def cmd_member_show(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as session:
        group = find_group(session, args.group)
        member = find_member(session, group.id, args.code)
        position = member_position(session, member.id)
    c = position.currency
    if args.json:
        data = _money_fields(dataclasses.asdict(position), c, skip={"member", "shares"})
        data["member"] = _member_dict(member)
        data["shares"] = position.shares
        print_json(data)
        return 0
    # Terminals do not shape Khmer; the Khmer name is printed on its own line, not in a table.
    print(f"{member.code} {member.name_latin} ({group.code})")
    if member.name_khmer:
        print(f"  {member.name_khmer}")
    rows = [
        ("Compulsory savings", position.compulsory_savings),
        ("Voluntary savings", position.voluntary_savings),
        (f"Shares ({position.shares})", position.shares_value),
        ("Share money held", position.share_money_held),
        ("Social fund paid", position.social_fund_paid),
        ("Fines paid", position.fines_paid),
        ("Loans outstanding", position.loans_outstanding),
    ]
    for label, value in rows:
        print(f"  {label:<20} {format_minor(value, c):>20}")
    print(f"  Attended {position.meetings_attended} of {position.meetings_held} meetings")
    return 0


def cmd_member_import(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book:
        summary = book.write(lambda s: import_members(s, find_group(s, args.group).id, args.file))
    print(
        f"Imported {args.file}: {summary.added} new member(s), "
        f"{summary.unchanged} already in the book."
    )
    return 0


def cmd_opening_import(args: argparse.Namespace, open_book: Opener) -> int:
    def work(session):  # type: ignore[no-untyped-def]
        group = find_group(session, args.group)
        return import_opening_balances(
            session,
            group.id,
            args.file,
            as_of=args.as_of,
            cash_box=amount_arg(args.cash_box, group.currency, "--cash-box"),
            bank=amount_arg(args.bank, group.currency, "--bank"),
            social_fund=amount_arg(args.social_fund, group.currency, "--social-fund"),
        )

    with open_book(args) as book:
        summary = book.write(work)
    print(
        f"Opening balances as of {args.as_of.isoformat()}: {summary.members} member(s), "
        f"{summary.entries_posted} entries posted, {summary.entries_already_present} already "
        "in the book."
    )
    return 0


def cmd_opening_loans(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book:
        summary = book.write(
            lambda s: import_opening_loans(
                s, find_group(s, args.group).id, args.file, as_of=args.as_of
            )
        )
    print(
        f"Loans as of {args.as_of.isoformat()}: {summary.loans_created} carried over, "
        f"{summary.loans_already_present} already in the book."
    )
    return 0


# --- meetings ------------------------------------------------------------------------------


def cmd_meeting_import(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book:
        summary = book.write(lambda s: import_meetings(s, find_group(s, args.group).id, args.file))
    print(
        f"Imported {args.file}: {summary.meetings_recorded} meeting(s) recorded, "
        f"{summary.meetings_already_present} already in the book ({summary.rows} rows)."
    )
    return 0


def cmd_meeting_open(args: argparse.Namespace, open_book: Opener) -> int:
    def work(session):  # type: ignore[no-untyped-def]
        group = find_group(session, args.group)
        return group.currency, open_meeting(session, group.id, args.date)

    with open_book(args) as book:
        currency, m = book.write(work)
    print(
        f"Opened meeting #{m.number} of {m.meeting_date.isoformat()}; the cash box opens with "
        f"{format_minor(m.opening_cash, currency)}."
    )
    return 0


def cmd_meeting_close(args: argparse.Namespace, open_book: Opener) -> int:
    def work(session):  # type: ignore[no-untyped-def]
        group = find_group(session, args.group)
        found = find_meeting(session, group.id, args.date)
        if found is None:
            raise InvalidEntry(f"{group.code} has no meeting on {args.date.isoformat()}.")
        counted = from_minor(amount_arg(args.counted, group.currency, "--counted"), group.currency)
        return close_meeting(session, found.id, counted, comment=args.comment)

    with open_book(args) as book:
        summary = book.write(work)
    c = summary.currency
    print(
        f"Closed meeting #{summary.meeting.number}: expected "
        f"{format_minor(summary.expected_cash, c)}, counted "
        f"{format_minor(summary.meeting.counted_cash or 0, c)}. Posted."
    )
    return 0


def cmd_meeting_cancel(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book:
        book.write(
            lambda s: cancel_meeting_day(
                s, find_group(s, args.group).id, args.date, reason=args.reason
            )
        )
    print(
        f"No meeting on {args.date.isoformat()}; loans lent from now on skip it "
        "(schedules already made stay as they are)."
    )
    return 0


def cmd_meeting_list(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as session:
        group = find_group(session, args.group)
        meetings = (
            session.execute(
                select(Meeting).where(Meeting.group_id == group.id).order_by(Meeting.number)
            )
            .scalars()
            .all()
        )
        rows = [
            (m.number, m.meeting_date, m.status, m.opening_cash, m.counted_cash) for m in meetings
        ]
    c = group.currency
    if args.json:
        print_json(
            [
                {
                    "number": n,
                    "date": d.isoformat(),
                    "status": st,
                    "opening_cash": decimal_text(o, c),
                    "counted_cash": decimal_text(k, c) if k is not None else None,
                }
                for n, d, st, o, k in rows
            ]
        )
        return 0
    print(f"{'#':>4} {'Date':<11} {'Status':<7} {'Opening cash':>18} {'Counted cash':>18}")
    for n, d, st, o, k in rows:
        counted = format_minor(k, c) if k is not None else "-"
        print(f"{n:>4} {d.isoformat():<11} {st:<7} {format_minor(o, c):>18} {counted:>18}")
    return 0


def cmd_meeting_show(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as session:
        group = find_group(session, args.group)
        meeting_id = session.execute(
            select(Meeting.id).where(Meeting.group_id == group.id, Meeting.number == args.number)
        ).scalar_one_or_none()
        if meeting_id is None:
            raise InvalidEntry(f"{group.code} has no meeting #{args.number}.")
        summary = meeting_summary(session, meeting_id)
    c = summary.currency
    m = summary.meeting
    if args.json:
        print_json(
            {
                "number": m.number,
                "date": m.meeting_date.isoformat(),
                "status": m.status,
                "opening_cash": decimal_text(m.opening_cash, c),
                "cash_in": decimal_text(summary.cash_in, c),
                "cash_out": decimal_text(summary.cash_out, c),
                "expected_cash": decimal_text(summary.expected_cash, c),
                "counted_cash": decimal_text(m.counted_cash, c)
                if m.counted_cash is not None
                else None,
                "comment": m.difference_comment,
                "lines": [
                    {
                        "member": ln.member_code,
                        "attended": ln.attended,
                        **{f: decimal_text(getattr(ln, f), c) for f in AMOUNT_FIELDS},
                    }
                    for ln in summary.lines
                ],
                "items": [
                    {
                        "kind": i.kind,
                        "amount": decimal_text(i.amount, c),
                        "member": i.member_code,
                        "memo": i.memo,
                    }
                    for i in summary.items
                ],
            }
        )
        return 0
    print(
        f"{group.code} meeting #{m.number}, {m.meeting_date.isoformat()} ({m.status}); "
        f"{summary.attended} of {summary.members} members present"
    )
    print(
        f"{'Member':<8} {'Here':<5} {'Savings':>9} {'Volunt.':>9} {'Withdr.':>9} "
        f"{'Shares':>9} {'Social':>8} {'Fines':>7}"
    )
    for ln in summary.lines:
        print(
            f"{ln.member_code:<8} {'yes' if ln.attended else 'no':<5} {ln.savings:>9,} "
            f"{ln.voluntary_savings:>9,} {ln.withdrawal:>9,} {ln.share_money:>9,} "
            f"{ln.social_fund:>8,} {ln.fines:>7,}"
        )
    for i in summary.items:
        who = f" {i.member_code}" if i.member_code else ""
        print(f"  {i.kind}{who}: {format_minor(i.amount, c)} {i.memo}")
    for x in summary.loans_lent:
        where = "" if x.source == "cash_box" else " from the bank"
        print(
            f"  loan #{x.loan_number} lent to {x.member_code}{where}: {format_minor(x.amount, c)}"
        )
    for x in summary.repayments:
        print(f"  {x.member_code} repays loan #{x.loan_number}: {format_minor(x.amount, c)}")
    print(
        f"Opening cash {format_minor(m.opening_cash, c)} + in {format_minor(summary.cash_in, c)}"
        f" - out {format_minor(summary.cash_out, c)} = expected "
        f"{format_minor(summary.expected_cash, c)}"
    )
    if m.counted_cash is not None:
        diff = summary.difference or 0
        print(
            f"Counted {format_minor(m.counted_cash, c)}"
            + (
                f" ({'over' if diff > 0 else 'short'} {format_minor(abs(diff), c)}: "
                f"{m.difference_comment})"
                if diff
                else ""
            )
        )
    return 0


# --- helpers -------------------------------------------------------------------------------


def _d(value: dt.date | None) -> str:
    return value.isoformat() if value else "-"


def _member_dict(m: Any) -> dict[str, Any]:
    data = dataclasses.asdict(m)
    for key in ("joined_on", "exited_on"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


def _money_fields(data: dict[str, Any], currency: str, *, skip: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in skip:
            continue
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and key
            not in (
                "members",
                "women",
                "id_poor_households",
                "meetings_held",
                "meetings_attended",
            )
        ):
            code = "RICE" if key == "rice_stock_grams" else currency
            out[key.replace("_grams", "_kg")] = decimal_text(value, code)
        elif isinstance(value, dt.date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out
