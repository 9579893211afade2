"""Command-line commands for the rice bank.

``sansam rice product create|list``, ``sansam rice receive`` (opening stock or a member's
contribution), ``sansam rice lend|repay|count|buy|sell`` and ``sansam rice show``.
Quantities are in kilograms ("100" or "62.5"); loans are named by their number.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from ledger.groups import find_group
from ledger.money import decimal_text, from_minor
from ledger.permissions import Actor
from ledger.rice import LOSS_REASONS, count_stock, kg, receive_rice, trade_rice
from ledger.rice_loans import (
    RiceLoanStatement,
    create_rice_product,
    lend_rice,
    repay_rice,
    rice_products,
)
from ledger.rice_position import rice_position
from tui.cli_auth import countersign
from tui.cli_common import (
    Opener,
    amount_arg,
    bind,
    date_arg,
    group_option,
    percent_arg,
    print_json,
)


def register(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    *,
    db: argparse.ArgumentParser,
    as_json: argparse.ArgumentParser,
    open_book: Opener,
) -> None:
    group_opt = group_option()
    dated = argparse.ArgumentParser(add_help=False)
    dated.add_argument("--on", type=date_arg, default=None, help="the day (default today)")
    common = [db, group_opt, dated]

    handler = bind(open_book)

    rice = commands.add_parser("rice", help="the rice bank: stock, rice loans, counts, trade")
    rcmds = rice.add_subparsers(title="rice commands", metavar="COMMAND")
    rcmds.required = True

    product = rcmds.add_parser("product", help="kinds of rice loan")
    pcmds = product.add_subparsers(title="rice product commands", metavar="COMMAND")
    pcmds.required = True
    pcreate = pcmds.add_parser("create", parents=[db, group_opt], help="add a rice product")
    pcreate.add_argument("code")
    pcreate.add_argument("--name", required=True)
    pcreate.add_argument(
        "--interest", required=True, help="percent of the quantity for the whole loan, e.g. 20"
    )
    pcreate.add_argument("--days", type=int, required=True, help="days from lending to due")
    pcreate.add_argument(
        "--cash-repayment", action="store_true", help="members may repay in cash at a price"
    )
    pcreate.set_defaults(handler=handler(cmd_product_create))
    plist = pcmds.add_parser("list", parents=[db, group_opt, as_json], help="rice products")
    plist.set_defaults(handler=handler(cmd_product_list))

    receive = rcmds.add_parser(
        "receive", parents=common, help="opening stock, or a member's contribution (--member)"
    )
    receive.add_argument("kg", help="kilograms received")
    receive.add_argument("--member", metavar="CODE", help="the member who contributes")
    receive.add_argument("--note", default="")
    receive.set_defaults(handler=handler(cmd_receive))

    lend = rcmds.add_parser("lend", parents=common, help="lend rice from stock to a member")
    lend.add_argument("member", metavar="MEMBER")
    lend.add_argument("kg", help="kilograms lent")
    lend.add_argument("--product", required=True, metavar="CODE")
    lend.add_argument("--purpose", required=True)
    lend.add_argument("--due", type=date_arg, help="due date (default: the product's term)")
    lend.add_argument(
        "--approver",
        required=True,
        metavar="USER",
        help="the chair who approves it, with her own password/PIN (not the recorder)",
    )
    lend.set_defaults(handler=handler(cmd_lend))

    repay = rcmds.add_parser("repay", parents=common, help="repay a rice loan, interest first")
    repay.add_argument("number", type=int, help="the rice loan's number")
    repay.add_argument("kg", help="kilograms repaid (or settled, with --cash)")
    repay.add_argument("--cash", help="money paid instead of the rice, if the product allows")
    repay.set_defaults(handler=handler(cmd_repay))

    count = rcmds.add_parser("count", parents=common, help="record a physical stock count")
    count.add_argument("kg", help="kilograms counted in the store")
    count.add_argument("--reason", choices=LOSS_REASONS, help="why it differs from the books")
    count.add_argument("--note", default="")
    count.set_defaults(handler=handler(cmd_count))

    for kind, verb in (("purchase", "buy"), ("sale", "sell")):
        trade = rcmds.add_parser(verb, parents=common, help=f"{verb} rice for cash")
        trade.add_argument("kg")
        trade.add_argument("--price", required=True, help="the total money paid or received")
        trade.add_argument("--with", dest="counterparty", required=True, help="seller or buyer")
        trade.set_defaults(handler=handler(cmd_trade), kind=kind)

    show = rcmds.add_parser("show", parents=[*common, as_json], help="the rice bank on a day")
    show.set_defaults(handler=handler(cmd_show))


def _kg(text: str, label: str) -> Any:
    return from_minor(amount_arg(text, "RICE", label), "RICE")


def _day(args: argparse.Namespace) -> dt.date:
    return args.on or dt.date.today()


def cmd_product_create(args: argparse.Namespace, open_book: Opener) -> int:
    def work(s):  # type: ignore[no-untyped-def]
        group = find_group(s, args.group)
        return create_rice_product(
            s,
            group.id,
            args.code,
            args.name,
            interest=percent_arg(args.interest, "--interest"),
            term_days=args.days,
            cash_repayment=args.cash_repayment,
        )

    with open_book(args) as book:
        p = book.write(work)
    print(
        f"Rice product {p.code} ({p.name}): {p.interest_percent.normalize():f} % interest in kg, "
        f"due {p.term_days} days after lending"
        + (", may be repaid in cash" if p.cash_repayment else "")
        + "."
    )
    return 0


def cmd_product_list(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as s:
        products = rice_products(s, find_group(s, args.group).id)
    if args.json:
        print_json(
            [
                {
                    "code": p.code,
                    "name": p.name,
                    "interest_percent": f"{p.interest_percent.normalize():f}",
                    "term_days": p.term_days,
                    "cash_repayment": p.cash_repayment,
                }
                for p in products
            ]
        )
        return 0
    if not products:
        print("No rice products yet; add one with `sansam rice product create`.")
    for p in products:
        cash = ", cash repayment allowed" if p.cash_repayment else ""
        print(
            f"{p.code:8} {p.name}: {p.interest_percent.normalize():f} %, {p.term_days} days{cash}"
        )
    return 0


def cmd_receive(args: argparse.Namespace, open_book: Opener) -> int:
    def work(s):  # type: ignore[no-untyped-def]
        group = find_group(s, args.group)
        return receive_rice(
            s,
            group.id,
            _kg(args.kg, "kg"),
            on=_day(args),
            member_code=args.member,
            note=args.note,
        )

    with open_book(args) as book:
        grams = book.write(work)
    who = f" from {args.member}" if args.member else " into stock"
    print(f"Received {kg(grams)}{who}.")
    return 0


def _loan_line(st: RiceLoanStatement) -> str:
    s = st.standing
    late = f", {s.days_overdue} days overdue" if s.state == "overdue" else ""
    return (
        f"#{st.number:<4} {st.member_code:8} {st.product_code:6} lent {kg(s.quantity)} on "
        f"{st.lent_on.isoformat()}, due {s.due_on.isoformat()}: owes {kg(s.owed)} "
        f"({kg(s.interest_owed)} interest) — {s.state}{late}"
    )


def cmd_lend(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book:
        approver = countersign(book, args.approver)
        st = book.write(lambda s: _lend(s, args, approver))
    print(f"Rice loan {_loan_line(st)}")
    return 0


def _lend(s, args: argparse.Namespace, approver: Actor):  # type: ignore[no-untyped-def]
    group = find_group(s, args.group)
    return lend_rice(
        s,
        group.id,
        args.member,
        args.product,
        _kg(args.kg, "kg"),
        on=_day(args),
        approver=approver,
        purpose=args.purpose,
        due_on=args.due,
    )


def cmd_repay(args: argparse.Namespace, open_book: Opener) -> int:
    def work(s):  # type: ignore[no-untyped-def]
        group = find_group(s, args.group)
        cash = None
        if args.cash:
            cash = from_minor(amount_arg(args.cash, group.currency, "--cash"), group.currency)
        return repay_rice(
            s,
            group.id,
            args.number,
            _kg(args.kg, "kg"),
            on=_day(args),
            cash=cash,
        )

    with open_book(args) as book:
        st = book.write(work)
    print(f"Repaid. Rice loan {_loan_line(st)}")
    return 0


def cmd_count(args: argparse.Namespace, open_book: Opener) -> int:
    def work(s):  # type: ignore[no-untyped-def]
        group = find_group(s, args.group)
        return count_stock(
            s,
            group.id,
            _kg(args.kg, "kg"),
            on=_day(args),
            reason=args.reason,
            note=args.note,
        )

    with open_book(args) as book:
        result = book.write(work)
    if result.difference == 0:
        print(f"Counted {kg(result.counted)}: the store agrees with the books.")
    else:
        what = "surplus" if result.difference > 0 else "loss"
        print(
            f"Counted {kg(result.counted)} against {kg(result.expected)} in the books: a {what} "
            f"of {kg(abs(result.difference))} ({args.reason}) is posted."
        )
    return 0


def cmd_trade(args: argparse.Namespace, open_book: Opener) -> int:
    def work(s):  # type: ignore[no-untyped-def]
        group = find_group(s, args.group)
        price = from_minor(amount_arg(args.price, group.currency, "--price"), group.currency)
        return trade_rice(
            s,
            group.id,
            args.kind,
            _kg(args.kg, "kg"),
            price,
            on=_day(args),
            counterparty=args.counterparty,
        )

    with open_book(args) as book:
        seq = book.write(work)
    verb = "Bought" if args.kind == "purchase" else "Sold"
    print(f"{verb} {args.kg} kg for {args.price} (entry #{seq}).")
    return 0


def cmd_show(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as s:
        group = find_group(s, args.group)
        p = rice_position(s, group.id, on=_day(args))
    if args.json:
        print_json(
            {
                "group": p.group_code,
                "on": p.on.isoformat(),
                "unit": "kg",
                "stock": decimal_text(p.stock, "RICE"),
                "capital": decimal_text(p.capital, "RICE"),
                "interest_earned": decimal_text(p.interest_earned, "RICE"),
                "principal_outstanding": decimal_text(p.principal_outstanding, "RICE"),
                "interest_owed": decimal_text(p.interest_owed, "RICE"),
                "losses": {r: decimal_text(v, "RICE") for r, v in p.losses.items()},
                "bought_net": decimal_text(p.traded, "RICE"),
                "paid_net": decimal_text(p.trading_money, group.currency),
                "loans": [
                    {
                        "number": x.number,
                        "member": x.member_code,
                        "product": x.product_code,
                        "lent_on": x.lent_on.isoformat(),
                        "due_on": x.standing.due_on.isoformat(),
                        "quantity": decimal_text(x.standing.quantity, "RICE"),
                        "interest": decimal_text(x.standing.interest, "RICE"),
                        "owed": decimal_text(x.standing.owed, "RICE"),
                        "state": x.standing.state,
                        "days_overdue": x.standing.days_overdue,
                    }
                    for x in p.loans
                ],
            }
        )
        return 0
    print(f"Rice bank of {p.group_code} on {p.on.isoformat()}")
    print(f"  In store:            {kg(p.stock)}")
    owed = f"{kg(p.principal_outstanding)} (+ {kg(p.interest_owed)} interest)"
    print(f"  Lent, still owed:    {owed}")
    print(f"  Rice capital:        {kg(p.capital)}")
    print(f"  Interest earned:     {kg(p.interest_earned)}")
    losses = ", ".join(f"{r} {kg(v)}" for r, v in p.losses.items() if v)
    print(f"  Losses:              {losses or 'none'}")
    if p.traded or p.trading_money:
        print(f"  Bought less sold:    {kg(p.traded)}")
    if p.overdue:
        print(f"  OVERDUE: {len(p.overdue)} loan(s)")
    for x in p.loans:
        if x.standing.owed:
            print(f"  {_loan_line(x)}")
    return 0
