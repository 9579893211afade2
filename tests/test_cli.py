"""The sansam command line as a user runs it: exit codes, messages, JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from tui.cli import main

pytestmark = pytest.mark.usefixtures("cli_as_tester")

JOURNAL = """txn_id,date,group,description,account,commodity,amount
t1,2026-01-05,SR-01,Opening cash,Assets:Cash box,KHR,150000
t1,2026-01-05,SR-01,Opening cash,Equity:Opening,KHR,-150000
t2,2026-01-12,SR-01,Savings,Assets:Cash box,KHR,5000
t2,2026-01-12,SR-01,Savings,Liabilities:Savings:Dara,KHR,-5000
"""


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "journal.csv"
    path.write_text(JOURNAL, encoding="utf-8")
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_fresh_book_from_init_to_verify(book_url, journal, capsys):
    assert run(capsys, "init", "--db", book_url)[0] == 0
    code, out, _ = run(capsys, "journal", "import", str(journal), "--db", book_url)
    assert code == 0 and "2 new entries" in out
    code, out, _ = run(capsys, "journal", "import", str(journal), "--db", book_url)
    assert "0 new entries, 2 already in the book" in out
    code, out, _ = run(capsys, "balances", "--db", book_url)
    assert code == 0
    assert "155,000 KHR" in out and "Total" in out
    code, out, _ = run(capsys, "balances", "--json", "--group", "SR-01", "--db", book_url)
    data = json.loads(out)
    assert data["balanced"] and data["totals"] == {"KHR": "0"}
    assert {"account": "Assets:Cash box", "balance": "155000"}.items() <= data["accounts"][
        0
    ].items()
    code, out, _ = run(capsys, "verify", "--db", book_url)
    assert code == 0 and out.startswith("OK: 1 group(s), 2 entries")
    code, out, _ = run(capsys, "--db", book_url)
    assert code == 0 and "SR-01" in out


def test_verify_exits_nonzero_and_names_the_entry(book_url, journal, capsys):
    run(capsys, "init", "--db", book_url)
    run(capsys, "journal", "import", str(journal), "--db", book_url)
    from ledger.db import Book

    book = Book(book_url)
    with book.engine.begin() as conn:
        if book.dialect == "postgresql":
            conn.execute(text("ALTER TABLE postings DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER trg_postings_no_update"))
        conn.execute(text("UPDATE postings SET amount = amount * 2 WHERE entry_seq = 2"))
    book.close()
    code, out, _ = run(capsys, "verify", "--db", book_url)
    assert code == 1
    assert "VERIFY FAILED" in out and "first break" in out and "entry #2" in out
    code, out, _ = run(capsys, "verify", "--json", "--db", book_url)
    assert code == 1 and json.loads(out)["problems"][0]["entry"] == 2


def test_errors_are_one_sentence_without_a_traceback(book_url, tmp_path, capsys):
    run(capsys, "init", "--db", book_url)
    bad = tmp_path / "bad.csv"
    bad.write_text(JOURNAL + "t3,2026-02-30,SR-01,x,Assets:Cash box,KHR,1\n", encoding="utf-8")
    code, _, err = run(capsys, "journal", "import", str(bad), "--db", book_url)
    assert code == 2
    assert err.startswith("sansam: Row 6: The date '2026-02-30'")
    assert "Traceback" not in err
    code, _, err = run(capsys, "balances", "--group", "NOPE", "--db", book_url)
    assert code == 2 and "no group with code 'NOPE'" in err


def test_commands_refuse_a_book_that_does_not_exist(tmp_path, capsys):
    code, _, err = run(capsys, "balances", "--db", str(tmp_path / "none.sqlite"))
    assert code == 2 and "Create it with: sansam init" in err


def test_the_installed_command_uses_sansam_db(tmp_path, journal):
    """The console script, as a user's shell runs it, with the SANSAM_DB variable."""
    env = dict(
        os.environ,
        SANSAM_DB=str(tmp_path / "env-book.sqlite"),
        SANSAM_USER="sophea",
        SANSAM_PASSWORD="kampot-pepper-2026",
    )
    sansam = Path(sys.executable).with_name("sansam")

    def sh(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(sansam), *args], env=env, capture_output=True, text=True, timeout=120
        )

    assert "Created a new book" in sh("init", "--admin", "sophea").stdout
    assert sh("journal", "import", str(journal)).returncode == 0
    assert "OK: 0 group(s)" in sh("verify").stdout  # an administrator reads no group's books
    assert sh("user", "grant", "sophea", "--group", "SR-01", "--role", "chair").returncode == 0
    done = sh("verify")
    assert done.returncode == 0 and "2 entries" in done.stdout
    assert (tmp_path / "env-book.sqlite").exists()


def test_output_piped_into_a_reader_that_stops_early_is_not_an_error(book_url):
    """``sansam loan show 3 | head`` must not print a crash report."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-c", "from tui.cli import main; main()", "balances", "--db", book_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone before a line is written
    _out, err = proc.communicate(timeout=60)
    assert b"went wrong" not in err and b"Traceback" not in err


@pytest.mark.parametrize("changes", [False, True], ids=["browsed", "changed"])
def test_quitting_the_app_backs_up_a_book_it_changed(tmp_path, monkeypatch, capsys, changes):
    """The app is where a treasurer does her work: the book is backed up when she quits
    it, as after a command, when the session changed records (only then)."""
    from ledger.backup import list_backups

    path = tmp_path / "village.sqlite"
    assert run(capsys, "init", "--db", str(path))[0] == 0

    def app(book, *, idle_minutes):  # stands in for the terminal app's session
        if changes:
            book.write(lambda s: s.execute(text("UPDATE groups SET name = name")))
        with book.read() as s:
            s.execute(text("SELECT count(*) FROM accounts"))
        return 0

    monkeypatch.setattr("tui.app.run_app", app)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert run(capsys, "--db", str(path))[0] == 0
    assert [b.name.endswith("-close.sqlite") for b in list_backups(path)] == (
        [True] if changes else []
    )
