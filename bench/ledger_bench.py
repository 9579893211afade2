"""Benchmark of the ledger core at federation size (about a million entries).

Run from the repository root::

    .venv/bin/python bench/ledger_bench.py                 # 100 groups x 20 members x 3 years
    .venv/bin/python bench/ledger_bench.py --quick         # a smoke run that takes seconds
    .venv/bin/python bench/ledger_bench.py --profile       # also cProfile one import

Why it is built this way:

- The journal is synthetic but shaped like a federation's export (one group after the
  other, weekly meetings, three entries per member per meeting) and deterministic
  (``random.Random(2026)``), so two runs on two machines import the same rows.
- Every measured piece of work runs in its own child process. ``os.wait4`` then gives the
  peak memory of that child alone; ``RUSAGE_CHILDREN`` would report the largest child seen
  so far, mixing the import with the baseline. It also means each step starts cold, as a
  ``sansam`` command would.
- The baseline is the floor for "putting these rows into SQLite from Python": the stdlib
  ``sqlite3`` ``executemany`` into one plain table, in one transaction, with the same
  journal mode and sync setting as a book. The target is to stay within 5x of it.
- Figures go to ``docs/PERFORMANCE.md`` (only its "Ledger core" section is replaced, so
  notes written by hand elsewhere in the file survive) and, raw, to
  ``bench/out/ledger_bench.json``. A ``--quick`` run writes next to the JSON instead, so a
  smoke test never overwrites the published figures.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent


def bench_actor():  # type: ignore[no-untyped-def]
    """The benchmark acts for the book as a whole: every role in every group."""
    from ledger.permissions import ROLES, Actor

    return Actor(0, "bench", "Benchmark", True, {}, frozenset(ROLES))


OUT_DIR = ROOT / "bench" / "out"
DEFAULT_DOC = ROOT / "docs" / "PERFORMANCE.md"
SECTION = "## Ledger core"

HEADER = ("txn_id", "date", "group", "description", "account", "commodity", "amount")
SEED = 2026
FIRST_MEETING = dt.date(2023, 1, 2)  # a Monday
MEETINGS_PER_YEAR = 52
LOAN_CYCLE = 12  # weeks: a loan is paid out, then repaid over five fortnightly instalments
INSTALMENTS = 5

# Targets from the issue.
IMPORT_RATIO_TARGET = 5.0
QUERY_TARGET_MS = 100.0

QUICK = {"groups": 5, "members": 10, "years": 1}


# --- the synthetic journal ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shape:
    groups: int
    members: int
    years: int

    @property
    def meetings(self) -> int:
        return self.years * MEETINGS_PER_YEAR

    def group_code(self, number: int) -> str:
        return f"SR-{number:0{max(3, len(str(self.groups)))}d}"

    def member_code(self, number: int) -> str:
        return f"M{number:0{max(2, len(str(self.members)))}d}"

    @property
    def probe_group(self) -> str:
        """The group the single-group measures use: SR-050 at the default size."""
        return self.group_code(max(1, self.groups // 2))

    @property
    def probe_account(self) -> str:
        """A member's savings account in the probe group: M07 at the default size."""
        return f"Liabilities:Savings:{self.member_code(min(7, self.members))}"


@dataclass(slots=True)
class JournalStats:
    entries: int = 0
    postings: int = 0
    first_date: str = ""
    last_date: str = ""
    bytes: int = 0
    seconds: float = 0.0


def generate_journal(path: Path, shape: Shape) -> JournalStats:
    """Write the federation's journal CSV, group after group, as ``sansam`` exports it.

    Per member per meeting: compulsory savings, the social fund, and either a loan event
    (pay-out at the start of the member's 12-week cycle, then five repayments with 2%
    interest) or a fine. Loans are staggered by member so cash moves every week.
    """
    last = FIRST_MEETING + dt.timedelta(weeks=shape.meetings - 1)
    if last > dt.date.today():
        raise SystemExit(
            f"{shape.years} year(s) of weekly meetings from {FIRST_MEETING} would end on "
            f"{last}, in the future; the ledger refuses such dates. Use fewer --years."
        )
    rng = random.Random(SEED)
    stats = JournalStats(first_date=FIRST_MEETING.isoformat(), last_date=last.isoformat())
    started = time.perf_counter()
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for g in range(1, shape.groups + 1):
            for entry in _group_entries(shape, shape.group_code(g), rng):
                writer.writerows(entry)
                stats.entries += 1
                stats.postings += len(entry)
    stats.seconds = time.perf_counter() - started
    stats.bytes = path.stat().st_size
    return stats


