"""The blank collection sheet: the meeting on paper, where there is no computer.

Data comes from ``ledger.collection_sheet``; this module lays out the sheet the
treasurer fills by hand and types in later: one row per member with boxes for
attendance, savings, withdrawals, shares, social fund and fines, the loan repayment due
printed beside an empty box for what she pays, and a total per member. Below: a totals
row, the cash box (its opening figure printed, the rest to fill in), lines for loans
lent and other items, and signature lines for the treasurer and the chair. Landscape
A4, the way paper collection sheets are printed.

Printed figures sit in shaded cells; everything white is for the pen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Table

from ledger.collection_sheet import CollectionRow, CollectionSheet
from ledger.errors import InvalidEntry
from reports.layout import (
    SHADE,
    Styles,
    content_width,
    member_name,
    red,
    render_document,
    spacer,
    styles,
    table,
)
from reports.text import Words

SIZES = ("A4-landscape",)
GRID = colors.HexColor("#6b7785")
WRITE_ROW_PADDING = 5.5  # points above and below a member's row: 8 mm to write in
BLANK = "&nbsp;"  # an empty cell one line high
SIGN_HEIGHT = 14 * mm  # room to sign above the line


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # English; the catalog has the Khmer
    width: float  # mm; the member column takes what is left
    group: str | None = None  # a heading spanning the columns of one group
    hint: str = ""  # printed under the label: the cycle's amount


def collection_sheet_pdf(
    sheet: CollectionSheet,
    *,
    words: Words | None = None,
    size: str = "A4-landscape",
    now: dt.datetime | None = None,
) -> bytes:
    """The blank sheet of one meeting as PDF bytes (landscape A4 only: its dozen columns
    of boxes to write in need the width)."""
    if size not in SIZES:
        raise InvalidEntry(f"The collection sheet prints on {', '.join(SIZES)}, not {size}.")
    words = words or Words()
    return render_document(
        collection_sheet_flowables(sheet, words=words, size=size),
        words=words,
        size=size,
        title=f"Collection sheet {sheet.group.code} {sheet.meeting_date}",
        head=(sheet.head_seq, sheet.head_hash),
        now=now,
    )


def columns(sheet: CollectionSheet, w: Words) -> list[Column]:
    """The sheet's columns; a group without a share price has no shares column."""
    c = sheet.currency
    rules = sheet.cycle
    cols = [
        Column("code", "Code", 13),
        Column("member", "Member", 0),
        Column("attendance", "Attendance", 20),
        Column("compulsory", "Compulsory", 21, "Savings", w.amount(rules.compulsory_savings, c)),
        Column("voluntary", "Voluntary", 20, "Savings"),
        Column("withdrawal", "Withdrawal", 20, "Savings"),
    ]
    if rules.share_price:
        hint = f"× {w.amount(rules.share_price, c)}"
        cols.append(Column("shares", "Shares", 17, hint=hint))
    cols += [
        Column("social_fund", "Social fund", 20, hint=w.amount(rules.social_fund_contribution, c)),
        Column("fine", "Fine", 17),
        Column("loan_due", "Due", 27, "Loan repayment"),
        Column("loan_paid", "Paid", 22, "Loan repayment"),
        Column("total", "Total paid in", 22),
    ]
    return cols


def collection_sheet_flowables(
    sheet: CollectionSheet, *, words: Words, size: str = "A4-landscape"
) -> list[Flowable]:
    st = styles(size)
    width = content_width(size)
    w = words
    cols = columns(sheet, w)
    flexible = next(i for i, col in enumerate(cols) if col.key == "member")
    widths = fit_widths([col.width for col in cols], flexible, width)
    return [
        Paragraph(
            f"{w.label('Collection sheet')} · {w.label('Meeting')} {w.ref(sheet.meeting_number)}"
            f" · {w.date(sheet.meeting_date)}",
            st.title,
        ),
        Paragraph(
            f"{w.label('Group')}: {w.text(sheet.group.name)} ({w.text(sheet.group.code)})", st.body
        ),
        _rules(sheet, w, st),
        spacer(2),
        _members(sheet, cols, widths, w, st),
        spacer(3),
        KeepTogether(
            [
                _cash_and_items(sheet, w, st, width),
                spacer(3),
                signature_block(("Treasurer", "Chairperson"), w, st, width),
            ]
        ),
    ]


