"""Benchmark of the ledger core at 10k, 100k and 1M entries (a federation's journal).

Run from the repository root::

    .venv/bin/python bench/ledger_bench.py                  # 10k, 100k and 1M entries
    .venv/bin/python bench/ledger_bench.py --sizes 100k     # one size
    .venv/bin/python bench/ledger_bench.py --quick          # a smoke run that takes seconds
    .venv/bin/python bench/ledger_bench.py --profile        # also cProfile one import

Why it is built this way:

- The journal is synthetic but shaped like a federation's export (one group after the
  other, weekly meetings, three entries per member per meeting) and deterministic
  (``random.Random(2026)``), so two runs on two machines import the same rows. The sizes
  differ only in the number of groups (each holds 20 members' three years, 9,361
  entries), so a group's own questions (its trial balance, a member's statement) see the
  same history at every size and only the book around them grows.
- The groups and their members are registered through the services before the import,
  and the journal posts each member's savings to the member's own savings account, so a
  member's statement reads three years of history. After the import every group starts
  using Sansam's meetings: a cycle, a loan product, one loan per member carried over from
  the paper books (``import_opening_loans``), then two weekly meetings through the
  meeting service where most members repay what is due. The portfolio reads those loans.
- Every measured piece of work runs in its own child process. ``os.wait4`` then gives the
  peak memory of that child alone; ``RUSAGE_CHILDREN`` would report the largest child seen
  so far, mixing the import with the baseline. It also means each step starts cold, as a
  ``sansam`` command would.
- The baseline is the floor for "putting these rows into SQLite from Python": the stdlib
  ``sqlite3`` ``executemany`` into one plain table, in one transaction, with the same
  journal mode and sync setting as a book. The target is to stay within 5x of it.
- Figures go to ``docs/PERFORMANCE.md`` (only the generated block of its "Ledger core"
  section is replaced, so notes written by hand elsewhere in the file survive) and, raw,
  to ``bench/out/ledger_bench.json``. A ``--quick`` run writes next to the JSON instead,
  so a smoke test never overwrites the published figures. ``--workdir DIR`` keeps each
  size's journal and books in ``DIR/<size>/`` for ``peers_bench.py`` and
  ``meeting_bench.py`` (``run_all.py`` passes it).
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
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the children import ledger/ from the work tree
    sys.path.insert(0, str(ROOT))


def bench_actor():  # type: ignore[no-untyped-def]
    """The benchmark acts for the book as a whole: every role in every group."""
    from ledger.permissions import ROLES, Actor

    return Actor(0, "bench", "Benchmark", True, {}, frozenset(ROLES))


def chair_actor():  # type: ignore[no-untyped-def]
    """A second person for the approvals that need one (maker is not checker)."""
    from ledger.permissions import Actor

    return Actor(0, "chair", "Benchmark chair", False, {}, frozenset({"chair"}))


OUT_DIR = ROOT / "bench" / "out"
DEFAULT_DOC = ROOT / "docs" / "PERFORMANCE.md"
SECTION = "## Ledger core"

# The administrator `sansam init` creates in the benchmark's books, for the CLI steps.
ADMIN_USER, ADMIN_PASSWORD = "bench", "bench-password-2026"

HEADER = ("txn_id", "date", "group", "description", "account", "commodity", "amount")
SEED = 2026
FIRST_MEETING = dt.date(2023, 1, 2)  # a Monday
MEETINGS_PER_YEAR = 52
LOAN_CYCLE = 12  # weeks: a loan is paid out, then repaid over five fortnightly instalments
INSTALMENTS = 5
OPENING_CASH = 5_000_000  # riel in the cash box from the paper books: it never goes below 0
MEETINGS_AFTER = 2  # weekly meetings through the meeting service after the journal
GOOD_PAYERS = 0.75  # share of members who repay what is due at every meeting

# Targets from the issue.
IMPORT_RATIO_TARGET = 5.0
QUERY_TARGET_MS = 100.0
MEMORY_TARGET_MB = 300.0

ENTRIES_PER_GROUP_YEAR = 3 * 20 * MEETINGS_PER_YEAR  # 20 members, three entries a meeting
DEFAULT_SIZES = "10k,100k,1m"
QUICK_SIZES = ((1, 10, 1), (3, 10, 1))  # groups, members, years: seconds each


# --- the synthetic journal ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shape:
    groups: int
    members: int
    years: int
    label: str = ""

    @property
    def meetings(self) -> int:
        return self.years * MEETINGS_PER_YEAR

    @property
    def name(self) -> str:
        return self.label or f"{self.groups}x{self.members}x{self.years}"

    def group_code(self, number: int) -> str:
        return f"SR-{number:0{max(3, len(str(self.groups)))}d}"

    def member_code(self, number: int) -> str:
        return f"M{number:0{max(2, len(str(self.members)))}d}"

    @property
    def probe_group(self) -> str:
        """The group the single-group measures use: SR-050 of 100 groups."""
        return self.group_code(max(1, self.groups // 2))

    @property
    def probe_member(self) -> str:
        return self.member_code(min(7, self.members))

    @property
    def probe_account(self) -> str:
        """A member's savings account in the probe group: M07's at the default size."""
        return f"Liabilities:Savings:Compulsory:{self.probe_member}"

    @property
    def cutoff(self) -> dt.date:
        """The Monday after the journal's last meeting: Sansam's meetings start here."""
        return FIRST_MEETING + dt.timedelta(weeks=self.meetings)

    @property
    def last_meeting(self) -> dt.date:
        return self.cutoff + dt.timedelta(weeks=MEETINGS_AFTER)

    @property
    def statement_start(self) -> dt.date:
        """A member's statement covers the year up to the last meeting."""
        return self.last_meeting - dt.timedelta(days=364)


