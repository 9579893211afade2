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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
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


def table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    *,
    header_rows: int = 1,
    total_rows: int = 0,
    zebra: bool = True,
    extra: Sequence[tuple[Any, ...]] = (),
) -> Table:
    """A table of Paragraph cells with a shaded heading, rules and optional totals."""
    commands: list[tuple[Any, ...]] = [
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


def qr_drawing(text: str, size: float) -> Drawing:
    widget = QrCodeWidget(text, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def render(flowables: list[Flowable], page: Page, words: Words) -> bytes:
    """Lay the flowables out on pages and return the PDF's bytes."""
    st = styles(page.size)
    out = io.BytesIO()
    width, height = page.pagesize
    margin = page.margin
    qr_size = 22 * mm if page.qr else 0.0
    footer_height = max(qr_size, 8 * mm + 3.2 * mm * len(page.footer)) + 2 * mm
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
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.4)
        top = margin + footer_height - 1 * mm
        canvas.line(margin, top, width - margin, top)
        text_width = width - 2 * margin - (qr_size + 3 * mm if qr_size else 0)
        lines = [*page.footer, f"{words.label('Page')} {words.count(doc.page)}"]
        y = top - 1 * mm
        for markup in lines:
            p = Paragraph(markup, st.small)
            _, h = p.wrap(text_width, footer_height)
            y -= h
            p.drawOn(canvas, margin, y)
        if page.qr and doc.page == 1:
            renderPDF.draw(qr_drawing(page.qr, qr_size), canvas, width - margin - qr_size, margin)
        canvas.restoreState()

    doc = BaseDocTemplate(
        out,
        pagesize=page.pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=page.title,
        author="Sansam",
        creator="Sansam",
        pageTemplates=[PageTemplate("page", frames=[frame], onPage=footer)],
        invariant=1,  # the same data prints the same bytes
    )
    doc.build(flowables)
    return out.getvalue()


def printed_line(words: Words, head_seq: int, head_hash: str, now: dt.datetime) -> str:
    """The footer line that ties a page to the book: when, and from which chain head."""
    return (
        f"{words.label('Printed on')} {words.digits(f'{now:%d-%m-%Y %H:%M}')} · "
        f"{words.label('Book chain head')} {words.ref(head_seq)} {head_hash[:16]}"
    )


def spacer(height_mm: float = 3) -> Spacer:
    return Spacer(1, height_mm * mm)


Cell = Callable[[str], Paragraph]
