"""The member statement: a passbook page a member can read and a coordinator can check.

Data comes from ``ledger.member_statement`` (closing balances are the account balances);
this module only lays it out: the member and period, a summary of what she holds and
owes, each account's movements with running balances, each loan and rice loan, the
instalments due next, and at the foot the chain head and the check code with its QR.
"""

from __future__ import annotations

import datetime as dt
import re

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph

from ledger.member_statement import AccountSection, MemberStatement
from ledger.statement_check import statement_code
from reports.layout import (
    Page,
    Styles,
    cell_text,
    content_width,
    label,
    member_name,
    printed_line,
    red,
    render,
    spacer,
    styles,
    table,
)
from reports.text import Words

_MEETING_MEMO = re.compile(r"^Meeting #(\d+) \d{4}-\d{2}-\d{2}: ?(.*)$")
STATUS_WORDS = {
    "paid": "Paid",
    "partly paid": "Partly paid",
    "due": "Due",
    "overdue": "Overdue",
    "not yet due": "Not yet due",
}


def statement_pdf(
    s: MemberStatement,
    *,
    words: Words | None = None,
    size: str = "A4",
    now: dt.datetime | None = None,
) -> bytes:
    """One member's statement as PDF bytes."""
    words = words or Words()
    page = statement_page(s, words=words, size=size, now=now)
    return render(statement_flowables(s, words=words, size=size), page, words)


def statement_page(
    s: MemberStatement, *, words: Words, size: str, now: dt.datetime | None = None
) -> Page:
    code = statement_code(s).text()
    moment = now or dt.datetime.now()
    return Page(
        size=size,
        title=f"Statement {s.group.code} {s.member.code} {s.start}..{s.end}",
        footer=[
            printed_line(words, s.head_seq, s.head_hash, moment),
            f'{words.label("Check this statement")}: sansam verify-statement "{code}"',
        ],
        qr=code,
    )