def _group_entries(shape: Shape, code: str, rng: random.Random) -> Iterator[list[tuple[str, ...]]]:
    """One group's entries in meeting order, each a list of CSV rows (one per posting)."""
    cash = "Assets:Cash box"
    instalment = [0] * (shape.members + 1)  # principal per repayment, per member
    remaining = [0] * (shape.members + 1)  # repayments still due, per member

    def entry(txn: str, date: str, memo: str, *lines: tuple[str, int]) -> list[tuple[str, ...]]:
        assert sum(amount for _, amount in lines) == 0, txn
        return [(txn, date, code, memo, account, "KHR", str(amount)) for account, amount in lines]

    for week in range(shape.meetings):
        date = (FIRST_MEETING + dt.timedelta(weeks=week)).isoformat()
        for m in range(1, shape.members + 1):
            member = shape.member_code(m)
            prefix = f"w{week + 1:03d}-{member}"
            saving = rng.choice((5_000, 10_000, 10_000, 15_000, 20_000))
            yield entry(
                f"{prefix}-sav",
                date,
                f"Compulsory savings សន្សំ {member}",
                (cash, saving),
                (f"Liabilities:Savings:{member}", -saving),
            )
            yield entry(
                f"{prefix}-soc",
                date,
                f"Social fund {member}",
                (cash, 1_000),
                ("Equity:Social fund", -1_000),
            )
            cycle = (week + m) % LOAN_CYCLE
            if cycle == 0:
                instalment[m] = rng.randrange(20_000, 100_001, 10_000)
                remaining[m] = INSTALMENTS
                principal = instalment[m] * INSTALMENTS
                yield entry(
                    f"{prefix}-loan",
                    date,
                    f"Loan paid out to {member}",
                    (f"Assets:Loans:{member}", principal),
                    (cash, -principal),
                )
            elif cycle % 2 == 0 and remaining[m]:
                remaining[m] -= 1
                interest = instalment[m] * 2 // 100
                yield entry(
                    f"{prefix}-rep",
                    date,
                    f"Loan repayment {member}",
                    (cash, instalment[m] + interest),
                    (f"Assets:Loans:{member}", -instalment[m]),
                    ("Income:Interest", -interest),
                )
            else:
                fine = rng.choice((500, 1_000, 2_000))
                yield entry(
                    f"{prefix}-fine",
                    date,
                    f"Fine {member} (late)",
                    (cash, fine),
                    ("Income:Fines", -fine),
                )


# --- child processes: each measured step runs alone ----------------------------------------


@dataclass(frozen=True, slots=True)
class ChildRun:
    payload: dict[str, Any]
    stdout: str
    wall_s: float
    max_rss_kib: int


