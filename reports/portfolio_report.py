"""The portfolio report: where a coordinator's loans stand, on paper.

Data comes from ``ledger.portfolio_report`` (its figures are ``ledger.portfolio``'s);
this module lays it out: one row per group or place with its loans outstanding, PAR30
and PAR90, arrears and repayment rates, and the whole book's total; a chart of PAR by
row; the ageing of what is outstanding by days overdue; and the loans overdue or
rescheduled, most overdue first. PAR and the arrears rate are different figures and
are printed under their own names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Paragraph

from ledger.portfolio import BUCKETS, PortfolioFigures
from ledger.portfolio_report import PortfolioReport
from reports.charts import MAX_BARS, SERIES_COLOURS, latin_only, legend, percent
from reports.charts import side_by_side_bars as bars
from reports.layout import (
    WARN,
    Styles,
    content_width,
    render_document,
    spacer,
    styles,
    table,
)
from reports.text import Words

LEVEL_WORDS = {
    "group": "Group",
    "commune": "Commune",
    "district": "District",
    "province": "Province",
}


def portfolio_report_pdf(
    report: PortfolioReport,
    *,
    words: Words | None = None,
    size: str = "A4",
    now: dt.datetime | None = None,
) -> bytes:
    """The portfolio report as PDF bytes."""
    words = words or Words()
    return render_document(
        portfolio_report_flowables(report, words=words, size=size),
        words=words,
        size=size,
        title=f"Portfolio report by {report.by} {report.as_of}",
        head=(report.head_seq, report.head_hash),
        now=now,
    )


def portfolio_report_flowables(
    r: PortfolioReport, *, words: Words, size: str = "A4"
) -> list[Flowable]:
    st = styles(size)
    width = content_width(size)
    w = words
    out: list[Flowable] = [
        Paragraph(w.label("Portfolio report"), st.title),
        Paragraph(
            f"{w.label('Date')}: {w.date(r.as_of)} · {w.label('Groups')}: {w.count(len(r.groups))}",
            st.body,
        ),
        spacer(2),
    ]
    out += _figures(r, w, st, width)
    out += _chart(r, w, st, width)
    out += _ageing(r, w, st, width)
    out += _at_risk(r, w, st, width)
    return out


def _place(row: PortfolioFigures, w: Words, st: Styles) -> Paragraph:
    """A row's name: the group's code and name, or the place's name in the reader's
    language with its official code; the total row says which currency it sums."""
    if row.level == "book":
        return Paragraph(f"{w.label('Total')} {w.text(row.currency)}", st.cell)
    if row.level == "group":
        return Paragraph(f"{w.text(row.key)}<br/><font size=7>{w.text(row.name)}</font>", st.cell)
    if w.lang == "km" and row.name_khmer:
        name = w.text(row.name_khmer)
    elif w.lang == "both" and row.name_khmer:
        name = f"{w.text(row.name_khmer)} ({w.text(row.name)})"
    else:
        name = w.text(row.name)
    return Paragraph(f"{name}<br/><font size=7>{w.digits(row.key)}</font>", st.cell)


def _amount(w: Words, minor: int, currency: str, r: PortfolioReport) -> str:
    """Amounts carry their currency when the report mixes currencies (groups keep their
    own); otherwise the total row names the one currency."""
    return w.amount(minor, currency, unit=len(r.currencies) > 1)


def _figures(r: PortfolioReport, w: Words, st: Styles, width: float) -> list[Flowable]:
    """One row per group or place: loans, outstanding, PAR30/PAR90, arrears, repayment."""
    by_place = r.by != "group"
    written_off = any(t.written_off for t in r.totals)
    before = [*(["Groups"] if by_place else []), "Loans", "Loans outstanding"]
    after = ["Arrears rate", "Repayment rate", *(["Loans written off"] if written_off else [])]
    par = 1 + len(before)  # the column of PAR30; PAR90 is next to it
    blank = Paragraph("", st.head)
    centred = ParagraphStyle("head_centre", parent=st.head, alignment=TA_CENTER)
    top = [
        Paragraph(w.label(LEVEL_WORDS[r.by], stacked=True), st.head),
        *_heads(before, w, st),
        Paragraph(w.label("Portfolio at risk", stacked=True), centred),
        blank,
        *_heads(after, w, st),
    ]
    sub = [blank] * len(top)
    sub[par : par + 2] = [Paragraph(x, st.head_number) for x in ("PAR30", "PAR90")]
    rows = [top, sub]
    for row in [*r.rows, *r.totals]:
        values = [
            *([w.count(row.groups)] if by_place else []),
            w.count(row.loans_active),
            _amount(w, row.gross_outstanding, row.currency, r),
            _risky(w, row.par30),
            _risky(w, row.par90),
            _risky(w, row.arrears_rate),
            percent(w, row.repayment_rate),
            *([_amount(w, row.written_off, row.currency, r)] if written_off else []),
        ]
        rows.append([_place(row, w, st), *(Paragraph(v, st.number) for v in values)])
    shares = [0.07] * by_place + [0.07, 0.15, 0.09, 0.09, 0.11, 0.15] + [0.13] * written_off
    widths = [width * (1 - sum(shares))] + [width * x for x in shares]
    spans = [("SPAN", (par, 0), (par + 1, 0))] + [
        ("SPAN", (c, 0), (c, 1)) for c in range(len(top)) if c not in (par, par + 1)
    ]
    return [
        Paragraph(w.label("Loans outstanding"), st.heading),
        table(rows, widths, header_rows=2, total_rows=len(r.totals), extra=spans),
    ]


def _heads(labels: Sequence[str], w: Words, st: Styles) -> list[Paragraph]:
    """Stacked headings over columns of numbers."""
    return [Paragraph(w.label(x, stacked=True), st.head_number) for x in labels]


def _risky(w: Words, ratio: Decimal | None) -> str:
    """A risk ratio, in the warning colour when it is above zero."""
    shown = percent(w, ratio)
    return f'<font color="{WARN.hexval()}">{shown}</font>' if ratio else shown


def _chart_name(row: PortfolioFigures) -> str:
    """A bar's label: Latin only (the chart does not shape text)."""
    name = row.key if row.level == "group" else row.name
    return name if latin_only(name) else row.key


