"""Printing many member statements at once: a group's or a commune's, into one PDF or
one file per member, with progress for the screen that waits on it.

Statements are made one at a time from an iterator (``ledger.member_statement``'s
``member_statements``), so a batch of a thousand members never holds a thousand
statements' data at once; the flowables of one PDF are laid out as they are consumed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from ledger.member_statement import MemberStatement
from reports.layout import render_parts
from reports.member_statement import statement_flowables, statement_page, statement_pdf
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
) -> tuple[bytes, int]:
    """Every statement in one PDF, each from a new page with its own footer and QR code;
    returns the PDF and how many statements it holds."""
    moment = now or dt.datetime.now()
    done = 0

    def one_done() -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done)

    def parts():  # type: ignore[no-untyped-def]
        for s in statements:
            yield (
                statement_flowables(s, words=words, size=size),
                statement_page(s, words=words, size=size, now=moment),
            )

    pdf = render_parts(parts(), words, on_part=one_done)
    return pdf, done


def statements_to_files(
    statements: Iterable[MemberStatement],
    directory: Path,
    *,
    words: Words,
    size: str = "A4",
    now: dt.datetime | None = None,
    on_progress: Progress | None = None,
) -> list[Path]:
    """One PDF per member in ``directory``, named GROUP-MEMBER-END.pdf; a file of the
    same name is replaced only once its new version is complete."""
    directory.mkdir(parents=True, exist_ok=True)
    moment = now or dt.datetime.now()
    written: list[Path] = []
    for s in statements:
        stem = _UNSAFE.sub("_", f"{s.group.code}-{s.member.code}-{s.end:%Y%m%d}")
        path = directory / f"{stem}.pdf"
        partial = path.with_suffix(".pdf.partial")
        partial.write_bytes(statement_pdf(s, words=words, size=size, now=moment))
        partial.replace(path)
        written.append(path)
        if on_progress is not None:
            on_progress(len(written))
    return written