def statement_flowables(s: MemberStatement, *, words: Words, size: str = "A4") -> list[Flowable]:
    st = styles(size)
    width = content_width(size)
    w = words
    c = s.group.currency
    member = member_name(w, s.member.name_latin, s.member.name_khmer)
    out: list[Flowable] = [
        label(w.label("Member statement"), st.title),
        Paragraph(f"{w.label('Group')}: {w.text(s.group.name)} ({w.text(s.group.code)})", st.body),
        Paragraph(f"{w.label('Member')}: {member} ({w.text(s.member.code)})", st.heading),
        Paragraph(f"{w.label('Period')}: {w.date(s.start)} – {w.date(s.end)}", st.body),
        spacer(2),
    ]
    who = (s.member.code, s.member.name_latin)
    shares = next(a for a in s.savings if a.key == "shares")
    summary = [
        (w.label("Savings"), w.amount(s.total_savings, c, unit=True)),
        (w.label("Shares"), w.amount(shares.closing, c, unit=True)),
        (w.label("Social fund"), w.amount(s.social_fund_paid, c, unit=True)),
        (w.label("Fines"), w.amount(s.fines_paid, c, unit=True)),
        (w.label("Loans outstanding"), w.amount(s.loans_owed, c, unit=True)),
        (w.label("Rice loan"), w.amount(s.rice_owed, "RICE", unit=True)),
        (
            w.label("Meetings attended"),
            f"{w.count(s.meetings_attended)} / {w.count(s.meetings_held)}",
        ),
    ]
    out.append(
        table(
            [[label(a, st.cell), b] for a, b in summary],
            [width * 0.55, width * 0.3],
            header_rows=0,
            font_size=st.cell.fontSize,
            extra=[("ALIGN", (1, 0), (1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")],
        )
    )
    for section in s.savings:
        if section.opening or section.movements:
            out.extend(_account(section, w.label(section.title), w, st, width, member=who))
    for loan in s.loans:
        r = loan.loan.loan
        title = (
            f"{w.label('Loan')} {w.ref(r.number)} · {w.text(r.product_code)} · "
            f"{w.amount(r.principal_lent, c, unit=True)} · {w.text(r.purpose)}"
        )
        facts = (
            f"{w.label('Principal outstanding')}: {w.amount(loan.loan.principal_outstanding, c)}"
            f" · {w.label('Interest due')}: {w.amount(loan.loan.interest_due, c)}"
            f" · {w.label('Penalty due')}: {w.amount(loan.loan.penalty_due, c)}"
        )
        if loan.loan.days_overdue:
            facts += " · " + red(f"{w.label('Days overdue')}: {w.count(loan.loan.days_overdue)}")
        out.extend(_account(loan.principal, title, w, st, width, facts=facts, member=who))
    for rice in s.rice:
        standing = rice.loan.standing
        title = (
            f"{w.label('Rice loan')} {w.ref(rice.loan.number)} · "
            f"{w.amount(standing.quantity, 'RICE', unit=True)} · {w.text(rice.loan.purpose)}"
        )
        facts = (
            f"{w.label('Due date')}: {w.date(standing.due_on)} · {w.label('Owed')}: "
            f"{w.amount(standing.owed, 'RICE', unit=True)} ({w.label('Interest')} "
            f"{w.amount(standing.interest_owed, 'RICE', unit=True)})"
        )
        out.extend(_account(rice.principal, title, w, st, width, facts=facts, member=who))
    if s.due_next:
        rows: list[list[Paragraph]] = [
            [label(w.label(h, stacked=True), st.head) for h in ("Loan", "Instalment", "Due date")]
            + [
                label(w.label("Amount", stacked=True), st.head_number),
                label(w.label("Status", stacked=True), st.head),
            ]
        ]
        for d in s.due_next:
            status = w.label(STATUS_WORDS.get(d.status, d.status))
            if d.status == "overdue":
                status = red(status)
            rows.append(
                [
                    Paragraph(f"{w.ref(d.loan_number)}", st.cell),
                    Paragraph(w.count(d.number), st.cell),
                    Paragraph(w.date(d.due_on), st.cell),
                    Paragraph(w.amount(d.amount, c), st.number),
                    Paragraph(status, st.cell),
                ]
            )
        out.append(
            KeepTogether(
                [
                    label(w.label("Instalments due next"), st.heading),
                    table(rows, [width * f for f in (0.12, 0.14, 0.2, 0.22, 0.32)]),
                ]
            )
        )
    return out


def short_memo(memo: str, member_code: str, member_name: str) -> str:
    """A movement's description without what the statement already says: the meeting's
    date (it has its own column) and the member's own code and name."""
    found = _MEETING_MEMO.match(memo)
    if not found:
        return memo
    rest = found.group(2)
    for prefix in (f"{member_code} {member_name}", member_code):
        if rest.startswith(prefix):
            rest = rest[len(prefix) :].lstrip(" :")
            break
    return f"Meeting #{found.group(1)}" + (f": {rest}" if rest else "")


def _account(
    section: AccountSection,
    title: str,
    w: Words,
    st: Styles,
    width: float,
    *,
    facts: str = "",
    member: tuple[str, str] = ("", ""),
) -> list[Flowable]:
    """An account's movements: opening row, one row per movement, closing row."""
    unit = section.commodity
    heads = ("Date", "No.", "Description", "Paid in", "Paid out", "Balance")
    # Dates in Khmer digits are wider; headings stay on whole words in both scripts.
    widths = [width * f for f in (0.17, 0.08, 0.32, 0.14, 0.13, 0.16)]
    # Digits, dates and amounts are plain cells (no shaping needed, far cheaper than a
    # Paragraph); words are Paragraphs.
    rows: list[list[Paragraph | str]] = [
        [
            label(w.label(h, stacked=True), st.head_number if i >= 3 else st.head)
            for i, h in enumerate(heads)
        ],
        [
            "",
            "",
            label(w.label("Opening balance"), st.cell),
            "",
            "",
            w.amount(section.opening, unit),
        ],
    ]
    for m in section.movements:
        rows.append(
            [
                w.date(m.on),
                w.count(m.seq),
                cell_text(short_memo(m.memo, *member), w, st.cell, widths[2]),
                w.amount(m.amount, unit) if m.amount > 0 else "",
                w.amount(-m.amount, unit) if m.amount < 0 else "",
                w.amount(m.running, unit),
            ]
        )
    rows.append(
        [
            "",
            "",
            label(w.label("Closing balance"), st.cell),
            w.amount(section.paid_in, unit),
            w.amount(section.paid_out, unit),
            w.amount(section.closing, unit, unit=True),
        ]
    )
    heading = [Paragraph(title, st.heading)]
    if facts:
        heading.append(Paragraph(facts, st.body))
    body = table(
        rows,
        widths,
        total_rows=1,
        font_size=st.cell.fontSize,
        extra=[("ALIGN", (3, 1), (5, -1), "RIGHT")],
    )
    # An account may run over pages (its column heads repeat); the heading starts only
    # where a few of its rows fit below it.
    return [CondPageBreak(30 * mm), *heading, body]
