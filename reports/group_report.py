"""The group report: a period's books on paper, for the group's meeting and its coordinator.

Data comes from ``ledger.group_report`` (its figures are the ledger's statements); this
module lays it out: the group and period, membership, the balance sheet on the last day,
income and expenditure with a place for the treasurer and the chairperson to sign them,
then the schedules behind them: how members' savings grew (a chart and its figures), the
cash book and the trial balance.
Member accounts are summed by kind on paper (each member has her own statement).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    Table,
    TableStyle,
)

from ledger.group_report import GroupReport, SavingsPoint
from ledger.statements import (
    BalanceSheet,
    CashBook,
    IncomeStatement,
    PeriodTrialBalance,
    StatementRow,
)
from reports.charts import SERIES_COLOURS, legend, stacked_bars
from reports.layout import (
    RULE,
    SHADE,
    WARN,
    Styles,
    content_width,
    render_document,
    spacer,
    styles,
    table,
)
from reports.text import Words

_MEETING_DATE = re.compile(r"^(Meeting #\d+) \d{4}-\d{2}-\d{2}:")
KIND_WORDS = {
    "vsla": "Savings group",
    "shg": "Self-Help Group",
    "rice_bank": "Rice bank",
    "producer": "Producer group",
}


def group_report_pdf(
    report: GroupReport,
    *,
    words: Words | None = None,
    size: str = "A4",
    now: dt.datetime | None = None,
) -> bytes:
    """The group's report for its period as PDF bytes."""
    words = words or Words()
    return render_document(
        group_report_flowables(report, words=words, size=size),
        words=words,
        size=size,
        title=f"Group report {report.group.code} {report.start}..{report.end}",
        head=(report.head_seq, report.head_hash),
        now=now,
    )


def group_report_flowables(r: GroupReport, *, words: Words, size: str = "A4") -> list[Flowable]:
    st = styles(size)
    width = content_width(size)
    w = words
    out: list[Flowable] = [*_header(r, w, st), spacer(2)]
    out += _membership(r, w, st, width)
    for sheet in r.sheets:
        out += _balance_sheet(sheet, w, st, width)
    for income in r.income_summary:
        out += _income(income, w, st, width)
    # The officers sign the statements; the schedules that support them follow.
    out.append(_signatures(w, st, width))
    out += _savings(r.savings_growth, r.group.currency, w, st, width)
    out += _cash_book(r.cash_book, w, st, width)
    out += _trial_balance(r.trial_summary, w, st, width)
    return out


def _header(r: GroupReport, w: Words, st: Styles) -> list[Flowable]:
    kind = KIND_WORDS.get(r.group.kind)
    group = f"{w.label('Group')}: {w.text(r.group.name)} ({w.text(r.group.code)})"
    if kind:
        group += f" · {w.label(kind)}"
    out: list[Flowable] = [
        Paragraph(w.label("Group report"), st.title),
        Paragraph(group, st.heading),
    ]
    if r.location is not None:
        loc = r.location
        places = [
            ("Village", loc.village, loc.village_km),
            ("Commune", loc.commune, loc.commune_km),
            ("District", loc.district, loc.district_km),
            ("Province", loc.province, loc.province_km),
        ]
        shown = [
            f"{w.label(level)}: {_place_name(w, latin, km)}" for level, latin, km in places if latin
        ]
        out.append(Paragraph(" · ".join(shown), st.body))
    out.append(Paragraph(f"{w.label('Period')}: {w.date(r.start)} – {w.date(r.end)}", st.body))
    return out


def _place_name(w: Words, latin: str, km: str | None) -> str:
    if not km or w.lang == "en":
        return w.text(latin)
    if w.lang == "km":
        return w.text(km)
    return f"{w.text(km)} ({w.text(latin)})"


def _heading(text: str, st: Styles) -> Paragraph:
    return Paragraph(text, st.heading)


def _cells(values: Sequence[str], st: Styles, numbers_from: int = 1) -> list[Paragraph]:
    return [Paragraph(v, st.number if i >= numbers_from else st.cell) for i, v in enumerate(values)]


def _heads(labels: Sequence[str], w: Words, st: Styles, numbers_from: int = 1) -> list[Paragraph]:
    return [
        Paragraph(
            w.label(x, stacked=True) if x else "", st.head_number if i >= numbers_from else st.head
        )
        for i, x in enumerate(labels)
    ]


def _membership(r: GroupReport, w: Words, st: Styles, width: float) -> list[Flowable]:
    m = r.membership
    rows = [
        [
            Paragraph("", st.head),
            Paragraph(f"{w.label('At the start', stacked=True)}<br/>{w.date(m.at_start.on)}",
                      st.head_number),
            Paragraph(f"{w.label('At the end', stacked=True)}<br/>{w.date(m.at_end.on)}",
                      st.head_number),
        ]
    ]  # fmt: skip
    for label, attr in (
        ("Members", "members"),
        ("Women", "women"),
        ("ID-Poor households", "id_poor_households"),
    ):
        rows.append(
            _cells(
                [
                    w.label(label),
                    w.count(getattr(m.at_start, attr)),
                    w.count(getattr(m.at_end, attr)),
                ],
                st,
            )
        )
    facts = (
        f"{w.label('Joined')}: {w.count(m.joined)} · {w.label('Left')}: {w.count(m.left)} · "
        f"{w.label('Meetings held')}: {w.count(r.meetings_held)}"
    )
    return [
        KeepTogether(
            [
                _heading(w.label("Membership"), st),
                table(rows, [width * 0.5, width * 0.25, width * 0.25]),
                Paragraph(facts, st.body),
            ]
        )
    ]


