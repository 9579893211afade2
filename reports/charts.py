"""Charts for printed reports: members' savings by month, and portfolio at risk by place.

ReportLab's graphics draw text without shaping it, so a chart carries only Latin text and
digits (amounts, months, group codes, place names in Latin letters); its title and its
legend are Paragraphs around the drawing, in the reader's language. Chart text is set in
the documents' one font (Noto Sans Khmer has Latin letters and Khmer digits, which need no
shaping). Amounts stay integer minor units; only the drawing's geometry uses floats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph, Table, TableStyle

from reports.fonts import KHMER, register_fonts
from reports.layout import Styles
from reports.text import Words

# Colours that stay apart when printed in grey on a village office's laser printer.
SERIES_COLOURS = (
    colors.HexColor("#1f4e79"),
    colors.HexColor("#6fa8dc"),
    colors.HexColor("#c9a227"),
)
LABEL_SIZE = 7.0
MAX_BARS = 24  # places beyond this are left out of the PAR chart (the table has them all)


def percent(words: Words, ratio: Decimal | None) -> str:
    """A ratio as a percentage with one decimal ("12.5%"); a dash when there is none."""
    if ratio is None:
        return "–"
    shown = (ratio * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return words.digits(f"{shown}%")


def latin_only(text: str) -> bool:
    """Whether a chart may print the text (no script that needs shaping)."""
    return all(ord(ch) < 0x0250 for ch in text)


def legend(items: Sequence[tuple[str, colors.Color]], st: Styles, width: float) -> Table:
    """Coloured squares with the series' names as Paragraphs (shaped, in any language),
    side by side across the width."""
    cells: list[Drawing | Paragraph] = []
    widths: list[float] = []
    each = min(width / max(len(items), 1), 70 * mm)
    for label, colour in items:
        swatch = Drawing(3 * mm, 3 * mm)
        swatch.add(Rect(0, 0, 3 * mm, 3 * mm, fillColor=colour, strokeColor=None))
        cells += [swatch, Paragraph(label, st.small)]
        widths += [4.5 * mm, each - 4.5 * mm]
    return Table(
        [cells],
        colWidths=widths,
        hAlign="LEFT",
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ]
        ),
    )


def _label_style(axis_labels: object) -> None:
    axis_labels.fontName = KHMER  # type: ignore[attr-defined]
    axis_labels.fontSize = LABEL_SIZE  # type: ignore[attr-defined]


def stacked_bars(
    categories: Sequence[str],
    series: Sequence[Sequence[int]],
    *,
    width: float,
    height: float,
    value_label: Callable[[float], str],
) -> Drawing:
    """Stacked columns, one per category (e.g. a month), one colour per series.

    ``value_label`` prints an axis value (given in minor units) as the document prints
    amounts. Category labels are turned when there are many, so they never overlap.
    """
    register_fonts()
    top = max((sum(column) for column in zip(*series, strict=True)), default=0)
    tick_width = max(stringWidth(value_label(v), KHMER, LABEL_SIZE) for v in (0, top, top * 1.25))
    turned = len(categories) > 8
    label_height = (
        max(stringWidth(c, KHMER, LABEL_SIZE) for c in categories) * 0.6 + 4
        if turned
        else LABEL_SIZE + 6
    )
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x = tick_width + 8
    chart.y = label_height + 4
    chart.width = width - chart.x - 4
    chart.height = height - chart.y - 6
    chart.data = [list(s) for s in series]
    chart.categoryAxis.categoryNames = list(categories)
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.strokeColor = colors.grey
    _label_style(chart.categoryAxis.labels)
    if turned:
        chart.categoryAxis.labels.angle = 35
        chart.categoryAxis.labels.boxAnchor = "ne"
        chart.categoryAxis.labels.dx = 4
    chart.valueAxis.valueMin = 0
    if not top:
        chart.valueAxis.valueMax = 1
    chart.valueAxis.labelTextFormat = value_label
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#dde2e7")
    chart.valueAxis.strokeColor = colors.grey
    _label_style(chart.valueAxis.labels)
    chart.barSpacing = 0
    chart.groupSpacing = 6 if len(categories) < 20 else 2
    for i, colour in enumerate(SERIES_COLOURS[: len(series)]):
        chart.bars[i].fillColor = colour
        chart.bars[i].strokeColor = None
    drawing.add(chart)
    return drawing


def side_by_side_bars(
    categories: Sequence[str],
    series: Sequence[Sequence[Decimal | None]],
    *,
    width: float,
    value_label: Callable[[float], str],
) -> Drawing:
    """Horizontal bars of ratios (e.g. PAR30 and PAR90) beside each other, one group of
    bars per category, the first category at the top; the height follows the count."""
    register_fonts()
    name_width = max((stringWidth(c, KHMER, LABEL_SIZE) for c in categories), default=0)
    bar_group = 9 * len(series) + 8  # points per category: bars of the same size always
    height = bar_group * len(categories) + LABEL_SIZE + 14
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x = min(name_width, width * 0.4) + 8
    chart.y = LABEL_SIZE + 10
    chart.width = width - chart.x - 24
    chart.height = height - chart.y - 4
    # Percent as a plain number for the geometry; labels come from value_label.
    chart.data = [[float(r * 100) if r is not None else 0.0 for r in s] for s in series]
    chart.categoryAxis.categoryNames = list(categories)
    chart.categoryAxis.reverseDirection = 1
    chart.categoryAxis.strokeColor = colors.grey
    _label_style(chart.categoryAxis.labels)
    chart.valueAxis.valueMin = 0
    if not any(r for s in series for r in s):
        chart.valueAxis.valueMax = 10
    chart.valueAxis.labelTextFormat = value_label
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#dde2e7")
    chart.valueAxis.strokeColor = colors.grey
    _label_style(chart.valueAxis.labels)
    chart.barSpacing = 0.5
    chart.groupSpacing = 4
    chart.barLabelFormat = value_label
    chart.barLabels.fontName = KHMER
    chart.barLabels.fontSize = LABEL_SIZE - 1
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 2
    for i, colour in enumerate(SERIES_COLOURS[: len(series)]):
        chart.bars[i].fillColor = colour
        chart.bars[i].strokeColor = None
    drawing.add(chart)
    return drawing
