"""Treasurers and a coordinator in processes of their own, and the checks run after them.

Why: a ledger is trusted for what it survives. A village PC loses power in the middle of
a meeting; two treasurers share one book while a coordinator runs reports. The crash test
(tests/test_crash.py), the load test (tests/test_load.py) and their full-size run
(bench/proof_bench.py) start these workers as separate processes, kill them or let them
run, and then check the book with ``check_book``.

A treasurer does real work through the real services, one unit of work at a time as the
meeting screen does: open a meeting, save each member's row, maybe an expense, close it
(posting the sheet); or import a collection sheet (``ledger.sheet_import``) or new members
(``ledger.member_import``). It reads where its group stands from the book before each
piece of work, so a treasurer started again after a crash carries on the meeting left
open, like a person reopening the app. After each commit returns it appends an
*acknowledgement* (what it was told is saved: meeting ids, journal entry numbers and
uuids) to an ack file and fsyncs it; anything acknowledged must be in the book after any
crash.

Run as a child process (directly, or forked by a zygote that imported everything once;
see ``run_zygote``)::

    python -m tests.proof_workers treasurer URL GROUP --ack FILE [--seed N] [--run K]
        [--seconds S] [--ops N] [--stats FILE] [--max-members N] [--workdir DIR]
    python -m tests.proof_workers coordinator URL --seconds S [--stats FILE]
    python -m tests.proof_workers zygote

Workers write their counts (operations, BookBusy seen, retries absorbed by
``Book.write``, errors) to ``--stats`` as JSON when they stop. The parent side
(``crash_campaign``, ``load_run``, ``check_book``) is used by tests/test_crash.py,
tests/test_load.py and bench/proof_bench.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import select as io_select
import signal
import subprocess
import sys
import time
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from ledger.chart import GroupAccounts, balance_of
from ledger.cycles import open_cycle
from ledger.db import RETRYABLE_PG_CODES, Book
from ledger.errors import BookBusy
from ledger.groups import create_group, find_group
from ledger.indicators import indicator_report
from ledger.locations import resolve_location
from ledger.meetings import (
    AMOUNT_FIELDS,
    add_item,
    close_meeting,
    find_meeting,
    meeting_summary,
    open_meeting,
    set_line,
)
from ledger.member_import import import_members
from ledger.members import add_member, list_members
from ledger.models import Account, JournalEntry, Meeting, MeetingItem, MeetingLine, Member, Posting
from ledger.money import from_minor
from ledger.portfolio import portfolio
from ledger.queries import trial_balance
from ledger.sheet_import import import_meetings
from ledger.verify import verify_book
from tests.helpers import TESTER

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
# Daily meetings from here leave ~9,800 meeting dates before today: room for any run.
CYCLE_START = dt.date(2000, 1, 3)
TODAY = dt.date.today()
SHARE_PRICE = 5000
EXPENSE = 1500
NAMES = ("Sok Dara", "Chan Sophea", "Keo Vuthy", "Heng Sreyneang", "Ly Chantha", "Mao Vanna")
SHEET_HEADER = (
    "date,member,attended,savings,voluntary_savings,withdrawal,shares,social_fund,fine,"
    "loan_repayment,counted_cash,comment\n"
)


def khr(minor: int) -> Any:
    return from_minor(minor, "KHR")


# --- acknowledgements -----------------------------------------------------------------------


class AckLog:
    """Append-only record of what the book told a worker it had saved.

    Each line is written, flushed and fsynced *after* the commit returned and before the
    next piece of work starts, so a line in this file is a promise the book must keep.
    """

    def __init__(self, path: Path, run: int) -> None:
        self.run = run
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (kept open for the run)

    def add(self, kind: str, **record: Any) -> None:
        record = {"kind": kind, "run": self.run, "t": round(time.time(), 3), **record}
        self._file.write(json.dumps(record, default=str) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def read_acks(path: Path) -> list[dict[str, Any]]:
    """The acknowledgements in ``path``; a last line cut short by a kill is not one."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    complete = text if text.endswith("\n") else text[: text.rfind("\n") + 1]
    return [json.loads(line) for line in complete.splitlines() if line.strip()]


# --- counting contention --------------------------------------------------------------------


@dataclass
class Stats:
    """What a worker did, written to its ``--stats`` file when it stops."""

    role: str
    ops: Counter[str] = field(default_factory=Counter)
    writes: int = 0
    entries: int = 0
    busy: int = 0  # BookBusy that reached the worker (it tries the work again)
    db_retries: int = 0  # "locked"/serialization/deadlock errors Book.write retried itself
    errors: list[str] = field(default_factory=list)
    write_ms: list[float] = field(default_factory=list)
    read_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped: str = ""

    def to_json(self) -> dict[str, Any]:
        def spread(samples: list[float]) -> dict[str, float]:
            if not samples:
                return {}
            ordered = sorted(samples)

            def at(q: float) -> float:
                return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

            return {"n": len(ordered), "p50_ms": at(0.5), "p95_ms": at(0.95), "max_ms": at(1)}

        return {
            "role": self.role,
            "ops": dict(self.ops),
            "ok_ops": sum(self.ops.values()),
            "writes": self.writes,
            "entries": self.entries,
            "busy": self.busy,
            "db_retries": self.db_retries,
            "errors": self.errors,
            "write_latency": spread(self.write_ms),
            "read_latency": spread(self.read_ms),
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
        }


