"""A separate process that posts N entries to shared accounts, one unit of work each.

Run by tests/test_concurrency.py, twice at once, against the same book.
"""

from __future__ import annotations

import sys
import time

from ledger.db import Book
from ledger.posting import EntryRequest, Line, post_entry
from tests.helpers import DAY, TESTER


def main(
    url: str, group_id: int, debit_id: int, credit_id: int, count: int, prefix: str, start_at: float
) -> None:
    book = Book(url).as_user(TESTER)
    # Both processes start posting at the same moment, whatever their start-up took.
    time.sleep(max(0.0, start_at - time.time()))
    began = time.time()
    for n in range(count):
        amount = 100 + n
        request = EntryRequest(
            group_id,
            DAY,
            f"{prefix} {n}",
            (Line(debit_id, "KHR", amount), Line(credit_id, "KHR", -amount)),
            f"{prefix}-{n}",
            prefix,
        )
        book.write(lambda s, r=request: post_entry(s, r))
    book.close()
    print(f"done {began} {time.time()}", flush=True)


if __name__ == "__main__":
    url, group, debit, credit, count, prefix, start_at = sys.argv[1:]
    main(url, int(group), int(debit), int(credit), int(count), prefix, float(start_at))
