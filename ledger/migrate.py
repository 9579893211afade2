"""Creating and upgrading books with the project's Alembic migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

import migrations
from ledger.db import Book
from ledger.errors import BookNotReady


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(book: Book) -> str | None:
    with book.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(book: Book, revision: str = "head") -> None:
    """Bring the book to ``revision`` (creating it if empty), all or nothing. An SQLite
    book that holds data is backed up first."""
    from ledger.backup import book_file, take_backup

    path = book_file(book.url)
    current = current_revision(book)
    target = head_revision() if revision == "head" else revision
    if path is not None and current is not None and current != target:
        take_backup(path, "before-upgrade")
    _run(book, lambda cfg: command.upgrade(cfg, revision))


def downgrade(book: Book, revision: str) -> None:
    _run(book, lambda cfg: command.downgrade(cfg, revision))


def check_drift(book: Book) -> None:
    """Raise if the models and the migrated schema disagree (``alembic check``)."""
    _run(book, command.check)


def ensure_ready(book: Book) -> None:
    """Refuse to work on a book that is missing or not at the latest schema."""
    current = current_revision(book)
    if current is None:
        raise BookNotReady(
            f"There is no Sansam book at {book.location}. Create it with: sansam init"
        )
    if current != head_revision():
        raise BookNotReady(
            "This book was made by another version of Sansam. "
            "Upgrade it with: sansam init (a backup is taken first)."
        )


def _run(book: Book, action) -> None:  # type: ignore[no-untyped-def]
    with book.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw = conn.connection.driver_connection
        if sqlite:
            # Batch migrations recreate tables (new table, copy, drop, rename). With foreign
            # keys on, that fails on tables others point at: turn them off for the run, then
            # prove nothing dangles. Legacy ALTER TABLE keeps the rename from checking (and
            # failing on) other tables' triggers that name the table being rebuilt.
            raw.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
            raw.execute("PRAGMA legacy_alter_table = ON")  # type: ignore[union-attr]
        try:
            action(alembic_config(conn))
            conn.commit()
            if sqlite:
                dangling = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                conn.rollback()
                if dangling:
                    raise BookNotReady(f"Migration left dangling references: {dangling[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA legacy_alter_table = OFF")  # type: ignore[union-attr]
                raw.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]
