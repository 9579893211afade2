"""The check code printed on a member statement, and checking it against the book.

The code (also in the statement's QR code) names the group, the member, the period, the
chain head the statement was made from, the closing balances of her accounts and a
digest of every movement line. ``check_statement`` recomputes the statement from the
book twice: as the book stood at that chain head, and as it stands now.

- **not from this book**: the chain head it names is not in the group's chain, or the
  book at that head never showed these figures (a forged or altered paper);
- **matches**: the book still shows every figure and line;
- **changed**: genuine when printed, but entries recorded since (a correction dated in
  the period) change it: the paper is stale, and the current figures are given.

A forger can alter the printed lines and keep a genuine code; checking the code proves
the figures it carries, and a coordinator compares those with the paper.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import InvalidEntry
from ledger.hashing import digest
from ledger.member_statement import MemberStatement, member_statement
from ledger.models import Group, JournalEntry
from ledger.permissions import log_reading

PREFIX = "SANSAM-ST1"
HASH_SHOWN = 16  # hex digits of the chain head and of the digest carried in the code


@dataclass(frozen=True, slots=True)
class StatementCode:
    group_code: str
    member_code: str
    start: dt.date
    end: dt.date
    head_seq: int
    head_hash: str  # the first HASH_SHOWN hex digits
    savings: int
    shares: int
    loans: int
    rice: int
    lines: str  # digest of every line, first HASH_SHOWN hex digits

    def text(self) -> str:
        return ";".join(
            (
                PREFIX,
                self.group_code,
                self.member_code,
                f"{self.start:%Y%m%d}-{self.end:%Y%m%d}",
                f"{self.head_seq}:{self.head_hash}",
                f"S{self.savings}",
                f"H{self.shares}",
                f"L{self.loans}",
                f"R{self.rice}",
                self.lines,
            )
        )


@dataclass(frozen=True, slots=True)
class StatementCheck:
    verdict: str  # "matches", "changed" or "not from this book"
    code: StatementCode
    message: str
    now: StatementCode | None  # the code the book gives today, when it can make one


def statement_code(s: MemberStatement) -> StatementCode:
    shares = next((a.closing for a in s.savings if a.key == "shares"), 0)
    return StatementCode(
        s.group.code,
        s.member.code,
        s.start,
        s.end,
        s.head_seq,
        s.head_hash[:HASH_SHOWN],
        s.total_savings,
        shares,
        s.loans_owed,
        s.rice_owed,
        _lines_digest(s)[:HASH_SHOWN],
    )


def _lines_digest(s: MemberStatement) -> str:
    """Every account line of the statement (what the book's chain fixes at a head)."""
    sections = [*s.savings, *(x.principal for x in s.loans), *(x.principal for x in s.rice)]
    return digest(
        [
            [a.key, a.opening, [[m.on.isoformat(), m.seq, m.amount] for m in a.movements]]
            for a in sections
        ]
    )


def parse_code(text: str) -> StatementCode:
    """Read a code as printed or scanned; a clear error says what is wrong with it."""
    parts = [p.strip() for p in text.strip().split(";")]
    if len(parts) != 10 or parts[0] != PREFIX:
        raise InvalidEntry(
            "That is not a Sansam statement code: it starts with SANSAM-ST1; and has 10 "
            "parts separated by ';' (type it as printed under the QR code)."
        )
    try:
        period, head = parts[3], parts[4]
        start, end = (dt.datetime.strptime(d, "%Y%m%d").date() for d in period.split("-"))
        seq, head_hash = head.split(":")
        figures = [int(p[1:]) for p in parts[5:9]]
        if [p[0] for p in parts[5:9]] != ["S", "H", "L", "R"]:
            raise ValueError
    except ValueError:
        raise InvalidEntry(
            "The statement code is damaged (a part is mistyped); type it again as printed."
        ) from None
    return StatementCode(parts[1], parts[2], start, end, int(seq), head_hash, *figures, parts[9])


def check_statement(session: Session, text: str) -> StatementCheck:
    """Check a printed statement's code against the book (kept in the audit trail)."""
    code = parse_code(text)
    group_id = session.execute(select(Group.id).where(Group.code == code.group_code)).scalar()
    if group_id is None:
        raise InvalidEntry(f"This book has no group {code.group_code}.")
    log_reading(
        session,
        "verify",
        group_id,
        f"checked the statement of {code.member_code} for {code.start}..{code.end}",
    )
    head = session.execute(
        select(JournalEntry.hash).where(
            JournalEntry.group_id == group_id, JournalEntry.seq == code.head_seq
        )
    ).scalar()
    if code.head_seq and (head is None or not head.startswith(code.head_hash)):
        return StatementCheck(
            "not from this book",
            code,
            f"Entry #{code.head_seq} of {code.group_code} is not the one this statement "
            "names: it was not printed from this book, or the code was altered.",
            None,
        )

    def code_at(seq: int | None) -> StatementCode:
        return statement_code(
            member_statement(
                session, group_id, code.member_code, code.start, code.end, through_seq=seq
            )
        )

    def figures(c: StatementCode) -> tuple[int, int, int, int, str]:
        return (c.savings, c.shares, c.loans, c.rice, c.lines)

    if figures(code_at(code.head_seq)) != figures(code):
        return StatementCheck(
            "not from this book",
            code,
            "The figures on this statement were never in the book at the entry it names: "
            "it was altered, or made by something other than Sansam.",
            None,
        )
    now = code_at(None)
    if figures(now) == figures(code):
        return StatementCheck(
            "matches",
            code,
            f"The statement matches the book: made at entry #{code.head_seq}; "
            f"{now.head_seq - code.head_seq} entries recorded since change none of it.",
            now,
        )
    return StatementCheck(
        "changed",
        code,
        "The book has changed since this statement was printed: entries recorded after "
        f"#{code.head_seq} change this period. Print a new statement.",
        now,
    )
