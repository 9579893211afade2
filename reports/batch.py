"""Printing many member statements at once: a group's or a commune's, into one PDF or
one file per member, with progress for the screen that waits on it.

Statements are made one at a time from an iterator (``ledger.member_statement``'s
``member_statements``), so a batch of a thousand members never holds a thousand
statements' data at once. A long batch is drawn on every core (``reports.pool``): each
worker draws a chunk of statements, and one PDF is put back together from the chunks'
PDFs in the batch's order (pypdf). A short batch is drawn here, in one document.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path

from ledger.member_statement import MemberStatement
from reports.layout import render_parts
from reports.member_statement import statement_flowables, statement_page, statement_pdf
from reports.pool import in_pool, worker_count
from reports.text import Words

Progress = Callable[[int], None]  # called with the number of statements done so far
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def statements_pdf(
    statements: Iterable[MemberStatement],
    *,
    words: Words,
    size: str = "A4",
    now: dt.datetime | None = None,
    on_progress: Progress | None = None,
    workers: int | None = None,
) -> tuple[bytes, int]:
    """Every statement in one PDF, each from a new page with its own footer and QR code;
    returns the PDF and how many statements it holds. ``workers`` is how many processes
    draw a long batch (by default one per core, up to four; 1 draws it here)."""
    moment = now or dt.datetime.now()
    tally = _Tally(on_progress)
    batch, processes = worker_count(statements, workers)
    if processes == 1:
        pdf = _one_pdf(batch, words=words, size=size, now=moment, on_part=lambda: tally.add(1))
        return pdf, tally.done
    draw = partial(_one_pdf, words=words, size=size, now=moment)

    def drawn() -> Iterator[bytes]:
        for count, pdf in in_pool(batch, draw, processes):
            yield pdf
            tally.add(count)

    return _joined(drawn()), tally.done


def statements_to_files(
    statements: Iterable[MemberStatement],
    directory: Path,
    *,
    words: Words,
    size: str = "A4",
    now: dt.datetime | None = None,
    on_progress: Progress | None = None,
    workers: int | None = None,
) -> list[Path]:
    """One PDF per member in ``directory``, named GROUP-MEMBER-END.pdf; a file of the
    same name is replaced only once its new version is complete. ``workers`` as for
    ``statements_pdf``."""
    directory.mkdir(parents=True, exist_ok=True)
    moment = now or dt.datetime.now()
    tally = _Tally(on_progress)
    batch, processes = worker_count(statements, workers)
    draw = partial(_files, directory=directory, words=words, size=size, now=moment)
    chunks = ((1, draw([s])) for s in batch) if processes == 1 else in_pool(batch, draw, processes)
    written: list[Path] = []
    for count, paths in chunks:
        written += paths
        tally.add(count)
    return written


def _one_pdf(
    statements: Iterable[MemberStatement],
    *,
    words: Words,
    size: str,
    now: dt.datetime,
    on_part: Callable[[], None] | None = None,
) -> bytes:
    parts = (
        (
            statement_flowables(s, words=words, size=size),
            statement_page(s, words=words, size=size, now=now),
        )
        for s in statements
    )
    return render_parts(parts, words, on_part=on_part)


def _files(
    statements: list[MemberStatement], *, directory: Path, words: Words, size: str, now: dt.datetime
) -> list[Path]:
    written: list[Path] = []
    for s in statements:
        stem = _UNSAFE.sub("_", f"{s.group.code}-{s.member.code}-{s.end:%Y%m%d}")
        path = directory / f"{stem}.pdf"
        partial_file = path.with_suffix(".pdf.partial")
        partial_file.write_bytes(statement_pdf(s, words=words, size=size, now=now))
        partial_file.replace(path)
        written.append(path)
    return written


def _joined(pdfs: Iterable[bytes]) -> bytes:
    """One PDF of the chunks' pages in order, titled as the first chunk is."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for pdf in pdfs:
        reader = PdfReader(io.BytesIO(pdf))
        if not writer.pages and reader.metadata:
            writer.add_metadata(dict(reader.metadata))
        writer.append(reader)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class _Tally:
    """Statements done so far, told to ``on_progress`` as they are added."""

    def __init__(self, on_progress: Progress | None) -> None:
        self.done = 0
        self.on_progress = on_progress

    def add(self, count: int) -> None:
        self.done += count
        if self.on_progress is not None:
            self.on_progress(self.done)
