"""Fixtures that give every test its own book, on SQLite and on PostgreSQL.

A migrated template is made once per run for each engine; each test then gets a copy
(a file copy for SQLite, ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL) and it is
dropped afterwards, so tests never see each other's data and runs never collide.
PostgreSQL tests need ``SANSAM_TEST_POSTGRES_URL``; without it they skip, saying so.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledger import migrate
from ledger.db import Book
from ledger.demo import load_demo
from tests.helpers import TESTER

POSTGRES_URL = os.environ.get("SANSAM_TEST_POSTGRES_URL")
NO_POSTGRES = "PostgreSQL tests need SANSAM_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
RUN_ID = uuid.uuid4().hex[:8]

settings.register_profile("ci", max_examples=40, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def _pg_admin():
    return create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")


def _pg_url(database: str) -> str:
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


class PgDatabases:
    """Creates and drops throwaway PostgreSQL databases for one test run."""

    def __init__(self) -> None:
        self.admin = _pg_admin()
        self.created: list[str] = []

    def create(self, template: str | None = None) -> str:
        name = f"sansam_t_{RUN_ID}_{uuid.uuid4().hex[:10]}"
        clause = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}{clause}"))
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def close(self) -> None:
        for name in self.created:
            self.drop(name)
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases | None]:
    if not POSTGRES_URL:
        yield None
        return
    databases = PgDatabases()
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "book.sqlite"
    book = Book(f"sqlite:///{path}")
    migrate.upgrade(book)
    book.close()
    return path


@pytest.fixture(scope="session")
def pg_template(pg_databases: PgDatabases | None) -> str | None:
    if pg_databases is None:
        return None
    name = pg_databases.create()
    book = Book(_pg_url(name))
    migrate.upgrade(book)
    book.close()
    return name


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_name(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    return request.param


@pytest.fixture
def book_url(
    engine_name: str,
    tmp_path: Path,
    sqlite_template: Path,
    pg_template: str | None,
    pg_databases: PgDatabases | None,
) -> Iterator[str]:
    """A freshly migrated, empty book of its own."""
    if engine_name == "sqlite":
        path = tmp_path / "book.sqlite"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    assert pg_databases is not None and pg_template is not None
    name = pg_databases.create(template=pg_template)
    yield _pg_url(name)
    pg_databases.drop(name)


@pytest.fixture
def blank_url(engine_name: str, tmp_path: Path, pg_databases: PgDatabases | None) -> Iterator[str]:
    """An empty database with no schema at all (for migration tests)."""
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.sqlite'}"
        return
    assert pg_databases is not None
    name = pg_databases.create()
    yield _pg_url(name)
    pg_databases.drop(name)


@pytest.fixture
def book(book_url: str) -> Iterator[Book]:
    opened = Book(book_url).as_user(TESTER)
    yield opened
    opened.close()


@pytest.fixture
def cli_as_tester(monkeypatch: pytest.MonkeyPatch) -> None:
    """Command-line tests about what a command does run it as the test treasurer (who
    holds every role), with the chair countersigning; tests/test_cli_users.py signs in
    for real."""
    from tests.helpers import CHAIR

    monkeypatch.setattr("tui.cli.has_users", lambda session: True)
    monkeypatch.setattr(
        "tui.cli_auth.signed_in",
        lambda book, args: book.as_user(CHAIR if getattr(args, "user", "") == "chair" else TESTER),
    )
    monkeypatch.setattr("tui.cli_rice.countersign", lambda book, username: CHAIR)


DEMO_TODAY = dt.date(2026, 11, 22)
DEMO_WEEKS = 12


class DemoBooks:
    """The demo federation loaded once per engine per test run (it takes seconds), for
    tests that only read: printed documents, reports."""

    def __init__(
        self, root: Path, sqlite_template: Path, pg_template: str | None, pg: PgDatabases | None
    ) -> None:
        self.root, self.sqlite_template, self.pg_template, self.pg = (
            root,
            sqlite_template,
            pg_template,
            pg,
        )
        self.urls: dict[str, str] = {}

    def url(self, engine: str) -> str:
        if engine not in self.urls:
            if engine == "sqlite":
                path = self.root / "demo.sqlite"
                shutil.copyfile(self.sqlite_template, path)
                url = f"sqlite:///{path}"
            else:
                assert self.pg is not None and self.pg_template is not None
                url = _pg_url(self.pg.create(template=self.pg_template))
            book = Book(url).as_user(TESTER)
            book.write(lambda s: load_demo(s, today=DEMO_TODAY, weeks=DEMO_WEEKS))
            book.close()
            self.urls[engine] = url
        return self.urls[engine]


@pytest.fixture(scope="session")
def demo_books(
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    pg_template: str | None,
    pg_databases: PgDatabases | None,
) -> DemoBooks:
    return DemoBooks(tmp_path_factory.mktemp("demo"), sqlite_template, pg_template, pg_databases)


@pytest.fixture
def demo_book(engine_name: str, demo_books: DemoBooks) -> Iterator[Book]:
    """The demo federation as of DEMO_TODAY, shared by the tests: read it, never change it."""
    opened = Book(demo_books.url(engine_name)).as_user(TESTER)
    yield opened
    opened.close()


# --- the terminal app ------------------------------------------------------------------------


class AppBooks:
    """The demo federation with real users who sign in (see ``tests.tui_helpers.USERS``),
    made once per engine per run; each app test gets its own copy to write in."""

    def __init__(self, root: Path, demo: DemoBooks, pg: PgDatabases | None) -> None:
        self.root, self.demo, self.pg = root, demo, pg
        self.templates: dict[str, str] = {}

    def template(self, engine: str) -> str:
        if engine not in self.templates:
            from tests.tui_helpers import add_app_users

            demo_url = self.demo.url(engine)
            if engine == "sqlite":
                path = self.root / "app-template.sqlite"
                shutil.copyfile(make_url(demo_url).database or "", path)
                url = f"sqlite:///{path}"
            else:
                assert self.pg is not None
                url = _pg_url(self.pg.create(template=make_url(demo_url).database))
            book = Book(url)
            add_app_users(book)
            book.close()
            self.templates[engine] = url
        return self.templates[engine]

    def copy(self, engine: str, tmp_path: Path) -> str:
        template = self.template(engine)
        if engine == "sqlite":
            path = tmp_path / "app-book.sqlite"
            shutil.copyfile(make_url(template).database or "", path)
            return f"sqlite:///{path}"
        assert self.pg is not None
        return _pg_url(self.pg.create(template=make_url(template).database))


@pytest.fixture(scope="session")
def app_books(
    tmp_path_factory: pytest.TempPathFactory,
    demo_books: DemoBooks,
    pg_databases: PgDatabases | None,
) -> AppBooks:
    return AppBooks(tmp_path_factory.mktemp("app"), demo_books, pg_databases)


@pytest.fixture
def app_book(app_books: AppBooks, tmp_path: Path) -> Iterator[Book]:
    """A copy of the demo book with real users, on SQLite (the village PC's engine),
    nobody signed in: the app signs in through its own screen."""
    opened = Book(app_books.copy("sqlite", tmp_path))
    yield opened
    opened.close()


@pytest.fixture
def app_book_on(
    engine_name: str, app_books: AppBooks, tmp_path: Path, pg_databases: PgDatabases | None
) -> Iterator[Book]:
    """The same, on each engine (for the app tests that must hold on PostgreSQL too)."""
    url = app_books.copy(engine_name, tmp_path)
    opened = Book(url)
    yield opened
    opened.close()
    if engine_name == "postgresql" and pg_databases is not None:
        pg_databases.drop(make_url(url).database or "")