def count_retries(book: Book, stats: Stats) -> None:
    """Count each database error ``Book.write`` treats as contention and retries.

    The retry loop in ``ledger.db`` is silent by design; listening to the engine's
    ``handle_error`` sees every such error without changing it. A retry that finally
    gives up surfaces as ``BookBusy`` and is counted apart (``stats.busy``).
    """

    @event.listens_for(book.engine, "handle_error")
    def _seen(context: Any) -> None:
        orig = context.original_exception
        text = str(orig).lower()
        if getattr(orig, "sqlstate", None) in RETRYABLE_PG_CODES or (
            "database is locked" in text or "database is busy" in text
        ):
            stats.db_retries += 1


def timed_write(book: Book, stats: Stats, work: Callable[[Session], T]) -> T:
    started = time.perf_counter()
    result = book.write(work)
    stats.write_ms.append((time.perf_counter() - started) * 1000)
    stats.writes += 1
    return result


# --- setting up a book ----------------------------------------------------------------------


def setup_groups(url: str, codes: Iterable[str], *, members: int = 6) -> None:
    """Savings groups with an open cycle and ``members`` members each, made through the
    services (one unit of work per group), as a coordinator would register them."""
    book = Book(url).as_user(TESTER)
    try:
        for code in codes:
            book.write(lambda s, code=code: _build_group(s, code, members))
    finally:
        book.close()


def _build_group(session: Session, code: str, members: int) -> None:
    group = create_group(
        session,
        code,
        f"Savings group {code}",
        kind="vsla",
        location=resolve_location("Siem Reap", "Puok", "Puok"),
    )
    open_cycle(
        session,
        group.id,
        CYCLE_START,
        share_price=khr(SHARE_PRICE),
        compulsory_savings=khr(2000),
        social_fund_contribution=khr(500),
        fine_absent=khr(1000),
    )
    for n in range(1, members + 1):
        add_member(
            session,
            group.id,
            f"M{n:02d}",
            name_latin=f"{NAMES[n % len(NAMES)]} {n}",
            sex="F" if n % 3 else "M",
            joined_on=CYCLE_START,
        )


def meeting_entries(session: Session, group_id: int, meeting_uuid: str) -> list[list[Any]]:
    """[seq, uuid] of every journal entry a meeting's closing posted (their idempotency
    keys start with ``meeting:<uuid>:``, see ``ledger.meetings._entries``)."""
    rows = session.execute(
        select(JournalEntry.seq, JournalEntry.uuid)
        .where(
            JournalEntry.group_id == group_id,
            JournalEntry.idempotency_key.like(f"meeting:{meeting_uuid}:%"),
        )
        .order_by(JournalEntry.seq)
    ).all()
    return [[seq, entry_uuid] for seq, entry_uuid in rows]


# --- the treasurer --------------------------------------------------------------------------


class DatesExhausted(Exception):
    """The group has met every day up to today: nothing more to record."""


