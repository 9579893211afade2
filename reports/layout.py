"""Page layout shared by every printed document: sizes, styles, tables, footer, QR code.

Every piece of text is a shaped Paragraph (plain table cells and ``drawString`` do not
shape Khmer). Cells are sized so Khmer labels fit on one or two lines: Khmer has no spaces
between words, and ReportLab breaks lines only at spaces, so a label never has to break
inside a word. The footer carries the page number, when and from which chain head the
document was made, and on statements a QR code with the check code.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from reports.fonts import KHMER, register_fonts
from reports.text import Words

PAGE_SIZES = {"A4": A4, "A5": A5, "A4-landscape": landscape(A4)}
RULE = colors.HexColor("#9aa5b1")
SHADE = colors.HexColor("#eef1f4")
WARN = colors.HexColor("#b42318")


@dataclass(frozen=True)
class Styles:
    """Paragraph styles for one page size (A5 passbooks use smaller type)."""

    body: ParagraphStyle
    small: ParagraphStyle
    title: ParagraphStyle
    heading: ParagraphStyle
    cell: ParagraphStyle
    number: ParagraphStyle
    head: ParagraphStyle
    head_number: ParagraphStyle
    centre: ParagraphStyle


@cache
def styles(size: str = "A4") -> Styles:
    register_fonts()
    base = 8.0 if size == "A5" else 9.0
    # Khmer stacks vowels and subscripts above and below the line: generous leading.
    body = ParagraphStyle("body", fontName=KHMER, fontSize=base, leading=base * 1.65, shaping=1)
    cell = ParagraphStyle("cell", parent=body, leading=base * 1.5)
    return Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=base - 1.5, leading=(base - 1.5) * 1.6),
        title=ParagraphStyle("title", parent=body, fontSize=base + 6, leading=(base + 6) * 1.5),
        heading=ParagraphStyle(
            "heading", parent=body, fontSize=base + 2, leading=(base + 2) * 1.6, spaceBefore=6
        ),
        cell=cell,
        number=ParagraphStyle("number", parent=cell, alignment=TA_RIGHT),
        head=ParagraphStyle("head", parent=cell, fontSize=base - 0.5, textColor=colors.black),
        head_number=ParagraphStyle(
            "head_number", parent=cell, fontSize=base - 0.5, alignment=TA_RIGHT
        ),
        centre=ParagraphStyle("centre", parent=cell, alignment=TA_CENTER),
    )


@dataclass
class Page:
    """What goes around the content of every page."""

    size: str = "A4"
    title: str = ""  # the PDF's title (metadata)
    footer: list[str] = field(default_factory=list)  # Paragraph markup, small type
    qr: str | None = None  # text of the QR code drawn at the foot of the first page

    @property
    def pagesize(self) -> tuple[float, float]:
        return PAGE_SIZES[self.size]

    @property
    def margin(self) -> float:
        return (10 if self.size == "A5" else 15) * mm


def content_width(size: str) -> float:
    """The width between the margins: 180 mm on A4, 128 mm on A5, 267 mm landscape."""
    return PAGE_SIZES[size][0] - 2 * Page(size=size).margin


def red(markup: str) -> str:
    """Markup printed in the warning colour (overdue, refused, not yet posted)."""
    return f'<font color="{WARN.hexval()}">{markup}</font>'


def member_name(w: Words, latin: str, khmer: str | None, *, stacked: bool = False) -> str:
    """A member's name: Latin always, Khmer beside it (or below) unless in English."""
    name = w.text(latin)
    if khmer and w.lang != "en":
        name = f"{name}<br/>{w.text(khmer)}" if stacked else f"{w.text(khmer)} · {name}"
    return name


