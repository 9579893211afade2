"""Spreading the central book across servers by group (README, "Growing past one server").

What can be checked here: every table holding a group's records carries a NOT NULL
``group_id`` (a new table that forgets it fails this test), and the two largest tables,
the journal and its postings, already partition by group on PostgreSQL as they are.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from ledger.models import Base
from tests.conftest import NO_POSTGRES, DemoBooks

# Book-wide tables: reference data (commodities, users), the book's own key, the groups
# themselves, and the audit trail (which also holds book-wide events).
BOOK_WIDE = {"commodities", "users", "book_identity", "groups", "audit_events"}
# Reach their group through their parent today; the partitioning migration adds the column.
THROUGH_PARENT = {
    "period_close_balances",
    "group_borrowing_instalments",
    "group_borrowing_payments",
}


def test_every_group_table_carries_its_group_id():
    lacking = set()
    for table in Base.metadata.sorted_tables:
        if table.name in BOOK_WIDE:
            continue
        column = table.c.get("group_id")
        if column is None or column.nullable:
            lacking.add(table.name)
    assert lacking == THROUGH_PARENT


@pytest.mark.parametrize("table, key", [("postings", "group_id, entry_seq, line_no")])
def test_the_journal_partitions_by_group_on_postgresql_as_it_is(table, key, demo_books: DemoBooks):
    if demo_books.pg is None:
        pytest.skip(NO_POSTGRES)
    engine = create_engine(demo_books.url("postgresql"))
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"CREATE TEMPORARY TABLE {table}_by_group "
                    f"(LIKE {table} INCLUDING DEFAULTS) PARTITION BY HASH (group_id)"
                )
            )
            for n in range(4):
                conn.execute(
                    text(
                        f"CREATE TEMPORARY TABLE {table}_by_group_{n} PARTITION OF "
                        f"{table}_by_group FOR VALUES WITH (MODULUS 4, REMAINDER {n})"
                    )
                )
            conn.execute(text(f"ALTER TABLE {table}_by_group ADD PRIMARY KEY ({key})"))
            conn.execute(text(f"INSERT INTO {table}_by_group SELECT * FROM {table}"))
            same = conn.execute(
                text(
                    f"SELECT (SELECT count(*) FROM {table}_by_group) = (SELECT count(*) "
                    f"FROM {table}) AND (SELECT sum(amount) FROM {table}_by_group WHERE "
                    f"group_id = 1) = (SELECT sum(amount) FROM {table} WHERE group_id = 1)"
                )
            ).scalar()
            assert same
    finally:
        engine.dispose()