def _chart(r: PortfolioReport, w: Words, st: Styles, width: float) -> list[Flowable]:
    rows = [row for row in r.rows if row.gross_outstanding]
    if not rows:
        return []
    if len(rows) > MAX_BARS:  # the riskiest; the table above lists them all
        rows = sorted(rows, key=lambda x: (-(x.par30 or 0), x.key))[:MAX_BARS]
    names = [_chart_name(row) for row in rows]
    drawing = bars(
        names,
        [[row.par30 for row in rows], [row.par90 for row in rows]],
        width=width,
        value_label=lambda v: w.digits(f"{v:.1f}%".replace(".0%", "%")),
    )
    title = w.label("Portfolio at risk")
    if len(r.rows) > MAX_BARS:
        title += f" ({w.count(MAX_BARS)} / {w.count(len(r.rows))})"
    return [
        CondPageBreak(drawing.height + 20 * mm),
        Paragraph(title, st.heading),
        drawing,
        legend([("PAR30", SERIES_COLOURS[0]), ("PAR90", SERIES_COLOURS[1])], st, width / 2),
    ]


def _ageing(r: PortfolioReport, w: Words, st: Styles, width: float) -> list[Flowable]:
    """Outstanding principal (and the number of loans) by days overdue."""
    centred = ParagraphStyle("head_centre", parent=st.head, alignment=TA_CENTER)
    first = [Paragraph(w.label(LEVEL_WORDS[r.by], stacked=True), st.head)]
    top = [*first, Paragraph(w.label("Current", stacked=True), st.head_number)]
    top += [Paragraph(w.label("Days overdue", stacked=True), centred)] + [
        Paragraph("", st.head)
    ] * (len(BUCKETS) - 2)
    sub = [Paragraph("", st.head)] * 2 + [
        Paragraph(w.digits(_bucket_words(name)), st.head_number) for name, *_ in BUCKETS[1:]
    ]
    rows = [top, sub]
    for row in [*r.rows, *r.totals]:
        cells = [_place(row, w, st)]
        for name, *_ in BUCKETS:
            count, principal = row.buckets[name]
            amount = _amount(w, principal, row.currency, r) if count else "–"
            loans = f"<br/><font size=7>({w.count(count)})</font>" if count else ""
            cells.append(Paragraph(amount + loans, st.number))
        rows.append(cells)
    share = 0.13
    widths = [width * (1 - share * len(BUCKETS))] + [width * share] * len(BUCKETS)
    spans = [
        ("SPAN", (0, 0), (0, 1)),
        ("SPAN", (1, 0), (1, 1)),
        ("SPAN", (2, 0), (len(BUCKETS), 0)),
    ]
    return [
        CondPageBreak(40 * mm),
        Paragraph(w.label("Ageing of loans outstanding"), st.heading),
        table(rows, widths, header_rows=2, total_rows=len(r.totals), extra=spans),
        Paragraph(f"(…) {w.label('Number of loans')}", st.small),
    ]


def _bucket_words(name: str) -> str:
    return {"over 180": "> 180"}.get(name, name.replace("-", "–"))


def _at_risk(r: PortfolioReport, w: Words, st: Styles, width: float) -> list[Flowable]:
    """The loans behind the risk figures, most overdue first."""
    if not r.at_risk:
        return []
    heads = ["Loan", "Member", "Principal outstanding", "Principal in arrears", "Days overdue"]
    rows = [
        [
            Paragraph(w.label("Group", stacked=True), st.head),
            *(Paragraph(w.label(x, stacked=True), st.head) for x in heads[:2]),
            *_heads(heads[2:], w, st),
        ]
    ]
    mixed = len(r.currencies) > 1
    for loan in r.at_risk:
        unit = r.currency_of(loan.group_code)
        days = w.count(loan.days_overdue)
        if loan.rescheduled:
            days += f"<br/>{w.label('Rescheduled')}"
        rows.append(
            [
                Paragraph(w.text(loan.group_code), st.cell),
                Paragraph(w.ref(loan.loan_number), st.cell),
                Paragraph(w.text(loan.member_code), st.cell),
                Paragraph(w.amount(loan.principal_outstanding, unit, unit=mixed), st.number),
                Paragraph(w.amount(loan.principal_in_arrears, unit, unit=mixed), st.number),
                Paragraph(f'<font color="{WARN.hexval()}">{days}</font>', st.number),
            ]
        )
    widths = [width * f for f in (0.22, 0.12, 0.14, 0.19, 0.19, 0.14)]
    return [
        CondPageBreak(35 * mm),
        Paragraph(w.label("Loans overdue or rescheduled"), st.heading),
        table(rows, widths),
    ]
