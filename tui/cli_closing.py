"""Command-line commands for the end of a cycle and closing periods.

``sansam shareout preview|post|show`` and ``sansam period close|list``. A share-out is
always previewed the same way it is posted: ``post`` works it out again at that moment,
prints the same table, and posts it all at once. Closing prints the journal's head hash
for the meeting minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from ledger.errors import InvalidEntry
from ledger.groups import find_group
from ledger.money import decimal_text, format_minor
from ledger.periods import close_period, month_end, period_closes
from ledger.shareout import (
    METHODS,
    ShareoutPlan,
    plan_shareout,
    post_shareout,
    value_text,
)
from ledger.shareout_records import posted_shareouts
from tui.cli_common import Opener, amount_arg, bind, date_arg, group_option, print_json


def register(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    *,
    db: argparse.ArgumentParser,
    as_json: argparse.ArgumentParser,
    open_book: Opener,
) -> None:
    group_opt = group_option()
    terms = argparse.ArgumentParser(add_help=False)
    terms.add_argument("--on", type=date_arg, default=None, help="share-out day (default today)")
    terms.add_argument(
        "--method",
        choices=METHODS,
        default="shares",
        help="share profit by whole shares (default) or by savings x days held",
    )
    terms.add_argument(
        "--deduct-loans",
        action="store_true",
        help="settle what members still owe on loans from their payouts",
    )
    terms.add_argument(
        "--cash-unit", help="round payouts down to this amount (default 100 riel, 1 baht...)"
    )

    handler = bind(open_book)

    shareout = commands.add_parser("shareout", help="the share-out at the end of a cycle")
    scmds = shareout.add_subparsers(title="shareout commands", metavar="COMMAND")
    scmds.required = True
    preview = scmds.add_parser(
        "preview", parents=[db, group_opt, terms, as_json], help="work it out; write nothing"
    )
    preview.set_defaults(handler=handler(cmd_preview))
    post = scmds.add_parser(
        "post", parents=[db, group_opt, terms, as_json], help="post it and close the cycle"
    )
    post.set_defaults(handler=handler(cmd_post))
    show = scmds.add_parser("show", parents=[db, group_opt, as_json], help="share-outs posted")
    show.set_defaults(handler=handler(cmd_show))

    period = commands.add_parser("period", help="closing months and cycles")
    pcmds = period.add_subparsers(title="period commands", metavar="COMMAND")
    pcmds.required = True
    close = pcmds.add_parser("close", parents=[db, group_opt, as_json], help="close the books")
    through = close.add_mutually_exclusive_group(required=True)
    through.add_argument("--to", type=date_arg, help="the last day closed (YYYY-MM-DD)")
    through.add_argument("--month", help="close a whole month (YYYY-MM)")
    close.set_defaults(handler=handler(cmd_period_close))
    plist = pcmds.add_parser("list", parents=[db, group_opt, as_json], help="closed periods")
    plist.set_defaults(handler=handler(cmd_period_list))


def _terms(args: argparse.Namespace, currency: str) -> dict[str, Any]:
    unit = None
    if args.cash_unit:
        unit = amount_arg(args.cash_unit, currency, "--cash-unit")
        if unit < 1:
            raise InvalidEntry("--cash-unit: the cash unit must be more than 0.")
    return {
        "on": args.on or dt.date.today(),
        "method": args.method,
        "deduct_loans": args.deduct_loans,
        "cash_unit": unit,
    }


def _plan_json(plan: ShareoutPlan) -> dict[str, Any]:
    c = plan.currency
    return {
        "group": plan.group_code,
        "cycle": plan.cycle_number,
        "on": plan.on.isoformat(),
        "method": plan.method,
        "deduct_loans": plan.deduct_loans,
        "cash_unit": decimal_text(plan.cash_unit, c),
        "currency": c,
        "holdings": decimal_text(plan.holdings, c),
        "profit": decimal_text(plan.profit, c),
        "pool": decimal_text(plan.pool, c),
        "total_shares": plan.total_shares,
        "value_per_share": value_text(plan.value_per_share, c),
        "distributed": decimal_text(plan.distributed, c),
        "deducted": decimal_text(plan.deducted, c),
        "leftover": decimal_text(plan.leftover, c),
        "social_fund_kept": decimal_text(plan.social_fund, c),
        "spent_on_rice": decimal_text(plan.spent_on_rice, c),
        "members": [
            {
                "member": line.code,
                "name": line.name_latin,
                "shares": line.shares,
                "held": decimal_text(line.held, c),
                "earned": decimal_text(line.earned, c),
                "loans_settled": decimal_text(line.deducted, c),
                "payout": decimal_text(line.payout, c),
            }
            for line in plan.lines
        ],
    }


def _print_plan(plan: ShareoutPlan) -> None:
    c = plan.currency

    def m(v: int) -> str:
        return format_minor(v, c)

    how = "by whole shares" if plan.method == "shares" else "by savings x days held"
    print(f"Share-out of {plan.group_code}, cycle {plan.cycle_number}, on {plan.on.isoformat()}")
    print(f"  Members' savings and shares: {m(plan.holdings)}")
    print(f"  Profit of the cycle:         {m(plan.profit)} (shared {how})")
    print(f"  Pool:                        {m(plan.pool)}")
    if plan.value_per_share is not None:
        print(f"  Value of one share:          {value_text(plan.value_per_share, c)} {c}")
    print(f"  Social fund (kept):          {m(plan.social_fund)}")
    if plan.spent_on_rice:
        print(
            f"  Spent on rice, net:          {m(plan.spent_on_rice)} (in the profit above; the "
            "rice stays in the rice bank)"
        )
    header = (
        f"  {'Member':<24} {'Shares':>6} {'Held':>16} {'Earned':>14} {'Loans':>14} {'Payout':>16}"
    )
    print(header)
    for line in plan.lines:
        shares = "" if line.shares is None else str(line.shares)
        print(
            f"  {line.code + ' ' + line.name_latin:<24.24} {shares:>6} {m(line.held):>16} "
            f"{m(line.earned):>14} {m(line.deducted):>14} {m(line.payout):>16}"
        )
    print(f"  Paid out in cash:            {m(plan.distributed)}")
    if plan.deducted:
        print(f"  Loans settled from payouts:  {m(plan.deducted)}")
    print(
        f"  Leftover (payouts rounded down to {m(plan.cash_unit)}), kept as the group's "
        f"capital: {m(plan.leftover)}"
    )


def cmd_preview(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as s:
        group = find_group(s, args.group)
        plan = plan_shareout(s, group.id, **_terms(args, group.currency))
    if args.json:
        print_json(_plan_json(plan))
        return 0
    _print_plan(plan)
    print("Nothing is written. Post it with `sansam shareout post` and the same options.")
    return 0


def cmd_post(args: argparse.Namespace, open_book: Opener) -> int:
    def work(s):  # type: ignore[no-untyped-def]
        group = find_group(s, args.group)
        return post_shareout(s, group.id, **_terms(args, group.currency))

    with open_book(args) as book:
        posted = book.write(work)
    if args.json:
        print_json(_plan_json(posted.plan) | {"head_hash": posted.close.head_hash})
        return 0
    _print_plan(posted.plan)
    print(
        f"Posted. Cycle {posted.plan.cycle_number} is closed and the books are closed through "
        f"{posted.close.closed_through.isoformat()}."
    )
    print(f"Write in the minutes: entry #{posted.close.head_seq}, hash {posted.close.head_hash}")
    print("Open the next cycle with `sansam cycle open` once members have agreed its rules.")
    return 0


def cmd_show(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as s:
        records = posted_shareouts(s, find_group(s, args.group).id)
    if args.json:
        print_json(
            [
                {
                    "cycle": r.cycle_number,
                    "on": r.shared_on.isoformat(),
                    "method": r.method,
                    "pool": decimal_text(r.pool, r.currency),
                    "distributed": decimal_text(r.distributed, r.currency),
                    "deducted": decimal_text(r.deducted, r.currency),
                    "leftover": decimal_text(r.leftover, r.currency),
                    "value_per_share": r.value_per_share,
                    "members": [
                        {"member": p.code, "payout": decimal_text(p.payout, r.currency)}
                        for p in r.lines
                    ],
                }
                for r in records
            ]
        )
        return 0
    if not records:
        print(f"{args.group} has not shared out yet.")
    for r in records:
        print(
            f"Cycle {r.cycle_number}, {r.shared_on.isoformat()}: pool "
            f"{format_minor(r.pool, r.currency)}, paid {format_minor(r.distributed, r.currency)} "
            f"to {len(r.lines)} members, leftover {format_minor(r.leftover, r.currency)}"
        )
    return 0


def cmd_period_close(args: argparse.Namespace, open_book: Opener) -> int:
    through = args.to or month_end(args.month)

    def work(s):  # type: ignore[no-untyped-def]
        return close_period(s, find_group(s, args.group).id, through)

    with open_book(args) as book:
        closed = book.write(work)
    if args.json:
        print_json(
            {
                "group": args.group,
                "closed_through": closed.closed_through.isoformat(),
                "head_seq": closed.head_seq,
                "head_hash": closed.head_hash,
                "balances_kept": closed.accounts,
            }
        )
        return 0
    print(
        f"The books of {args.group} are closed through {closed.closed_through.isoformat()}; "
        f"{closed.accounts} account balances were kept."
    )
    print(f"Write in the minutes: entry #{closed.head_seq}, hash {closed.head_hash}")
    return 0


def cmd_period_list(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as s:
        closes = period_closes(s, find_group(s, args.group).id)
    if args.json:
        print_json(
            [
                {
                    "closed_through": c.closed_through.isoformat(),
                    "closed_by": c.closed_by,
                    "head_seq": c.head_seq,
                    "head_hash": c.head_hash,
                }
                for c in closes
            ]
        )
        return 0
    if not closes:
        print(f"No period of {args.group} is closed yet.")
    for c in closes:
        print(
            f"Through {c.closed_through.isoformat()} by {c.closed_by}: "
            f"entry #{c.head_seq}, hash {c.head_hash}"
        )
    return 0