def table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    *,
    header_rows: int = 1,
    total_rows: int = 0,
    zebra: bool = True,
    extra: Sequence[tuple[Any, ...]] = (),
    font_size: float = 9.0,
) -> Table:
    """A table with a shaded heading, rules and optional totals.

    Cells holding words are Paragraphs (shaped). Cells holding only digits, dates and
    amounts may be plain strings: digits need no shaping, Khmer digits included, and a
    plain cell costs a fraction of a Paragraph (a batch of statements has tens of
    thousands). Plain cells are set in the Khmer font at ``font_size``.
    """
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), KHMER, font_size, font_size * 1.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.6, RULE),
        ("LINEBELOW", (0, -1), (-1, -1), 0.4, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), SHADE))
    if zebra:
        for r in range(header_rows + 1, len(rows) - total_rows, 2):
            commands.append(("BACKGROUND", (0, r), (-1, r), colors.HexColor("#f8f9fa")))
    if total_rows:
        commands.append(("LINEABOVE", (0, -total_rows), (-1, -total_rows), 0.6, RULE))
    commands.extend(extra)
    return Table(
        list(rows),
        colWidths=list(widths),
        repeatRows=header_rows,
        style=TableStyle(commands),
        hAlign="LEFT",
    )


class Label(Flowable):
    """A fixed piece of text (a heading, a column head) shaped once and drawn wherever
    it appears: a batch of a thousand statements repeats the same few dozen labels, and
    shaping Khmer is most of the cost of a page. Get one with ``label``."""

    def __init__(self, markup: str, style: ParagraphStyle) -> None:
        super().__init__()
        self.markup, self.style = markup, style
        self._by_width: dict[float, tuple[Paragraph, float, float]] = {}
        self._current: Paragraph | None = None

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        known = self._by_width.get(available_width)
        if known is None:
            para = Paragraph(self.markup, self.style)
            width, height = para.wrap(available_width, available_height)
            known = self._by_width[available_width] = (para, width, height)
        self._current = known[0]
        self.width, self.height = known[1], known[2]
        return self.width, self.height

    def draw(self) -> None:
        assert self._current is not None, "a Label is wrapped before it is drawn"
        self._current.drawOn(self.canv, 0, 0)


@lru_cache(maxsize=4096)
def label(markup: str, style: ParagraphStyle) -> Label:
    """The shared ``Label`` for this text in this style."""
    return Label(markup, style)


def cell_text(text: str, words: Words, style: ParagraphStyle, width: float) -> Paragraph | str:
    """A cell of text from the book: a plain string when it is Latin and fits on one line
    (no shaping needed, and far cheaper), else a Paragraph that shapes and wraps it."""
    room = width - 6  # the table's left and right padding
    if text.isascii() and stringWidth(text, KHMER, style.fontSize) <= room:
        return text
    return Paragraph(words.text(text), style)


def draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """Draw ``text`` as a QR code (error correction M) in a ``size`` square at (x, y).

    segno makes the matrix in a few milliseconds and the dark runs of each row become
    one filled path: ReportLab's own QR widget took about 150 ms a statement, most of a
    batch's time.
    """
    # Any of the eight masks makes a valid code; a fixed one skips scoring all eight,
    # most of segno's time.
    matrix = segno.make(text, error="m", micro=False, mask=4).matrix
    n = len(matrix)
    quiet = 2  # modules of white margin on each side
    module = size / (n + 2 * quiet)
    path = canvas.beginPath()
    for row_number, row in enumerate(matrix):
        top = y + size - (quiet + row_number + 1) * module
        column = 0
        while column < n:
            if not row[column]:
                column += 1
                continue
            start = column
            while column < n and row[column]:
                column += 1
            path.rect(x + (quiet + start) * module, top, (column - start) * module, module)
    canvas.saveState()
    canvas.setFillColor(colors.black)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def render(flowables: list[Flowable], page: Page, words: Words) -> bytes:
    """Lay the flowables out on pages and return the PDF's bytes."""
    return render_parts([(flowables, page)], words)


