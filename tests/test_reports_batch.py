"""A batch of statements drawn by worker processes prints what one process prints, in the
same order, in one PDF or one file per member; a worker's failure reaches the caller."""

from __future__ import annotations

import datetime as dt

import pypdfium2 as pdfium
import pytest

from ledger.groups import find_group
from ledger.member_statement import member_statements
from reports import pool
from reports.batch import statements_pdf, statements_to_files
from reports.text import Words
from tests.conftest import DEMO_TODAY

START = dt.date(2026, 9, 1)
NOW = dt.datetime(2026, 11, 22, 17, 30)  # one moment for every footer, so pages compare
WORDS = Words("en")


@pytest.fixture
def statements(demo_book):  # type: ignore[no-untyped-def]
    """Every statement of SR-ACHM-01 for the autumn, read once."""
    with demo_book.read() as s:
        group = find_group(s, "SR-ACHM-01")
        return list(member_statements(s, group.id, START, DEMO_TODAY))


@pytest.fixture
def long_batch(monkeypatch):  # type: ignore[no-untyped-def]
    """Treat a group's dozen statements as a long batch: drawn by workers, 3 at a time."""
    monkeypatch.setattr(pool, "POOL_FROM", 4)
    monkeypatch.setattr(pool, "CHUNK", 3)


def page_texts(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [page.get_textpage().get_text_range() for page in doc]
    finally:
        doc.close()


def test_workers_print_the_same_pages_in_the_same_order(statements, long_batch):
    ticks: list[int] = []
    alone, count = statements_pdf(statements, words=WORDS, now=NOW, workers=1)
    drawn, drawn_count = statements_pdf(
        statements, words=WORDS, now=NOW, workers=2, on_progress=ticks.append
    )
    assert drawn_count == count == len(statements) > 2 * pool.CHUNK
    assert page_texts(drawn) == page_texts(alone)  # every page, footers and all
    first = page_texts(drawn)[0]
    assert statements[0].member.name_latin in first and "Page 1" in first
    assert ticks == sorted(ticks) and ticks[-1] == count  # progress by chunks, in order
    assert len(ticks) == -(-count // pool.CHUNK)
    doc = pdfium.PdfDocument(drawn)
    assert (
        doc.get_metadata_dict()["Title"] == pdfium.PdfDocument(alone).get_metadata_dict()["Title"]
    )


def test_one_file_each_from_workers_matches_one_process(statements, long_batch, tmp_path):
    ticks: list[int] = []
    alone = statements_to_files(statements, tmp_path / "alone", words=WORDS, now=NOW, workers=1)
    drawn = statements_to_files(
        statements, tmp_path / "drawn", words=WORDS, now=NOW, workers=2, on_progress=ticks.append
    )
    assert [p.name for p in drawn] == [p.name for p in alone]
    assert len(drawn) == len(statements) and ticks[-1] == len(statements)
    for a, d in zip(alone, drawn, strict=True):
        assert page_texts(d.read_bytes()) == page_texts(a.read_bytes()), d.name
    assert not list((tmp_path / "drawn").glob("*.partial"))


def test_a_short_batch_starts_no_worker(statements, monkeypatch):
    def no_pool(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a short batch started worker processes")

    monkeypatch.setattr("reports.batch.in_pool", no_pool)
    _, count = statements_pdf(statements, words=WORDS, now=NOW)
    assert count == len(statements) < pool.POOL_FROM


def test_a_failure_in_a_worker_is_raised_to_the_caller():
    with pytest.raises(TypeError, match="int"):
        list(pool.in_pool(["7", "8", "nine", "10"], _as_numbers, 2, chunk=1))


def _as_numbers(items: list[str]) -> list[int]:
    return [int(i) if i.isdigit() else int(None) for i in items]  # type: ignore[arg-type]
