"""Command-line commands for loans: products, a loan's life, and the portfolio.

``sansam product create|list``, ``sansam loan apply|approve|reject|disburse|repay|
reschedule|write-off|show|list``, ``sansam borrowing receive|pay|show|list`` (what the
group owes banks, MFIs and projects) and ``sansam portfolio``. Loans are named by the number
the group knows them by (``loan show 3 --group PK-01``). Lending and repaying happen at
a meeting: ``disburse`` and ``repay`` write on the meeting's sheet (opening the meeting
if needed), and the cash moves when ``sansam meeting close`` posts it.

The person acting is the signed-in user: the treasurer records, the chair (or the
coordinator) signs in to approve, and the recorder can never approve her own loan.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from ledger.borrowings import FREQUENCIES as BORROWING_FREQUENCIES
from ledger.borrowings import (
    borrowing_statement,
    list_borrowings,
    pay_borrowing,
    receive_borrowing,
)
from ledger.groups import find_group
from ledger.loan_events import reschedule_loan, write_off_loan
from ledger.loan_products import FREQUENCIES, METHOD_LABELS, create_product, describe, list_products
from ledger.loan_state import DEFAULT_ORDER
from ledger.loans import (
    SOURCES,
    LoanStatement,
    apply_for_loan,
    approve_loan,
    find_loan,
    lend_at_meeting,
    loan_statement,
    loan_statements,
    loans_of_group,
    reject_loan,
    repay_at_meeting,
)
from ledger.meetings import find_meeting, open_meeting
from ledger.money import decimal_text, format_minor, from_minor
from ledger.portfolio import BUCKETS, LEVELS, PortfolioFigures, portfolio
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
    """Add the commands to the ``sansam`` parser."""
    group_opt = group_option()
    common = [db, group_opt]

    handler = bind(open_book)

    product = commands.add_parser("product", help="the group's loan products")
    pcmds = product.add_subparsers(title="product commands", metavar="COMMAND")
    pcmds.required = True
    pcreate = pcmds.add_parser("create", parents=common, help="add a loan product")
    pcreate.add_argument("code")
    pcreate.add_argument("--name", required=True)
    pcreate.add_argument(
        "--method", choices=list(METHOD_LABELS), default="declining_equal_instalments"
    )
    pcreate.add_argument("--rate", required=True, metavar="PERCENT", help="per month, e.g. 1.5")
    pcreate.add_argument("--term", type=int, required=True, help="number of repayments")
    pcreate.add_argument("--frequency", choices=FREQUENCIES, required=True)
    pcreate.add_argument("--rounding", metavar="AMOUNT", help="round instalments, e.g. 100")
    pcreate.add_argument("--grace", type=int, default=0, help="interest-only periods first")
    pcreate.add_argument("--late-penalty", metavar="AMOUNT", help="per instalment paid late")
    pcreate.add_argument("--max-amount", metavar="AMOUNT")
    pcreate.add_argument("--cap", metavar="PERCENT", default="18", help="yearly rate cap")
    pcreate.add_argument("--override-reason", help="why flat interest or a rate above the cap")
    pcreate.add_argument("--order", default=DEFAULT_ORDER, help="how repayments are applied")
    pcreate.set_defaults(handler=handler(cmd_product_create))
    plist = pcmds.add_parser("list", parents=[*common, as_json], help="the group's products")
    plist.set_defaults(handler=handler(cmd_product_list))

    loan = commands.add_parser("loan", help="apply, approve, lend, repay and show loans")
    lcmds = loan.add_subparsers(title="loan commands", metavar="COMMAND")
    lcmds.required = True
    apply = lcmds.add_parser("apply", parents=common, help="record a member's application")
    apply.add_argument("--member", required=True, metavar="CODE")
    apply.add_argument("--product", required=True, metavar="CODE")
    apply.add_argument("--amount", required=True, metavar="AMOUNT")
    apply.add_argument("--purpose", required=True)
    apply.add_argument("--on", type=date_arg, metavar="YYYY-MM-DD", help="default: today")
    apply.add_argument("--votes-for", type=int)
    apply.add_argument("--votes-against", type=int)
    apply.add_argument("--guarantors")
    apply.set_defaults(handler=handler(cmd_loan_apply))
    for name, fn, text in (
        ("approve", cmd_loan_approve, "approve an application (not by its recorder)"),
        ("reject", cmd_loan_reject, "reject an application"),
    ):
        sub = lcmds.add_parser(name, parents=common, help=text)
        sub.add_argument("number", type=int)
        sub.add_argument("--on", type=date_arg, metavar="YYYY-MM-DD", help="default: today")
        sub.set_defaults(handler=handler(fn))
    disburse = lcmds.add_parser(
        "disburse", parents=common, help="lend an approved loan at a meeting"
    )
    disburse.add_argument("number", type=int)
    disburse.add_argument("--meeting", type=date_arg, required=True, metavar="YYYY-MM-DD")
    disburse.add_argument("--from", dest="source", choices=SOURCES, default="cash_box")
    disburse.set_defaults(handler=handler(cmd_loan_disburse))
    repay = lcmds.add_parser("repay", parents=common, help="a repayment on a meeting's sheet")
    repay.add_argument("number", type=int)
    repay.add_argument("amount", metavar="AMOUNT")
    repay.add_argument("--meeting", type=date_arg, required=True, metavar="YYYY-MM-DD")
    repay.set_defaults(handler=handler(cmd_loan_repay))
    resched = lcmds.add_parser("reschedule", parents=common, help="a new schedule for a loan")
    resched.add_argument("number", type=int)
    resched.add_argument("--on", type=date_arg, required=True, metavar="YYYY-MM-DD")
    resched.add_argument("--instalments", type=int, required=True)
    resched.add_argument("--reason", required=True)
    resched.set_defaults(handler=handler(cmd_loan_reschedule))
    woff = lcmds.add_parser("write-off", parents=common, help="write off what is still owed")
    woff.add_argument("number", type=int)
    woff.add_argument("--on", type=date_arg, required=True, metavar="YYYY-MM-DD")
    woff.add_argument("--reason", required=True)
    woff.set_defaults(handler=handler(cmd_loan_write_off))
    show = lcmds.add_parser(
        "show", parents=[*common, as_json], help="a loan's schedule: paid, due, overdue"
    )
    show.add_argument("number", type=int)
    show.add_argument("--as-of", type=date_arg, metavar="YYYY-MM-DD", help="default: today")
    show.set_defaults(handler=handler(cmd_loan_show))
    llist = lcmds.add_parser("list", parents=[*common, as_json], help="the group's loans")
    llist.add_argument("--as-of", type=date_arg, metavar="YYYY-MM-DD", help="default: today")
    llist.set_defaults(handler=handler(cmd_loan_list))

    borrow = commands.add_parser(
        "borrowing", help="loans and grants the group receives from banks, MFIs, projects"
    )
    bcmds = borrow.add_subparsers(title="borrowing commands", metavar="COMMAND")
    bcmds.required = True
    receive = bcmds.add_parser("receive", parents=common, help="money received into the bank")
    receive.add_argument("--lender", required=True, help="the bank, MFI or project")
    receive.add_argument("--kind", choices=("loan", "grant"), required=True)
    receive.add_argument("--amount", required=True, metavar="AMOUNT")
    receive.add_argument("--on", type=date_arg, required=True, metavar="YYYY-MM-DD")
    receive.add_argument("--purpose", required=True)
    receive.add_argument("--rate", default="0", metavar="PERCENT", help="per month (a loan)")
    receive.add_argument("--term", type=int, help="number of repayments (a loan)")
    receive.add_argument("--frequency", choices=BORROWING_FREQUENCIES, default="monthly")
    receive.add_argument(
        "--method", choices=list(METHOD_LABELS), default="declining_equal_instalments"
    )
    receive.set_defaults(handler=handler(cmd_borrowing_receive))
    bpay = bcmds.add_parser("pay", parents=common, help="pay the lender from the bank")
    bpay.add_argument("number", type=int)
    bpay.add_argument("amount", metavar="AMOUNT")
    bpay.add_argument("--on", type=date_arg, required=True, metavar="YYYY-MM-DD")
    bpay.set_defaults(handler=handler(cmd_borrowing_pay))
    bshow = bcmds.add_parser("show", parents=[*common, as_json], help="schedule and payments")
    bshow.add_argument("number", type=int)
    bshow.add_argument("--as-of", type=date_arg, metavar="YYYY-MM-DD", help="default: today")
    bshow.set_defaults(handler=handler(cmd_borrowing_show))
    blist = bcmds.add_parser("list", parents=common, help="what the group has received")
    blist.set_defaults(handler=handler(cmd_borrowing_list))

    port = commands.add_parser(
        "portfolio", parents=[db, as_json], help="PAR30/90, ageing, arrears, repayment rate"
    )
    port.add_argument("--as-of", type=date_arg, metavar="YYYY-MM-DD", help="default: today")
    port.add_argument("--by", choices=LEVELS, default="group")
    port.add_argument("--group", metavar="CODE", action="append", help="only these groups")
    port.set_defaults(handler=handler(cmd_portfolio))


# --- products ------------------------------------------------------------------------------


def cmd_product_create(args: argparse.Namespace, open_book: Opener) -> int:
    def work(session):  # type: ignore[no-untyped-def]
        group = find_group(session, args.group)
        c = group.currency

        def money(text: str | None, label: str):  # type: ignore[no-untyped-def]
            return None if text is None else from_minor(amount_arg(text, c, label), c)

        return group, create_product(
            session,
            group.id,
            args.code,
            args.name,
            method=args.method,
            rate_per_month=percent_arg(args.rate, "--rate"),
            term_periods=args.term,
            frequency=args.frequency,
            rounding_unit=money(args.rounding, "--rounding"),
            grace_periods=args.grace,
            late_penalty=money(args.late_penalty, "--late-penalty"),
            max_amount=money(args.max_amount, "--max-amount"),
            cap_per_year=percent_arg(args.cap, "--cap"),
            override_reason=args.override_reason,
            allocation_order=args.order,
        )

    with open_book(args) as book:
        group, product = book.write(work)
    print(f"Added product {describe(product, group.currency)}")
    return 0


def cmd_product_list(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as session:
        group = find_group(session, args.group)
        products = list_products(session, group.id)
    if args.json:
        print_json(
            [
                {
                    "code": p.code,
                    "name": p.name,
                    "method": p.method,
                    "rate_per_month": str(p.rate_per_month),
                    "rate_per_year": str(p.rate_per_year),
                    "term_periods": p.term_periods,
                    "frequency": p.frequency,
                    "late_penalty": decimal_text(p.late_penalty, group.currency),
                    "allocation_order": p.allocation_order,
                    "warnings": list(p.warnings),
                }
                for p in products
            ]
        )
        return 0
    if not products:
        print(f"{group.code} has no loan products yet; add one with `sansam product create`.")
    for p in products:
        print(describe(p, group.currency))
    return 0


# --- a loan's life -------------------------------------------------------------------------


def cmd_loan_apply(args: argparse.Namespace, open_book: Opener) -> int:
    def work(session):  # type: ignore[no-untyped-def]
        group = find_group(session, args.group)
        amount = amount_arg(args.amount, group.currency, "--amount")
        return apply_for_loan(
            session,
            group.id,
            args.member,
            args.product,
            from_minor(amount, group.currency),
            purpose=args.purpose,
            applied_on=args.on or dt.date.today(),
            votes_for=args.votes_for,
            votes_against=args.votes_against,
            guarantors=args.guarantors,
        )

    with open_book(args) as book:
        loan = book.write(work)
    print(
        f"Recorded loan #{loan.number}: {loan.member_code} applies on {loan.product_code}. "
        "Another officer approves it with `sansam loan approve`."
    )
    return 0


def cmd_loan_approve(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book:
        loan = book.write(
            lambda s: approve_loan(
                s,
                _loan_id(s, args),
                on=args.on or dt.date.today(),
            )
        )
    print(f"Loan #{loan.number} approved by {loan.approved_by} as {loan.approved_as}.")
    return 0


def cmd_loan_reject(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book:
        loan = book.write(lambda s: reject_loan(s, _loan_id(s, args)))
    print(f"Loan #{loan.number} rejected.")
    return 0


def _loan_id(session, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    """The loan the command names: number ``args.number`` of group ``args.group``."""
    return find_loan(session, find_group(session, args.group).id, args.number).id


def _meeting_on(session, group_id: int, day: dt.date) -> int:  # type: ignore[no-untyped-def]
    """The meeting of that date, opened if there is none yet."""
    found = find_meeting(session, group_id, day)
    if found is None:
        found = open_meeting(session, group_id, day)
    return found.id


def cmd_loan_disburse(args: argparse.Namespace, open_book: Opener) -> int:
    def work(session):  # type: ignore[no-untyped-def]
        group = find_group(session, args.group)
        loan = find_loan(session, group.id, args.number)
        meeting_id = _meeting_on(session, group.id, args.meeting)
        return lend_at_meeting(session, meeting_id, loan.id, source=args.source)

    with open_book(args) as book:
        loan = book.write(work)
    where = "the cash box" if args.source == "cash_box" else "the bank"
    print(
        f"Loan #{loan.number} is on the sheet of {args.meeting.isoformat()}, lent from {where}; "
        "it is paid out and scheduled when the meeting closes."
    )
    return 0


def cmd_loan_repay(args: argparse.Namespace, open_book: Opener) -> int:
    def work(session):  # type: ignore[no-untyped-def]
        group = find_group(session, args.group)
        loan = find_loan(session, group.id, args.number)
        minor = amount_arg(args.amount, group.currency, "amount")
        meeting_id = _meeting_on(session, group.id, args.meeting)
        owed = repay_at_meeting(session, meeting_id, loan.id, from_minor(minor, group.currency))
        return group.currency, loan, minor, owed

    with open_book(args) as book:
        c, loan, minor, owed = book.write(work)
    print(
        f"{format_minor(minor, c)} for loan #{loan.number} is on the sheet of "
        f"{args.meeting.isoformat()} ({format_minor(owed, c)} settles it then); it is applied "
        "when the meeting closes."
    )
    return 0


def cmd_loan_reschedule(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book:
        st = book.write(
            lambda s: reschedule_loan(
                s,
                _loan_id(s, args),
                on=args.on,
                term_periods=args.instalments,
                reason=args.reason,
            )
        )
    print(
        f"Loan #{st.loan.number} rescheduled: {format_minor(st.principal_outstanding, st.currency)}"
        f" over {len(st.instalments)} instalment(s); it stays flagged as rescheduled."
    )
    _print_schedule(st)
    return 0


def cmd_loan_write_off(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book:
        st = book.write(
            lambda s: write_off_loan(
                s,
                _loan_id(s, args),
                on=args.on,
                reason=args.reason,
            )
        )
    print(
        f"Loan #{st.loan.number}: {format_minor(st.written_off, st.currency)} written off. "
        "What the member pays later is recorded as a recovery at a meeting."
    )
    return 0


# --- showing -------------------------------------------------------------------------------


def cmd_loan_show(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as session:
        group = find_group(session, args.group)
        loan = find_loan(session, group.id, args.number)
        st = loan_statement(session, loan.id, on=args.as_of or dt.date.today())
    if args.json:
        print_json(_statement_dict(st))
        return 0
    c = st.currency
    r = st.loan
    print(
        f"{group.code} loan #{r.number}: {r.member_code}, {r.product_code}, "
        f"{format_minor(r.amount, c)} for {r.purpose}"
    )
    print(
        f"Recorded by {r.recorded_by}, approved by {r.approved_by or '-'}"
        + (f" as {r.approved_as}" if r.approved_as else "")
        + ", lent "
        f"{r.disbursed_on.isoformat() if r.disbursed_on else '-'}"
        + (" from the bank" if r.disburse_from == "bank" else "")
        + (
            f"; carried over from paper on {r.opening_on.isoformat()} with "
            f"{format_minor(r.principal_lent, c)} owed"
            if r.opening_on
            else ""
        )
    )
    print(f"As of {st.on.isoformat()}: {st.state}" + (" (rescheduled)" if st.rescheduled else ""))
    if st.state == "written off":
        print(
            f"Written off {format_minor(st.written_off, c)} on {_d(r.written_off_on)}; "
            f"recovered {format_minor(st.recovered, c)}, left {format_minor(st.owed_now, c)}."
        )
        return 0
    _print_schedule(st)
    print(
        f"Paid: principal {format_minor(st.principal_paid, c)}, interest "
        f"{format_minor(st.interest_paid, c)}, penalties {format_minor(st.penalty_paid, c)}"
    )
    if st.state == "active":
        print(
            f"Owed: principal {format_minor(st.principal_outstanding, c)}, interest due "
            f"{format_minor(st.interest_due, c)}, penalties {format_minor(st.penalty_due, c)}; "
            f"{format_minor(st.owed_now, c)} settles it now."
            + (f" {st.days_overdue} days overdue." if st.days_overdue else "")
        )
    return 0


def _print_schedule(st: LoanStatement) -> None:
    c = st.currency
    print(f"{'#':>3} {'Due':<11} {'Principal':>12} {'Interest':>10} {'Paid':>12}  Status")
    for i in st.instalments:
        flag = "  late" if i.late else ""
        print(
            f"{i.number:>3} {i.due_on.isoformat():<11} {format_minor(i.principal, c):>12} "
            f"{format_minor(i.interest, c):>10} {format_minor(i.paid, c):>12}  {i.status}{flag}"
        )


def cmd_loan_list(args: argparse.Namespace, open_book: Opener) -> int:
    on = args.as_of or dt.date.today()
    with open_book(args) as book, book.read() as session:
        group = find_group(session, args.group)
        rows = loans_of_group(session, group.id)
        lent = [loan for loan in rows if loan.status in ("disbursed", "closed", "written_off")]
        statements = {st.loan.id: st for st in loan_statements(session, lent, on=on)}
        waiting = [
            (loan.number, loan.status, loan.amount) for loan in rows if loan.id not in statements
        ]
    c = group.currency
    if args.json:
        print_json(
            [_statement_dict(st) for st in statements.values()]
            + [
                {"number": n, "status": status, "amount": decimal_text(a, c)}
                for n, status, a in waiting
            ]
        )
        return 0
    print(f"{'#':>4} {'Member':<8} {'Lent':>14} {'Outstanding':>14} {'Days late':>9}  State")
    for st in statements.values():
        print(
            f"{st.loan.number:>4} {st.loan.member_code:<8} {format_minor(st.loan.amount, c):>14} "
            f"{format_minor(st.principal_outstanding, c):>14} {st.days_overdue:>9}  {st.state}"
            + (" (rescheduled)" if st.rescheduled else "")
        )
    for number, status, amount in waiting:
        print(f"{number:>4} {'':<8} {format_minor(amount, c):>14} {'':>14} {'':>9}  {status}")
    return 0


def _statement_dict(st: LoanStatement) -> dict[str, Any]:
    c = st.currency
    record = {
        k: (v.isoformat() if isinstance(v, dt.date) else v)
        for k, v in dataclasses.asdict(st.loan).items()
    }
    for key in ("amount", "opening_principal"):
        if record[key] is not None:
            record[key] = decimal_text(record[key], c)
    return {
        **record,
        "currency": c,
        "as_of": st.on.isoformat(),
        "state": st.state,
        "rescheduled": st.rescheduled,
        "principal_outstanding": decimal_text(st.principal_outstanding, c),
        "interest_due": decimal_text(st.interest_due, c),
        "penalty_due": decimal_text(st.penalty_due, c),
        "owed_now": decimal_text(st.owed_now, c),
        "days_overdue": st.days_overdue,
        "written_off": decimal_text(st.written_off, c),
        "recovered": decimal_text(st.recovered, c),
        "instalments": [
            {
                "number": i.number,
                "due_on": i.due_on.isoformat(),
                "principal": decimal_text(i.principal, c),
                "interest": decimal_text(i.interest, c),
                "paid": decimal_text(i.paid, c),
                "status": i.status,
                "late": i.late,
            }
            for i in st.instalments
        ],
    }


def cmd_borrowing_receive(args: argparse.Namespace, open_book: Opener) -> int:
    def work(session):  # type: ignore[no-untyped-def]
        group = find_group(session, args.group)
        amount = amount_arg(args.amount, group.currency, "--amount")
        return receive_borrowing(
            session,
            group.id,
            lender=args.lender,
            kind=args.kind,
            amount=from_minor(amount, group.currency),
            received_on=args.on,
            purpose=args.purpose,
            rate_per_month=percent_arg(args.rate, "--rate"),
            term_periods=args.term,
            frequency=args.frequency,
            method=args.method,
        )

    with open_book(args) as book:
        b = book.write(work)
    print(f"Recorded {b.kind} #{b.number} from {b.lender}, received into the bank.")
    return 0


def cmd_borrowing_pay(args: argparse.Namespace, open_book: Opener) -> int:
    def work(session):  # type: ignore[no-untyped-def]
        group = find_group(session, args.group)
        amount = amount_arg(args.amount, group.currency, "amount")
        return pay_borrowing(
            session,
            group.id,
            args.number,
            from_minor(amount, group.currency),
            paid_on=args.on,
        )

    with open_book(args) as book:
        st = book.write(work)
    print(
        f"Paid from the bank. Still owed to {st.borrowing.lender}: "
        f"{format_minor(st.standing.principal_outstanding, st.currency)} of principal."
    )
    return 0


def cmd_borrowing_show(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as session:
        group = find_group(session, args.group)
        st = borrowing_statement(session, group.id, args.number, on=args.as_of or dt.date.today())
    b, c, now = st.borrowing, st.currency, st.standing
    if args.json:
        print_json(
            {
                "number": b.number,
                "lender": b.lender,
                "kind": b.kind,
                "amount": decimal_text(b.amount, c),
                "received_on": b.received_on.isoformat(),
                "as_of": st.on.isoformat(),
                "principal_outstanding": decimal_text(now.principal_outstanding, c),
                "interest_due": decimal_text(now.interest_due, c),
                "days_overdue": now.days_overdue,
                "instalments": [
                    {
                        "number": i.number,
                        "due_on": i.due_on.isoformat(),
                        "principal": decimal_text(i.principal, c),
                        "interest": decimal_text(i.interest, c),
                        "status": i.status,
                    }
                    for i in now.instalments
                ],
            }
        )
        return 0
    print(
        f"{group.code} {b.kind} #{b.number} from {b.lender}: {format_minor(b.amount, c)} "
        f"received {b.received_on.isoformat()} for {b.purpose}"
    )
    if b.kind == "loan":
        print(f"{'#':>3} {'Due':<11} {'Principal':>14} {'Interest':>12} {'Paid':>14}  Status")
        for i in now.instalments:
            print(
                f"{i.number:>3} {i.due_on.isoformat():<11} {format_minor(i.principal, c):>14} "
                f"{format_minor(i.interest, c):>12} {format_minor(i.paid, c):>14}  {i.status}"
            )
        print(
            f"Owed on {st.on.isoformat()}: principal {format_minor(now.principal_outstanding, c)}"
            f", interest due {format_minor(now.interest_due, c)}"
            + (f"; {now.days_overdue} days overdue" if now.days_overdue else "")
        )
    return 0


def cmd_borrowing_list(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as session:
        group = find_group(session, args.group)
        rows = list_borrowings(session, group.id)
    if not rows:
        print(f"{group.code} has received no loans or grants.")
    for b in rows:
        print(
            f"#{b.number} {b.kind:<5} {b.received_on.isoformat()} {b.lender}: "
            f"{format_minor(b.amount, group.currency)} — {b.purpose}"
        )
    return 0


def cmd_portfolio(args: argparse.Namespace, open_book: Opener) -> int:
    on = args.as_of or dt.date.today()
    with open_book(args) as book, book.read() as session:
        rows = portfolio(session, as_of=on, by=args.by, group_codes=args.group)
    if args.json:
        print_json([_portfolio_dict(r) for r in rows])
        return 0
    print(f"Portfolio as of {on.isoformat()}, by {args.by}")
    print(
        f"{'Where':<24} {'Loans':>5} {'Outstanding':>16} {'PAR30':>7} {'PAR90':>7} "
        f"{'Arrears':>7} {'Repaid':>7}"
    )
    for r in rows:
        print(
            f"{(r.key + ' ' + r.name)[:24]:<24} {r.loans_active:>5} "
            f"{format_minor(r.gross_outstanding, r.currency):>16} {_pct(r.par30):>7} "
            f"{_pct(r.par90):>7} {_pct(r.arrears_rate):>7} {_pct(r.repayment_rate):>7}"
        )
    print("Ageing (loans, principal outstanding):")
    for r in rows:
        ages = ", ".join(
            f"{name} {r.buckets[name][0]}/{format_minor(r.buckets[name][1], r.currency)}"
            for name, _low, _high in BUCKETS
            if r.buckets[name][0]
        )
        print(f"  {r.key}: {ages or 'no loans outstanding'}")
    print(
        "PAR: loans with an instalment over 30 (90) days late, plus every rescheduled loan, "
        "as a share of the principal outstanding. Arrears: unpaid principal that fell due. "
        "Repaid: share of what fell due that was paid."
    )
    return 0


def _pct(ratio: Decimal | None) -> str:
    return "-" if ratio is None else f"{(ratio * 100).quantize(Decimal('0.1'))}%"


def _portfolio_dict(r: PortfolioFigures) -> dict[str, Any]:
    c = r.currency
    ratio = {
        k: (None if v is None else str(v.quantize(Decimal("0.0001"))))
        for k, v in {
            "par30": r.par30,
            "par90": r.par90,
            "arrears_rate": r.arrears_rate,
            "repayment_rate": r.repayment_rate,
        }.items()
    }
    return {
        "level": r.level,
        "key": r.key,
        "name": r.name,
        "name_khmer": r.name_khmer,
        "currency": c,
        "as_of": r.as_of.isoformat(),
        "groups": r.groups,
        "loans_active": r.loans_active,
        "gross_outstanding": decimal_text(r.gross_outstanding, c),
        "at_risk_30": decimal_text(r.at_risk_30, c),
        "at_risk_90": decimal_text(r.at_risk_90, c),
        "rescheduled_outstanding": decimal_text(r.rescheduled_outstanding, c),
        "principal_in_arrears": decimal_text(r.principal_in_arrears, c),
        "due_to_date": decimal_text(r.due_to_date, c),
        "paid_towards_due": decimal_text(r.paid_towards_due, c),
        "written_off": decimal_text(r.written_off, c),
        "recovered": decimal_text(r.recovered, c),
        "ageing": {
            name: {"loans": n, "outstanding": decimal_text(p, c)}
            for name, (n, p) in r.buckets.items()
        },
        **ratio,
    }


def _d(value: dt.date | None) -> str:
    return value.isoformat() if value else "-"