class _StartOfPart(Flowable):
    """Marks where one part (one member's statement) begins in a batch: the pages from
    here on carry its footer and QR code, and their numbers start again at 1."""

    def __init__(self, page: Page, done: Callable[[], None] | None) -> None:
        super().__init__()
        self.page, self.done = page, done

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0.0, 0.0

    def draw(self) -> None:
        doc = self.canv._doctemplate  # type: ignore[attr-defined]
        doc.sansam_part = (self.page, doc.page)
        if self.done is not None:
            self.done()


def render_parts(
    parts: Iterable[tuple[list[Flowable], Page]],
    words: Words,
    *,
    on_part: Callable[[], None] | None = None,
) -> bytes:
    """Lay several documents of one page size into one PDF (a batch of statements), each
    starting on a new page with its own footer, QR code and page numbers. ``on_part``
    is called as each part is laid out (batch progress)."""
    flowables: list[Flowable] = []
    first: Page | None = None
    for content, page in parts:
        if first is None:
            first = page
        elif page.size != first.size:
            raise ValueError("A batch is printed on one page size.")
        if flowables:
            flowables.append(PageBreak())
        flowables.append(_StartOfPart(page, on_part))
        flowables.extend(content)
    if first is None:
        raise ValueError("Nothing to print.")
    st = styles(first.size)
    out = io.BytesIO()
    width, height = first.pagesize
    margin = first.margin
    qr_size = 22 * mm if first.qr else 0.0
    footer_height = max(qr_size, 8 * mm + 3.2 * mm * len(first.footer)) + 2 * mm
    frame = Frame(
        margin,
        margin + footer_height,
        width - 2 * margin,
        height - 2 * margin - footer_height,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )

    def footer(canvas: Canvas, doc: BaseDocTemplate) -> None:
        # Drawn when the page ends, so the part that began on it is known.
        page, first_page = getattr(doc, "sansam_part", (first, 1))
        number = doc.page - first_page + 1
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.4)
        top = margin + footer_height - 1 * mm
        canvas.line(margin, top, width - margin, top)
        text_width = width - 2 * margin - (qr_size + 3 * mm if qr_size else 0)
        lines = [*page.footer, f"{words.label('Page')} {words.count(number)}"]
        y = top - 1 * mm
        for markup in lines:  # the same lines recur on every statement of a batch
            p = label(markup, st.small)
            _, h = p.wrap(text_width, footer_height)
            y -= h
            p.drawOn(canvas, margin, y)
        if page.qr and number == 1:
            draw_qr(canvas, page.qr, width - margin - qr_size, margin, qr_size)
        canvas.restoreState()

    doc = BaseDocTemplate(
        out,
        pagesize=first.pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=first.title,
        author="Sansam",
        creator="Sansam",
        pageTemplates=[PageTemplate("page", frames=[frame], onPageEnd=footer)],
        invariant=1,  # the same data prints the same bytes
    )
    doc.build(flowables)
    return out.getvalue()


def render_document(
    flowables: list[Flowable],
    *,
    words: Words,
    size: str,
    title: str,
    head: tuple[int, str],
    now: dt.datetime | None = None,
) -> bytes:
    """A one-part document (a report, a card, a sheet): its pages' footer says when it
    was printed and from which chain head of the book."""
    page = Page(
        size=size,
        title=title,
        footer=[printed_line(words, head[0], head[1], now or dt.datetime.now())],
    )
    return render(flowables, page, words)


def printed_line(words: Words, head_seq: int, head_hash: str, now: dt.datetime) -> str:
    """The footer line that ties a page to the book: when, and from which chain head."""
    return (
        f"{words.label('Printed on')} {words.digits(f'{now:%d-%m-%Y %H:%M}')} · "
        f"{words.label('Book chain head')} {words.ref(head_seq)} {head_hash[:16]}"
    )


def spacer(height_mm: float = 3) -> Spacer:
    return Spacer(1, height_mm * mm)