def fit_widths(
    widths_mm: Sequence[float], flexible: int, width: float, *, minimum: float = 45 * mm
) -> list[float]:
    """Column widths in points: column ``flexible`` (the members' names) takes what is
    left, at least ``minimum``; on a narrower page than the sheet was drawn for, the
    other columns shrink (and their headings may wrap)."""
    fixed = sum(x for i, x in enumerate(widths_mm) if i != flexible) * mm
    scale = min(1.0, (width - minimum) / fixed)
    return [
        x * mm * scale if i != flexible else width - fixed * scale for i, x in enumerate(widths_mm)
    ]


def _rules(sheet: CollectionSheet, w: Words, st: Styles) -> Paragraph:
    """What the book knows before the meeting: the opening cash and the cycle's rules."""
    c = sheet.currency
    rules = sheet.cycle
    items = [
        (w.label("Cash box before the meeting"), w.amount(sheet.opening_cash, c, unit=True)),
        (w.label("Members"), w.count(len(sheet.rows))),
    ]
    if rules.share_price:
        items += [
            (w.label("Share price"), w.amount(rules.share_price, c, unit=True)),
            (w.label("Most shares a meeting"), w.count(rules.max_shares_per_meeting)),
        ]
    items += [
        (w.label("Fine for lateness"), w.amount(rules.fine_late, c, unit=True)),
        (w.label("Fine for absence"), w.amount(rules.fine_absent, c, unit=True)),
    ]
    return Paragraph(
        " &nbsp;·&nbsp; ".join(f"{label}: <b>{value}</b>" for label, value in items), st.body
    )


def _heading_rows(
    cols: list[Column], w: Words, st: Styles
) -> tuple[list[Paragraph], list[Paragraph], list[tuple[Any, ...]]]:
    """Two heading rows: a group's label spans its columns; a lone column spans both."""
    top: list[Paragraph] = []
    sub: list[Paragraph] = []
    spans: list[tuple[Any, ...]] = []
    for i, col in enumerate(cols):
        style = st.head if col.key in ("code", "member") else st.centre
        label = w.label(col.label, stacked=True)
        if col.hint:
            label += f"<br/><b>{col.hint}</b>"
        if col.group is None:
            top.append(Paragraph(label, style))
            sub.append(Paragraph("", style))
            spans.append(("SPAN", (i, 0), (i, 1)))
            continue
        first = i == 0 or cols[i - 1].group != col.group
        top.append(Paragraph(w.label(col.group, stacked=True) if first else "", st.centre))
        sub.append(Paragraph(label, st.centre))
        if first:
            last = i
            while last + 1 < len(cols) and cols[last + 1].group == col.group:
                last += 1
            spans.append(("SPAN", (i, 0), (last, 0)))
    return top, sub, spans


def _members(
    sheet: CollectionSheet,
    cols: list[Column],
    widths: list[float],
    w: Words,
    st: Styles,
) -> Table:
    top, sub, spans = _heading_rows(cols, w, st)
    rows: list[list[Paragraph]] = [top, sub]
    for row in sheet.rows:
        rows.append([_cell(col.key, row, sheet, w, st) for col in cols])
    totals = {
        "member": f"{w.label('Total')} ({w.count(len(sheet.rows))})",
        "loan_due": w.amount(sheet.loan_due, sheet.currency),
    }
    rows.append(
        [
            Paragraph(totals.get(col.key, ""), st.number if col.key == "loan_due" else st.cell)
            for col in cols
        ]
    )
    due = next(i for i, col in enumerate(cols) if col.key == "loan_due")
    extra = [
        *spans,
        ("VALIGN", (0, 0), (-1, 1), "MIDDLE"),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BACKGROUND", (0, 0), (-1, 1), SHADE),
        ("BACKGROUND", (0, 2), (1, -1), SHADE),
        ("BACKGROUND", (due, 2), (due, -1), SHADE),
        ("TOPPADDING", (0, 2), (-1, -1), WRITE_ROW_PADDING),
        ("BOTTOMPADDING", (0, 2), (-1, -1), WRITE_ROW_PADDING),
        ("LINEABOVE", (0, -1), (-1, -1), 1.2, GRID),
    ]
    return table(rows, widths, header_rows=2, zebra=False, extra=extra)