class Treasurer:
    """One group's treasurer recording meetings and imports, one unit of work at a time."""

    def __init__(
        self,
        book: Book,
        code: str,
        ack: AckLog,
        rng: random.Random,
        stats: Stats,
        *,
        max_members: int,
        workdir: Path,
    ) -> None:
        self.book, self.ack, self.rng, self.stats = book, ack, rng, stats
        self.max_members, self.workdir = max_members, workdir
        with book.read() as s:
            group = find_group(s, code)
        self.code, self.group_id = group.code, group.id

    def write(self, work: Callable[[Session], T]) -> T:
        return timed_write(self.book, self.stats, work)

    def step(self) -> str:
        """Do one piece of a treasurer's work; return its name."""
        with self.book.read() as s:
            open_id = s.execute(
                select(Meeting.id).where(
                    Meeting.group_id == self.group_id, Meeting.status == "open"
                )
            ).scalar_one_or_none()
            last = s.execute(
                select(func.max(Meeting.meeting_date)).where(Meeting.group_id == self.group_id)
            ).scalar()
            members = s.execute(
                select(func.count()).select_from(Member).where(Member.group_id == self.group_id)
            ).scalar_one()
        if open_id is not None:
            self.app_meeting(open_id, None)  # the meeting left open when the power went
            return "meeting"
        day = (last + dt.timedelta(days=1)) if last else CYCLE_START
        if day > TODAY:
            raise DatesExhausted
        roll = self.rng.random()
        if roll < 0.12 and members < self.max_members:
            self.import_members(day, members)
            return "member_import"
        if roll < 0.35:
            self.import_sheet(day)
            return "sheet_import"
        self.app_meeting(None, day)
        return "meeting"

    # A meeting as the meeting screen records it: open, a save per row, close.
    def app_meeting(self, meeting_id: int | None, day: dt.date | None) -> None:
        if meeting_id is None:
            assert day is not None
            opened = self.write(lambda s: open_meeting(s, self.group_id, day, today=TODAY))
            meeting_id = opened.id
            self.ack.add("opened", group=self.code, meeting=opened.id, uuid=opened.uuid, date=day)
        with self.book.read() as s:
            summary = meeting_summary(s, meeting_id)
            saved = {line.member_code for line in summary.lines}
            accounts = GroupAccounts(s, self.group_id)
            voluntary = {
                m.code: -balance_of(s, accounts.get("voluntary_savings", m.id).id)
                for m in list_members(s, self.group_id, on=summary.meeting.meeting_date)
            }
            has_expense = any(i.kind == "expense" for i in summary.items)
        for code, held in voluntary.items():
            if code in saved:
                continue  # saved before the crash: the treasurer sees it on the sheet
            attended, amounts = self._row(held)
            given = {name: khr(minor) for name, minor in amounts.items()}
            self.write(
                lambda s, code=code, attended=attended, given=given: set_line(
                    s, meeting_id, code, attended=attended, **given
                )
            )
            self.ack.add(
                "line", meeting=meeting_id, member=code, attended=attended, amounts=amounts
            )
        if not has_expense and self.rng.random() < 0.1:
            item = self.write(
                lambda s: add_item(s, meeting_id, "expense", khr(EXPENSE), memo="Chalk, notebook")
            )
            self.ack.add("item", meeting=meeting_id, item=item.id, amount=EXPENSE)
        short = self.rng.random() < 0.15

        def close(s: Session) -> dict[str, Any]:
            expected = meeting_summary(s, meeting_id).expected_cash
            counted = expected - 100 if short and expected >= 100 else expected
            comment = "Short 100 riel: a torn note" if counted != expected else None
            closed = close_meeting(s, meeting_id, khr(counted), comment=comment)
            m = closed.meeting
            return {
                "meeting": m.id,
                "uuid": m.uuid,
                "number": m.number,
                "date": m.meeting_date,
                "counted": m.counted_cash,
                "entries": meeting_entries(s, self.group_id, m.uuid),
            }

        closed = self.write(close)
        self.stats.entries += len(closed["entries"])
        self.ack.add("closed", group=self.code, **closed)

    def _row(self, voluntary_held: int) -> tuple[bool, dict[str, int]]:
        """One member's row: present most weeks, paying savings, shares, social fund."""
        rng = self.rng
        if rng.random() < 0.1:
            return False, {"fine_absent": 1000}
        amounts = {"savings": 2000, "social_fund": 500}
        shares = rng.choice((0, 5000, 5000, 7000, 10000))
        if shares:
            amounts["share_money"] = shares
        extra = rng.choice((0, 0, 0, 1000, 3000))
        if extra:
            amounts["voluntary_savings"] = extra
        if voluntary_held >= 1000 and rng.random() < 0.1:
            amounts["withdrawal"] = 1000
        if rng.random() < 0.05:
            amounts["fine_late"] = 500
        return True, amounts

    def import_sheet(self, day: dt.date) -> None:
        """One or two meetings from a collection-sheet CSV, in one unit of work."""
        days = [day] if day >= TODAY or self.rng.random() < 0.5 else [day, day + dt.timedelta(1)]
        with self.book.read() as s:
            cash = balance_of(s, GroupAccounts(s, self.group_id).get("cash_box").id)
            codes = [m.code for m in list_members(s, self.group_id, on=day)]
        lines = [SHEET_HEADER]
        for when in days:
            for n, code in enumerate(codes):
                present = self.rng.random() < 0.9
                shares = self.rng.choice((0, 5000, 10000)) if present else 0
                extra = self.rng.choice((0, 0, 1000)) if present else 0
                paid = (2000 + 500 + shares + extra) if present else 1000
                cash += paid
                last = n == len(codes) - 1
                lines.append(
                    f"{when},{code},{'yes' if present else 'no'},"
                    f"{2000 if present else ''},{extra or ''},,{shares or ''},"
                    f"{500 if present else ''},{'' if present else 1000},,"
                    f"{cash if last else ''},\n"
                )
        path = self.workdir / f"sheet-{self.code}-{day}-{uuid.uuid4().hex[:8]}.csv"
        path.write_text("".join(lines), encoding="utf-8")

        def work(s: Session) -> list[dict[str, Any]]:
            import_meetings(s, self.group_id, path, today=TODAY)
            recorded = []
            for when in days:
                m = find_meeting(s, self.group_id, when)
                assert m is not None
                recorded.append(
                    {
                        "meeting": m.id,
                        "uuid": m.uuid,
                        "date": when,
                        "counted": m.counted_cash,
                        "entries": meeting_entries(s, self.group_id, m.uuid),
                    }
                )
            return recorded

        recorded = self.write(work)
        self.stats.entries += sum(len(m["entries"]) for m in recorded)
        self.ack.add("imported", group=self.code, meetings=recorded)
        path.unlink()

    def import_members(self, day: dt.date, have: int) -> None:
        """One or two new members from a register CSV, joining at the next meeting."""
        codes = [f"M{have + n:02d}" for n in range(1, self.rng.choice((1, 2)) + 1)]
        text = "code,name_latin,sex,joined_on\n" + "".join(
            f"{c},{NAMES[int(c[1:]) % len(NAMES)]} {int(c[1:])},F,{day}\n" for c in codes
        )
        path = self.workdir / f"members-{self.code}-{day}-{uuid.uuid4().hex[:8]}.csv"
        path.write_text(text, encoding="utf-8")
        self.write(lambda s: import_members(s, self.group_id, path))
        self.ack.add("members", group=self.code, codes=codes)
        path.unlink()


