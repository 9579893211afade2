"""Two processes posting to the same accounts at the same moment lose nothing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from ledger.models import JournalEntry
from ledger.queries import trial_balance
from ledger.verify import verify_book
from tests.helpers import make_group

ROOT = Path(__file__).resolve().parents[1]
PER_PROCESS = 150


def test_two_writers_on_the_same_accounts(book, book_url):
    g = make_group(book)
    start_at = time.time() + 3
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.concurrency_worker",
                book_url,
                str(g.group.id),
                str(g.cash.id),
                str(g.income.id),
                str(PER_PROCESS),
                name,
                str(start_at),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("alpha", "beta")
    ]
    windows = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        word, began, ended = out.split()
        assert word == "done"
        windows.append((float(began), float(ended)))
    # The two really wrote at the same time: their posting windows overlap.
    (a_start, a_end), (b_start, b_end) = windows
    assert a_start < b_end and b_start < a_end

    expected = 2 * sum(100 + n for n in range(PER_PROCESS))
    with book.read() as s:
        assert s.execute(select(func.count()).select_from(JournalEntry)).scalar() == 2 * PER_PROCESS
        rows = {
            r.account: r.balance_minor
            for r in trial_balance(s, g.group.id).rows
            if r.commodity == "KHR"
        }
        assert rows["Assets:Cash box"] == expected
        assert rows["Income:Interest"] == -expected
        report = verify_book(s)
        assert report.ok, report.problems
