"""Going around the code: raw SQL must be refused by the database itself, and with the
database's guards dropped, ``verify`` must name the first entry that no longer matches."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.hashing import entry_hash, request_hash
from ledger.periods import close_period
from ledger.verify import verify_book
from tests.helpers import make_group, post, transfer

core = importlib.import_module("migrations.versions.0001_ledger_core")


@pytest.fixture
def posted(book):
    """A group with three posted entries: 5,000 in, 2,000 in, 1,000 out."""
    g = make_group(book)
    post(book, transfer(g.group.id, g.cash, g.savings, "5000", memo="first"))
    post(book, transfer(g.group.id, g.cash, g.savings, "2000", memo="second"))
    post(book, transfer(g.group.id, g.savings, g.cash, "1000", memo="third"))
    return g


def raw(book, *statements, **params):
    with book.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def refused(book, statement, **params):
    with pytest.raises(DBAPIError) as caught:
        raw(book, statement, **params)
    return str(caught.value.orig)


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("UPDATE postings SET amount = amount * 2", "postings cannot be changed"),
        ("DELETE FROM postings WHERE entry_seq = 3", "postings cannot be changed or deleted"),
        ("UPDATE journal_entries SET memo = 'edited' WHERE seq = 2", "cannot be changed"),
        ("UPDATE journal_entries SET entry_date = '2020-01-01'", "cannot be changed"),
        ("DELETE FROM journal_entries WHERE seq = 3", "cannot be deleted"),
        ("UPDATE accounts SET balance = balance + 1000", "balances change only by posting"),
        ("UPDATE accounts SET balance = 0, last_seq = last_seq + 1", "balances change only"),
        ("UPDATE accounts SET commodity = 'USD' WHERE name = 'Income:Interest'", "cannot change"),
        ("DELETE FROM accounts WHERE name = 'Assets:Cash box' AND commodity = 'KHR'", ""),
        ("UPDATE groups SET uuid = 'x'", "identity cannot change"),
    ],
)
def test_raw_edits_of_posted_data_are_refused(book, posted, statement, reason):
    message = refused(book, statement)
    assert reason in message
    with book.read() as s:
        assert verify_book(s).ok


def test_raw_posting_into_a_posted_entry_is_refused(book, posted):
    message = refused(
        book,
        "INSERT INTO postings (group_id, entry_seq, line_no, account_id, commodity, amount) "
        "VALUES (:g, 1, 3, :a, 'KHR', 10)",
        g=posted.group.id,
        a=posted.cash.id,
    )
    assert "a posted entry cannot get new postings" in message


def _raw_entry(book, g, seq, lines, *, prev=None, date="2026-03-03"):
    """Insert postings and an entry with raw SQL, the way a forger would."""
    with book.engine.connect() as conn:
        head = conn.execute(
            text("SELECT hash FROM journal_entries WHERE group_id = :g AND seq = :s"),
            {"g": g.group.id, "s": seq - 1},
        ).scalar()
    statements = [
        "INSERT INTO postings (group_id, entry_seq, line_no, account_id, commodity, amount) "
        f"VALUES (:g, :seq, {n}, {account}, 'KHR', {amount})"
        for n, (account, amount) in enumerate(lines, start=1)
    ]
    statements.append(
        "INSERT INTO journal_entries (group_id, seq, uuid, entry_date, memo, author, "
        "idempotency_key, request_hash, created_at, prev_hash, hash) VALUES "
        f"(:g, :seq, 'u-{seq}', '{date}', 'forged', 'x', 'k-{seq}', :h, '2026-03-03 00:00:00', "
        ":prev, :h)"
    )
    raw(book, *statements, g=g.group.id, seq=seq, h="f" * 64, prev=prev or head)


def test_raw_unbalanced_entry_is_refused(book, posted):
    with pytest.raises(DBAPIError, match="does not balance"):
        _raw_entry(book, posted, 4, [(posted.cash.id, 500), (posted.income.id, -400)])


def test_raw_single_posting_entry_is_refused(book, posted):
    with pytest.raises(DBAPIError, match="at least two postings"):
        _raw_entry(book, posted, 4, [(posted.cash.id, 500)])


def test_raw_entry_with_a_gap_in_the_sequence_is_refused(book, posted):
    with pytest.raises(DBAPIError, match="without a gap"):
        _raw_entry(book, posted, 6, [(posted.cash.id, 5), (posted.income.id, -5)], prev="0" * 64)


def test_raw_entry_that_does_not_link_to_the_chain_is_refused(book, posted):
    with pytest.raises(DBAPIError, match=r"previous entry's hash|hash of the group"):
        _raw_entry(book, posted, 4, [(posted.cash.id, 5), (posted.income.id, -5)], prev="a" * 64)


def test_raw_overdraft_is_refused_by_the_database(book, posted):
    # The cash box holds 6,000 and may not go negative.
    with pytest.raises(DBAPIError, match="no_negative"):
        _raw_entry(book, posted, 4, [(posted.cash.id, -7000), (posted.income.id, 7000)])


def test_raw_entry_into_a_closed_period_is_refused(book, posted):
    book.write(lambda s: close_period(s, posted.group.id, dt.date(2026, 3, 31)))
    with pytest.raises(DBAPIError, match="closed period"):
        _raw_entry(book, posted, 4, [(posted.cash.id, 5), (posted.income.id, -5)])


def test_closed_periods_cannot_be_reopened(book, posted):
    book.write(lambda s: close_period(s, posted.group.id, dt.date(2026, 3, 31)))
    assert "cannot be reopened" in refused(book, "DELETE FROM period_closes")
    assert "cannot be reopened" in refused(
        book, "UPDATE period_closes SET closed_through = '2020-01-01'"
    )


def test_a_new_account_cannot_start_with_a_balance(book, posted):
    message = refused(
        book,
        "INSERT INTO accounts (group_id, uuid, name, commodity, type, no_negative, balance, "
        "last_seq) VALUES (:g, 'u', 'Assets:Hidden', 'KHR', 'asset', false, 1000000, 0)",
        g=posted.group.id,
    )
    assert "starts at zero" in message


# --- with the guards dropped, verify is the last line --------------------------------------


def drop_guards(book):
    if book.dialect == "postgresql":
        tables = sorted({table for table, _ in core.POSTGRESQL_TRIGGERS})
        raw(book, *[f"ALTER TABLE {t} DISABLE TRIGGER USER" for t in tables])
    else:
        raw(book, *[f"DROP TRIGGER {name}" for _, name in core.SQLITE_TRIGGERS])


def first_break(book):
    with book.read() as s:
        report = verify_book(s)
    assert not report.ok
    return report.first_breaks()[0]


def test_verify_catches_an_edited_amount(book, posted):
    drop_guards(book)
    raw(book, "UPDATE postings SET amount = amount * 10 WHERE entry_seq = 2")
    problem = first_break(book)
    assert problem.seq == 2
    assert "entry #2" in problem.message and "changed after it was posted" in problem.message


def test_verify_catches_an_altered_request_fingerprint(book, posted):
    drop_guards(book)
    raw(book, "UPDATE journal_entries SET request_hash = :h WHERE seq = 3", h="0" * 64)
    problem = first_break(book)
    assert problem.seq == 3 and "fingerprint was altered" in problem.message


def test_verify_catches_an_edited_memo(book, posted):
    drop_guards(book)
    raw(book, "UPDATE journal_entries SET memo = 'nothing to see' WHERE seq = 2")
    assert first_break(book).seq == 2


def test_verify_catches_a_deleted_entry(book, posted):
    drop_guards(book)
    raw(
        book,
        "DELETE FROM postings WHERE entry_seq = 2",
        "DELETE FROM journal_entries WHERE seq = 2",
    )
    problem = first_break(book)
    assert problem.seq == 3
    assert "#2 is missing" in problem.message


def test_verify_catches_an_edited_cached_balance(book, posted):
    drop_guards(book)
    raw(
        book,
        "UPDATE accounts SET balance = 999999 WHERE name = 'Assets:Cash box' AND commodity = 'KHR'",
    )
    problem = first_break(book)
    assert "Assets:Cash box (KHR) shows a balance of 999,999 KHR" in problem.message
    assert "add up to 6,000 KHR" in problem.message


def test_verify_catches_an_orphan_posting(book, posted):
    drop_guards(book)
    raw(
        book,
        "INSERT INTO postings (group_id, entry_seq, line_no, account_id, commodity, amount) "
        "VALUES (:g, 2, 9, :a, 'KHR', 10)",
        g=posted.group.id,
        a=posted.cash.id,
    )
    assert first_break(book).seq == 2


def test_verify_catches_a_chain_rewritten_with_fresh_hashes(book, posted):
    """A forger who recomputes every hash still contradicts the head kept at the close."""
    book.write(lambda s: close_period(s, posted.group.id, dt.date(2026, 3, 31)))
    drop_guards(book)
    raw(book, "UPDATE postings SET amount = amount * 10 WHERE entry_seq = 1")
    _rehash_chain(book, posted)
    problem = first_break(book)
    assert "the chain was rewritten" in problem.message


def _rehash_chain(book, g):
    with book.engine.begin() as conn:
        group_uuid = conn.execute(
            text("SELECT uuid FROM groups WHERE id = :g"), {"g": g.group.id}
        ).scalar()
        uuids = dict(conn.execute(text("SELECT id, uuid FROM accounts")).all())
        prev = "0" * 64
        entries = (
            conn.execute(
                text("SELECT * FROM journal_entries WHERE group_id = :g ORDER BY seq"),
                {"g": g.group.id},
            )
            .mappings()
            .all()
        )
        for e in entries:
            lines = conn.execute(
                text(
                    "SELECT line_no, account_id, commodity, amount FROM postings "
                    "WHERE group_id = :g AND entry_seq = :s ORDER BY line_no"
                ),
                {"g": g.group.id, "s": e["seq"]},
            ).all()
            created = e["created_at"]
            if isinstance(created, str):
                created = dt.datetime.fromisoformat(created)
            date = e["entry_date"]
            if isinstance(date, str):
                date = dt.date.fromisoformat(date)
            fingerprint = request_hash(
                entry_date=date,
                memo=e["memo"],
                reverses_uuid=None,
                postings=[(uuids[a], c, amt) for _n, a, c, amt in lines],
            )
            new = entry_hash(
                group_uuid=group_uuid,
                seq=e["seq"],
                uuid=e["uuid"],
                author=e["author"],
                idempotency_key=e["idempotency_key"],
                created_at=created,
                prev_hash=prev,
                request=fingerprint,
            )
            conn.execute(
                text(
                    "UPDATE journal_entries SET prev_hash = :p, hash = :h, request_hash = :r "
                    "WHERE group_id = :g AND seq = :s"
                ),
                {"p": prev, "h": new, "r": fingerprint, "g": g.group.id, "s": e["seq"]},
            )
            prev = new
