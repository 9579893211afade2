"""A treasurer's process killed at any moment loses nothing it was told was saved.

The power fails on village PCs mid-meeting. A treasurer process records meetings (a save
per row, then the close that posts the sheet) and imports through the real services, and
is SIGKILLed at random moments; after every kill the book must open, verify, hold every
acknowledged row, meeting and entry, and hold no partial entry or half-posted meeting.
Then the next treasurer carries on in the same book. See tests/proof_workers.py.

SIGKILL ends the process, not the machine: it proves that a commit is all or nothing
and that an acknowledged commit is in the database. That it also survives a power cut
rests on the settings checked here (WAL and synchronous=FULL: a commit returns only once
it is on disk).

Sizes: SANSAM_CRASH_KILLS (default 8), SANSAM_CRASH_SEED, SANSAM_CRASH_MAX_DELAY (seconds
after start within which the kill falls). bench/proof_bench.py runs it at full size.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ledger.db import Book
from tests.proof_workers import (
    check_book,
    crash_campaign,
    read_acks,
    run_treasurer,
    setup_groups,
    sqlite_durability,
)

KILLS = int(os.environ.get("SANSAM_CRASH_KILLS", "8"))
SEED = int(os.environ.get("SANSAM_CRASH_SEED", "2026"))
MAX_DELAY = float(os.environ.get("SANSAM_CRASH_MAX_DELAY", "2.0"))

pytestmark = pytest.mark.slow


def lingering_sessions(url: str) -> int:
    """Server sessions still open on this database other than ours: a killed client's
    connection must not stay behind holding its transaction and locks."""
    book = Book(url)
    try:
        with book.engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": make_url(url).database},
            ).scalar_one()
    finally:
        book.close()


def test_killed_treasurers_lose_nothing_acknowledged(
    book_url: str, engine_name: str, tmp_path: Path
) -> None:
    seed = SEED + (engine_name == "postgresql")
    figures = crash_campaign(
        book_url, tmp_path / "crash", kills=KILLS, seed=seed, max_delay=MAX_DELAY
    )
    (tmp_path / "crash.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    assert figures["problems"] == [], "\n".join(figures["problems"])
    assert figures["kills"] == KILLS
    # Real work happened and survived: meetings were closed and acknowledged.
    acks = figures["acks"]
    assert acks.get("closed", 0) + acks.get("imported", 0) > 0, acks
    assert figures["meetings_closed"] > 0 and figures["entries"] > 0
    print(
        f"{engine_name}: {figures['kills']} kills in {figures['seconds']} s, "
        f"{figures['kills_before_first_ack']} before the first acknowledgement; "
        f"{figures['meetings_closed']} meetings, {figures['entries']} entries; acks {acks}"
    )
    if engine_name == "sqlite":
        settings = sqlite_durability(book_url)
        assert settings["integrity"] == "ok"
        assert (settings["journal_mode"], settings["synchronous"]) == ("wal", 2)  # 2: FULL
        assert settings["file_journal_mode"] == "wal"
        assert settings["foreign_keys"] == 1
    else:
        deadline = time.monotonic() + 20
        while lingering_sessions(book_url) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert lingering_sessions(book_url) == 0


def test_the_checks_notice_a_lost_acknowledgement(book_url: str, tmp_path: Path) -> None:
    """The crash test is only as good as its checks: promises the book does not keep
    (a meeting, a row, an entry, a member that are not there) are each reported."""
    setup_groups(book_url, ["CK-01"], members=3)
    ack = tmp_path / "acks.jsonl"
    stats = run_treasurer(book_url, "CK-01", ack, seed=3, ops=3, workdir=tmp_path)
    assert stats.errors == []
    acks = read_acks(ack)
    assert check_book(book_url, acks) == []
    closed = next(a for a in acks if a["kind"] in ("closed", "imported"))
    record = closed if closed["kind"] == "closed" else closed["meetings"][0]
    forged = [
        {"kind": "opened", "meeting": 999_999, "uuid": "x", "date": "2000-01-01"},
        {"kind": "line", "meeting": 999_999, "member": "M01", "attended": True, "amounts": {}},
        {**record, "kind": "closed", "entries": [*record["entries"], [999_999, "lost"]]},
        {"kind": "members", "codes": ["M99"]},
    ]
    problems = check_book(book_url, acks + forged)
    assert len(problems) == 4, problems
    assert "999999" in problems[0] and "lost" in problems[1]
    assert "the book has" in problems[2] and "M99" in problems[3]
