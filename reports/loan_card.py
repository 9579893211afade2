"""The loan card: one loan on paper, for the borrower to keep and the treasurer to check.

Data comes from ``ledger.loan_card`` (the same ``LoanStatement`` the meeting and the
portfolio read); this module lays it out: the loan and its terms, where it stands on the
card's date (what is due now, what settles it, days overdue in red), the schedule in
force with each instalment paid, due or overdue, and every payment made on it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph

from ledger.loan_card import LoanCard
from ledger.loan_products import METHOD_LABELS
from reports.layout import (
    Styles,
    content_width,
    member_name,
    red,
    render_document,
    spacer,
    styles,
    table,
)
from reports.member_statement import STATUS_WORDS
from reports.text import Words

STATE_WORDS = {
    "not lent": "Not lent",
    "active": "Active",
    "closed": "Closed",
    "written off": "Written off",
}
FREQUENCY_WORDS = {
    "weekly": "Weekly",
    "fortnightly": "Fortnightly",
    "monthly": "Monthly",
    "bullet": "All at the end",
}
APPROVER_WORDS = {"chair": "Chairperson", "coordinator": "Coordinator"}


def loan_card_pdf(
    card: LoanCard,
    *,
    words: Words | None = None,
    size: str = "A4",
    now: dt.datetime | None = None,
) -> bytes:
    """One loan's card as PDF bytes."""
    words = words or Words()
    return render_document(
        loan_card_flowables(card, words=words, size=size),
        words=words,
        size=size,
        title=f"Loan card {card.group.code} #{card.statement.loan.number} {card.on}",
        head=(card.head_seq, card.head_hash),
        now=now,
    )


def loan_card_flowables(card: LoanCard, *, words: Words, size: str = "A4") -> list[Flowable]:
    st = styles(size)
    width = content_width(size)
    w = words
    loan = card.statement.loan
    out: list[Flowable] = [
        Paragraph(f"{w.label('Loan card')} {w.ref(loan.number)}", st.title),
        Paragraph(
            f"{w.label('Group')}: {w.text(card.group.name)} ({w.text(card.group.code)})", st.body
        ),
        Paragraph(
            f"{w.label('Member')}: {member_name(w, card.member.name_latin, card.member.name_khmer)}"
            f" ({w.text(card.member.code)})",
            st.heading,
        ),
        Paragraph(f"{w.label('As of')}: {w.date(card.on)}", st.body),
        spacer(2),
        _facts(card, w, st, width),
    ]
    if card.product.warnings:
        out.append(spacer(1))
    for warning in card.product.warnings:
        out.append(Paragraph(red(f"{w.label('Warning')}: {w.text(warning)}"), st.small))
    if card.product.warnings and card.product.override_reason:
        reason = w.text(card.product.override_reason)
        out.append(Paragraph(f"{w.label('The group decided')}: {reason}", st.small))
    out += [spacer(2), _standing(card, w, st, width)]
    out += _schedule(card, w, st, width)
    out += _payments(card, w, st, width)
    return out


def _pairs(
    items: list[tuple[str, str]], st: Styles, width: float, *, columns: int
) -> list[Flowable]:
    """Label–value pairs, ``columns`` pairs to a row, in a table without a heading."""
    rows = []
    for k in range(0, len(items), columns):
        row = []
        for label, value in items[k : k + columns]:
            row += [Paragraph(label, st.cell), Paragraph(value, st.cell)]
        row += [Paragraph("", st.cell)] * (2 * columns - len(row))
        rows.append(row)
    share = width / columns
    return [table(rows, [share * 0.45, share * 0.55] * columns, header_rows=0, zebra=False)]


def _facts(card: LoanCard, w: Words, st: Styles, width: float) -> Flowable:
    """The loan and the terms the group agreed to."""
    loan = card.statement.loan
    product = card.product
    c = card.currency
    rate = rate_text(product.rate_per_month)
    term = f"{w.count(len(card.instalments) or product.term_periods)} · " + w.label(
        FREQUENCY_WORDS.get(product.frequency, product.frequency)
    )
    approved = w.text(loan.approved_by or "")
    if loan.approved_as:
        approved += f" ({w.label(APPROVER_WORDS.get(loan.approved_as, loan.approved_as))})"
    state = w.label(STATE_WORDS.get(card.statement.state, card.statement.state))
    if card.statement.rescheduled:
        state += f" · {w.label('Rescheduled')}"
    items = [
        (w.label("Amount lent"), w.amount(loan.principal_lent, c, unit=True)),
        (w.label("Status"), state),
        (w.label("Product"), f"{w.text(product.code)} · {w.text(product.name)}"),
        (w.label("Interest rate"), f"{w.digits(rate)} % {w.label('a month')}"),
        (w.label("Interest method"), w.label(METHOD_LABELS.get(product.method, product.method))),
        (w.label("Number of instalments"), term),
        (w.label("Late penalty"), w.amount(product.late_penalty, c, unit=True)),
        (w.label("Purpose"), w.text(loan.purpose)),
        (w.label("Applied on"), w.date(card.applied_on)),
        (w.label("Approved by"), f"{approved} {w.date(card.approved_on)}"),
        (w.label("Lent on"), w.date(loan.starts_on)),
    ]
    if card.votes_for is not None or card.votes_against is not None:
        items.append(
            (
                w.label("Group vote"),
                f"{w.count(card.votes_for or 0)} {w.label('for')} · "
                f"{w.count(card.votes_against or 0)} {w.label('against')}",
            )
        )
    if card.guarantors:
        items.append((w.label("Guarantors"), w.text(card.guarantors)))
    columns = 2 if width > 150 * mm else 1
    return KeepTogether(_pairs(items, st, width, columns=columns))