def _cell(key: str, row: CollectionRow, sheet: CollectionSheet, w: Words, st: Styles) -> Paragraph:
    """A member's cell: printed for who she is and what her loans ask, empty for the pen."""
    m = row.member
    if key == "code":
        return Paragraph(w.text(m.code), st.cell)
    if key == "member":
        return Paragraph(member_name(w, m.name_latin, m.name_khmer), st.cell)
    if key == "loan_due" and row.loans:
        lines = []
        for loan in row.loans:
            text = f"{w.ref(loan.number)}: {w.amount(loan.due_now, sheet.currency)}"
            lines.append(red(text) if loan.days_overdue else text)
        return Paragraph("<br/>".join(lines), st.number)
    return Paragraph("", st.cell)


def _cash_and_items(sheet: CollectionSheet, w: Words, st: Styles, width: float) -> Table:
    """The cash box, its opening printed and the rest to fill in, beside blank lines for
    loans lent and other items (expenses, grants, social fund payouts, the bank)."""
    c = sheet.currency
    box_rows = [
        [Paragraph(w.label("Cash box"), st.head), Paragraph("", st.head)],
        [
            Paragraph(w.label("Cash box before the meeting"), st.cell),
            Paragraph(w.amount(sheet.opening_cash, c, unit=True), st.number),
        ],
        *[
            [Paragraph(w.label(label), st.cell), Paragraph(BLANK, st.cell)]
            for label in ("Paid in", "Paid out", "Expected in cash box", "Counted", "Difference")
        ],
    ]
    left = width * 0.45
    box = table(
        box_rows,
        [left * 0.6, left * 0.4],
        zebra=False,
        extra=[
            ("GRID", (0, 1), (-1, -1), 0.5, GRID),
            ("TOPPADDING", (0, 2), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 2), (-1, -1), 4),
            ("SPAN", (0, 0), (1, 0)),
        ],
    )
    right = width * 0.51
    heads = ("Loans lent and other items", "Member", "Amount")
    items = [
        [
            Paragraph(w.label(h, stacked=True), st.head_number if h == "Amount" else st.head)
            for h in heads
        ]
    ]
    items += [[Paragraph(BLANK, st.cell) for _ in heads] for _ in range(5)]
    other = table(
        items,
        [right * 0.56, right * 0.24, right * 0.20],
        zebra=False,
        extra=[
            ("GRID", (0, 1), (-1, -1), 0.5, GRID),
            ("TOPPADDING", (0, 1), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 1), (-1, -1), 4),
        ],
    )
    return Table(
        [[box, "", other]],
        colWidths=[left, width - left - right, right],
        style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)],
        hAlign="LEFT",
    )


def signature_block(roles: tuple[str, ...], w: Words, st: Styles, width: float) -> Table:
    """A signature line for each role, with room for a name and the date below."""
    gap = 12 * mm
    col = (width - gap * (len(roles) - 1)) / len(roles)
    widths: list[float] = []
    for i in range(len(roles)):
        widths += [col] if i == 0 else [gap, col]
    heads: list[Paragraph] = []
    blank: list[Paragraph] = []
    names: list[Paragraph] = []
    lines: list[tuple[Any, ...]] = []
    for i, role in enumerate(roles):
        if i:
            heads.append(Paragraph("", st.cell))
            blank.append(Paragraph("", st.cell))
            names.append(Paragraph("", st.cell))
        heads.append(Paragraph(f"{w.label('Signature')} · {w.label(role)}", st.cell))
        blank.append(Paragraph("", st.cell))
        names.append(
            Paragraph(
                f"{w.label('Name')}: ____________________ {w.label('Date')}: ________", st.small
            )
        )
        lines.append(("LINEBELOW", (2 * i, 1), (2 * i, 1), 0.8, GRID))
    return Table(
        [heads, blank, names],
        colWidths=widths,
        rowHeights=[None, SIGN_HEIGHT, None],
        style=[("VALIGN", (0, 0), (-1, -1), "TOP"), *lines],
        hAlign="LEFT",
    )