def run_treasurer(
    url: str,
    code: str,
    ack_path: Path,
    *,
    seed: int,
    run: int = 0,
    seconds: float | None = None,
    ops: int | None = None,
    max_members: int = 10,
    workdir: Path | None = None,
) -> Stats:
    """Work until ``seconds`` have passed or ``ops`` operations are done (or forever).

    A ``BookBusy`` is what a treasurer sees as "busy, try again": counted, then the same
    work is tried again (from what the book holds, as a person would). Any other error
    stops the worker: under load there must be none.
    """
    stats = Stats("treasurer")
    book = Book(url).as_user(TESTER)
    count_retries(book, stats)
    ack = AckLog(ack_path, run)
    started = time.monotonic()
    try:
        treasurer = Treasurer(
            book,
            code,
            ack,
            random.Random(seed),
            stats,
            max_members=max_members,
            workdir=workdir or ack_path.parent,
        )
        while True:
            if seconds is not None and time.monotonic() - started >= seconds:
                stats.stopped = "time"
                break
            if ops is not None and sum(stats.ops.values()) >= ops:
                stats.stopped = "ops"
                break
            try:
                stats.ops[treasurer.step()] += 1
            except BookBusy:
                stats.busy += 1
                time.sleep(0.05)
            except DatesExhausted:
                stats.stopped = "dates exhausted"
                break
    except Exception:
        stats.errors.append(traceback.format_exc())
        stats.stopped = "error"
    finally:
        stats.seconds = time.monotonic() - started
        ack.close()
        book.close()
    return stats


# --- the coordinator ------------------------------------------------------------------------


def run_coordinator(url: str, *, seconds: float) -> Stats:
    """Reports across every group, round and round, as a district office runs them while
    treasurers record: each in one read session, which must see a consistent book."""
    stats = Stats("coordinator")
    book = Book(url).as_user(TESTER)
    count_retries(book, stats)
    reports: list[tuple[str, Callable[[Session], str | None]]] = [
        ("trial_balance", _trial_balance_problem),
        ("portfolio", lambda s: (portfolio(s, as_of=TODAY), None)[1]),
        (
            "indicators",
            lambda s: (indicator_report(s, start=CYCLE_START, end=TODAY), None)[1],
        ),
        ("verify", _verify_problem),
    ]
    started = time.monotonic()
    n = 0
    try:
        while time.monotonic() - started < seconds:
            name, report = reports[n % len(reports)]
            n += 1
            try:
                began = time.perf_counter()
                with book.read() as s:
                    problem = report(s)
                stats.read_ms.append((time.perf_counter() - began) * 1000)
            except BookBusy:
                stats.busy += 1
                continue
            if problem:
                stats.errors.append(f"{name}: {problem}")
                stats.stopped = "error"
                break
            stats.ops[name] += 1
        else:
            stats.stopped = "time"
    except Exception:
        stats.errors.append(traceback.format_exc())
        stats.stopped = "error"
    finally:
        stats.seconds = time.monotonic() - started
        book.close()
    return stats


def _trial_balance_problem(session: Session) -> str | None:
    totals = trial_balance(session).totals_minor
    off = {c: t for c, t in totals.items() if t}
    return f"the book does not balance: {off}" if off else None


def _verify_problem(session: Session) -> str | None:
    report = verify_book(session)
    return None if report.ok else "; ".join(p.message for p in report.first_breaks())


# --- checking a book ------------------------------------------------------------------------


def check_book(url: str, acks: list[dict[str, Any]]) -> list[str]:
    """Everything wrong with the book, in sentences (empty when all is well).

    The book opens; ``verify_book`` is clean; every entry balances per commodity and has
    two postings or more, no posting is orphaned, every cached balance equals the sum of
    its postings (checked again here in plain SQL, not only through verify); each meeting
    is either closed with all its entries (its cash-box postings add up to counted −
    opening cash, and it has one entry per paying row, withdrawal, item and count
    difference) or open with none; and everything in ``acks`` is in the book.
    """
    book = Book(url).as_user(TESTER)
    try:
        with book.read() as s:
            report = verify_book(s)
            problems = [f"verify: {p.group_code} #{p.seq}: {p.message}" for p in report.problems]
            problems += _entry_problems(s)
            problems += _meeting_problems(s)
            problems += _ack_problems(s, acks)
        return problems
    finally:
        book.close()


