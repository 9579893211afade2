"""Recompute every group's hash chain and every cached balance from the raw rows.

This is the check that still works when the database's own guards were dropped: someone
who edits the book file directly can change rows, but cannot make the hashes, the chain
links, the closed-period heads and the cached balances all agree again by accident.
``verify_book`` names the first entry (lowest number) where each group's book breaks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from ledger.hashing import entry_hash, request_hash
from ledger.models import GENESIS_HASH, Account, Group, JournalEntry, PeriodClose, Posting
from ledger.money import format_minor
from ledger.permissions import allow, only_readable

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Problem:
    group_code: str
    seq: int | None  # the entry where it shows, if it is tied to one
    message: str


@dataclass
class VerifyReport:
    groups: int = 0
    entries: int = 0
    postings: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def first_breaks(self) -> list[Problem]:
        """The first problem of each group: where its book stops being trustworthy."""
        seen: set[str] = set()
        firsts = []
        for problem in self.problems:
            if problem.group_code not in seen:
                seen.add(problem.group_code)
                firsts.append(problem)
        return firsts


def verify_book(
    session: Session, group_id: int | None = None, on_progress: Progress | None = None
) -> VerifyReport:
    report = VerifyReport()
    query = select(Group.id, Group.uuid, Group.code).order_by(Group.code)
    if group_id is not None:
        allow(session, "read", group_id)
        query = query.where(Group.id == group_id)
    else:
        query = only_readable(session, query, Group.id)
    for gid, guuid, code in session.execute(query).all():
        report.groups += 1
        problems = _verify_group(session, gid, guuid, code, report, on_progress)
        # Chain problems are tied to an entry; report them in journal order.
        problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
        report.problems.extend(problems)
    return report


def _verify_group(
    session: Session,
    group_id: int,
    group_uuid: str,
    code: str,
    report: VerifyReport,
    on_progress: Progress | None,
) -> list[Problem]:
    problems: list[Problem] = []

    def problem(seq: int | None, message: str) -> None:
        problems.append(Problem(code, seq, message))

    accounts = {
        row.id: row
        for row in session.execute(
            select(
                Account.id, Account.uuid, Account.name, Account.commodity, Account.balance
            ).where(Account.group_id == group_id)
        )
    }
    sums: dict[int, int] = defaultdict(int)
    hashes_at: dict[int, str] = {}
    closes = session.execute(
        select(PeriodClose.head_seq, PeriodClose.head_hash, PeriodClose.closed_through).where(
            PeriodClose.group_id == group_id
        )
    ).all()
    wanted_heads = {c.head_seq for c in closes}

    reversed_entry = aliased(JournalEntry)
    e = JournalEntry
    rows = session.execute(
        select(
            e.seq,
            e.uuid,
            e.entry_date,
            e.memo,
            e.author,
            e.idempotency_key,
            reversed_entry.uuid,
            e.created_at,
            e.prev_hash,
            e.hash,
            e.request_hash,
            Posting.line_no,
            Posting.account_id,
            Posting.commodity,
            Posting.amount,
        )
        .outerjoin(
            reversed_entry,
            and_(reversed_entry.group_id == e.group_id, reversed_entry.seq == e.reverses_seq),
        )
        .outerjoin(Posting, and_(Posting.group_id == e.group_id, Posting.entry_seq == e.seq))
        .where(e.group_id == group_id)
        .order_by(e.seq, Posting.line_no)
        .execution_options(yield_per=10_000)
    )

    expected_seq = 1
    previous_hash = GENESIS_HASH
    current = None
    lines: list[tuple[int, str, str, int]] = []

    def finish(entry) -> None:  # type: ignore[no-untyped-def]
        nonlocal expected_seq, previous_hash
        seq = entry.seq
        if seq != expected_seq:
            if seq > expected_seq:
                gap = (
                    f"#{expected_seq}" if seq == expected_seq + 1 else f"#{expected_seq}–#{seq - 1}"
                )
                problem(seq, f"entry {gap} is missing: the journal jumps to #{seq}.")
            else:
                problem(seq, f"entry #{seq} appears out of order.")
        if entry.prev_hash != previous_hash:
            problem(seq, f"entry #{seq} does not link to the entry before it (chain broken).")
        fingerprint = request_hash(
            entry_date=entry.entry_date,
            memo=entry.memo,
            reverses_uuid=entry.reverses_uuid,
            postings=[(uuid, commodity, amount) for _line, uuid, commodity, amount in lines],
        )
        recomputed = entry_hash(
            group_uuid=group_uuid,
            seq=seq,
            uuid=entry.uuid,
            author=entry.author,
            idempotency_key=entry.idempotency_key,
            created_at=entry.created_at,
            prev_hash=entry.prev_hash,
            request=fingerprint,
        )
        if recomputed != entry.hash:
            problem(
                seq,
                f"entry #{seq} ({entry.entry_date.isoformat()}, {entry.memo!r}) was changed "
                "after it was posted: its contents no longer match its hash.",
            )
        elif fingerprint != entry.request_hash:
            # The content is intact; only the idempotency record beside it was edited.
            problem(
                seq,
                f"entry #{seq}'s stored request fingerprint was altered; a replay of its "
                "key would no longer be recognised.",
            )
        if len(lines) < 2:
            problem(
                seq, f"entry #{seq} has {len(lines)} posting(s); every entry needs two or more."
            )
        totals: dict[str, int] = defaultdict(int)
        for line in lines:
            totals[line[2]] += line[3]
        for commodity, total in sorted(totals.items()):
            if total:
                problem(
                    seq, f"entry #{seq} does not balance: {format_minor(total, commodity)} off."
                )
        if seq in wanted_heads:
            hashes_at[seq] = entry.hash
        expected_seq = seq + 1
        previous_hash = entry.hash
        report.entries += 1
        if on_progress and report.entries % 10_000 == 0:
            on_progress(report.entries)

    for row in rows:
        seq = row[0]
        if current is None or current.seq != seq:
            if current is not None:
                finish(current)
            current = _Entry(*row[:11])
            lines = []
        if row.line_no is not None:
            report.postings += 1
            account = accounts.get(row.account_id)
            if account is None or account.commodity != row.commodity:
                problem(seq, f"entry #{seq} posts to an account that is not this group's.")
                uuid = "?"
            else:
                uuid = account.uuid
                sums[row.account_id] += row.amount
            lines.append((row.line_no, uuid, row.commodity, row.amount))
    if current is not None:
        finish(current)

    orphans = session.execute(
        select(func.count(), func.min(Posting.entry_seq))
        .select_from(Posting)
        .outerjoin(e, and_(e.group_id == Posting.group_id, e.seq == Posting.entry_seq))
        .where(Posting.group_id == group_id, e.seq.is_(None))
    ).one()
    if orphans[0]:
        problem(
            orphans[1],
            f"{orphans[0]} posting(s) belong to no entry (first for entry #{orphans[1]}).",
        )
    for close in closes:
        if close.head_seq and hashes_at.get(close.head_seq) != close.head_hash:
            problem(
                close.head_seq,
                f"the journal up to #{close.head_seq} differs from what it was when the books "
                f"were closed through {close.closed_through.isoformat()} "
                "(the chain was rewritten).",
            )
    for account_id, account in sorted(accounts.items()):
        if account.balance != sums.get(account_id, 0):
            problem(
                None,
                f"account {account.name} ({account.commodity}) shows a balance of "
                f"{format_minor(account.balance, account.commodity)} but its postings add up to "
                f"{format_minor(sums.get(account_id, 0), account.commodity)}.",
            )
    return problems


@dataclass(frozen=True, slots=True)
class _Entry:
    seq: int
    uuid: str
    entry_date: object
    memo: str
    author: str
    idempotency_key: str
    reverses_uuid: str | None
    created_at: object
    prev_hash: str
    hash: str
    request_hash: str