def _standing(card: LoanCard, w: Words, st: Styles, width: float) -> Flowable:
    """Where the loan stands on the card's date."""
    s = card.statement
    c = card.currency
    overdue = w.count(s.days_overdue)
    items = [
        (w.label("Due now"), f"<b>{w.amount(s.due_now, c, unit=True)}</b>"),
        (w.label("Principal outstanding"), w.amount(s.principal_outstanding, c, unit=True)),
        (w.label("To settle the loan"), w.amount(s.owed_now, c, unit=True)),
        (w.label("Interest due"), w.amount(s.interest_due, c, unit=True)),
        (w.label("Days overdue"), red(overdue) if s.days_overdue else overdue),
        (w.label("Penalty due"), w.amount(s.penalty_due, c, unit=True)),
        (w.label("Principal repaid"), w.amount(s.principal_paid, c, unit=True)),
        (w.label("Interest paid"), w.amount(s.interest_paid, c, unit=True)),
    ]
    if s.state == "written off":
        items += [
            (w.label("Written off"), red(w.amount(s.written_off, c, unit=True))),
            (w.label("Recovered"), w.amount(s.recovered, c, unit=True)),
        ]
    columns = 2 if width > 150 * mm else 1
    return KeepTogether(_pairs(items, st, width, columns=columns))


def _schedule(card: LoanCard, w: Words, st: Styles, width: float) -> list[Flowable]:
    """The schedule in force, each instalment with what is paid of it and its status."""
    c = card.currency
    heads = ("No.", "Due date", "Principal", "Interest", "Total", "Paid", "Status")
    rows: list[list[Paragraph]] = [
        [
            Paragraph(w.label(h, stacked=True), st.head_number if 2 <= i <= 5 else st.head)
            for i, h in enumerate(heads)
        ]
    ]
    for i in card.instalments:
        status = w.label(STATUS_WORDS.get(i.status, i.status))
        if i.status == "overdue":
            status = red(status)
        rows.append(
            [
                Paragraph(w.count(i.number), st.cell),
                Paragraph(w.date(i.due_on), st.cell),
                Paragraph(w.amount(i.principal, c), st.number),
                Paragraph(w.amount(i.interest, c), st.number),
                Paragraph(w.amount(i.total, c), st.number),
                Paragraph(w.amount(i.paid, c) if i.paid else "", st.number),
                Paragraph(status, st.cell),
            ]
        )
    rows.append(
        [
            Paragraph(w.label("Total"), st.cell),
            Paragraph("", st.cell),
            Paragraph(w.amount(sum(i.principal for i in card.instalments), c), st.number),
            Paragraph(w.amount(sum(i.interest for i in card.instalments), c), st.number),
            Paragraph(w.amount(card.scheduled, c), st.number),
            Paragraph(w.amount(card.paid_on_schedule, c), st.number),
            Paragraph("", st.cell),
        ]
    )
    widths = [width * f for f in (0.06, 0.17, 0.14, 0.11, 0.14, 0.14, 0.24)]
    return [
        CondPageBreak(35 * mm),
        Paragraph(f"{w.label('Schedule')} · {w.text(c)}", st.heading),
        table(rows, widths, total_rows=1, extra=[("SPAN", (0, -1), (1, -1))]),
    ]


def _payments(card: LoanCard, w: Words, st: Styles, width: float) -> list[Flowable]:
    """Every payment made by the card's date, split as it was applied."""
    c = card.currency
    heads = ("Date", "Meeting", "Penalty", "Interest", "Principal", "Total")
    rows: list[list[Paragraph]] = [
        [
            Paragraph(w.label(h, stacked=True), st.head_number if i >= 2 else st.head)
            for i, h in enumerate(heads)
        ]
    ]
    for p in card.payments:
        where = w.ref(p.meeting_number) if p.meeting_number else w.label("Share-out")
        rows.append(
            [
                Paragraph(w.date(p.paid_on), st.cell),
                Paragraph(where, st.cell),
                Paragraph(w.amount(p.penalty, c) if p.penalty else "", st.number),
                Paragraph(w.amount(p.interest, c), st.number),
                Paragraph(w.amount(p.principal, c), st.number),
                Paragraph(w.amount(p.total, c), st.number),
            ]
        )
    if not card.payments:
        rows.append([Paragraph(w.label("No payments yet"), st.cell)] + [Paragraph("", st.cell)] * 5)
    rows.append(
        [
            Paragraph(w.label("Total"), st.cell),
            Paragraph(w.count(len(card.payments)), st.cell),
            Paragraph(w.amount(sum(p.penalty for p in card.payments), c), st.number),
            Paragraph(w.amount(sum(p.interest for p in card.payments), c), st.number),
            Paragraph(w.amount(sum(p.principal for p in card.payments), c), st.number),
            Paragraph(w.amount(card.paid, c), st.number),
        ]
    )
    widths = [width * f for f in (0.18, 0.16, 0.14, 0.16, 0.18, 0.18)]
    return [
        CondPageBreak(35 * mm),
        Paragraph(f"{w.label('Payments')} · {w.text(c)}", st.heading),
        table(rows, widths, total_rows=1),
    ]


def rate_text(rate: Decimal) -> str:
    """A monthly rate as a percentage without trailing zeros: 0.02 → "2"."""
    return f"{(rate * 100).normalize():f}"
