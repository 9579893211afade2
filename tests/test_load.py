"""Treasurers of different groups and a coordinator share one book, at the same time.

Several processes record meetings and imports (one group each) while a coordinator runs
the trial balance, the portfolio, the indicators and verify, for a fixed time, on one
SQLite file and on PostgreSQL. The only error allowed is "busy, try again" (BookBusy),
which the treasurer retries; nothing acknowledged is lost, balances equal postings,
verify is clean, and the throughput is recorded (printed, and written to load.json in
the test's temporary directory). See tests/proof_workers.py.

Sizes: SANSAM_LOAD_SECONDS (default 3), SANSAM_LOAD_TREASURERS (default 3).
bench/proof_bench.py runs it at full size.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import event

from ledger.db import Book
from ledger.posting import post_entry
from ledger.verify import verify_book
from tests.helpers import TESTER, make_group, transfer
from tests.proof_workers import load_run

SECONDS = float(os.environ.get("SANSAM_LOAD_SECONDS", "3"))
TREASURERS = int(os.environ.get("SANSAM_LOAD_TREASURERS", "3"))


@pytest.mark.slow
def test_treasurers_and_a_coordinator_share_one_book(
    book_url: str, engine_name: str, tmp_path: Path
) -> None:
    figures = load_run(book_url, tmp_path / "load", treasurers=TREASURERS, seconds=SECONDS, seed=7)
    (tmp_path / "load.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(
        f"{engine_name}: {figures['entries_per_s']} entries/s, {figures['writes_per_s']} "
        f"units of work/s over {figures['measured_seconds']} s by {TREASURERS} treasurers; "
        f"{figures['coordinator_reports']} reports; busy {figures['busy']}, retries absorbed "
        f"by Book.write {figures['db_retries']}; slowest write {figures['write_max_ms']} ms"
    )
    assert figures["problems"] == [], "\n".join(figures["problems"])
    assert figures["entries_posted"] > 0 and figures["coordinator_reports"] > 0
    # Every entry in the book was acknowledged to a treasurer, and none is missing.
    assert figures["entries_posted"] == figures["entries_acknowledged"]


def test_a_report_sees_one_state_of_the_book_while_a_treasurer_posts(book_url: str) -> None:
    """A coordinator's verify reads balances, then postings. A treasurer's entry committed
    between the two must not make it report a balance that disagrees with its postings:
    a read session is one snapshot of the book, on both engines."""
    writer = Book(book_url).as_user(TESTER)
    reader = Book(book_url).as_user(TESTER)
    g = make_group(writer)
    writer.write(lambda s: post_entry(s, transfer(g.group.id, g.cash, g.income, 1000)))
    posted = []

    @event.listens_for(reader.engine, "after_cursor_execute")
    def _treasurer_posts_now(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if not posted and "FROM accounts" in statement:
            request = transfer(g.group.id, g.cash, g.income, 500)
            posted.append(writer.write(lambda s: post_entry(s, request)))

    try:
        with reader.read() as s:
            report = verify_book(s)
        assert posted, "verify read no accounts"
        assert report.ok, [p.message for p in report.problems]
        with reader.read() as s:
            after = verify_book(s)
        assert after.ok and after.entries == report.entries + 1
    finally:
        writer.close()
        reader.close()