def run_process(command: Sequence[str], *, expect_json: bool = True) -> ChildRun:
    """Run a command to completion; its wall time and its own peak RSS (Linux: KiB).

    ``os.wait4`` reaps the child and returns the resource usage of that child only.
    Stderr is passed through so progress lines reach the log of a long run.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    stdout = proc.stdout.read()
    proc.stdout.close()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if proc.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed with exit code {proc.returncode}.")
    payload = json.loads(stdout.strip().splitlines()[-1]) if expect_json else {}
    return ChildRun(payload, stdout, wall, usage.ru_maxrss)


def run_child(*args: str) -> ChildRun:
    return run_process([sys.executable, str(Path(__file__).resolve()), "_child", *args])


def _child_main(argv: Sequence[str]) -> int:
    """The measured steps, one per child process; each prints one JSON line on stdout."""
    parser = argparse.ArgumentParser(prog="ledger_bench.py _child")
    steps = parser.add_subparsers(dest="step", required=True)
    imp = steps.add_parser("import")
    imp.add_argument("--db", required=True)
    imp.add_argument("--csv", required=True, type=Path)
    imp.add_argument("--profile", type=Path)
    raw = steps.add_parser("raw")
    raw.add_argument("--db", required=True, type=Path)
    raw.add_argument("--csv", required=True, type=Path)
    reads = steps.add_parser("reads")
    reads.add_argument("--db", required=True)
    reads.add_argument("--group", required=True)
    reads.add_argument("--account", required=True)
    reads.add_argument("--repeat", type=int, default=5)
    verify = steps.add_parser("verify")
    verify.add_argument("--db", required=True)
    args = parser.parse_args(argv)

    if args.step == "import":
        payload = _child_import(args.db, args.csv, args.profile)
    elif args.step == "raw":
        payload = _child_raw(args.db, args.csv)
    elif args.step == "reads":
        payload = _child_reads(args.db, args.group, args.account, args.repeat)
    else:
        payload = _child_verify(args.db)
    print(json.dumps(payload))
    return 0


def _child_import(db_url: str, csv_path: Path, profile: Path | None) -> dict[str, Any]:
    """Import through the one write path, in one unit of work, as ``sansam journal import``."""
    from ledger.db import Book
    from ledger.journal_csv import import_journal

    last_report = time.monotonic()

    def progress(rows: int, entries: int) -> None:
        nonlocal last_report
        if time.monotonic() - last_report >= 30:
            last_report = time.monotonic()
            print(f"  import: {entries:,} entries ({rows:,} rows)", file=sys.stderr, flush=True)

    book = Book(db_url).as_user(bench_actor())
    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    summary = book.write(lambda session: import_journal(session, csv_path, on_progress=progress))
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    book.close()
    return {
        "seconds": seconds,
        "rows": summary.rows,
        "entries_posted": summary.entries_posted,
        "entries_already_present": summary.entries_already_present,
        "groups_created": len(summary.groups_created),
        "accounts_created": summary.accounts_created,
    }


def _child_raw(db_path: Path, csv_path: Path) -> dict[str, Any]:
    """The floor: stdlib csv + sqlite3 executemany into one plain table, one transaction."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")  # the same settings as a book (ledger/db.py)
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE postings(txn_id TEXT, date TEXT, grp TEXT, description TEXT, "
        "account TEXT, commodity TEXT, amount INTEGER)"
    )
    started = time.perf_counter()
    with open(csv_path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = ((t, d, g, desc, a, c, int(amount)) for t, d, g, desc, a, c, amount in reader)
        conn.execute("BEGIN")
        cursor = conn.executemany("INSERT INTO postings VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return {"seconds": seconds, "rows": cursor.rowcount}


@dataclass(slots=True)
class Timing:
    """Repeated timings of one read, in ms. The first sample includes query compilation."""

    samples_ms: list[float] = field(default_factory=list)
    rows: int = 0

    @property
    def best_ms(self) -> float:
        return min(self.samples_ms)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "best_ms": self.best_ms, "median_ms": self.median_ms}


def _timed(repeat: int, work: Callable[[], int]) -> Timing:
    timing = Timing()
    for _ in range(repeat):
        started = time.perf_counter()
        timing.rows = work()
        timing.samples_ms.append((time.perf_counter() - started) * 1000)
    return timing


def _child_reads(db_url: str, group_code: str, account: str, repeat: int) -> dict[str, Any]:
    """The reads a treasurer waits for: balances, a member's history, one group's verify.

    Each sample opens its own read session, as a command does, so the figure includes
    BEGIN and the snapshot, not only the query.
    """
    from ledger.accounts import accounts_by_name
    from ledger.db import Book
    from ledger.groups import find_group
    from ledger.queries import account_history, trial_balance
    from ledger.verify import verify_book

    book = Book(db_url).as_user(bench_actor())
    with book.read() as session:
        group_id = find_group(session, group_code).id
        account_id = accounts_by_name(session, group_id)[(account, "KHR")]
    balanced: list[bool] = []
    verified: list[bool] = []

    def tb(group: int | None) -> int:
        with book.read() as session:
            result = trial_balance(session, group)
        balanced.append(result.balanced)
        return len(result.rows)

    def history() -> int:
        with book.read() as session:
            return len(account_history(session, account_id))

    def verify_group() -> int:
        with book.read() as session:
            report = verify_book(session, group_id)
        verified.append(report.ok)
        return report.entries

    payload = {
        "trial_balance_book": _timed(repeat, lambda: tb(None)).as_dict(),
        "trial_balance_group": _timed(repeat, lambda: tb(group_id)).as_dict(),
        "account_history": _timed(repeat, history).as_dict(),
        "verify_group": _timed(repeat, verify_group).as_dict(),
        "all_balanced": all(balanced),
        "group_verified": all(verified),
        "group": group_code,
        "account": account,
    }
    book.close()
    return payload


def _child_verify(db_url: str) -> dict[str, Any]:
    """Verify the whole book once: every hash chain and cached balance recomputed."""
    from ledger.db import Book
    from ledger.verify import verify_book

    book = Book(db_url).as_user(bench_actor())
    started = time.perf_counter()
    with book.read() as session:
        report = verify_book(session)
    seconds = time.perf_counter() - started
    book.close()
    return {
        "seconds": seconds,
        "ok": report.ok,
        "groups": report.groups,
        "entries": report.entries,
        "postings": report.postings,
        "problems": len(report.problems),
    }


# --- facts about the machine and the book ------------------------------------------------


def machine_facts() -> dict[str, Any]:
    """What a reader needs to compare these figures with their own machine's."""
    cpu_model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024**2, 1)
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "ram_gib": ram_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": metadata.version("sqlalchemy"),
        "git": _git_revision(),
    }


