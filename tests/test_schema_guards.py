"""Every database guard the migrations create is present at head, on both engines.

SQLite drops a table's triggers when a migration recreates the table; this catches a
migration that forgets to restore them.
"""

from __future__ import annotations

import importlib

from sqlalchemy import text

MIGRATIONS = [
    "0001_ledger_core",
    "0002_savings_groups",
    "0004_loans",
    "0005_loan_lifecycle",
    "0006_group_borrowings",
    "0008_rice_shareout_periods",
    "0009_users_audit",
    "0010_coordinator_threshold",
]


def expected(dialect: str) -> set[str]:
    names: set[str] = set()
    for name in MIGRATIONS:
        module = importlib.import_module(f"migrations.versions.{name}")
        triggers = module.POSTGRESQL_TRIGGERS if dialect == "postgresql" else module.SQLITE_TRIGGERS
        names |= {trigger for _table, trigger in triggers}
    return names


def test_every_guard_trigger_exists_at_head(book):
    with book.engine.connect() as conn:
        if book.dialect == "postgresql":
            query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        present = {row[0] for row in conn.execute(text(query))}
    assert expected(book.dialect) <= present
