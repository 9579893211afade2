"""Benchmark: how long the treasurer waits from starting the app to her group's dashboard,
on a big book (about 100,000 entries) and on a book holding only the demo federation.

Run from the repository root::

    .venv/bin/python bench/app_bench.py              # ~100,000 entries (17 groups x 20 x 2 years)
    .venv/bin/python bench/app_bench.py --quick      # a smoke run

How: the synthetic federation journal of ``bench/ledger_bench.py`` is imported, then the
demo federation (groups with members, loans and meetings) is loaded into the same book
and a real user is created. Each measure runs in a fresh child process (cold start, as a
treasurer's click on the icon): it imports the app, drives it headless with Textual's
pilot through the real sign-in screen, and times each step until the dashboard's figures
are on screen. The median of the runs and the child's peak memory are written to
``bench/out/app_bench.json``; the figures go to ``docs/PERFORMANCE.md`` by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

USER, PASSWORD = "bench", "bench-password-2026"
DEMO_GROUP = "SR-PUOK-01"

import ledger_bench as lb  # noqa: E402  (bench/ is on the path only from here)


def build_book(path: Path, groups: int, members: int, years: int) -> dict[str, int]:
    from ledger_bench import Shape, bench_actor, generate_journal

    from ledger import migrate
    from ledger.db import Book
    from ledger.demo import load_demo
    from ledger.journal_csv import import_journal
    from ledger.queries import chain_head
    from ledger.users import create_user, grant_role

    book = Book(f"sqlite:///{path}")
    migrate.upgrade(book)
    actor = bench_actor()
    imported = 0
    if groups:
        journal = path.with_suffix(".csv")
        generate_journal(journal, Shape(groups, members, years))
        summary = book.as_user(actor).write(lambda s: import_journal(s, journal))
        imported = summary.entries_posted
        journal.unlink()
    book.as_user(actor).write(lambda s: load_demo(s, today=dt.date.today()))

    def users(session):  # type: ignore[no-untyped-def]
        from ledger.models import Group

        admin = create_user(session, USER, "Bench", PASSWORD, is_admin=True, created_by=None)
        for (code,) in session.query(Group.code).all():
            grant_role(session, admin, USER, code, "treasurer")
        return sum(chain_head(session, gid)[0] for (gid,) in session.query(Group.id).all())

    entries = book.write(users)
    book.close()
    return {"entries": entries, "imported": imported}


def child(db_path: str, group: str) -> None:
    """One cold start: import the app, sign in, open the group; print the timings."""
    started = time.perf_counter()
    from textual.widgets import DataTable

    from ledger.db import Book
    from tui.app import SansamApp
    from tui.dashboard_screen import DashboardScreen

    imported = time.perf_counter()
    timings: dict[str, float] = {"import_ms": (imported - started) * 1000}

    async def drive() -> None:
        app = SansamApp(Book(f"sqlite:///{db_path}"))
        async with app.run_test(size=(120, 40)) as pilot:
            timings["sign_in_screen_ms"] = (time.perf_counter() - started) * 1000
            app.screen.query_one("#user").value = USER
            app.screen.query_one("#secret").value = PASSWORD
            t0 = time.perf_counter()
            app.screen.action_sign_in()
            await pilot.pause()
            table = app.screen.query_one(DataTable)
            timings["groups_listed_ms"] = (time.perf_counter() - t0) * 1000
            row = next(r for r in range(table.row_count) if table.get_row_at(r)[0] == group)
            table.move_cursor(row=row)
            t1 = time.perf_counter()
            app.screen.action_open_group()
            await pilot.pause()
            assert isinstance(app.screen, DashboardScreen)
            timings["dashboard_ms"] = (time.perf_counter() - t1) * 1000
            timings["start_to_dashboard_ms"] = (time.perf_counter() - started) * 1000

    asyncio.run(drive())
    print(json.dumps(timings))


def measure(db: Path, group: str, runs: int) -> dict[str, float]:
    """Cold starts in children of the ledger benchmark's small launcher: a child started
    by this process (which built a big book) would inherit its memory high-water mark,
    and the app's peak would read as this process's."""
    results = []
    for _ in range(runs):
        run = lb.run_process(
            [sys.executable, __file__, "--child", str(db), group],
            env={**os.environ, "SANSAM_IDLE_MINUTES": "60"},
        )
        results.append({**run.payload, "peak_rss_mib": run.max_rss_kib / 1024})
    return {k: round(statistics.median(r[k] for r in results), 1) for k in results[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", nargs=2, metavar=("DB", "GROUP"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    groups, members, years = (3, 10, 1) if args.quick else (17, 20, 2)
    work = Path(tempfile.mkdtemp(prefix="sansam-app-bench-"))
    try:
        big, small = work / "big.sqlite", work / "demo.sqlite"
        started = time.perf_counter()
        sizes = {"big": build_book(big, groups, members, years), "demo": build_book(small, 0, 0, 0)}
        print(f"books built in {time.perf_counter() - started:.0f} s: {sizes}", file=sys.stderr)
        report = {
            "when": dt.datetime.now().isoformat(timespec="seconds"),
            "nproc": len(os.sched_getaffinity(0)),
            "runs": args.runs,
            "books": sizes,
            "big_book_demo_group": measure(big, DEMO_GROUP, args.runs),
            "big_book_imported_group": measure(
                big, "SR-009" if not args.quick else "SR-002", args.runs
            ),
            "demo_only_book": measure(small, DEMO_GROUP, args.runs),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = ROOT / "bench" / "out" / ("app_bench_quick.json" if args.quick else "app_bench.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