def parse_sizes(text: str, members: int = 20, years: int = 3) -> list[Shape]:
    """ "10k,100k,1m" -> shapes of 1, 10 and 100 groups (about 9,360 entries each)."""
    shapes = []
    per_group = 3 * members * years * MEETINGS_PER_YEAR
    for word in (w.strip().lower() for w in text.split(",") if w.strip()):
        scale = {"k": 1_000, "m": 1_000_000}.get(word[-1], 1)
        number = float(word[:-1] if scale > 1 else word) * scale
        shapes.append(Shape(max(1, round(number / per_group)), members, years, word))
    return shapes


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

    Per group: the cash carried over from the paper books, then per member per meeting:
    compulsory savings, the social fund, and either a loan event (pay-out at the start of
    the member's 12-week cycle, then five repayments with 2% interest) or a fine. Loans
    are staggered by member so cash moves every week. The names are those of the group's
    chart (``Assets:Cash box``, ``Liabilities:Savings:Compulsory:M07``...), so in a group
    registered with its members the history lands on the members' own accounts.
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


CASH = "Assets:Cash box"


def _group_entries(shape: Shape, code: str, rng: random.Random) -> Iterator[list[tuple[str, ...]]]:
    """One group's entries in meeting order, each a list of CSV rows (one per posting)."""
    instalment = [0] * (shape.members + 1)  # principal per repayment, per member
    remaining = [0] * (shape.members + 1)  # repayments still due, per member
    cash = 0

    def entry(txn: str, date: str, memo: str, *lines: tuple[str, int]) -> list[tuple[str, ...]]:
        nonlocal cash
        assert sum(amount for _, amount in lines) == 0, txn
        cash += sum(amount for account, amount in lines if account == CASH)
        # The book's cash box may not go below zero; the journal must not ask it to.
        assert cash >= 0, f"{code} {txn}: the cash box would hold {cash}"
        return [(txn, date, code, memo, account, "KHR", str(amount)) for account, amount in lines]

    yield entry(
        "opening",
        FIRST_MEETING.isoformat(),
        "Cash box carried over from the paper books",
        (CASH, OPENING_CASH),
        ("Equity:Opening balances", -OPENING_CASH),
    )
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
                (CASH, saving),
                (f"Liabilities:Savings:Compulsory:{member}", -saving),
            )
            yield entry(
                f"{prefix}-soc",
                date,
                f"Social fund {member}",
                (CASH, 1_000),
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
                    (CASH, -principal),
                )
            elif cycle % 2 == 0 and remaining[m]:
                remaining[m] -= 1
                interest = instalment[m] * 2 // 100
                yield entry(
                    f"{prefix}-rep",
                    date,
                    f"Loan repayment {member}",
                    (CASH, instalment[m] + interest),
                    (f"Assets:Loans:{member}", -instalment[m]),
                    ("Income:Interest", -interest),
                )
            else:
                fine = rng.choice((500, 1_000, 2_000))
                yield entry(
                    f"{prefix}-fine",
                    date,
                    f"Fine {member} (late)",
                    (CASH, fine),
                    ("Income:Fines:Late", -fine),
                )


# --- measuring a process -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChildRun:
    payload: dict[str, Any]
    stdout: str
    wall_s: float
    max_rss_kib: int
    returncode: int = 0
    timed_out: bool = False


# The measured commands are started by a small launcher process, not by this one. Linux
# carries the high-water mark of the process that spawns a command into the command's own
# ru_maxrss (vfork, then exec, keeps the larger), so a command started from a parent that
# has imported SQLAlchemy would never report less than that parent. The launcher imports
# almost nothing (about 10 MiB), which is then the floor of every peak-memory figure.
_LAUNCHER_CODE = r"""
import json, os, signal, sys, time
killed = []
def alarm(signum, frame):
    killed.append(1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
signal.signal(signal.SIGALRM, alarm)
for line in sys.stdin:
    req = json.loads(line)
    out = os.open(req["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    killed.clear()
    started = time.perf_counter()
    pid = os.posix_spawnp(
        req["command"][0], req["command"], req["env"],
        file_actions=[(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, out, 1)],
    )
    if req["timeout"]:
        signal.setitimer(signal.ITIMER_REAL, req["timeout"])
    _pid, status, usage = os.wait4(pid, 0)
    signal.setitimer(signal.ITIMER_REAL, 0)
    wall = time.perf_counter() - started
    os.close(out)
    os.close(null)
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps({"wall_s": wall, "max_rss_kib": usage.ru_maxrss, "returncode": code,
                      "timed_out": bool(killed)}), flush=True)
"""
_launcher: subprocess.Popen[str] | None = None


