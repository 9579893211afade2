"""The share-out sheet: read out at the meeting, then signed by each member for her cash.

Data comes from ``ledger.shareout_sheet`` (a preview or a posted share-out, the same
record); this module lays it out: the pool and how it is shared, then one row per
member (shares, savings returned, profit, loans deducted, payout) with a box tall enough
to sign or press a thumbprint in, a totals row, and the treasurer's and chair's
signatures. A preview says so in red at the top, so no one takes it for what was paid.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table

from ledger.errors import InvalidEntry
from ledger.money import commodity
from ledger.shareout_sheet import ShareoutRow, ShareoutSheet
from reports.collection_sheet import GRID, fit_widths, signature_block
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

SIZES = ("A4", "A4-landscape")
METHOD_WORDS = {"shares": "By shares", "savings_time": "By savings and time"}
SIGN_ROW = 13 * mm  # a member signs or presses her thumb in her row
MEMBER_WIDEST = 70 * mm


def shareout_sheet_pdf(
    sheet: ShareoutSheet,
    *,
    words: Words | None = None,
    size: str = "A4",
    now: dt.datetime | None = None,
) -> bytes:
    """The share-out sheet as PDF bytes, on A4 (portrait or landscape: A5 is too narrow
    for its columns and the boxes to sign in)."""
    if size not in SIZES:
        raise InvalidEntry(f"The share-out sheet prints on {' or '.join(SIZES)}, not {size}.")
    words = words or Words()
    kind = "posted" if sheet.posted else "preview"
    return render_document(
        shareout_sheet_flowables(sheet, words=words, size=size),
        words=words,
        size=size,
        title=f"Share-out sheet {sheet.group.code} cycle {sheet.cycle_number} ({kind})",
        head=(sheet.head_seq, sheet.head_hash),
        now=now,
    )


def share_value(value: Decimal, code: str, w: Words) -> str:
    """A share's value: kept to two decimals of the smallest unit (a riel's hundredths),
    since it is rarely a whole amount."""
    exponent = commodity(code).exponent
    shown = value.scaleb(-exponent)
    return w.digits(f"{shown:,.{exponent + 2}f} {code}")


def shareout_sheet_flowables(
    sheet: ShareoutSheet, *, words: Words, size: str = "A4"
) -> list[Flowable]:
    st = styles(size)
    width = content_width(size)
    w = words
    title = w.label("Share-out sheet")
    out: list[Flowable] = [Paragraph(title, st.title)]
    if not sheet.posted:
        out.append(Paragraph(red(f"<b>{w.label('Preview: not posted yet')}</b>"), st.heading))
    out += [
        Paragraph(
            f"{w.label('Group')}: {w.text(sheet.group.name)} ({w.text(sheet.group.code)})", st.body
        ),
        Paragraph(
            f"{w.label('Cycle')} {w.count(sheet.cycle_number)} · {w.label('Share-out')}: "
            f"{w.date(sheet.shared_on)} · {w.label(METHOD_WORDS.get(sheet.method, sheet.method))}",
            st.body,
        ),
        spacer(2),
        _summary(sheet, w, st, width),
        spacer(3),
        _rows(sheet, w, st, width),
        spacer(3),
        KeepTogether(
            [
                Paragraph(_sum_line(sheet, w), st.small),
                spacer(4),
                signature_block(("Treasurer", "Chairperson"), w, st, width),
            ]
        ),
    ]
    return out


def _summary(sheet: ShareoutSheet, w: Words, st: Styles, width: float) -> Table:
    """The pool and how it is shared, in two columns of label–value pairs."""
    c = sheet.currency
    items = [(w.label("Pool"), w.amount(sheet.pool, c, unit=True))]
    if sheet.total_shares is not None:
        items.append((w.label("Total shares"), w.count(sheet.total_shares)))
    if sheet.value_per_share is not None:
        items.append((w.label("Value per share"), share_value(sheet.value_per_share, c, w)))
    items += [
        (w.label("Paid out to members"), w.amount(sheet.distributed, c, unit=True)),
        (w.label("Loans deducted"), w.amount(sheet.deducted, c, unit=True)),
        (w.label("Left with the group"), w.amount(sheet.leftover, c, unit=True)),
        (w.label("Payouts rounded down to"), w.amount(sheet.cash_unit, c, unit=True)),
    ]
    if sheet.social_fund is not None:
        items.append((w.label("Social fund (kept)"), w.amount(sheet.social_fund, c, unit=True)))
    if sheet.posted_by:
        items.append((w.label("Posted by"), w.text(sheet.posted_by)))
    columns = 2 if width > 150 * mm else 1
    rows = []
    for k in range(0, len(items), columns):
        row: list[Paragraph] = []
        for label, value in items[k : k + columns]:
            row += [Paragraph(label, st.cell), Paragraph(f"<b>{value}</b>", st.number)]
        row += [Paragraph("", st.cell)] * (2 * columns - len(row))
        rows.append(row)
    share = width / columns
    gap = 6 * mm if columns > 1 else 0
    widths = [share * 0.55, share * 0.45 - gap] * columns
    return table(rows, widths, header_rows=0, zebra=False)


def _columns(sheet: ShareoutSheet) -> list[tuple[str, str, float]]:
    """(key, English heading, width in mm); the member column takes what is left."""
    cols = [("member", "Member", 0.0)]
    if sheet.method == "shares":
        cols.append(("shares", "Shares", 13.0))
    cols += [
        ("returned", "Savings returned", 27.0),
        ("profit", "Profit share", 26.0),
        ("deducted", "Loans deducted", 22.0),
        ("payout", "Payout", 23.0),
        ("sign", "Signature or thumbprint", 32.0),
    ]
    return cols


def _rows(sheet: ShareoutSheet, w: Words, st: Styles, width: float) -> Table:
    cols = _columns(sheet)
    widths = fit_widths([c[2] for c in cols], 0, width, minimum=36 * mm)
    if widths[0] > MEMBER_WIDEST:  # a wide page: the room goes to the signatures
        widths[-1] += widths[0] - MEMBER_WIDEST
        widths[0] = MEMBER_WIDEST
    numeric = {"shares", "returned", "profit", "deducted", "payout"}
    rows: list[list[Flowable]] = [
        [
            Paragraph(w.label(heading, stacked=True), st.head_number if key in numeric else st.head)
            for key, heading, _ in cols
        ]
    ]
    for row in sheet.rows:
        rows.append([_cell(key, row, sheet, w, st) for key, _, _ in cols])
    totals = {
        "member": f"{w.label('Total')} ({w.count(len(sheet.rows))})",
        "shares": w.count(sheet.total_shares or 0),
        "returned": w.amount(sheet.returned, sheet.currency),
        "profit": w.amount(sheet.profit, sheet.currency),
        "deducted": w.amount(sheet.deducted, sheet.currency),
        "payout": w.amount(sheet.distributed, sheet.currency),
    }
    rows.append(
        [
            Paragraph(f"<b>{totals[key]}</b>" if key in totals else "", _style(key, st))
            for key, _, _ in cols
        ]
    )
    sign = len(cols) - 1
    payout = sign - 1
    extra = [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("BACKGROUND", (payout, 1), (payout, -1), SHADE),
        ("VALIGN", (0, 1), (-1, -1), "MIDDLE"),
        ("LINEABOVE", (0, -1), (-1, -1), 1.2, GRID),
    ]
    return table(rows, widths, total_rows=1, zebra=False, extra=extra)


def _style(key: str, st: Styles) -> ParagraphStyle:
    return st.cell if key in ("member", "sign") else st.number


def _cell(key: str, row: ShareoutRow, sheet: ShareoutSheet, w: Words, st: Styles) -> Flowable:
    c = sheet.currency
    if key == "member":
        name = member_name(w, row.name_latin, row.name_khmer, stacked=True)
        return Paragraph(f"{w.text(row.code)} · {name}", st.cell)
    if key == "sign":
        return Spacer(1, SIGN_ROW)  # empty: tall enough to sign or press a thumb
    value = {
        "shares": w.count(row.shares or 0),
        "returned": w.amount(row.returned, c),
        "profit": w.amount(row.profit, c),
        "deducted": w.amount(row.deducted, c) if row.deducted else "",
        "payout": f"<b>{w.amount(row.payout, c)}</b>",
    }[key]
    return Paragraph(value, st.number)


def _sum_line(sheet: ShareoutSheet, w: Words) -> str:
    """The sum every member can check: the pool is exactly what is paid, deducted and
    left with the group."""
    c = sheet.currency
    return (
        f"{w.label('Pool')} {w.amount(sheet.pool, c, unit=True)} = "
        f"{w.label('Paid out to members')} {w.amount(sheet.distributed, c)} + "
        f"{w.label('Loans deducted')} {w.amount(sheet.deducted, c)} + "
        f"{w.label('Left with the group')} {w.amount(sheet.leftover, c)}"
    )
