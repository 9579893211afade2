"""Book.write owns the transaction: it retries on contention, and gives up clearly."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from ledger import db
from ledger.errors import BookBusy
from tests.helpers import make_group, post, transfer


class _Conflict(Exception):
    """Stands in for a driver error carrying PostgreSQL's serialization_failure code."""

    sqlstate = "40001"


def _conflict() -> OperationalError:
    return OperationalError("UPDATE accounts ...", {}, _Conflict("could not serialize access"))


def test_a_unit_of_work_that_loses_a_race_is_run_again(book):
    g = make_group(book)
    attempts = []

    def work(session):
        attempts.append(1)
        if len(attempts) < 3:
            raise _conflict()
        return post(book, transfer(g.group.id, g.cash, g.savings, "100"))

    assert book.write(work).seq == 1
    assert len(attempts) == 3


def test_a_book_that_stays_busy_says_so_and_saves_nothing(book, monkeypatch):
    monkeypatch.setattr(db, "WRITE_ATTEMPTS", 2)
    monkeypatch.setattr(db.time, "sleep", lambda _s: None)

    def work(session):
        raise _conflict()

    with pytest.raises(BookBusy, match="Nothing was saved; please try again"):
        book.write(work)


def test_other_database_errors_are_not_retried(book):
    attempts = []

    def work(session):
        attempts.append(1)
        raise OperationalError("SELECT", {}, Exception("disk I/O error"))

    with pytest.raises(Exception, match="disk I/O error"):
        book.write(work)
    assert len(attempts) == 1
