"""The crash and load proofs at full size, on SQLite and PostgreSQL, with their figures.

The same harness as tests/test_crash.py and tests/test_load.py (tests/proof_workers.py),
with many more kills and a longer, busier load:

    .venv/bin/python bench/proof_bench.py                      # 200 kills, 60 s of load
    .venv/bin/python bench/proof_bench.py --kills 60 --load-seconds 30 --note '...'

PostgreSQL comes from ``--pg`` or ``SANSAM_TEST_POSTGRES_URL`` (an admin URL: throwaway
databases are created and dropped WITH (FORCE)); without either, only SQLite runs.
Raw figures go to ``bench/out/proof_bench.json``; the "Crash and load" section of
``docs/PERFORMANCE.md`` is replaced (the rest of the file is kept). Exit status 1 when a
check found a problem (the figures are written anyway, with the problems).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # tests.proof_workers, and ledger/ from the work tree
    sys.path.insert(0, str(ROOT))

import ledger_bench as lb  # noqa: E402  (bench/, the script's own folder)
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from ledger import migrate  # noqa: E402
from ledger.db import Book  # noqa: E402
from tests.proof_workers import crash_campaign, load_run, sqlite_durability  # noqa: E402

OUT_DIR = ROOT / "bench" / "out"
DEFAULT_DOC = ROOT / "docs" / "PERFORMANCE.md"
DEFAULT_JSON = OUT_DIR / "proof_bench.json"
SECTION = "## Crash and load"


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- books ---------------------------------------------------------------------------------


@contextmanager
def sqlite_book(work: Path, name: str) -> Iterator[str]:
    path = work / f"{name}.sqlite"
    url = f"sqlite:///{path}"
    book = Book(url)
    migrate.upgrade(book)
    book.close()
    yield url


@contextmanager
def pg_book(admin_url: str, name: str) -> Iterator[str]:
    """A throwaway database, dropped WITH (FORCE) even if a killed client left a session."""
    admin = create_engine(make_url(admin_url), isolation_level="AUTOCOMMIT")
    database = f"sansam_proof_{name}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {database}"))
    url = make_url(admin_url).set(database=database).render_as_string(hide_password=False)
    try:
        book = Book(url)
        migrate.upgrade(book)
        book.close()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        admin.dispose()


def pg_facts(admin_url: str) -> dict[str, Any]:
    engine = create_engine(make_url(admin_url))
    try:
        with engine.connect() as conn:
            return {
                name: conn.execute(text(f"SHOW {name}")).scalar()
                for name in ("server_version", "fsync", "synchronous_commit", "wal_sync_method")
            }
    finally:
        engine.dispose()


# --- the machine ---------------------------------------------------------------------------


def machine_facts() -> dict[str, Any]:
    """The ledger benchmark's facts about the machine, and the PostgreSQL driver's
    version (this benchmark runs on both engines)."""
    return {**lb.machine_facts(), "psycopg": metadata.version("psycopg")}


# --- the run -------------------------------------------------------------------------------


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    engines = ["sqlite"] + (["postgresql"] if args.pg else [])
    results: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine_facts(),
        "size": {
            "kills": args.kills,
            "max_delay_s": args.max_delay,
            "load_seconds": args.load_seconds,
            "treasurers": args.treasurers,
            "coordinators": args.coordinators,
            "seed": args.seed,
        },
        "crash": {},
        "load": {},
    }
    if args.pg:
        results["postgresql"] = pg_facts(args.pg)
    with lb.LoadSampler() as sampler:
        for engine in engines:
            book = sqlite_book(work, "crash") if engine == "sqlite" else pg_book(args.pg, "crash")
            with book as url:
                log(f"crash: {engine}, {args.kills} kills")
                figures = crash_campaign(
                    url,
                    work / f"crash-{engine}",
                    kills=args.kills,
                    seed=args.seed,
                    max_delay=args.max_delay,
                )
                if engine == "sqlite":
                    figures["sqlite_settings"] = sqlite_durability(url)
                results["crash"][engine] = figures
                log(
                    f"crash: {engine} done in {figures['seconds']} s, "
                    f"problems: {figures['problems']}"
                )
        for engine in engines:
            book = sqlite_book(work, "load") if engine == "sqlite" else pg_book(args.pg, "load")
            with book as url:
                log(
                    f"load: {engine}, {args.treasurers} treasurers + {args.coordinators} "
                    f"coordinators, {args.load_seconds:g} s"
                )
                figures = load_run(
                    url,
                    work / f"load-{engine}",
                    treasurers=args.treasurers,
                    coordinators=args.coordinators,
                    seconds=args.load_seconds,
                    seed=args.seed,
                )
                results["load"][engine] = figures
                log(
                    f"load: {engine} {figures['entries_per_s']} entries/s, "
                    f"problems: {figures['problems']}"
                )
    results["load_1min_samples"] = sampler.samples
    results["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    return results


# --- the report ----------------------------------------------------------------------------


def render_section(r: dict[str, Any], command: str, json_path: str, note: str) -> str:
    m, size, loads = r["machine"], r["size"], r["load_1min_samples"] or [0.0]
    pg = r.get("postgresql")
    versions = f"Python {m['python']}, SQLite {m['sqlite']}"
    if pg:
        versions += f", PostgreSQL {pg['server_version']}"
    versions += f", SQLAlchemy {m['sqlalchemy']}, psycopg {m['psycopg']}"
    lines = [
        SECTION,
        "",
        "Generated by `bench/proof_bench.py` (the harness of `tests/test_crash.py` and "
        "`tests/test_load.py`, in `tests/proof_workers.py`, at a larger size); rerun it to "
        f"refresh this section. Raw figures: `{json_path}`.",
        "",
        f"Command: `{command}`  ",
        f"Run: {r['started']} to {r['finished']}, code at {m['git']}.",
        "",
        f"**Machine.** {m['cpu_model']}, {m['nproc']} cores, {m['ram_gib']} GiB RAM; {m['os']}; "
        f"{versions}. The 1-minute load average ranged {min(loads):.2f}–{max(loads):.2f} "
        f"(mean {sum(loads) / len(loads):.2f}) over the run, this run's own processes "
        "included." + (f" {note}" if note else ""),
        "",
        "**Crash.** A treasurer process records a savings group's meetings through the real "
        "services, one unit of work at a time as the meeting screen does (open the meeting, "
        "save each member's row, sometimes an expense, close it: the whole sheet is posted "
        "at once), and imports collection sheets and new members from CSV. After each "
        "commit returns it appends what it was told is saved (meeting, rows, entry numbers "
        "and uuids) to an acknowledgement file, fsynced. It is SIGKILLed at a random moment "
        f"0–{size['max_delay_s']} s after it starts (seeded, seed {size['seed']}); then the "
        "book must open, `verify_book` must be clean, every acknowledged row, meeting, entry "
        "and member must be there, every entry must balance with two postings or more, every "
        "cached balance must equal its postings, and every meeting must be either closed "
        "with all its entries (one per paying row, withdrawal, item and count difference; "
        "cash-box postings adding up to counted − opening cash) or open with none. The next "
        "treasurer then carries on in the same book (finishing the meeting left open), and "
        "a last one must finish 3 operations cleanly. Treasurers are forked from a process "
        "that has already imported the ledger, so each kill costs a fraction of a second "
        "instead of the interpreter's start-up.",
        "",
        "| Engine | Kills | Killed before the first ack | Last ack before the kill | "
        "Meetings closed | Entries | Acks | Time | Problems |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for engine, c in r["crash"].items():
        last = ", ".join(f"{k} {v}" for k, v in sorted(c["last_ack_before_kill"].items()))
        acks = sum(c["acks"].values())
        problems = "none" if not c["problems"] else f"**{len(c['problems'])}**"
        lines.append(
            f"| {engine} | {c['kills']} | {c['kills_before_first_ack']} | {last} | "
            f"{c['meetings_closed']:,} | {c['entries']:,} | {acks:,} | {c['seconds']:.0f} s "
            f"({c['check_seconds']:.0f} s of checks) | "
            f"{problems} |"
        )
    crash_sqlite = r["crash"].get("sqlite", {}).get("sqlite_settings")
    if crash_sqlite:
        lines += [
            "",
            "SQLite after the kills: `PRAGMA integrity_check` "
            f"{crash_sqlite['integrity']}; a fresh connection of a book runs journal_mode "
            f"{crash_sqlite['journal_mode']} (stored in the file: "
            f"{crash_sqlite['file_journal_mode']}) with synchronous "
            f"{'FULL' if crash_sqlite['synchronous'] == 2 else crash_sqlite['synchronous']}, "
            "so a commit returns only once it is in the WAL on disk.",
        ]
    if pg:
        lines += [
            "",
            f"PostgreSQL server: fsync {pg['fsync']}, synchronous_commit "
            f"{pg['synchronous_commit']}, wal_sync_method {pg['wal_sync_method']}.",
        ]
    lines += [
        "",
        "SIGKILL ends the process, not the machine: it proves a unit of work is all or "
        "nothing and that an acknowledged commit is in the database. Surviving a power cut "
        "also needs the disk to honour fsync, which is what the settings above ask for.",
        "",
        f"**Load.** {size['treasurers']} treasurers (one group each, doing the work above) "
        f"and {size['coordinators']} coordinator(s) (trial balance of the whole book, "
        "portfolio, indicators, verify, round and round, each in one read session) on one "
        f'book for {size["load_seconds"]:g} s, all starting together. Allowed: "busy, try '
        'again" (`BookBusy`, which the treasurer retries). Afterwards the book is checked as '
        "after a crash. *Retries absorbed* counts the contention errors `Book.write` retried "
        "by itself (seen through SQLAlchemy's `handle_error` event); on SQLite most waiting "
        "happens inside the driver's 30 s busy timeout instead, and shows in the write "
        "latency: the slowest write is the longest one save of a treasurer waited (SQLite "
        "lets one writer in at a time, and a two-meeting sheet import holds the lock for its "
        "whole unit of work).",
        "",
        "| Engine | Entries/s | Units of work/s | Meetings closed | Entries posted | Reports | "
        "BookBusy | Retries absorbed | Write p95 / max | Problems |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for engine, x in r["load"].items():
        problems = "none" if not x["problems"] else f"**{len(x['problems'])}**"
        lines.append(
            f"| {engine} | {x['entries_per_s']:,} | {x['writes_per_s']:,} | "
            f"{x['meetings_closed']:,} | {x['entries_posted']:,} | {x['coordinator_reports']:,} "
            f"| {x['busy']} | {x['db_retries']} | {x['write_p95_ms']:,.0f} / "
            f"{x['write_max_ms']:,.0f} ms | {problems} |"
        )
    lines += [
        "",
        "What this run found and what was fixed: on PostgreSQL a read session was READ "
        "COMMITTED, so `verify` run while treasurers posted read balances from before a "
        "commit and postings from after it, and reported tampering that was not there "
        '("account Assets:Cash box shows a balance of … but its postings add up to …"). '
        "`Book.read` now uses REPEATABLE READ on PostgreSQL (one snapshot per read session, "
        "as SQLite's WAL gives); `tests/test_load.py` reproduces the interleaving "
        "deterministically on both engines.",
        "",
    ]
    return "\n".join(lines)


def write_doc(path: Path, section: str) -> None:
    """Replace the "Crash and load" section (up to the next ``## `` heading), keep the rest."""
    text_ = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n\n"
    lines = text_.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION), None)
    if start is None:
        new = text_.rstrip("\n") + "\n\n" + section
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + section + ("\n" + tail if tail else "")
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=200, help="kills per engine")
    parser.add_argument(
        "--max-delay", type=float, default=2.5, help="a kill falls 0..this many s after start"
    )
    parser.add_argument("--load-seconds", type=float, default=60)
    parser.add_argument("--treasurers", type=int, default=6)
    parser.add_argument("--coordinators", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--pg",
        default=os.environ.get("SANSAM_TEST_POSTGRES_URL"),
        help="PostgreSQL admin URL (default: SANSAM_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--out", type=Path, default=DEFAULT_DOC, help="Markdown file to update")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--keep", action="store_true", help="keep the books and worker logs")
    parser.add_argument("--note", default="", help="a sentence for the report")
    args = parser.parse_args(argv)
    if args.no_pg:
        args.pg = None

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    # Under bench/out/ (git-ignored), not /tmp: the disk the project lives on, where a
    # RAM-backed /tmp would flatter the fsyncs.
    work = Path(tempfile.mkdtemp(prefix="proof-", dir=OUT_DIR))
    try:
        results = run(args, work)
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    command = shlex.join(
        [".venv/bin/python", "bench/proof_bench.py", *(a for a in argv if a != "--keep")]
    )
    results["command"], results["note"] = command, args.note
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    write_doc(args.out, render_section(results, command, _shown(args.json), args.note))
    problems = [
        p for part in ("crash", "load") for f in results[part].values() for p in f["problems"]
    ]
    for p in problems:
        print(f"PROBLEM: {p}", file=sys.stderr)
    print(f"Wrote {_shown(args.out)} and {_shown(args.json)}.")
    return 1 if problems else 0


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
