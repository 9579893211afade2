"""Benchmark of printed member statements: statements per second for a batch of 1,000.

Builds a fresh SQLite book with one group of MEMBERS members who met weekly for a quarter
(savings, a share and the social fund at every meeting: about 40 movements each), then
times:

- the statements' data (``member_statements``), alone;
- one PDF holding every statement (``statements_pdf``, A4, Khmer with English), drawn by
  one worker process per core as the app and the command line draw it, and again drawn
  in one process (``workers=1``, in a fresh child) to show what the workers add;
- one PDF per member (``statements_to_files``), one worker per core;

and writes the figures to ``bench/out/statements_bench.json``. Run it with

    .venv/bin/python bench/statements_bench.py [--members 1000] [--weeks 13]

The book is built in a child process first. Peak memory is each process's own high-water
mark (Linux VmHWM): this process's for the batches, the largest drawing worker's, and the
one-process run's.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import multiprocessing
import os
import platform
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pypdf import PdfReader

from ledger import migrate
from ledger.cycles import open_cycle
from ledger.db import Book
from ledger.groups import create_group, find_group
from ledger.locations import resolve_location
from ledger.member_import import import_members
from ledger.member_statement import member_statements
from ledger.money import money
from ledger.permissions import ROLES, Actor
from ledger.sheet_import import import_meetings
from reports.batch import statements_pdf, statements_to_files
from reports.pool import MAX_WORKERS, cores
from reports.text import Words

BENCH = Actor(0, "bench", "Benchmark", True, {}, frozenset(ROLES))
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "statements_bench.json"
START = dt.date(2026, 1, 5)  # a Monday
TARGET_PER_SECOND = 50


def build_book(url: str, folder: Path, members: int, weeks: int) -> None:
    """One group, ``members`` members, ``weeks`` weekly meetings of 7,500 riel each."""
    members_csv = folder / "members.csv"
    lines = ["code,name_latin,sex,joined_on"]
    lines += [f"M{n:04d},Member {n:04d},F,{START}" for n in range(1, members + 1)]
    members_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sheet = folder / "sheets.csv"
    rows = [
        "date,member,attended,savings,voluntary_savings,withdrawal,shares,social_fund,fine,"
        "loan_repayment,counted_cash"
    ]
    for week in range(weeks):
        day = START + dt.timedelta(weeks=week)
        for n in range(1, members + 1):
            counted = 7500 * members * (week + 1) if n == members else ""
            rows.append(f"{day},M{n:04d},yes,2000,,,5000,500,,,{counted}")
    sheet.write_text("\n".join(rows) + "\n", encoding="utf-8")
    book = Book(url).as_user(BENCH)
    migrate.upgrade(book)

    def build(session):  # type: ignore[no-untyped-def]
        group = create_group(
            session,
            "BENCH-01",
            "Benchmark savings group",
            meeting_day=0,
            location=resolve_location("Siem Reap", "Puok", "Puok"),
        )
        open_cycle(
            session,
            group.id,
            START,
            share_price=money(5000, "KHR"),
            compulsory_savings=money(2000, "KHR"),
            social_fund_contribution=money(500, "KHR"),
        )
        import_members(session, group.id, members_csv)
        import_meetings(session, group.id, sheet, today=START + dt.timedelta(weeks=weeks))
        return group.id

    book.write(build)
    book.close()


def vm_hwm_mib(pid: int | str = "self") -> float:
    """A process's own peak RSS (Linux VmHWM). Unlike ``ru_maxrss`` it is not raised by
    the parent a worker was spawned from (exec keeps the larger of the two there)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class WorkerPeaks(threading.Thread):
    """Polls this process's children (the drawing workers) for their peak RSS."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mib = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.wait(0.1):
            for task in Path(f"/proc/{me}/task").iterdir():
                for child in (task / "children").read_text().split():
                    with contextlib.suppress(OSError):  # a worker may just have ended
                        self.peak_mib = max(self.peak_mib, vm_hwm_mib(child))


def draw_in_one_process(url: str, end: dt.date, out: Path) -> dict[str, float]:
    """One PDF of every statement drawn in this (fresh) process, as on a one-core machine:
    its time and this process's peak RSS."""
    book = Book(url).as_user(BENCH)
    with book.read() as session:
        group_id = find_group(session, "BENCH-01").id
        started = time.perf_counter()
        pdf, count = statements_pdf(
            member_statements(session, group_id, START, end), words=Words("both"), workers=1
        )
        seconds = time.perf_counter() - started
    book.close()
    out.write_bytes(pdf)
    return {
        "statements": count,
        "seconds": round(seconds, 1),
        "per_s": round(count / seconds, 1),
        "peak_rss_mib": round(vm_hwm_mib()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=13)
    args = parser.parse_args()
    end = START + dt.timedelta(weeks=args.weeks)
    words = Words("both")
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'book.sqlite'}"
        started = time.perf_counter()
        with ProcessPoolExecutor(1, mp_context=spawn) as builder:  # its memory is not ours
            builder.submit(build_book, url, folder, args.members, args.weeks).result()
        built = time.perf_counter() - started
        sampler = WorkerPeaks()
        sampler.start()
        book = Book(url).as_user(BENCH)
        with book.read() as session:
            group_id = find_group(session, "BENCH-01").id
            started = time.perf_counter()
            movements = sum(
                sum(len(a.movements) for a in s.savings)
                for s in member_statements(session, group_id, START, end)
            )
            data_s = time.perf_counter() - started
            started = time.perf_counter()
            pdf, count = statements_pdf(
                member_statements(session, group_id, START, end), words=words
            )
            one_pdf_s = time.perf_counter() - started
            (folder / "all.pdf").write_bytes(pdf)
            started = time.perf_counter()
            files = statements_to_files(
                member_statements(session, group_id, START, end), folder / "each", words=words
            )
            each_s = time.perf_counter() - started
        book.close()
        sampler.stop.set()
        sampler.join()
        peak_mib = vm_hwm_mib()
        with ProcessPoolExecutor(1, mp_context=spawn) as alone:
            one_process = alone.submit(draw_in_one_process, url, end, folder / "alone.pdf")
            one_process_figures = one_process.result()
    figures = {
        "members": args.members,
        "weeks": args.weeks,
        "movements_per_statement": round(movements / args.members, 1),
        "book_build_s": round(built, 1),
        "statement_data_per_s": round(args.members / data_s, 1),
        "one_pdf": {
            "statements": count,
            "seconds": round(one_pdf_s, 1),
            "per_s": round(count / one_pdf_s, 1),
            "pages": len(PdfReader(io.BytesIO(pdf)).pages),
            "mib": round(len(pdf) / 2**20, 1),
        },
        "one_pdf_one_process": one_process_figures,
        "one_file_each": {
            "files": len(files),
            "seconds": round(each_s, 1),
            "per_s": round(len(files) / each_s, 1),
        },
        "workers": min(cores(), MAX_WORKERS),
        "peak_rss_mib": round(peak_mib),
        "worker_peak_rss_mib": round(sampler.peak_mib),
        "target_per_s": TARGET_PER_SECOND,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "when": dt.datetime.now().isoformat(timespec="seconds"),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
