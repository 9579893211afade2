"""Benchmark of the end-of-cycle work on the demo federation: share-out, rice, statements.

Loads the demo (a year of meetings for three groups) into a fresh SQLite book, then times
each question a treasurer or coordinator asks at the end of a cycle, as the median of
several runs, and writes the figures to ``bench/out/closing_bench.json``:

    .venv/bin/python bench/closing_bench.py

These read the postings of one group, so they grow with that group's history (about a
thousand entries a year for a 15-member weekly group), not with the size of the book.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ledger import migrate
from ledger.db import Book
from ledger.demo import load_demo
from ledger.groups import find_group
from ledger.permissions import ROLES, Actor
from ledger.queries import chain_head
from ledger.rice_position import rice_position
from ledger.shareout import plan_shareout, post_shareout
from ledger.statements import (
    balance_sheets,
    cash_book,
    income_and_expenditure,
    period_trial_balance,
)

# The benchmark acts for the book as a whole: every role in every group.
BENCH = Actor(0, "bench", "Benchmark", True, {}, frozenset(ROLES))

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "closing_bench.json"
TODAY = dt.date(2026, 11, 22)
YEAR_AGO = dt.date(2025, 11, 1)
RUNS = 7


def _median_ms(question: Callable[[], object]) -> float:
    question()  # warm the caches once
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        question()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        book = Book(f"sqlite:///{tmp}/book.sqlite").as_user(BENCH)
        migrate.upgrade(book)
        book.write(lambda s: load_demo(s, today=TODAY))
        figures: dict[str, object] = {
            "machine": f"{platform.processor() or platform.machine()}, {platform.system()}",
            "python": platform.python_version(),
        }
        with book.read() as s:
            puok = find_group(s, "SR-PUOK-01")
            bakong = find_group(s, "SR-BKNG-01")
            figures["entries_in_puok"] = chain_head(s, puok.id)[0]
            timed = {
                "share-out preview, by shares, loans deducted": lambda: plan_shareout(
                    s, puok.id, on=TODAY, deduct_loans=True, today=TODAY
                ),
                "share-out preview, savings x time": lambda: plan_shareout(
                    s, puok.id, on=TODAY, method="savings_time", deduct_loans=True, today=TODAY
                ),
                "rice bank position": lambda: rice_position(s, bakong.id, on=TODAY),
                "balance sheets": lambda: balance_sheets(s, puok.id, TODAY),
                "income and expenditure, a year": lambda: income_and_expenditure(
                    s, puok.id, YEAR_AGO, TODAY
                ),
                "trial balance, a year": lambda: period_trial_balance(s, puok.id, YEAR_AGO, TODAY),
                "cash book, a year": lambda: cash_book(s, puok.id, YEAR_AGO, TODAY),
            }
            figures["median_ms"] = {label: _median_ms(q) for label, q in timed.items()}
        started = time.perf_counter()
        book.write(lambda s: post_shareout(s, puok.id, on=TODAY, deduct_loans=True, today=TODAY))
        figures["share-out post, 14 members, ms"] = round((time.perf_counter() - started) * 1000, 1)
        book.close()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