def _launch(request: dict[str, Any]) -> dict[str, Any]:
    global _launcher
    if _launcher is None or _launcher.poll() is not None:
        _launcher = subprocess.Popen(
            [sys.executable, "-S", "-c", _LAUNCHER_CODE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
    assert _launcher.stdin is not None and _launcher.stdout is not None
    _launcher.stdin.write(json.dumps(request) + "\n")
    _launcher.stdin.flush()
    answer = _launcher.stdout.readline()
    if not answer:
        raise SystemExit(f"The launcher stopped while running {shlex.join(request['command'])}.")
    return json.loads(answer)


def measure_process(
    command: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    stdout: Path | None = None,
) -> ChildRun:
    """Run a command to completion: its wall time and its own peak RSS (Linux: KiB).

    The launcher reaps the command with ``os.wait4``, which returns the resource usage of
    that command only, and kills it (SIGKILL) at ``timeout``: the run then says
    ``timed_out``. Output goes to the file ``stdout`` when given (a peer's report can be
    large), else it is returned. Stderr is passed through so progress lines reach the
    log of a long run. The working directory is the repository's root.
    """
    path = stdout
    if path is None:
        handle, name = tempfile.mkstemp(prefix="bench-out-", suffix=".txt")
        os.close(handle)
        path = Path(name)
    try:
        answer = _launch(
            {
                "command": [str(c) for c in command],
                "env": env if env is not None else dict(os.environ),
                "timeout": timeout or 0,
                "stdout": str(path),
            }
        )
        text = path.read_text(encoding="utf-8", errors="replace") if stdout is None else ""
    finally:
        if stdout is None:
            path.unlink(missing_ok=True)
    return ChildRun(
        {},
        text,
        answer["wall_s"],
        answer["max_rss_kib"],
        answer["returncode"],
        answer["timed_out"],
    )


def run_process(
    command: Sequence[str], *, expect_json: bool = True, env: dict[str, str] | None = None
) -> ChildRun:
    """Run a step that must succeed; its last stdout line is its JSON payload."""
    run = measure_process(command, env=env)
    if run.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed with exit code {run.returncode}.")
    payload = json.loads(run.stdout.strip().splitlines()[-1]) if expect_json else {}
    return ChildRun(payload, run.stdout, run.wall_s, run.max_rss_kib)


def run_child(*args: str) -> ChildRun:
    return run_process([sys.executable, str(Path(__file__).resolve()), "_child", *args])


def cli_env() -> dict[str, str]:
    """The environment a script gives `sansam` to sign in as the book's administrator."""
    return {**os.environ, "SANSAM_USER": ADMIN_USER, "SANSAM_PASSWORD": ADMIN_PASSWORD}


def sansam_command() -> list[str]:
    """The ``sansam`` script of this interpreter's environment (the CLI path users take)."""
    script = Path(sys.executable).parent / "sansam"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]


def init_book(db_path: Path) -> ChildRun:
    """`sansam init` of a new book with the benchmark's administrator."""
    command = [*sansam_command(), "init", "--db", str(db_path), "--admin", ADMIN_USER]
    return run_process([*command, "--admin-name", "Benchmark"], expect_json=False, env=cli_env())


# --- the load on the machine ---------------------------------------------------------------


class LoadSampler:
    """The 1-minute load average every few seconds while a benchmark runs: the machine may
    be shared (CI, a colleague's tests), and a reader should see how busy it was."""

    def __init__(self, every_s: float = 5.0) -> None:
        self.samples: list[float] = []
        self._every = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            self.samples.append(round(os.getloadavg()[0], 2))
            if self._stop.wait(self._every):
                return

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float]:
        s = self.samples or [os.getloadavg()[0]]
        return {"min": min(s), "median": statistics.median(s), "max": max(s), "samples": len(s)}


def load_sentence(load: dict[str, float]) -> str:
    return (
        f"The 1-minute load average was {load['min']:.2f}–{load['max']:.2f} (median "
        f"{load['median']:.2f}) during the run; the benchmark itself accounts for about 1 "
        "of it, and other work (other developers' tests) shares this 2-core machine."
    )


# --- child processes: each measured step runs alone ----------------------------------------


def _child_main(argv: Sequence[str]) -> int:
    """The measured steps, one per child process; each prints one JSON line on stdout."""
    parser = argparse.ArgumentParser(prog="ledger_bench.py _child")
    steps = parser.add_subparsers(dest="step", required=True)
    setup = steps.add_parser("setup")
    setup.add_argument("--db", required=True)
    setup.add_argument("--shape", required=True)
    imp = steps.add_parser("import")
    imp.add_argument("--db", required=True)
    imp.add_argument("--csv", required=True, type=Path)
    imp.add_argument("--profile", type=Path)
    raw = steps.add_parser("raw")
    raw.add_argument("--db", required=True, type=Path)
    raw.add_argument("--csv", required=True, type=Path)
    loans = steps.add_parser("loans")
    loans.add_argument("--db", required=True)
    loans.add_argument("--shape", required=True)
    reads = steps.add_parser("reads")
    reads.add_argument("--db", required=True)
    reads.add_argument("--shape", required=True)
    reads.add_argument("--repeat", type=int, default=5)
    verify = steps.add_parser("verify")
    verify.add_argument("--db", required=True)
    args = parser.parse_args(argv)

    if args.step == "setup":
        payload = _child_setup(args.db, Shape(**json.loads(args.shape)))
    elif args.step == "import":
        payload = _child_import(args.db, args.csv, args.profile)
    elif args.step == "raw":
        payload = _child_raw(args.db, args.csv)
    elif args.step == "loans":
        payload = _child_loans(args.db, Shape(**json.loads(args.shape)))
    elif args.step == "reads":
        payload = _child_reads(args.db, Shape(**json.loads(args.shape)), args.repeat)
    else:
        payload = _child_verify(args.db)
    print(json.dumps(payload))
    return 0


def _child_setup(db_url: str, shape: Shape) -> dict[str, Any]:
    """Register every group and its members through the services, before the import;
    the book's administrator becomes every group's coordinator."""
    from ledger.db import Book
    from ledger.groups import create_group
    from ledger.locations import resolve_location
    from ledger.members import add_member
    from ledger.users import grant_role

    actor = bench_actor()
    book = Book(db_url).as_user(actor)
    started = time.perf_counter()

    def register(session):  # type: ignore[no-untyped-def]
        place = resolve_location("Siem Reap", "Puok", "Puok")
        for g in range(1, shape.groups + 1):
            code = shape.group_code(g)
            group = create_group(
                session, code, f"Savings group {code}", meeting_day=0, location=place
            )
            for m in range(1, shape.members + 1):
                add_member(
                    session,
                    group.id,
                    shape.member_code(m),
                    name_latin=f"Member {m} of {code}",
                    sex="F" if m % 3 else "M",
                    joined_on=FIRST_MEETING,
                )
            # The administrator reads the federation from the command line (balances,
            # exports) as its coordinator.
            grant_role(session, actor, ADMIN_USER, code, "coordinator")

    book.write(register)
    seconds = time.perf_counter() - started
    book.close()
    return {"seconds": seconds, "groups": shape.groups, "members": shape.groups * shape.members}


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