def _entry_problems(s: Session) -> list[str]:
    problems = []
    unbalanced = s.execute(
        select(Posting.group_id, Posting.entry_seq, Posting.commodity, func.sum(Posting.amount))
        .group_by(Posting.group_id, Posting.entry_seq, Posting.commodity)
        .having(func.sum(Posting.amount) != 0)
    ).all()
    problems += [f"entry {g}#{seq} is off by {total} {c}" for g, seq, c, total in unbalanced]
    thin = s.execute(
        select(JournalEntry.group_id, JournalEntry.seq, func.count(Posting.line_no))
        .outerjoin(
            Posting,
            (Posting.group_id == JournalEntry.group_id) & (Posting.entry_seq == JournalEntry.seq),
        )
        .group_by(JournalEntry.group_id, JournalEntry.seq)
        .having(func.count(Posting.line_no) < 2)
    ).all()
    problems += [f"entry {g}#{seq} has {n} posting(s)" for g, seq, n in thin]
    orphans = s.execute(
        select(func.count())
        .select_from(Posting)
        .outerjoin(
            JournalEntry,
            (Posting.group_id == JournalEntry.group_id) & (Posting.entry_seq == JournalEntry.seq),
        )
        .where(JournalEntry.seq.is_(None))
    ).scalar_one()
    if orphans:
        problems.append(f"{orphans} posting(s) belong to no entry")
    sums = dict(
        s.execute(
            select(Posting.account_id, func.sum(Posting.amount)).group_by(Posting.account_id)
        ).all()
    )
    for account_id, name, balance in s.execute(select(Account.id, Account.name, Account.balance)):
        if balance != int(sums.get(account_id) or 0):
            problems.append(
                f"account {account_id} {name} caches {balance}, its postings add up to "
                f"{int(sums.get(account_id) or 0)}"
            )
    return problems


def _meeting_problems(s: Session) -> list[str]:
    problems = []
    meetings = s.execute(
        select(
            Meeting.id,
            Meeting.uuid,
            Meeting.group_id,
            Meeting.status,
            Meeting.opening_cash,
            Meeting.expected_cash,
            Meeting.counted_cash,
        )
    ).all()
    cash_ids = set(s.execute(select(Account.id).where(Account.role == "cash_box")).scalars())
    entries: dict[str, int] = Counter()
    cash: dict[str, int] = defaultdict(int)
    stray = 0
    rows = s.execute(
        select(JournalEntry.idempotency_key, Posting.account_id, Posting.amount).join(
            Posting,
            (Posting.group_id == JournalEntry.group_id) & (Posting.entry_seq == JournalEntry.seq),
        )
    )
    seen_keys: set[str] = set()
    for key, account_id, amount in rows:
        if not key.startswith("meeting:"):
            stray += key not in seen_keys
            seen_keys.add(key)
            continue
        meeting_uuid = key.split(":")[1]
        if key not in seen_keys:
            seen_keys.add(key)
            entries[meeting_uuid] += 1
        if account_id in cash_ids:
            cash[meeting_uuid] += amount
    if stray:
        problems.append(f"{stray} entries were posted by no meeting")
    wanted = _entries_wanted(s)
    known = {m.uuid for m in meetings}
    for meeting_uuid in set(entries) - known:
        problems.append(f"entries of a meeting that is not in the book ({meeting_uuid})")
    open_by_group = Counter(m.group_id for m in meetings if m.status == "open")
    problems += [f"group {g} has {n} meetings open" for g, n in open_by_group.items() if n > 1]
    for m in meetings:
        posted = entries.get(m.uuid, 0)
        if m.status == "open":
            if posted:
                problems.append(f"open meeting {m.id} already has {posted} entries posted")
            continue
        want = wanted.get(m.id, 0) + (1 if m.counted_cash != m.expected_cash else 0)
        if posted != want:
            problems.append(f"closed meeting {m.id} has {posted} entries, its sheet makes {want}")
        if cash.get(m.uuid, 0) != m.counted_cash - m.opening_cash:
            problems.append(
                f"closed meeting {m.id} moved the cash box by {cash.get(m.uuid, 0)}, not by "
                f"counted − opening = {m.counted_cash - m.opening_cash}"
            )
    return problems


def _entries_wanted(s: Session) -> dict[int, int]:
    """Entries each meeting's sheet makes (no count difference): one per row that pays
    in, one per withdrawal, one per item with an amount."""
    wanted: dict[int, int] = Counter()
    fields = [getattr(MeetingLine, f) for f in AMOUNT_FIELDS if f != "withdrawal"]
    for meeting_id, withdrawal, *paid in s.execute(
        select(MeetingLine.meeting_id, MeetingLine.withdrawal, *fields)
    ):
        wanted[meeting_id] += (sum(paid) > 0) + (withdrawal > 0)
    for meeting_id, amount in s.execute(select(MeetingItem.meeting_id, MeetingItem.amount)):
        wanted[meeting_id] += amount != 0
    return wanted


