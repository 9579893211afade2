"""Benchmark: a 30-member meeting posted end to end, on a small book and on a big one.

Run from the repository root::

    .venv/bin/python bench/meeting_bench.py                        # builds a 100k-entry book
    .venv/bin/python bench/meeting_bench.py --big bench/out/work/100k/book.sqlite
    .venv/bin/python bench/meeting_bench.py --quick                # a smoke run

What is timed is what the treasurer waits for, through the services the app calls
(``ledger.meetings``, ``ledger.loans``), each write in its own unit of work as the app's
meeting screen makes it (``tui/meeting_screen.py``):

1. open the meeting (``open_meeting``);
2. fill the sheet: 30 rows, each saved as the treasurer leaves it (``set_line`` with
   savings, share money and the social fund; for the two borrowers also
   ``set_member_repayment`` with what is due), one ``Book.write`` per row;
3. close and post: the summary the count screen shows (``meeting_summary``), then
   ``close_meeting`` with the expected cash counted, which posts every row's entries.

The same meeting is also timed as one unit of work (how the meeting-sheet import records
it). Each variant runs a series of weekly meetings in its own process (the median is
reported, and the process's own peak RSS), on a fresh book holding only this group and on
a copy of a book that already holds about 100,000 entries (the ledger benchmark's).
The due amounts are read before the clock starts, as the screen shows them when it opens.
Figures go to ``bench/out/meeting_bench.json`` and the "A 30-member meeting" block of
``docs/PERFORMANCE.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ledger_bench as lb

SECTION = "## A 30-member meeting"
TARGET_MS = 200.0
MEMBERS = 30
BORROWERS = ("M01", "M02")
GROUP = "MEET-30"
START = dt.date(2026, 3, 2)  # a Monday: the group's first meeting
WEEK = dt.timedelta(weeks=1)
SETUP_MEETINGS = 2  # the first saves, the second lends to the borrowers
DEFAULT_MEETINGS = 7  # timed meetings per variant


def member_code(n: int) -> str:
    return f"M{n:02d}"


# --- children ----------------------------------------------------------------------------


def _child_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="meeting_bench.py _child")
    parser.add_argument("step", choices=("setup", "meetings"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--variant", choices=("app", "one"), default="app")
    parser.add_argument("--first-week", type=int, default=SETUP_MEETINGS)
    parser.add_argument("--count", type=int, default=DEFAULT_MEETINGS)
    args = parser.parse_args(argv)
    if args.step == "setup":
        payload = _setup(args.db)
    else:
        payload = _meetings(args.db, args.variant, args.first_week, args.count)
    print(json.dumps(payload))
    return 0


def _setup(db_url: str) -> dict[str, Any]:
    """The group, its 30 members, a cycle and a loan product; a first meeting where all
    save and buy shares, and a second that lends to the two borrowers."""
    from ledger.cycles import open_cycle
    from ledger.db import Book
    from ledger.groups import create_group
    from ledger.loan_products import create_product
    from ledger.loans import apply_for_loan, approve_loan, lend_at_meeting
    from ledger.locations import resolve_location
    from ledger.meetings import close_meeting, meeting_summary, open_meeting, set_line
    from ledger.members import add_member
    from ledger.money import money
    from ledger.permissions import acting_as

    def khr(amount: int):  # type: ignore[no-untyped-def]
        return money(amount, "KHR")

    book = Book(db_url).as_user(lb.bench_actor())
    today = dt.date.today()
    started = time.perf_counter()

    def build(s):  # type: ignore[no-untyped-def]
        group = create_group(
            s,
            GROUP,
            "Thirty members' savings group",
            meeting_day=0,
            location=resolve_location("Siem Reap", "Puok", "Puok"),
        )
        open_cycle(
            s,
            group.id,
            START,
            share_price=khr(5000),
            compulsory_savings=khr(2000),
            social_fund_contribution=khr(500),
        )
        for n in range(1, MEMBERS + 1):
            add_member(
                s, group.id, member_code(n), name_latin=f"Member {n}", sex="F", joined_on=START
            )
        create_product(
            s,
            group.id,
            "W20",
            "Twenty-week loan",
            rate_per_month=Decimal("0.012"),
            term_periods=20,
            frequency="weekly",
            rounding_unit=khr(100),
        )
        first = open_meeting(s, group.id, START, today=today)
        for n in range(1, MEMBERS + 1):
            set_line(s, first.id, member_code(n), savings=khr(2000), share_money=khr(10000))
        close_meeting(s, first.id, khr(meeting_summary(s, first.id).expected_cash))
        second = open_meeting(s, group.id, START + WEEK, today=today)
        for code in BORROWERS:
            loan = apply_for_loan(
                s, group.id, code, "W20", khr(100_000), purpose="Seeds", applied_on=START + WEEK
            )
            with acting_as(s, lb.chair_actor()):
                approve_loan(s, loan.id, on=START + WEEK)
            lend_at_meeting(s, second.id, loan.id)
        close_meeting(s, second.id, khr(meeting_summary(s, second.id).expected_cash))
        return group.id

    book.write(build)
    seconds = time.perf_counter() - started
    book.close()
    return {"seconds": seconds}


def _meetings(db_url: str, variant: str, first_week: int, count: int) -> dict[str, Any]:
    """``count`` weekly meetings, each timed phase by phase."""
    from sqlalchemy import select

    from ledger.db import Book
    from ledger.groups import find_group
    from ledger.loans import loan_statement, set_member_repayment
    from ledger.meetings import close_meeting, meeting_summary, open_meeting, set_line
    from ledger.models import Loan, Member
    from ledger.money import from_minor, money

    def khr(amount: int):  # type: ignore[no-untyped-def]
        return money(amount, "KHR")

    book = Book(db_url).as_user(lb.bench_actor())
    today = dt.date.today()
    with book.read() as s:
        group_id = find_group(s, GROUP).id
        loans = dict(
            s.execute(
                select(Member.code, Loan.id)
                .join(Loan, Loan.member_id == Member.id)
                .where(Loan.group_id == group_id)
            ).all()
        )
    codes = [member_code(n) for n in range(1, MEMBERS + 1)]
    samples: list[dict[str, float]] = []
    entries_posted = 0
    for week in range(first_week, first_week + count):
        day = START + week * WEEK
        with book.read() as s:  # what the sheet shows when it opens: not timed
            due = {code: loan_statement(s, loans[code], on=day).due_now for code in BORROWERS}

        def row(s, meeting_id: int, code: str, due: dict[str, int] = due) -> None:  # type: ignore[no-untyped-def]
            set_line(
                s,
                meeting_id,
                code,
                savings=khr(2000),
                share_money=khr(5000),
                social_fund=khr(500),
            )
            if code in due:
                set_member_repayment(s, meeting_id, code, from_minor(due[code], "KHR"))

        def close(s, meeting_id: int) -> int:  # type: ignore[no-untyped-def]
            summary = close_meeting(
                s, meeting_id, khr(meeting_summary(s, meeting_id).expected_cash)
            )
            return summary.meeting.number

        t0 = time.perf_counter()
        if variant == "app":
            meeting = book.write(lambda s, d=day: open_meeting(s, group_id, d, today=today))
            t1 = time.perf_counter()
            for code in codes:
                book.write(lambda s, c=code, m=meeting.id: row(s, m, c))
            t2 = time.perf_counter()
            with book.read() as s:  # the count screen's expected cash
                meeting_summary(s, meeting.id)
            book.write(lambda s, m=meeting.id: close(s, m))
            t3 = time.perf_counter()
        else:

            def whole(s, d=day) -> float:  # type: ignore[no-untyped-def]
                meeting = open_meeting(s, group_id, d, today=today)
                for code in codes:
                    row(s, meeting.id, code)
                close(s, meeting.id)
                return time.perf_counter()

            t1 = t2 = t0
            t3 = book.write(whole)
            t3 = time.perf_counter()
        samples.append(
            {
                "open_ms": (t1 - t0) * 1000,
                "sheet_ms": (t2 - t1) * 1000,
                "close_ms": (t3 - t2) * 1000,
                "total_ms": (t3 - t0) * 1000,
            }
        )
        with book.read() as s:
            from ledger.queries import chain_head

            entries_posted = chain_head(s, group_id)[0]
    book.close()
    return {
        "variant": variant,
        "meetings": count,
        "samples": samples,
        "median_ms": {k: statistics.median(x[k] for x in samples) for k in samples[0]},
        "group_entries": entries_posted,
    }


def child(*args: str) -> lb.ChildRun:
    return lb.run_process([sys.executable, str(Path(__file__).resolve()), "_child", *args])


# --- the run -----------------------------------------------------------------------------


def copy_book(source: Path, target: Path) -> None:
    """A consistent copy (SQLite's backup API), so the source book stays as it was."""
    target.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()


def measure_book(db_path: Path, count: int) -> dict[str, Any]:
    url = f"sqlite:///{db_path}"
    setup = child("setup", "--db", url)
    before = lb.book_facts(db_path)
    result: dict[str, Any] = {
        "entries_before": before["journal_entries"],
        "setup_s": setup.payload["seconds"],
    }
    week = SETUP_MEETINGS
    for variant in ("app", "one"):
        run = child(
            "meetings",
            "--db",
            url,
            "--variant",
            variant,
            "--first-week",
            str(week),
            "--count",
            str(count),
        )
        result[variant] = {**run.payload, "max_rss_kib": run.max_rss_kib}
        week += count
        m = run.payload["median_ms"]
        lb.log(
            f"  {variant}: median {m['total_ms']:.0f} ms (open {m['open_ms']:.0f}, sheet "
            f"{m['sheet_ms']:.0f}, close {m['close_ms']:.0f}), peak RSS "
            f"{run.max_rss_kib / 1024:.0f} MiB"
        )
    result["entries_after"] = lb.book_facts(db_path)["journal_entries"]
    return result


def build_big(work: Path, shape: lb.Shape) -> Path:
    """A book of the ledger benchmark's (when none is given): its journal and services."""
    import peers_bench

    folder = work / shape.name
    folder.mkdir(parents=True, exist_ok=True)
    peers_bench.build_book(shape, folder)
    return folder / "book.sqlite"


def render_section(results: dict[str, Any], command: str, json_path: str) -> str:
    def row(label: str, r: dict[str, Any], key: str) -> str:
        m = r[key]["median_ms"]
        total = m["total_ms"]
        verdict = "yes" if total < TARGET_MS else "**no**"
        spread = f"{min(x['total_ms'] for x in r[key]['samples']):,.0f}–" + (
            f"{max(x['total_ms'] for x in r[key]['samples']):,.0f}"
        )
        phases = (
            f"{m['open_ms']:,.0f} / {m['sheet_ms']:,.0f} / {m['close_ms']:,.0f}"
            if key == "app"
            else "one unit of work"
        )
        return (
            f"| {label} | {phases} | **{total:,.0f} ms** ({spread}) | "
            f"{lb._mib(r[key]['max_rss_kib'])} | < {TARGET_MS:.0f} ms | {verdict} |"
        )

    books = results["books"]
    lines = [
        "Generated by `bench/meeting_bench.py`; rerun it to refresh this block. Raw figures: "
        f"`{json_path}`.",
        "",
        f"Command: `{command}`  ",
        f"Run: {results['started']} to {results['finished']}.",
        "",
        f"**Machine.** {lb.machine_sentence(results['machine'])} "
        f"{lb.load_sentence(results['load'])}",
        "",
        f"**Data.** A group of {MEMBERS} members with a cycle (share price 5,000 riel), a "
        f"twenty-week loan product and two borrowers ({', '.join(BORROWERS)}, 100,000 riel "
        "each, lent at the second meeting). Each timed meeting: every member pays 2,000 "
        "savings, 5,000 for a share and 500 to the social fund, and the two borrowers repay "
        "what is due (interest and principal), so closing posts "
        f"{MEMBERS} savings-and-shares lines, the social fund, the repayments and the cash "
        f"count. The small book holds only this group ({books['small']['entries_before']:,} "
        "entries before the timed meetings); the big one is a copy of the ledger "
        f"benchmark's {results['big_label']} book ({books['big']['entries_before']:,} "
        "entries in "
        f"{results['big_groups']} groups).",
        "",
        f"**Method.** {results['count']} weekly meetings per variant, each variant in its "
        'own process (its peak RSS from `wait4`); the median and the range. "As the app" '
        "is one unit of work to open, one per row saved (30), a read for the count "
        "screen's expected cash, and one to close and post, each committed durably "
        '(`synchronous = FULL`); the phases are open / sheet / close. "One unit of work" '
        "does the same calls in one `Book.write`, as the meeting-sheet import does.",
        "",
        "| Book, variant | Open / sheet / close (median ms) | Total, median (range) | Peak RSS | "
        "Target | Met? |",
        "|---|---|---|---|---|---|",
        row("Small book, as the app", books["small"], "app"),
        row("Small book, one unit of work", books["small"], "one"),
        row(f"{results['big_label']} book, as the app", books["big"], "app"),
        row(f"{results['big_label']} book, one unit of work", books["big"], "one"),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_child"]:
        return _child_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=Path, help="a book to copy as the big one (not changed)")
    parser.add_argument("--big-size", default="100k", help="built when --big is not given")
    parser.add_argument("--count", type=int, default=DEFAULT_MEETINGS, help="meetings per variant")
    parser.add_argument(
        "--quick", action="store_true", help="3 meetings; the big book is 1 group x 10 x 1 year"
    )
    parser.add_argument("--out", type=Path, help="Markdown file to update")
    parser.add_argument("--json", type=Path, help="where to write the raw figures")
    parser.add_argument(
        "--render", type=Path, help="only write the document's block again from this JSON"
    )
    args = parser.parse_args(argv)
    shape = lb.parse_sizes(args.big_size)[0]
    if args.quick:
        args.count = 3
        g, m, y = lb.QUICK_SIZES[0]
        shape = lb.Shape(g, m, y, f"{g}x{m}x{y}")
    doc, json_path = lb.outputs(args, "meeting_bench")
    if args.render:
        return lb.render_saved(args.render, doc, SECTION, "bench/meeting_bench.py", render_section)
    work = Path(tempfile.mkdtemp(prefix="meeting-", dir=lb.OUT_DIR))
    results: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": lb.machine_facts(),
        "count": args.count,
        "books": {},
    }
    try:
        with lb.LoadSampler() as load:
            small = work / "small.sqlite"
            lb.init_book(small)
            lb.log("small book: only the 30-member group")
            results["books"]["small"] = measure_book(small, args.count)
            source = args.big
            if source is None:
                lb.log(f"building a {shape.name} book (the ledger benchmark's)")
                source = build_big(work, shape)
            facts = lb.book_facts(source)
            results["big_label"] = shape.name if args.big is None else source.parent.name
            results["big_groups"] = facts["groups"]
            big = work / "big.sqlite"
            copy_book(source, big)
            lb.log(f"big book: a copy of {source} ({facts['journal_entries']:,} entries)")
            results["books"]["big"] = measure_book(big, args.count)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["load"] = load.summary()
    results["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    command = shlex.join([".venv/bin/python", "bench/meeting_bench.py", *argv])
    results["command"] = command
    json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    body = render_section(results, command, lb.shown(json_path))
    lb.write_block(
        doc,
        SECTION,
        "bench/meeting_bench.py",
        body,
        before=("## End of cycle: share-out, rice bank and statements",),
    )
    print(body)
    print(f"\nWrote {lb.shown(doc)} and {lb.shown(json_path)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