RAW_TABLE = (
    "CREATE TABLE postings(txn_id TEXT, date TEXT, grp TEXT, description TEXT, "
    "account TEXT, commodity TEXT, amount INTEGER)"
)


def load_raw(db_path: Path, csv_path: Path) -> tuple[float, int]:
    """The floor: stdlib csv + sqlite3 executemany into one plain table, one transaction.

    Amounts are whole riel in this journal; the book's own CSV export writes them as
    decimals with the commodity's exponent, hence ``Decimal``."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")  # the same settings as a book (ledger/db.py)
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(RAW_TABLE)
    started = time.perf_counter()
    with open(csv_path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = (
            (
                t,
                d,
                g,
                desc,
                a,
                c,
                int(amount) if amount.lstrip("-").isdigit() else int(Decimal(amount)),
            )
            for t, d, g, desc, a, c, amount in reader
        )
        conn.execute("BEGIN")
        cursor = conn.executemany("INSERT INTO postings VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, cursor.rowcount


def _child_raw(db_path: Path, csv_path: Path) -> dict[str, Any]:
    seconds, rows = load_raw(db_path, csv_path)
    return {"seconds": seconds, "rows": rows}


def _child_loans(db_url: str, shape: Shape) -> dict[str, Any]:
    """Each group starts using Sansam after its journal: a cycle, a loan product, one loan
    per member carried over from the paper books, then weekly meetings through the meeting
    service where most members repay what is due (the others fall behind)."""
    from ledger.db import Book
    from ledger.groups import find_group

    book = Book(db_url).as_user(bench_actor())
    started = time.perf_counter()
    totals = {"loans": 0, "meetings": 0, "repayments": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for g in range(1, shape.groups + 1):
            code = shape.group_code(g)
            with book.read() as session:
                group_id = find_group(session, code).id
            loans_csv = Path(tmp) / f"{code}.csv"
            _write_opening_loans(loans_csv, shape, g)
            done = book.write(
                lambda s, gid=group_id, path=loans_csv, number=g: _start_group(
                    s, shape, gid, path, number
                )
            )
            for key in totals:
                totals[key] += done[key]
    seconds = time.perf_counter() - started
    book.close()
    return {"seconds": seconds, **totals}


def _write_opening_loans(path: Path, shape: Shape, group_number: int) -> None:
    rng = random.Random(SEED * 1000 + group_number)
    rows = ["member,product,amount,disbursed_on,outstanding,instalments_left"]
    for m in range(1, shape.members + 1):
        amount = rng.randrange(200_000, 1_000_001, 50_000)
        weeks_ago = rng.randrange(1, 12)
        left = 12 - weeks_ago
        outstanding = max(100, amount * left // 12 // 100 * 100)
        lent = shape.cutoff - dt.timedelta(weeks=weeks_ago)
        rows.append(f"{shape.member_code(m)},L12,{amount},{lent},{outstanding},{left}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _start_group(
    session, shape: Shape, group_id: int, loans_csv: Path, number: int
) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from ledger.cycles import open_cycle
    from ledger.loan_products import create_product
    from ledger.loans import loan_statement, set_member_repayment
    from ledger.meetings import close_meeting, meeting_summary, open_meeting, set_line
    from ledger.models import Loan
    from ledger.money import from_minor, money
    from ledger.opening_loans import import_opening_loans

    def khr(amount: int):  # type: ignore[no-untyped-def]
        return money(amount, "KHR")

    open_cycle(
        session,
        group_id,
        shape.cutoff,
        share_price=khr(5000),
        compulsory_savings=khr(2000),
        social_fund_contribution=khr(500),
    )
    create_product(
        session,
        group_id,
        "L12",
        "Twelve-week loan",
        rate_per_month=Decimal("0.015"),
        term_periods=12,
        frequency="weekly",
        rounding_unit=khr(100),
    )
    loans = import_opening_loans(session, group_id, loans_csv, as_of=shape.cutoff).loans_created
    borrowers = dict(
        session.execute(select(Loan.member_id, Loan.id).where(Loan.group_id == group_id)).all()
    )
    from ledger.members import list_members

    members = list_members(session, group_id)
    rng = random.Random(SEED * 7 + number)
    payers = {m.code for m in members if rng.random() < GOOD_PAYERS}
    repayments = 0
    today = dt.date.today()
    for week in range(1, MEETINGS_AFTER + 1):
        day = shape.cutoff + dt.timedelta(weeks=week)
        meeting = open_meeting(session, group_id, day, today=today)
        for member in members:
            set_line(
                session,
                meeting.id,
                member.code,
                savings=khr(2000),
                share_money=khr(5000),
                social_fund=khr(500),
            )
            loan_id = borrowers.get(member.id)
            if member.code in payers and loan_id is not None:
                due = loan_statement(session, loan_id, on=day).due_now
                if due:
                    set_member_repayment(session, meeting.id, member.code, from_minor(due, "KHR"))
                    repayments += 1
        close_meeting(session, meeting.id, khr(meeting_summary(session, meeting.id).expected_cash))
    return {"loans": loans, "meetings": MEETINGS_AFTER, "repayments": repayments}


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


def _child_reads(db_url: str, shape: Shape, repeat: int) -> dict[str, Any]:
    """The reads a treasurer or coordinator waits for: balances, a member's history and
    statement, the group's statements, the portfolio, one group's verify.

    Each sample opens its own read session, as a command does, so the figure includes
    BEGIN and the snapshot, not only the query.
    """
    from ledger.accounts import accounts_by_name
    from ledger.db import Book
    from ledger.groups import find_group
    from ledger.member_statement import member_statement, member_statements
    from ledger.portfolio import group_portfolio
    from ledger.portfolio_report import portfolio_report
    from ledger.queries import account_history, trial_balance
    from ledger.verify import verify_book

    group_code, account, member = shape.probe_group, shape.probe_account, shape.probe_member
    start, end = shape.statement_start, shape.last_meeting
    book = Book(db_url).as_user(bench_actor())
    with book.read() as session:
        group_id = find_group(session, group_code).id
        account_id = accounts_by_name(session, group_id)[(account, "KHR")]
    balanced: list[bool] = []
    verified: list[bool] = []
    facts: dict[str, Any] = {}

    def tb(group: int | None) -> int:
        with book.read() as session:
            result = trial_balance(session, group)
        balanced.append(result.balanced)
        return len(result.rows)

    def history() -> int:
        with book.read() as session:
            return len(account_history(session, account_id))

    def statement() -> int:
        with book.read() as session:
            st = member_statement(session, group_id, member, start, end)
        facts["statement"] = {
            "movements": sum(len(a.movements) for a in st.savings),
            "loans": len(st.loans),
            "meetings_attended": st.meetings_attended,
            "total_savings": st.total_savings,
        }
        return sum(len(a.movements) for a in st.savings) + sum(
            len(x.principal.movements) for x in st.loans
        )

    def statements() -> int:
        with book.read() as session:
            return len(list(member_statements(session, group_id, start, end)))

    def whole_portfolio() -> int:
        with book.read() as session:
            report = portfolio_report(session, as_of=end)
        total = report.totals[0] if report.totals else None
        if total is not None:
            facts["portfolio"] = {
                "groups": total.groups,
                "loans_active": total.loans_active,
                "gross_outstanding": total.gross_outstanding,
                "par30": f"{total.par30:.1%}" if total.par30 is not None else None,
                "buckets": {k: list(v) for k, v in total.buckets.items()},
                "at_risk_loans": len(report.at_risk),
            }
        return len(report.rows)

    def one_group_portfolio() -> int:
        with book.read() as session:
            return group_portfolio(session, group_id, as_of=end).loans_active

    def verify_group() -> int:
        with book.read() as session:
            report = verify_book(session, group_id)
        verified.append(report.ok)
        return report.entries

    payload = {
        "trial_balance_book": _timed(repeat, lambda: tb(None)).as_dict(),
        "trial_balance_group": _timed(repeat, lambda: tb(group_id)).as_dict(),
        "account_history": _timed(repeat, history).as_dict(),
        "member_statement": _timed(repeat, statement).as_dict(),
        "group_statements": _timed(repeat, statements).as_dict(),
        "portfolio_book": _timed(repeat, whole_portfolio).as_dict(),
        "portfolio_group": _timed(repeat, one_group_portfolio).as_dict(),
        "verify_group": _timed(repeat, verify_group).as_dict(),
        "all_balanced": all(balanced),
        "group_verified": all(verified),
        "group": group_code,
        "account": account,
        "member": member,
        "statement_period": [start.isoformat(), end.isoformat()],
        **facts,
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


def machine_sentence(m: dict[str, Any]) -> str:
    return (
        f"{m['cpu_model']}, {m['nproc']} cores, {m['ram_gib']} GiB RAM; {m['os']}; "
        f"Python {m['python']}, SQLite {m['sqlite']}, SQLAlchemy {m['sqlalchemy']}; code at "
        f"{m['git']}."
    )


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
            for table in (
                "groups",
                "members",
                "accounts",
                "journal_entries",
                "postings",
                "loans",
                "meetings",
            )
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


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _done(run: ChildRun) -> dict[str, Any]:
    return {**run.payload, "wall_s": run.wall_s, "max_rss_kib": run.max_rss_kib}


def run_size(shape: Shape, work: Path, *, repeat: int, profile: bool) -> dict[str, Any]:
    """Every step at one size; the journal and the books are left in ``work``."""
    results: dict[str, Any] = {"label": shape.name, "shape": asdict(shape)}
    csv_path = work / "journal.csv"
    log(
        f"[{shape.name}] generating {shape.groups} groups x {shape.members} members x "
        f"{shape.years} year(s)"
    )
    journal = generate_journal(csv_path, shape)
    results["journal"] = asdict(journal)
    log(f"  {journal.entries:,} entries, {journal.postings:,} postings in {journal.seconds:.1f} s")

    db_path = work / "book.sqlite"
    db_url = f"sqlite:///{db_path}"
    shape_json = json.dumps(asdict(shape))
    init = init_book(db_path)
    results["init"] = {"wall_s": init.wall_s, "max_rss_kib": init.max_rss_kib}
    results["setup"] = _done(run_child("setup", "--db", db_url, "--shape", shape_json))
    log(f"  registered the groups and members in {results['setup']['seconds']:.1f} s")

    log("  importing the journal (one unit of work)")
    first = run_child("import", "--db", db_url, "--csv", str(csv_path))
    results["import"] = _done(first)
    log(f"  {first.payload['seconds']:.1f} s, peak RSS {first.max_rss_kib / 1024:.0f} MiB")
    if first.payload["entries_posted"] != journal.entries:
        raise SystemExit(
            f"The import posted {first.payload['entries_posted']:,} entries, "
            f"expected {journal.entries:,}."
        )

    log("  baseline: raw sqlite3 executemany of the same rows")
    raw_path = work / "raw.sqlite"
    raw_path.unlink(missing_ok=True)
    raw = run_child("raw", "--db", str(raw_path), "--csv", str(csv_path))
    results["raw"] = _done(raw)
    results["raw"]["db_mb"] = round(raw_path.stat().st_size / 1e6, 1)
    log(f"  {raw.payload['seconds']:.1f} s")

    log(f"  loans and {MEETINGS_AFTER} meetings per group through the services")
    results["loans"] = _done(run_child("loans", "--db", db_url, "--shape", shape_json))
    log(f"  {results['loans']['seconds']:.1f} s")
    results["book"] = book_facts(db_path)

    log("  reads: trial balance, history, statements, portfolio, one group's verify")
    reads = run_child("reads", "--db", db_url, "--shape", shape_json, "--repeat", str(repeat))
    results["reads"] = {**reads.payload, "max_rss_kib": reads.max_rss_kib}

    balances = run_process(
        [*sansam_command(), "balances", "--db", str(db_path)], expect_json=False, env=cli_env()
    )
    results["cli_balances"] = {"wall_s": balances.wall_s, "max_rss_kib": balances.max_rss_kib}

    log("  verify of the whole book")
    verify = run_child("verify", "--db", db_url)
    results["verify_book"] = _done(verify)
    log(f"  {verify.payload['seconds']:.1f} s, ok={verify.payload['ok']}")

    log("  second import of the same file (every entry already present)")
    again = run_child("import", "--db", db_url, "--csv", str(csv_path))
    results["replay"] = _done(again)
    log(f"  {again.payload['seconds']:.1f} s")
    if again.payload["entries_posted"] != 0:
        raise SystemExit("The second import posted entries; it should have posted none.")

    if profile:
        log("  profiled import into another fresh book (figures above are unprofiled)")
        prof_db = work / "profiled.sqlite"
        init_book(prof_db)
        stats_path = OUT_DIR / "import.prof"
        run_child(
            "import",
            "--db",
            f"sqlite:///{prof_db}",
            "--csv",
            str(csv_path),
            "--profile",
            str(stats_path),
        )
        results["profile"] = str(stats_path.relative_to(ROOT))
        _print_profile(stats_path)
    return results


def run_benchmark(
    shapes: Sequence[Shape], workdir: Path | None, *, repeat: int, profile: bool
) -> dict[str, Any]:
    results: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine_facts(),
        "sizes": [],
    }
    with LoadSampler() as load:
        for shape in shapes:
            if workdir is not None:
                work = workdir / shape.name
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir(parents=True)
            else:
                # Under bench/out/ (git-ignored) rather than /tmp: the disk the project lives
                # on; /tmp may be a RAM disk on some machines, which would flatter the figures.
                work = Path(tempfile.mkdtemp(prefix="run-", dir=OUT_DIR))
            try:
                size = run_size(shape, work, repeat=repeat, profile=profile)
                size["workdir"] = str(work) if workdir is not None else None
                results["sizes"].append(size)
            finally:
                if workdir is None:
                    shutil.rmtree(work, ignore_errors=True)
    log("done")
    results["load"] = load.summary()
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
    figures: list[str]  # one per size
    target: str = ""
    met: bool | None = None  # at the largest size


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def _ms(t: dict[str, Any]) -> str:
    return f"{t['median_ms']:,.1f} ms"


def _per_s(t: dict[str, Any]) -> str:
    return f"{t['rows'] * 1000 / t['median_ms']:,.0f}/s"


def figure_rows(sizes: list[dict[str, Any]]) -> list[Row]:
    """The table: one row per measure, one column per size; targets judged at the largest."""
    big = sizes[-1]

    def each(fn: Callable[[dict[str, Any]], str]) -> list[str]:
        return [fn(s) for s in sizes]

    def ratio(s: dict[str, Any]) -> float:
        return s["import"]["seconds"] / s["raw"]["seconds"]

    def under(key: str) -> bool:
        return big["reads"][key]["median_ms"] < QUERY_TARGET_MS

    target_ms = f"< {QUERY_TARGET_MS:.0f} ms"
    reads = big["reads"]
    peak = max(
        max(s["import"]["max_rss_kib"], s["reads"]["max_rss_kib"], s["verify_book"]["max_rss_kib"])
        for s in sizes
    )
    return [
        Row("Entries in the book", each(lambda s: f"{s['book']['journal_entries']:,}")),
        Row("Postings", each(lambda s: f"{s['book']['postings']:,}")),
        Row(
            "Groups / members / loans",
            each(
                lambda s: (
                    f"{s['book']['groups']:,} / {s['book']['members']:,} / {s['book']['loans']:,}"
                )
            ),
        ),
        Row(
            "SQLite file (raw baseline table)",
            each(lambda s: f"{s['book']['db_mb']:,.0f} MB ({s['raw']['db_mb']:,.0f} MB)"),
        ),
        Row(
            "Import, fresh book (API, one unit of work)",
            each(
                lambda s: (
                    f"{s['import']['seconds']:,.1f} s — "
                    f"{s['journal']['entries'] / s['import']['seconds']:,.0f} entries/s"
                )
            ),
        ),
        Row(
            "Raw sqlite3 `executemany`, same rows", each(lambda s: f"{s['raw']['seconds']:,.2f} s")
        ),
        Row(
            "Import ÷ raw sqlite3",
            each(lambda s: f"{ratio(s):.1f}×"),
            f"≤ {IMPORT_RATIO_TARGET:.0f}×",
            ratio(big) <= IMPORT_RATIO_TARGET,
        ),
        Row("Peak memory (RSS) of the import", each(lambda s: _mib(s["import"]["max_rss_kib"]))),
        Row(
            "Trial balance, whole book",
            each(
                lambda s: (
                    f"{_ms(s['reads']['trial_balance_book'])} "
                    f"({s['reads']['trial_balance_book']['rows']:,} accounts)"
                )
            ),
            target_ms,
            under("trial_balance_book"),
        ),
        Row(
            f"Trial balance, one group ({reads['trial_balance_group']['rows']:,} accounts)",
            each(lambda s: _ms(s["reads"]["trial_balance_group"])),
            target_ms,
            under("trial_balance_group"),
        ),
        Row(
            f"Member history: {reads['account']} of one group "
            f"({reads['account_history']['rows']:,} rows)",
            each(lambda s: _ms(s["reads"]["account_history"])),
            target_ms,
            under("account_history"),
        ),
        Row(
            "A member's statement data, a year "
            f"({reads.get('statement', {}).get('movements', '?')} savings movements and a loan)",
            each(lambda s: _ms(s["reads"]["member_statement"])),
            target_ms,
            under("member_statement"),
        ),
        Row(
            f"Statement data of a whole group ({reads['group_statements']['rows']} members)",
            each(
                lambda s: (
                    f"{_ms(s['reads']['group_statements'])} — "
                    f"{_per_s(s['reads']['group_statements'])}"
                )
            ),
        ),
        Row(
            "Portfolio report, every group (PAR, ageing, loans at risk)",
            each(
                lambda s: (
                    f"{_ms(s['reads']['portfolio_book'])} "
                    f"({s['reads'].get('portfolio', {}).get('loans_active', '?'):,} active loans)"
                )
            ),
        ),
        Row(
            "Portfolio of one group (the dashboard's)",
            each(lambda s: _ms(s["reads"]["portfolio_group"])),
        ),
        Row("Peak memory (RSS) of the reads", each(lambda s: _mib(s["reads"]["max_rss_kib"]))),
        Row(
            "`sansam balances`, whole book (process: start-up, sign-in, query, printing)",
            each(lambda s: f"{s['cli_balances']['wall_s'] * 1000:,.0f} ms"),
        ),
        Row(
            "Verify, one group",
            each(
                lambda s: (
                    f"{_ms(s['reads']['verify_group'])} "
                    f"({s['reads']['verify_group']['rows']:,} entries)"
                )
            ),
        ),
        Row(
            "Verify, whole book",
            each(
                lambda s: (
                    f"{s['verify_book']['seconds']:,.1f} s — "
                    f"{s['verify_book']['entries'] / s['verify_book']['seconds']:,.0f} entries/s"
                    + ("" if s["verify_book"]["ok"] else " **FOUND PROBLEMS**")
                )
            ),
        ),
        Row(
            "Second import of the same file (all present)",
            each(
                lambda s: (
                    f"{s['replay']['seconds']:,.1f} s "
                    f"({s['replay']['seconds'] / s['import']['seconds']:.0%} of the first)"
                )
            ),
        ),
        Row(
            "Groups, members, loans and meetings set up through the services",
            each(lambda s: f"{s['setup']['seconds'] + s['loans']['seconds']:,.1f} s"),
        ),
        Row(
            "Peak memory (RSS) of any step",
            each(
                lambda s: _mib(
                    max(
                        s["import"]["max_rss_kib"],
                        s["reads"]["max_rss_kib"],
                        s["verify_book"]["max_rss_kib"],
                        s["replay"]["max_rss_kib"],
                        s["loans"]["max_rss_kib"],
                    )
                )
            ),
            f"< {MEMORY_TARGET_MB:.0f} MB",
            peak * 1024 < MEMORY_TARGET_MB * 1e6,
        ),
    ]


def render_section(r: dict[str, Any], command: str, json_path: str, note: str) -> str:
    sizes = r["sizes"]
    m = r["machine"]
    rows = figure_rows(sizes)
    labels = [s["label"] for s in sizes]
    table = [
        "| Measure | " + " | ".join(labels) + " | Target | Met? |",
        "|---" * (len(labels) + 3) + "|",
    ]
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        table.append(f"| {row.measure} | " + " | ".join(row.figures) + f" | {row.target} | {met} |")
    big = sizes[-1]
    shape, j, reads = big["shape"], big["journal"], big["reads"]
    per_group = j["entries"] // max(1, shape["groups"])
    folio = reads.get("portfolio", {})
    shapes = ", ".join(
        f"{s['label']} = {s['shape']['groups']} group{'s' if s['shape']['groups'] > 1 else ''}"
        for s in sizes
    )
    lines = [
        "Generated by `bench/ledger_bench.py`; rerun it to refresh this block. Raw figures: "
        f"`{json_path}`.",
        "",
        f"Command: `{command}`  ",
        f"Run: {r['started']} to {r['finished']}.",
        "",
        f"**Data.** A synthetic federation journal (seed 2026), the same at every size but "
        f"for the number of groups ({shapes}). Each group has {shape['members']} members and "
        f"{shape['years']} year(s) of weekly meetings ({j['first_date']} to {j['last_date']}): "
        "the cash carried over from paper, then three entries per member per meeting "
        "(savings to the member's own savings account, the social fund, and a loan pay-out, "
        f"repayment or fine), all KHR: {per_group:,} entries a group. The groups and members "
        "are registered through the services before the import. After the journal, each "
        "group opens a cycle and a loan product, carries over one loan per member from the "
        "paper books (`import_opening_loans`, the loans the portfolio reads; the journal's "
        "own loan history sits in plain accounts), and holds "
        f"{MEETINGS_AFTER} weekly meetings through the meeting service, where about "
        f"{GOOD_PAYERS:.0%} of the members repay what is due and the rest fall behind. "
        f"At {big['label']}: {folio.get('loans_active', '?'):,} active loans, PAR30 "
        f"{folio.get('par30')}, {folio.get('at_risk_loans', '?'):,} loans overdue on the "
        f"portfolio's date ({reads['statement_period'][1]}). A member's statement covers "
        f"{reads['statement_period'][0]} to {reads['statement_period'][1]}.",
        "",
        f"**Machine.** {machine_sentence(m)} {load_sentence(r['load'])}"
        + (f" {note}" if note else ""),
        "",
        "**Method.** Each step runs in its own process, one after the other: `sansam init`, "
        "the groups and members, the import (`import_journal` inside one `Book.write`, as "
        "`sansam journal import` does), the raw baseline (stdlib `csv` + `sqlite3` "
        "`executemany` into `postings(txn_id, date, grp, description, account, commodity, "
        "amount INTEGER)`, one transaction, WAL and `synchronous = FULL` like a book), the "
        "loans and meetings, the reads, a whole-book verify and a second import of the same "
        "file. Import and baseline times cover the work only (not interpreter start-up); "
        "peak memory is the child's own `ru_maxrss` from `wait4`. Each read is repeated "
        f"{len(reads['account_history']['samples_ms'])} times, each in its own read session "
        "(the first sample includes SQLAlchemy compiling the query); the table gives the "
        "median. Targets are judged at the largest size.",
        "",
        *table,
        "",
    ]
    return "\n".join(lines)


# --- the document: generated blocks inside hand-kept sections -------------------------------


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- generated by {name}: begin -->", f"<!-- generated by {name}: end -->"


def outputs(args: argparse.Namespace, name: str) -> tuple[Path, Path]:
    """The Markdown file and the JSON a benchmark writes: ``--out``/``--json`` when
    given, else the published ones (a ``--quick`` run writes beside them, so a smoke run
    never replaces the published figures)."""
    suffix = "-quick" if args.quick else ""
    doc = args.out or (OUT_DIR / "PERFORMANCE-quick.md" if args.quick else DEFAULT_DOC)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    return doc, args.json or OUT_DIR / f"{name}{suffix}.json"


def render_saved(
    saved_path: Path,
    doc: Path,
    section: str,
    script: str,
    render: Callable[[dict[str, Any], str, str], str],
) -> int:
    """``--render``: write a benchmark's block again from its saved figures."""
    saved = json.loads(saved_path.read_text(encoding="utf-8"))
    write_block(doc, section, script, render(saved, saved["command"], shown(saved_path)))
    print(f"Wrote {shown(doc)} from {shown(saved_path)}.")
    return 0