Section = tuple[str, Sequence[StatementRow], str]  # title, lines, label of its total


def _statement_table(
    sections: Sequence[Section],
    bottom_line: tuple[str, int],
    unit: str,
    w: Words,
    st: Styles,
    width: float,
) -> Flowable:
    """Sections one under the other (title shaded, a line per account, total ruled), and
    the statement's bottom line. A section with no lines is left out."""
    rows: list[list[Paragraph]] = []
    extra: list[tuple[object, ...]] = []
    for title, lines, total_label in sections:
        if not lines:
            continue
        extra.append(("BACKGROUND", (0, len(rows)), (-1, len(rows)), SHADE))
        rows.append([Paragraph(w.label(title), st.cell), Paragraph("", st.number)])
        rows += [_cells([w.label(x.account), w.amount(x.amount, unit)], st) for x in lines]
        extra.append(("LINEABOVE", (0, len(rows)), (-1, len(rows)), 0.5, RULE))
        total = sum(x.amount for x in lines)
        rows.append(_cells([w.label(total_label), w.amount(total, unit, unit=True)], st))
    extra.append(("BACKGROUND", (0, len(rows)), (-1, len(rows)), SHADE))
    rows.append(_cells([w.label(bottom_line[0]), w.amount(bottom_line[1], unit, unit=True)], st))
    return table(
        rows, [width * 0.7, width * 0.3], header_rows=0, total_rows=1, zebra=False, extra=extra
    )


def _unit_label(unit: str, w: Words) -> str:
    return w.label("Kilograms") if unit == "RICE" else w.text(unit)


def _balance_sheet(b: BalanceSheet, w: Words, st: Styles, width: float) -> list[Flowable]:
    sections: list[Section] = [
        ("Assets", b.assets, "Total assets"),
        ("Liabilities", b.liabilities, "Total liabilities"),
        ("Equity", b.equity, "Total equity"),
    ]
    bottom = ("Total liabilities and equity", b.total_liabilities + b.total_equity)
    title = f"{w.label('Balance sheet')} · {_unit_label(b.commodity, w)} · {w.date(b.on)}"
    out: list[Flowable] = [CondPageBreak(45 * mm), _heading(title, st)]
    if not b.balanced:  # never in a sound book; say so rather than print it quietly
        warning = w.label("Assets do not equal liabilities and equity")
        out.append(Paragraph(f'<font color="{WARN.hexval()}">{warning}</font>', st.body))
    out.append(_statement_table(sections, bottom, b.commodity, w, st, width))
    return out


def _income(i: IncomeStatement, w: Words, st: Styles, width: float) -> list[Flowable]:
    sections: list[Section] = [
        ("Income", i.income, "Total income"),
        ("Expenditure", i.expenses, "Total expenditure"),
    ]
    bottom = ("Surplus", i.surplus) if i.surplus >= 0 else ("Deficit", -i.surplus)
    title = f"{w.label('Income and expenditure')} · {_unit_label(i.commodity, w)}"
    return [
        CondPageBreak(40 * mm),
        _heading(title, st),
        _statement_table(sections, bottom, i.commodity, w, st, width),
    ]


def _month_label(on: dt.date) -> str:
    """A chart's column label: the month at a month's end, else the day (a period that
    starts or ends inside a month)."""
    return on.strftime("%Y-%m") if (on + dt.timedelta(days=1)).day == 1 else on.isoformat()


def _savings(
    points: Sequence[SavingsPoint], currency: str, w: Words, st: Styles, width: float
) -> list[Flowable]:
    kinds = [
        ("Compulsory savings", [p.compulsory for p in points]),
        ("Voluntary savings", [p.voluntary for p in points]),
        ("Shares", [p.shares for p in points]),
    ]
    shown = [(label, values) for label, values in kinds if any(values)]
    out: list[Flowable] = [CondPageBreak(90 * mm), _heading(w.label("Savings growth"), st)]
    if not shown:
        out.append(Paragraph(w.amount(0, currency, unit=True), st.body))
        return out
    categories = [_month_label(p.on) for p in points]
    chart = stacked_bars(
        [w.digits(c) for c in categories],
        [values for _, values in shown],
        width=width,
        height=62 * mm,
        value_label=lambda v: w.amount(round(v), currency),
    )
    out += [
        chart,
        legend(
            [(w.label(label), SERIES_COLOURS[i]) for i, (label, _) in enumerate(shown)],
            st,
            width,
        ),
        spacer(2),
    ]
    heads = ["Date", *(label for label, _ in shown), "Total"]
    rows = [_heads(heads, w, st)]
    for i, p in enumerate(points):
        values = [values[i] for _, values in shown]
        rows.append(
            _cells(
                [w.date(p.on), *(w.amount(v, currency) for v in values),
                 w.amount(sum(values), currency)],
                st,
            )
        )  # fmt: skip
    share = 0.8 / (len(shown) + 1)
    out.append(table(rows, [width * 0.2] + [width * share] * (len(shown) + 1)))
    return out