def _ack_problems(s: Session, acks: list[dict[str, Any]]) -> list[str]:
    problems = []
    meetings = {
        m.id: m
        for m in s.execute(select(Meeting.id, Meeting.uuid, Meeting.status, Meeting.group_id))
    }
    lines = {
        (line.meeting_id, code): line
        for line, code in s.execute(
            select(MeetingLine, Member.code).join(Member, Member.id == MeetingLine.member_id)
        )
    }
    items = set(s.execute(select(MeetingItem.id)).scalars())
    members = set(s.execute(select(Member.code)).scalars())
    posted: dict[str, list[list[Any]]] = defaultdict(list)  # meeting uuid -> [seq, uuid]
    for key, seq, entry_uuid in s.execute(
        select(JournalEntry.idempotency_key, JournalEntry.seq, JournalEntry.uuid).order_by(
            JournalEntry.group_id, JournalEntry.seq
        )
    ):
        if key.startswith("meeting:"):
            posted[key.split(":")[1]].append([seq, entry_uuid])

    def closed_with(record: dict[str, Any]) -> None:
        m = meetings.get(record["meeting"])
        if m is None or m.uuid != record["uuid"] or m.status != "closed":
            problems.append(f"acknowledged closed meeting {record['meeting']} is not closed")
            return
        have = posted.get(m.uuid, [])
        if have != record["entries"]:
            problems.append(
                f"meeting {m.id} was acknowledged with entries {record['entries']}, "
                f"the book has {have}"
            )

    for ack in acks:
        kind = ack["kind"]
        if kind == "opened":
            m = meetings.get(ack["meeting"])
            if m is None or m.uuid != ack["uuid"]:
                problems.append(f"acknowledged meeting {ack['meeting']} ({ack['date']}) is lost")
        elif kind == "line":
            line = lines.get((ack["meeting"], ack["member"]))
            stored = None if line is None else {f: getattr(line, f) for f in AMOUNT_FIELDS}
            expected = {f: ack["amounts"].get(f, 0) for f in AMOUNT_FIELDS}
            if line is None or line.attended != ack["attended"] or stored != expected:
                problems.append(
                    f"acknowledged row of {ack['member']} at meeting {ack['meeting']} is "
                    f"{'lost' if line is None else f'changed: {stored}'}"
                )
        elif kind == "item":
            if ack["item"] not in items:
                problems.append(f"acknowledged item {ack['item']} is lost")
        elif kind == "closed":
            closed_with(ack)
        elif kind == "imported":
            for record in ack["meetings"]:
                closed_with(record)
        elif kind == "members":
            problems += [
                f"acknowledged member {c} is lost" for c in ack["codes"] if c not in members
            ]
    return problems


def sqlite_durability(url: str) -> dict[str, Any]:
    """The settings a fresh connection of a Book gets, and the journal mode stored in the
    file itself (what any other program opening the file sees)."""
    import sqlite3

    from sqlalchemy.engine import make_url

    book = Book(url)
    try:
        with book.engine.connect() as conn:
            journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
            foreign_keys = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
    finally:
        book.close()
    raw = sqlite3.connect(make_url(url).database or "")
    try:
        stored = raw.execute("PRAGMA journal_mode").fetchone()[0]
        integrity = raw.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        raw.close()
    return {
        "journal_mode": journal,
        "synchronous": synchronous,
        "foreign_keys": foreign_keys,
        "file_journal_mode": stored,
        "integrity": integrity,
    }


# --- running workers from a parent ----------------------------------------------------------


class Zygote:
    """``python -m tests.proof_workers zygote``: one process that imports the ledger once
    and forks workers on request (see ``run_zygote``).

    Only pids it forked and has not yet reaped are ever signalled, so a pid the system
    reused for another process is never touched.
    """

    def __init__(self, log: Path) -> None:
        self.log = log
        self._stderr = open(log, "wb")  # noqa: SIM115 (closed in stop/kill)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.proof_workers", "zygote"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.alive: set[int] = set()

    def __enter__(self) -> Zygote:
        self._answer("ready", 120)
        return self

    def __exit__(self, *exc: object) -> None:
        for pid in self.alive:  # only when the parent itself failed half way
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.proc.poll() is None and self.proc.stdin is not None:
            self.proc.stdin.close()  # the zygote reaps what is left and exits
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()

    def spawn(self, args: list[str]) -> int:
        """Fork a worker (``treasurer ...`` or ``coordinator ...``) that starts at once."""
        self._send("spawn " + json.dumps(args))
        pid = int(self._answer("pid", 60)[0])
        self.alive.add(pid)
        return pid

    def kill(self, pid: int) -> None:
        """SIGKILL: no handler runs, no buffer is flushed, the connection just drops."""
        assert pid in self.alive
        os.kill(pid, signal.SIGKILL)

    def reap(self, pid: int, timeout: float = 60) -> int:
        """Wait for a forked worker to end; its exit code (-9 when killed)."""
        self._send(f"reap {pid}")
        code = int(self._answer("exit", timeout)[1])
        self.alive.discard(pid)
        return code

    def stderr(self) -> str:
        """The end of what the workers wrote to standard error (their tracebacks)."""
        if not self._stderr.closed:
            self._stderr.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def _send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def _answer(self, word: str, timeout: float) -> list[str]:
        """The next line, which must start with ``word``. One line answers each request,
        so nothing waits in the pipe's buffer where ``select`` would not see it."""
        assert self.proc.stdout is not None
        waiting, _, _ = io_select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if waiting else ""
        if line.split()[:1] != [word]:
            raise RuntimeError(f"zygote: wanted {word!r}, got {line!r}\n{self.stderr()}")
        return line.split()[1:]