def write_block(
    path: Path,
    heading: str,
    name: str,
    body: str,
    *,
    before: Sequence[str] = (),
    first: bool = False,
) -> None:
    """Put ``body`` between the markers of ``name`` in ``path``, keeping everything else.

    Without the markers: under ``heading`` if the section exists (its old text is kept
    below the block, for a hand to tidy), else as a new section placed before the first
    of the ``before`` headings that exists (or after the title with ``first``), or at the
    end. Text written by hand around the block survives every run.
    """
    begin, end = _markers(name)
    block = f"{begin}\n{body.strip()}\n{end}\n"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        new = head + block + ("\n" + tail if tail else "")
    else:
        lines = text.splitlines(keepends=True)
        at = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
        if at is not None:
            new = (
                "".join(lines[: at + 1])
                + "\n"
                + block
                + "\n"
                + "".join(lines[at + 1 :]).lstrip("\n")
            )
        else:
            section = f"{heading}\n\n{block}\n"
            headings = [i for i, line in enumerate(lines) if line.startswith("## ")]
            where = None
            if first:
                where = headings[0] if headings else None
            for wanted in before:
                found = [i for i in headings if lines[i].rstrip() == wanted]
                if found:
                    where = found[0]
                    break
            if where is None:
                new = text.rstrip("\n") + "\n\n" + section
            else:
                new = "".join(lines[:where]) + section + "\n" + "".join(lines[where:])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --- entry point -------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_child"]:
        return _child_main(argv[1:])
    parser = argparse.ArgumentParser(
        description="Benchmark the ledger core on a synthetic federation journal."
    )
    parser.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help="entries, comma-separated (default %(default)s); each is 20 members x 3 years "
        "per group and as many groups as it takes",
    )
    parser.add_argument("--groups", type=int, help="one size: this many groups instead")
    parser.add_argument("--members", type=int, default=20, help="members per group")
    parser.add_argument("--years", type=int, default=3, help="years of weekly meetings")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="two tiny books (1 and 3 groups x 10 members x 1 year): a smoke run of seconds "
        "(writes under bench/out/, not docs/)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="samples per read measure")
    parser.add_argument("--out", type=Path, help="Markdown file to update (its Ledger core part)")
    parser.add_argument("--json", type=Path, help="where to write the raw figures")
    parser.add_argument("--workdir", type=Path, help="keep each size's journal and books here")
    parser.add_argument(
        "--note", default="", help="a sentence for the report, e.g. what else ran meanwhile"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile one import (bench/out/import.prof)"
    )
    parser.add_argument(
        "--render", type=Path, help="only write the document's block again from this JSON"
    )
    args = parser.parse_args(argv)
    if args.quick:
        shapes = [Shape(g, m, y, f"{g}x{m}x{y}") for g, m, y in QUICK_SIZES]
    elif args.groups:
        shapes = [Shape(args.groups, args.members, args.years)]
    else:
        shapes = parse_sizes(args.sizes, args.members, args.years)
    if not shapes or min(min(s.groups, s.members, s.years) for s in shapes) < 1:
        parser.error("--groups, --members and --years must be at least 1")
    doc, json_path = outputs(args, "ledger_bench")
    if args.render:
        return render_saved(
            args.render,
            doc,
            SECTION,
            "bench/ledger_bench.py",
            lambda saved, command, shown_path: render_section(
                saved, command, shown_path, saved.get("note", "")
            ),
        )
    results = run_benchmark(shapes, args.workdir, repeat=args.repeat, profile=args.profile)
    command = shlex.join([".venv/bin/python", "bench/ledger_bench.py", *argv])
    results["command"] = command
    results["note"] = args.note
    json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    body = render_section(results, command, shown(json_path), args.note)
    write_block(doc, SECTION, "bench/ledger_bench.py", body)
    for row in figure_rows(results["sizes"]):
        met = "" if row.met is None else ("  [met]" if row.met else "  [MISSED]")
        print(f"{row.measure}: {' | '.join(row.figures)}{met}")
    print(f"\nWrote {shown(doc)} and {shown(json_path)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