def _git_revision() -> str:
    """The commit measured, and whether the ledger code differed from it (others edit it)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "ledger", "migrations"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.split("\n")
    except OSError:
        return "unknown"
    changed = sorted(line[3:] for line in dirty if line.strip())
    return head + (f" + uncommitted changes to {', '.join(changed)}" if changed else "")


def book_facts(db_path: Path) -> dict[str, Any]:
    """Counts straight from the file, read-only, so the figures describe what was stored."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("groups", "accounts", "journal_entries", "postings")
        }
    finally:
        conn.close()
    wal = db_path.with_name(db_path.name + "-wal")
    return {
        **counts,
        "db_mb": round(db_path.stat().st_size / 1e6, 1),
        "wal_mb": round(wal.stat().st_size / 1e6, 1) if wal.exists() else 0.0,
    }


# --- the run -----------------------------------------------------------------------------


def sansam_command() -> list[str]:
    """The ``sansam`` script of this interpreter's environment (the CLI path users take)."""
    script = Path(sys.executable).parent / "sansam"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]


# 1-minute load average at every step: the machine may be shared (CI, a colleague's tests),
# and a reader should see how busy it was while the figures were taken.
_load_samples: list[float] = []


def log(message: str) -> None:
    _load_samples.append(os.getloadavg()[0])
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_benchmark(shape: Shape, work: Path, *, repeat: int, profile: bool) -> dict[str, Any]:
    results: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "shape": asdict(shape),
        "machine": machine_facts(),
    }
    csv_path = work / "journal.csv"
    log(f"generating {shape.groups} groups x {shape.members} members x {shape.years} year(s)")
    journal = generate_journal(csv_path, shape)
    results["journal"] = asdict(journal)
    log(f"  {journal.entries:,} entries, {journal.postings:,} postings in {journal.seconds:.1f} s")

    db_path = work / "book.sqlite"
    db_url = f"sqlite:///{db_path}"
    init = run_process([*sansam_command(), "init", "--db", str(db_path)], expect_json=False)
    results["init"] = {"wall_s": init.wall_s, "max_rss_kib": init.max_rss_kib}

    log("importing into a fresh book (one unit of work)")
    first = run_child("import", "--db", db_url, "--csv", str(csv_path))
    results["import"] = {**first.payload, "wall_s": first.wall_s, "max_rss_kib": first.max_rss_kib}
    log(f"  {first.payload['seconds']:.1f} s, peak RSS {first.max_rss_kib / 1024:.0f} MiB")
    if first.payload["entries_posted"] != journal.entries:
        raise SystemExit(
            f"The import posted {first.payload['entries_posted']:,} entries, "
            f"expected {journal.entries:,}."
        )
    results["book"] = book_facts(db_path)

    log("baseline: raw sqlite3 executemany of the same rows")
    raw_path = work / "raw.sqlite"
    raw = run_child("raw", "--db", str(raw_path), "--csv", str(csv_path))
    results["raw"] = {**raw.payload, "wall_s": raw.wall_s, "max_rss_kib": raw.max_rss_kib}
    results["raw"]["db_mb"] = round(raw_path.stat().st_size / 1e6, 1)
    log(f"  {raw.payload['seconds']:.1f} s")

    log(f"reads: trial balance, history of {shape.probe_group} {shape.probe_account}, verify")
    reads = run_child(
        "reads",
        "--db",
        db_url,
        "--group",
        shape.probe_group,
        "--account",
        shape.probe_account,
        "--repeat",
        str(repeat),
    )
    results["reads"] = {**reads.payload, "max_rss_kib": reads.max_rss_kib}

    balances = run_process([*sansam_command(), "balances", "--db", str(db_path)], expect_json=False)
    results["cli_balances"] = {"wall_s": balances.wall_s, "max_rss_kib": balances.max_rss_kib}

    log("verify of the whole book")
    verify = run_child("verify", "--db", db_url)
    results["verify_book"] = {**verify.payload, "max_rss_kib": verify.max_rss_kib}
    log(f"  {verify.payload['seconds']:.1f} s, ok={verify.payload['ok']}")

    log("second import of the same file (every entry already present)")
    again = run_child("import", "--db", db_url, "--csv", str(csv_path))
    results["replay"] = {**again.payload, "wall_s": again.wall_s, "max_rss_kib": again.max_rss_kib}
    log(f"  {again.payload['seconds']:.1f} s")
    if again.payload["entries_posted"] != 0:
        raise SystemExit("The second import posted entries; it should have posted none.")

    if profile:
        log("profiled import into another fresh book (figures above are unprofiled)")
        prof_db = work / "profiled.sqlite"
        run_process([*sansam_command(), "init", "--db", str(prof_db)], expect_json=False)
        stats_path = OUT_DIR / "import.prof"
        run_child(
            "import", "--db", f"sqlite:///{prof_db}", "--csv", str(csv_path),
            "--profile", str(stats_path),
        )  # fmt: skip
        results["profile"] = str(stats_path.relative_to(ROOT))
        _print_profile(stats_path)

    log("done")
    results["load_1min_samples"] = list(_load_samples)
    results["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    return results


def _print_profile(stats_path: Path) -> None:
    import pstats

    stats = pstats.Stats(str(stats_path), stream=sys.stderr)
    stats.strip_dirs().sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(25)


# --- the report --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    measure: str
    figure: str
    target: str = ""
    met: bool | None = None


def figure_rows(r: dict[str, Any]) -> list[Row]:
    imp, raw, reads, replay = r["import"], r["raw"], r["reads"], r["replay"]
    entries, postings = r["journal"]["entries"], r["journal"]["postings"]
    ratio = imp["seconds"] / raw["seconds"]

    def ms(t: dict[str, Any]) -> str:
        return f"{t['best_ms']:.1f} ms best, {t['median_ms']:.1f} ms median"

    def under(t: dict[str, Any]) -> bool:
        return t["median_ms"] < QUERY_TARGET_MS

    target_ms = f"< {QUERY_TARGET_MS:.0f} ms (median)"
    return [
        Row(
            "Import, fresh book (API, one unit of work)",
            f"{imp['seconds']:.1f} s — {entries / imp['seconds']:,.0f} entries/s, "
            f"{postings / imp['seconds']:,.0f} postings/s",
        ),
        Row("Raw sqlite3 `executemany`, same rows, one plain table", f"{raw['seconds']:.1f} s"),
        Row(
            "Import ÷ raw sqlite3",
            f"{ratio:.1f}×",
            f"≤ {IMPORT_RATIO_TARGET:.0f}×",
            ratio <= IMPORT_RATIO_TARGET,
        ),
        Row("Peak memory (RSS) of the import process", f"{imp['max_rss_kib'] / 1024:,.0f} MiB"),
        Row("Peak memory (RSS) of the raw baseline", f"{raw['max_rss_kib'] / 1024:,.0f} MiB"),
        Row(
            f"Trial balance, whole book ({reads['trial_balance_book']['rows']:,} accounts)",
            ms(reads["trial_balance_book"]),
            target_ms,
            under(reads["trial_balance_book"]),
        ),
        Row(
            f"Trial balance, one group ({reads['trial_balance_group']['rows']:,} accounts)",
            ms(reads["trial_balance_group"]),
            target_ms,
            under(reads["trial_balance_group"]),
        ),
        Row(
            f"Member history: {reads['group']} {reads['account']} "
            f"({reads['account_history']['rows']:,} rows)",
            ms(reads["account_history"]),
            target_ms,
            under(reads["account_history"]),
        ),
        Row(
            "`sansam balances` whole book (process wall time, incl. start-up and printing)",
            f"{r['cli_balances']['wall_s'] * 1000:,.0f} ms",
        ),
        Row(
            f"Verify, one group ({reads['verify_group']['rows']:,} entries)",
            ms(reads["verify_group"]),
        ),
        Row(
            "Verify, whole book" + ("" if r["verify_book"]["ok"] else " — **FOUND PROBLEMS**"),
            f"{r['verify_book']['seconds']:.1f} s — "
            f"{r['verify_book']['entries'] / r['verify_book']['seconds']:,.0f} entries/s, "
            f"peak RSS {r['verify_book']['max_rss_kib'] / 1024:,.0f} MiB",
        ),
        Row(
            "Second import of the same file (all entries already present)",
            f"{replay['seconds']:.1f} s ({replay['seconds'] / imp['seconds']:.0%} of the first), "
            f"peak RSS {replay['max_rss_kib'] / 1024:,.0f} MiB",
        ),
        Row("`sansam init` of an empty book (process wall time)", f"{r['init']['wall_s']:.2f} s"),
    ]


def render_section(r: dict[str, Any], command: str, json_path: str, note: str) -> str:
    m, j, b, shape = r["machine"], r["journal"], r["book"], r["shape"]
    rows = figure_rows(r)
    table = ["| Measure | Figure | Target | Met? |", "|---|---|---|---|"]
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        table.append(f"| {row.measure} | {row.figure} | {row.target} | {met} |")
    loads = r["load_1min_samples"]
    lines = [
        SECTION,
        "",
        "Generated by `bench/ledger_bench.py`; rerun it to refresh this section. Raw figures: "
        f"`{json_path}`.",
        "",
        f"Command: `{command}`  ",
        f"Run: {r['started']} to {r['finished']}, code at {m['git']}.",
        "",
        "**Data.** A synthetic federation journal (seed 2026): "
        f"{shape['groups']} groups × {shape['members']} members × {shape['years']} year(s) of "
        f"weekly meetings ({j['first_date']} to {j['last_date']}), three entries per member "
        "per meeting (savings, social fund, and a loan pay-out, repayment or fine), all KHR. "
        f"{j['entries']:,} entries, {j['postings']:,} postings, CSV {j['bytes'] / 1e6:,.0f} MB. "
        f"The book holds {b['groups']:,} groups, {b['accounts']:,} accounts, "
        f"{b['journal_entries']:,} entries and {b['postings']:,} postings; the SQLite file is "
        f"{b['db_mb']:,.0f} MB (WAL {b['wal_mb']:,.0f} MB) against {r['raw']['db_mb']:,.0f} MB "
        "for the raw baseline table.",
        "",
        f"**Machine.** {m['cpu_model']}, {m['nproc']} cores, {m['ram_gib']} GiB RAM; {m['os']}; "
        f"Python {m['python']}, SQLite {m['sqlite']}, SQLAlchemy {m['sqlalchemy']}. The "
        f"1-minute load average ranged {min(loads):.2f}–{max(loads):.2f} over the run "
        "(the benchmark itself accounts for about 1)." + (f" {note}" if note else ""),
        "",
        "**Method.** Each step runs in its own process, one after the other: `sansam init`, the "
        "import (`import_journal` inside one `Book.write`, as `sansam journal import` does), "
        "the raw baseline (stdlib `csv` + `sqlite3` `executemany` into "
        "`postings(txn_id, date, grp, description, account, commodity, amount INTEGER)`, one "
        "transaction, WAL and `synchronous = FULL` like a book), the reads, a whole-book verify "
        "and a second import of the same file. Import and baseline times cover the work only "
        "(not interpreter start-up); peak memory is the child's own `ru_maxrss` from `wait4`. "
        f"Each read is repeated {len(r['reads']['account_history']['samples_ms'])} times, each "
        "in its own read session; the first sample includes SQLAlchemy compiling the query. "
        "The targets are judged on the median.",
        "",
        *table,
        "",
    ]
    return "\n".join(lines)


def write_doc(path: Path, section: str) -> None:
    """Replace the "Ledger core" section (up to the next ``## `` heading), keep the rest."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + section + ("\n" + tail if tail else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


# --- entry point -------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_child"]:
        return _child_main(argv[1:])
    parser = argparse.ArgumentParser(
        description="Benchmark the ledger core on a synthetic federation journal."
    )
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--members", type=int, default=20, help="members per group")
    parser.add_argument("--years", type=int, default=3, help="years of weekly meetings")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK['groups']} groups x {QUICK['members']} members x {QUICK['years']} year: "
        "a smoke run of a few seconds (writes under bench/out/, not docs/)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="samples per read measure")
    parser.add_argument("--out", type=Path, help="Markdown file to update (its Ledger core part)")
    parser.add_argument("--json", type=Path, help="where to write the raw figures")
    parser.add_argument("--keep", action="store_true", help="keep the CSV and the books")
    parser.add_argument(
        "--note", default="", help="a sentence for the report, e.g. what else ran meanwhile"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile one import (bench/out/import.prof)"
    )
    args = parser.parse_args(argv)
    shape = Shape(**QUICK) if args.quick else Shape(args.groups, args.members, args.years)
    if min(shape.groups, shape.members, shape.years) < 1:
        parser.error("--groups, --members and --years must be at least 1")
    suffix = "-quick" if args.quick else ""
    doc = args.out or (OUT_DIR / "PERFORMANCE-quick.md" if args.quick else DEFAULT_DOC)
    json_path = args.json or OUT_DIR / f"ledger_bench{suffix}.json"

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    # Under bench/out/ (git-ignored) rather than /tmp: the same disk the project lives on,
    # and /tmp may be a RAM disk on some machines, which would flatter the figures.
    work = Path(tempfile.mkdtemp(prefix="run-", dir=OUT_DIR))
    try:
        results = run_benchmark(shape, work, repeat=args.repeat, profile=args.profile)
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    command = shlex.join(
        [".venv/bin/python", "bench/ledger_bench.py", *(a for a in argv if a != "--keep")]
    )
    results["command"] = command
    results["note"] = args.note
    json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    write_doc(doc, render_section(results, command, _shown(json_path), args.note))
    for row in figure_rows(results):
        met = "" if row.met is None else ("  [met]" if row.met else "  [MISSED]")
        print(f"{row.measure}: {row.figure}{met}")
    print(f"\nWrote {_shown(doc)} and {_shown(json_path)}.")
    return 0


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