def _cash_book(book: CashBook, w: Words, st: Styles, width: float) -> list[Flowable]:
    c = book.currency
    heads = ["Date", "No.", "Description", "Paid in", "Paid out", "Balance"]
    rows = [_heads(heads, w, st, numbers_from=3)]
    rows.append(
        _cells(["", "", w.label("Opening balance"), "", "", w.amount(book.opening, c)], st, 3)
    )
    for line in book.lines:
        rows.append(
            _cells(
                [
                    w.date(line.entry_date),
                    w.count(line.seq),
                    w.text(short_memo(line.memo)),
                    w.amount(line.cash_in, c) if line.cash_in else "",
                    w.amount(line.cash_out, c) if line.cash_out else "",
                    w.amount(line.balance, c),
                ],
                st,
                3,
            )
        )
    rows.append(
        _cells(
            [
                "",
                "",
                w.label("Closing balance"),
                w.amount(book.total_in, c),
                w.amount(book.total_out, c),
                w.amount(book.closing, c),
            ],
            st,
            3,
        )
    )
    widths = [width * f for f in (0.14, 0.07, 0.37, 0.13, 0.13, 0.16)]
    title = f"{w.label('Cash book')} · {w.label('Cash box')} · {w.text(c)}"
    return [CondPageBreak(40 * mm), _heading(title, st), table(rows, widths, total_rows=1)]


def short_memo(memo: str) -> str:
    """A cash movement's description without its meeting's date (it has its own column)."""
    return _MEETING_DATE.sub(r"\1:", memo, count=1)


def _trial_balance(tb: PeriodTrialBalance, w: Words, st: Styles, width: float) -> list[Flowable]:
    """Opening, movements and closing, each as debit and credit columns, per commodity:
    in a sound book each pair of columns has equal totals."""
    out: list[Flowable] = [CondPageBreak(50 * mm), _heading(w.label("Trial balance"), st)]
    centred = ParagraphStyle("head_centre", parent=st.head, alignment=TA_CENTER)
    for commodity in tb.commodities:
        lines = [x for x in tb.lines if x.commodity == commodity]
        top = [
            Paragraph(
                f"{w.label('Account', stacked=True)}<br/>{_unit_label(commodity, w)}", st.head
            )
        ]
        for label in ("Opening balance", "Movements", "Closing balance"):
            top += [Paragraph(w.label(label, stacked=True), centred), Paragraph("", st.head)]
        sub = [Paragraph("", st.head)] + [
            Paragraph(w.label(x, stacked=True), st.head_number) for x in ("Debit", "Credit") * 3
        ]
        rows = [top, sub]
        sums = [0] * 6
        for x in lines:
            figures = [
                max(x.opening, 0),
                max(-x.opening, 0),
                x.debits,
                x.credits,
                max(x.closing, 0),
                max(-x.closing, 0),
            ]
            sums = [a + b for a, b in zip(sums, figures, strict=True)]
            rows.append(
                _cells(
                    [w.label(x.account), *(w.amount(v, commodity) if v else "" for v in figures)],
                    st,
                )
            )
        rows.append(_cells([w.label("Total"), *(w.amount(v, commodity) for v in sums)], st))
        widths = [width * 0.22] + [width * 0.13] * 6
        spans = [("SPAN", (1 + 2 * k, 0), (2 + 2 * k, 0)) for k in range(3)]
        out.append(table(rows, widths, header_rows=2, total_rows=1, extra=spans))
        out.append(spacer(3))
    return out


def _signatures(w: Words, st: Styles, width: float) -> Flowable:
    """Room for the treasurer and the chairperson to sign the report at the meeting."""
    blank = Paragraph("", st.cell)
    under = f"{w.label('Signature')} · {w.label('Date')}"
    sign = Table(
        [
            [
                Paragraph(w.label("Treasurer"), st.cell),
                blank,
                Paragraph(w.label("Chairperson"), st.cell),
            ],
            [Paragraph(under, st.small), blank, Paragraph(under, st.small)],
        ],
        colWidths=[width * 0.42, width * 0.12, width * 0.42],
        hAlign="LEFT",
        style=TableStyle(
            [
                ("BOTTOMPADDING", (0, 0), (-1, 0), 16 * mm),
                ("LINEBELOW", (0, 0), (0, 0), 0.5, RULE),
                ("LINEBELOW", (2, 0), (2, 0), 0.5, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    return KeepTogether([spacer(5), sign])
