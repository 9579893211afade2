"""Looking at printed documents in tests: their text, and their pages as images.

Pages are rendered with PDFium (pypdfium2, a test dependency with its own binary), so
the tests need nothing from the system; every page is saved as a PNG under the test's
output directory for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium


def pdf_text(pdf: bytes) -> str:
    """All the text of a PDF, page after page (Khmer extracts imperfectly; Latin exactly)."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()


def page_images(pdf: bytes, out: Path, stem: str, *, scale: float = 1.0) -> list[Path]:
    """Render every page to ``out/stem-N.png``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    doc = pdfium.PdfDocument(pdf)
    paths = []
    try:
        for i, page in enumerate(doc):
            path = out / f"{stem}-{i + 1}.png"
            page.render(scale=scale).to_pil().save(path)
            paths.append(path)
    finally:
        doc.close()
    return paths


def inked_share(png: Path) -> float:
    """The share of a page's pixels that are not white: a blank page is near 0."""
    from PIL import Image

    with Image.open(png) as image:
        grey = image.convert("L")
        dark = sum(count for value, count in enumerate(grey.histogram()) if value < 200)
        return dark / (grey.width * grey.height)