def treasurer_args(
    url: str,
    code: str,
    ack: Path,
    *,
    seed: int,
    run: int,
    seconds: float | None = None,
    ops: int | None = None,
    stats: Path | None = None,
    max_members: int = 10,
) -> list[str]:
    args = ["treasurer", url, code, "--ack", str(ack), "--seed", str(seed), "--run", str(run)]
    args += ["--max-members", str(max_members)]
    for flag, value in (("--seconds", seconds), ("--ops", ops), ("--stats", stats)):
        if value is not None:
            args += [flag, str(value)]
    return args


def crash_campaign(
    url: str,
    workdir: Path,
    *,
    kills: int,
    seed: int,
    max_delay: float = 2.5,
    max_members: int = 10,
) -> dict[str, Any]:
    """Start a treasurer, SIGKILL it at a random moment, check the book, start another on
    the same book; ``kills`` times, then let one last treasurer do a few operations and
    stop by itself (the book is still usable after all those crashes).

    The kill comes ``uniform(0, max_delay)`` seconds after the treasurer is forked, so
    some land while it starts, before its first acknowledgement, and the rest anywhere in
    the work: between units of work, inside a commit, between a commit and its
    acknowledgement. Returns the figures, with ``problems`` empty when every check passed
    (it stops at the first failed check).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    code = "CR-01"
    setup_groups(url, [code], members=6)
    ack = workdir / "acks.jsonl"
    ack.unlink(missing_ok=True)  # a previous run's promises are not this book's
    began = time.monotonic()
    kill_log: list[dict[str, Any]] = []
    problems: list[str] = []
    check_s = 0.0

    def args(run: int, ops: int | None = None) -> list[str]:
        return treasurer_args(
            url, code, ack, seed=seed * 1000 + run, run=run, ops=ops, max_members=max_members
        )

    with Zygote(workdir / "treasurers.log") as zygote:
        for run in range(kills):
            pid = zygote.spawn(args(run))
            delay = rng.uniform(0, max_delay)
            time.sleep(delay)
            zygote.kill(pid)
            exit_code = zygote.reap(pid)
            acks = read_acks(ack)
            mine = [a for a in acks if a["run"] == run]
            kill_log.append(
                {
                    "run": run,
                    "delay_s": round(delay, 3),
                    "exit": exit_code,
                    "acks_in_run": len(mine),
                    "last_ack": mine[-1]["kind"] if mine else None,
                }
            )
            if exit_code != -signal.SIGKILL:
                problems.append(
                    f"run {run}: the treasurer ended by itself ({exit_code}) before the "
                    f"kill:\n{zygote.stderr()}"
                )
            checked = time.monotonic()
            problems += [f"after kill {run + 1}: {p}" for p in check_book(url, acks)]
            check_s += time.monotonic() - checked
            if problems:
                break
        if not problems:
            last = len(kill_log)
            exit_code = zygote.reap(zygote.spawn(args(last, ops=3)), timeout=300)
            if exit_code != 0:
                problems.append(f"the last treasurer failed ({exit_code}):\n{zygote.stderr()}")
            acks = read_acks(ack)
            problems += [f"after the last run: {p}" for p in check_book(url, acks)]
            if not any(a["run"] == last for a in acks):
                problems.append("the last treasurer acknowledged nothing in 3 operations")
    acks = read_acks(ack)
    counts = book_counts(url)
    return {
        "kills": len(kill_log),
        "seconds": round(time.monotonic() - began, 2),
        "check_seconds": round(check_s, 2),
        "kills_before_first_ack": sum(1 for k in kill_log if k["acks_in_run"] == 0),
        "last_ack_before_kill": dict(Counter(k["last_ack"] or "nothing yet" for k in kill_log)),
        "acks": dict(Counter(a["kind"] for a in acks)),
        "entries": counts["entries"],
        "meetings_closed": counts["closed"],
        "kill_log": kill_log,
        "problems": problems,
    }


def load_run(
    url: str,
    workdir: Path,
    *,
    treasurers: int,
    seconds: float,
    seed: int,
    coordinators: int = 1,
) -> dict[str, Any]:
    """``treasurers`` treasurers of different groups and ``coordinators`` coordinators on
    one book for ``seconds``, all forked at the same moment; then the book is checked."""
    workdir.mkdir(parents=True, exist_ok=True)
    for old in [*workdir.glob("stats-*.json"), *workdir.glob("acks-*.jsonl")]:
        old.unlink()  # a previous run's figures and promises are not this book's
    codes = [f"LD-{n + 1:02d}" for n in range(treasurers)]
    setup_groups(url, codes, members=8)
    workers = {
        code: treasurer_args(
            url,
            code,
            workdir / f"acks-{code}.jsonl",
            seed=seed * 100 + n,
            run=0,
            seconds=seconds,
            stats=workdir / f"stats-{code}.json",
            max_members=12,
        )
        for n, code in enumerate(codes)
    }
    for n in range(1, coordinators + 1):
        stats_path = workdir / f"stats-coordinator-{n}.json"
        workers[f"coordinator-{n}"] = [
            "coordinator",
            url,
            "--seconds",
            str(seconds),
            "--stats",
            str(stats_path),
        ]
    before = book_counts(url)
    with Zygote(workdir / "workers.log") as zygote:
        pids = {name: zygote.spawn(args) for name, args in workers.items()}
        exits = {name: zygote.reap(pid, timeout=seconds + 300) for name, pid in pids.items()}
        problems = [
            f"{name} exited {code}:\n{zygote.stderr()}" for name, code in exits.items() if code
        ]
    stats = {
        p.stem.removeprefix("stats-"): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(workdir.glob("stats-*.json"))
    }
    acks = [a for code in codes for a in read_acks(workdir / f"acks-{code}.jsonl")]
    for name, st in stats.items():
        problems += [f"{name}: {e}" for e in st["errors"]]
    if len(stats) != len(workers):
        problems.append(f"only {len(stats)} of {len(workers)} workers wrote their figures")
    problems += check_book(url, acks)
    after = book_counts(url)
    tre = [st for name, st in stats.items() if not name.startswith("coordinator")]
    coord = [st for name, st in stats.items() if name.startswith("coordinator")]
    span = max((st["seconds"] for st in stats.values()), default=seconds) or seconds
    posted = after["entries"] - before["entries"]
    return {
        "treasurers": treasurers,
        "coordinators": coordinators,
        "seconds": seconds,
        "measured_seconds": round(span, 2),
        "entries_posted": posted,
        "entries_acknowledged": sum(st["entries"] for st in tre),
        "entries_per_s": round(posted / span, 1),
        "meetings_closed": after["closed"] - before["closed"],
        "treasurer_ops": sum(st["ok_ops"] for st in tre),
        "treasurer_writes": sum(st["writes"] for st in tre),
        "writes_per_s": round(sum(st["writes"] for st in tre) / span, 1),
        "coordinator_reports": sum(st["ok_ops"] for st in coord),
        "busy": sum(st["busy"] for st in stats.values()),
        "db_retries": sum(st["db_retries"] for st in stats.values()),
        "write_p95_ms": max((st["write_latency"].get("p95_ms", 0) for st in tre), default=0),
        "write_max_ms": max((st["write_latency"].get("max_ms", 0) for st in tre), default=0),
        "workers": stats,
        "problems": problems,
    }


def book_counts(url: str) -> dict[str, int]:
    """Entries and closed meetings in the book (for throughput: after − before)."""
    book = Book(url).as_user(TESTER)
    try:
        with book.read() as s:
            entries = s.execute(select(func.count()).select_from(JournalEntry)).scalar_one()
            closed = s.execute(
                select(func.count()).select_from(Meeting).where(Meeting.status == "closed")
            ).scalar_one()
        return {"entries": entries, "closed": closed}
    finally:
        book.close()


# --- the child process ----------------------------------------------------------------------


def run_zygote() -> int:
    """Fork workers on request, from one process that has already imported everything.

    Why: importing the ledger takes 2–3 s of CPU on a busy 2-core machine; the crash test
    starts a treasurer again after every kill and would spend most of its time importing,
    and load workers started one by one would not start together. A forked child is a
    process of its own like any other (it opens its own database connections after the
    fork: this process never opens one), and SIGKILL ends it the same way.

    Commands on stdin: ``spawn <json argv>`` → ``pid N``; ``reap N`` → ``exit N code``.
    """
    print("ready", flush=True)
    children: set[int] = set()
    for line in sys.stdin:
        command, _, rest = line.strip().partition(" ")
        if command == "spawn":
            argv = json.loads(rest)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                    os.dup2(2, 1)  # the zygote's stdout answers the parent; not ours
                    code = main(argv)
                except BaseException:
                    traceback.print_exc()
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            children.add(pid)
            print(f"pid {pid}", flush=True)
        elif command == "reap":
            pid = int(rest)
            _, status = os.waitpid(pid, 0)
            children.discard(pid)
            print(f"exit {pid} {os.waitstatus_to_exitcode(status)}", flush=True)
    for pid in children:  # the parent went away: end what it started, then exit
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.proof_workers")
    sub = parser.add_subparsers(dest="role", required=True)
    t = sub.add_parser("treasurer")
    t.add_argument("url")
    t.add_argument("group")
    t.add_argument("--ack", type=Path, required=True)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--run", type=int, default=0)
    t.add_argument("--seconds", type=float)
    t.add_argument("--ops", type=int, help="stop after this many operations")
    t.add_argument("--stats", type=Path)
    t.add_argument("--max-members", type=int, default=10)
    t.add_argument("--workdir", type=Path)
    c = sub.add_parser("coordinator")
    c.add_argument("url")
    c.add_argument("--seconds", type=float, required=True)
    c.add_argument("--stats", type=Path)
    sub.add_parser("zygote")
    args = parser.parse_args(argv)
    if args.role == "zygote":
        return run_zygote()
    if args.role == "treasurer":
        stats = run_treasurer(
            args.url,
            args.group,
            args.ack,
            seed=args.seed,
            run=args.run,
            seconds=args.seconds,
            ops=args.ops,
            max_members=args.max_members,
            workdir=args.workdir,
        )
    else:
        stats = run_coordinator(args.url, seconds=args.seconds)
    if args.stats:
        args.stats.write_text(json.dumps(stats.to_json(), indent=2) + "\n", encoding="utf-8")
    for error in stats.errors:
        print(error, file=sys.stderr)
    return 1 if stats.errors else 0


if __name__ == "__main__":
    sys.exit(main())
