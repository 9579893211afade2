"""Opening a book and running units of work against it.

A *book* is one database: an SQLite file on a village PC, or a PostgreSQL database at a
district office. Services never commit; ``Book.write`` owns the transaction, retries it
when another writer got there first, and turns the database's refusals into
``LedgerError``s a treasurer can read.
"""

from __future__ import annotations

import copy
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ledger.audit import write_pending
from ledger.errors import BookBusy, DatabaseRefused, LedgerError, RecordedRefusal
from ledger.permissions import ACTOR_KEY, Actor

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_ATTEMPTS = 8
# PostgreSQL: serialization_failure, deadlock_detected. Both mean "run it again".
RETRYABLE_PG_CODES = {"40001", "40P01"}
_REFUSAL = re.compile(r"ledger: ([^\n]+)")
# Set on a connection by a statement that changes the book's records (the audit trail
# alone does not count): see ``Book.changes``.
CHANGED_KEY = "sansam_changed"
_CHANGING = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b(?!.{0,20}\baudit_events\b)", re.I | re.S)


def _note_change(conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
    if _CHANGING.match(statement):
        conn.info[CHANGED_KEY] = True


class _Changes:
    """How many committed units of work changed the book's records; shared by the
    copies ``Book.as_user`` makes, so the signed-in book counts for the one opened."""

    __slots__ = ("units",)

    def __init__(self) -> None:
        self.units = 0


def default_book_path() -> Path:
    """The default book: one SQLite file in the user's data directory."""
    from platformdirs import user_data_path

    return user_data_path("sansam", appauthor=False) / "book.sqlite"


def resolve_url(db: str | os.PathLike[str] | None) -> str:
    """``--db`` value, else ``SANSAM_DB``, else the default book, as an SQLAlchemy URL."""
    value = os.fspath(db) if db is not None else os.environ.get("SANSAM_DB") or None
    if value is None:
        value = os.fspath(default_book_path())
    if "://" in value:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # Use psycopg 3, the driver the project installs.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def create_book_engine(url: str) -> Engine:
    """An engine with the settings the ledger's guarantees rely on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        path = Path(database)
        if not path.parent.exists():
            # The folder of members' books: its owner's only, like the books in it.
            path.parent.mkdir(mode=0o700, parents=True)
        if not path.exists():
            # Members' savings and phone numbers: readable by the owning OS user only.
            path.touch(mode=0o600)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's own
        # transaction handling would start transactions late and never IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # FULL in WAL mode: a commit that returned is on disk, even if the power fails.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA cache_size = -65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front, so a read-then-write unit of work never
        # fails half way with "database is locked"; readers do not block anyone.
        if connection.get_execution_options().get("sansam_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


class Book:
    """One open book: an engine and the two kinds of unit of work."""

    actor: Actor | None = None

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_book_engine(url)
        self._changes = _Changes()
        self._count_changes()
        reads = self.engine
        if self.engine.dialect.name == "postgresql":
            # PostgreSQL's default, READ COMMITTED, lets each statement see what committed
            # since the one before: verify or a statement of several queries run while a
            # treasurer posts would mix two states of the book (balances from before a
            # meeting, its postings from after) and report tampering that is not there.
            # REPEATABLE READ gives a read session one snapshot, as SQLite's WAL does.
            reads = self.engine.execution_options(isolation_level="REPEATABLE READ")
        self._read = sessionmaker(reads, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(sansam_write=True), expire_on_commit=False
        )

    def _count_changes(self) -> None:
        """Count each commit of a transaction that ran a changing statement. The flag
        lives on the connection from its transaction's first such statement to its end
        (commit counts it, rollback drops it), so nothing here touches the database or
        takes a lock earlier than the work itself does."""
        changes = self._changes

        def counted(conn: Any) -> None:
            if conn.info.pop(CHANGED_KEY, False):
                changes.units += 1

        def dropped(conn: Any) -> None:
            conn.info.pop(CHANGED_KEY, None)

        event.listen(self.engine, "before_cursor_execute", _note_change)
        event.listen(self.engine, "begin", dropped)
        event.listen(self.engine, "rollback", dropped)
        event.listen(self.engine, "commit", counted)

    @property
    def changes(self) -> int:
        """Committed units of work that changed records, not only the audit trail: a
        command that signed in and read (its sign-in is audited) made none, so the
        command line need not back the book up after it."""
        return self._changes.units

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def location(self) -> str:
        """Where the book is, as a person would write it: a file path, or a URL
        without its password."""
        url = self.engine.url
        if url.get_backend_name() == "sqlite" and url.database:
            return url.database
        return url.render_as_string(hide_password=True)

    @classmethod
    def open(cls, db: str | os.PathLike[str] | None = None) -> Book:
        return cls(resolve_url(db))

    def as_user(self, actor: Actor) -> Book:
        """The same book, with ``actor`` signed in to every unit of work it runs.

        Services check their permissions against that user; a book nobody signed in to
        can open sessions but no service will read or write a group's books through it.
        """
        signed_in = copy.copy(self)
        signed_in.actor = actor
        return signed_in

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction and commit it, retrying on contention.

        ``work`` may run more than once, so it must not have effects outside the session.
        Any error rolls the whole unit back: nothing is ever half-written.
        """
        delay = 0.02
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self._write() as session, session.begin():
                    session.info[ACTOR_KEY] = self.actor
                    result = work(session)
                    write_pending(session)
                    return result
            except RecordedRefusal as refusal:
                self._keep(refusal)  # rolled back above; the trace is kept on its own
                raise
            except DBAPIError as exc:
                if _is_retryable(exc) and attempt < WRITE_ATTEMPTS:
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
                    continue
                raise translate_db_error(exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _keep(self, refusal: RecordedRefusal) -> None:
        """Record a refusal in a transaction of its own (its work was rolled back)."""
        with self._write() as session, session.begin():
            refusal.record(session)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (a consistent snapshot; rolled back at the end)."""
        with self._read() as session:
            session.info[ACTOR_KEY] = self.actor
            try:
                yield session
            except DBAPIError as exc:
                raise translate_db_error(exc) from exc
            except RecordedRefusal as refusal:
                session.rollback()
                self._keep(refusal)  # a refused read (another group's books) too
                raise
            finally:
                session.rollback()


def _is_retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    if code in RETRYABLE_PG_CODES:
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return "database is locked" in text or "database is busy" in text
    return False


def translate_db_error(exc: DBAPIError) -> LedgerError:
    """Name the ledger rule a database refusal stands for."""
    text = str(exc.orig)
    match = _REFUSAL.search(text)
    if match:
        return DatabaseRefused(f"The database refused the change: {match.group(1).strip()}")
    if "ck_accounts_no_negative" in text:
        return DatabaseRefused(
            "The database refused the change: an account that may not go below zero would."
        )
    if _is_retryable(exc):
        return BookBusy(
            "The book is busy with another user's work and did not free up in time. "
            "Nothing was saved; please try again."
        )
    return DatabaseRefused(f"The database refused the change: {text.splitlines()[0]}")
