"""The general journal as plain-text accounting: ledger-cli/hledger or beancount.

An accountant, an auditor or a funder checks a group's books with the tools they already
trust; these files let them do it without Sansam and get the same totals. Every posted
entry of the chosen groups is written in date-then-number order, with its group, number,
uuid and memo, and the postings in the book's own exact amounts (minor units turned into
decimals with the commodity's exponent; never a float).

The tools are stricter about names than Sansam. An account becomes
``Type:GROUP:Segment:...`` (``Assets:SR-ACHM-01:Cash-box``): the root comes from the
account's type, the group code keeps the federation's groups apart, and every segment is
reduced to ASCII letters, digits and dashes and starts with a capital or a digit, which
suits beancount, hledger and ledger-cli alike. Member accounts keep the member code that
Sansam puts in their names. The mapping depends only on the group's code and the group's
own account names, so a group's accounts are named alike whether it is exported alone or
with the whole federation; two names that would come out the same both get a short
digest of their Sansam name. The same book always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TextIO, TypeVar, get_args

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ledger.errors import InvalidEntry
from ledger.models import Account, CommodityRow, Group, JournalEntry, Posting
from ledger.permissions import allow, only_readable
from ledger.queries import POSTING_ENTRY

TextFormat = Literal["ledger", "beancount"]
TEXT_FORMATS: tuple[str, ...] = get_args(TextFormat)

ROOTS = {
    "asset": "Assets",
    "liability": "Liabilities",
    "equity": "Equity",
    "income": "Income",
    "expense": "Expenses",
}
_DASHES = re.compile(r"-+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_DIGEST_WIDTHS = (8, 16, 64)
_AMOUNT_WIDTH = 18  # "-1000000000000000" (the largest posting) and a decimal point
_TAGS = ("group", "seq", "uuid", "reverses")  # entry metadata, declared for ledger --pedantic
K = TypeVar("K", bound=Hashable)
T = TypeVar("T", bound=tuple[Any, ...])


# --- names the tools accept ------------------------------------------------------------------


def name_component(text: str) -> str:
    """One segment of a Sansam name as ASCII letters, digits and dashes, starting with a
    capital or a digit: "Cash box" -> "Cash-box". Accents are dropped ("é" -> "e");
    other letters (Khmer) become their code points ("U1780"), so nothing is lost."""
    out: list[str] = []
    after_latin = False
    for ch in unicodedata.normalize("NFKD", text):
        if ch.isascii():
            out.append(ch if ch.isalnum() else "-")
            after_latin = ch.isalnum()
        elif after_latin and unicodedata.category(ch) == "Mn":
            continue  # a combining accent on a Latin letter
        else:
            out.append(f"U{ord(ch):04X}")
            after_latin = False
    component = _DASHES.sub("-", "".join(out)).strip("-") or "X"
    return component[0].upper() + component[1:]


def _digest(text: str, width: int) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:width].upper()


def _distinct(candidates: dict[K, str], seed: Callable[[K], str]) -> dict[K, str]:
    """Give every key whose candidate is shared with another key a digest suffix, longer
    until all differ. Decided on the whole set at once, so the order keys come in does not
    matter."""
    names = dict(candidates)
    for width in _DIGEST_WIDTHS:
        counts = Counter(names.values())
        clashing = [key for key, name in names.items() if counts[name] > 1]
        if not clashing:
            return names
        for key in clashing:
            names[key] = f"{candidates[key]}-{_digest(seed(key), width)}"
    if len(set(names.values())) != len(names):
        raise InvalidEntry("Some account names cannot be told apart in a plain-text journal.")
    return names


def group_component(code: str) -> str:
    """The group code as an account segment: itself when the tools accept it as it is,
    else cleaned up with a digest of the code, so it cannot fall onto another group's."""
    component = name_component(code)
    return component if component == code else f"{component}-{_digest(code, 8)}"


def account_names(accounts: dict[str, dict[str, str]]) -> dict[tuple[str, str], str]:
    """Plain-text names for Sansam accounts: group code -> {account name: type} in,
    (group code, account name) -> ``Type:GROUP:Segment...`` out.

    The commodity is not part of the name: an account that Sansam keeps in two
    commodities (the rice trading account's rice and riel sides) is one account holding
    both, as the tools expect.
    """
    names: dict[tuple[str, str], str] = {}
    for code in sorted(accounts):
        group = group_component(code)
        candidates = {}
        for name, kind in accounts[code].items():
            segments = name.split(":")
            if segments[0] in ROOTS.values():
                segments = segments[1:]
            parts = [ROOTS[kind], group, *(name_component(s) for s in segments)]
            candidates[name] = ":".join(parts)
        for name, text in _distinct(candidates, lambda n, c=code: f"{c}\x00{n}").items():
            names[(code, name)] = text
    if len(set(names.values())) != len(names):  # only if a group code was made to clash
        raise InvalidEntry("Two groups' accounts cannot be told apart in a plain-text journal.")
    return names


def beancount_commodity(code: str) -> str:
    """A commodity code as beancount wants it: capitals and digits, starting with a
    letter, 2 to 24 characters ("RICE-KG" -> "RICEKG"). Codes that already fit stay."""
    cleaned = re.sub(r"[^A-Z0-9]", "", code.upper())
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "C" + cleaned
    return cleaned.ljust(2, "X")[:24]


def _ledger_symbol(code: str) -> str:
    # hledger and ledger-cli take a symbol of letters as it is, anything else quoted.
    return code if code.isalpha() else f'"{code}"'


def _one_line(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


def _amount(minor: int, exponent: int) -> str:
    return f"{Decimal(int(minor)).scaleb(-exponent):.{exponent}f}"


# --- what is read from the book ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CommodityInfo:
    code: str  # Sansam's
    symbol: str  # as written in the file
    exponent: int
    name: str


@dataclass(frozen=True, slots=True)
class _GroupInfo:
    code: str
    name: str
    opened: dt.date  # the earlier of its creation and its first entry
    entries: int
    head_seq: int
    head_hash: str


@dataclass(frozen=True, slots=True)
class _Chart:
    groups: tuple[_GroupInfo, ...]
    # account id -> (plain-text name, commodity code as Sansam keeps it)
    accounts: dict[int, tuple[str, str]]
    # plain-text name -> (group code, the commodities it holds), sorted by name
    opens: dict[str, tuple[str, tuple[str, ...]]]
    commodities: dict[str, _CommodityInfo]  # those the accounts hold, by Sansam code
    width: int  # of the longest account name: amounts line up in one column


@dataclass(slots=True)
class _Entry:
    group_code: str
    seq: int
    date: dt.date
    uuid: str
    memo: str
    reverses_seq: int | None
    postings: list[tuple[int, str, int]]  # account id, commodity, minor (debit positive)


def _read_chart(session: Session, group_id: int | None) -> _Chart:
    def readable(query: Select[T], column: Any) -> Select[T]:
        if group_id is not None:
            return query.where(column == group_id)
        return only_readable(session, query, column)

    groups = session.execute(
        readable(select(Group.id, Group.code, Group.name, Group.created_at), Group.id)
    ).all()
    summary = readable(
        select(
            JournalEntry.group_id,
            func.min(JournalEntry.entry_date).label("first"),
            func.count().label("entries"),
            func.max(JournalEntry.seq).label("head"),
        ).group_by(JournalEntry.group_id),
        JournalEntry.group_id,
    ).subquery()
    stats = {
        row.group_id: row
        for row in session.execute(
            select(summary, JournalEntry.hash).join(
                JournalEntry,
                (JournalEntry.group_id == summary.c.group_id)
                & (JournalEntry.seq == summary.c.head),
            )
        )
    }
    infos: dict[int, _GroupInfo] = {}
    for gid, code, name, created_at in groups:
        stat = stats.get(gid)
        created = created_at.date()
        infos[gid] = _GroupInfo(
            code=code,
            name=_one_line(name),
            opened=min(created, stat.first) if stat else created,
            entries=stat.entries if stat else 0,
            head_seq=stat.head if stat else 0,
            head_hash=stat.hash if stat else "",
        )

    rows = session.execute(
        readable(
            select(Account.id, Account.group_id, Account.name, Account.type, Account.commodity),
            Account.group_id,
        )
    ).all()
    by_group: dict[str, dict[str, str]] = defaultdict(dict)
    for _id, gid, name, kind, _code in rows:
        by_group[infos[gid].code][name] = kind
    names = account_names(by_group)

    known = {
        code: (exponent, name)
        for code, exponent, name in session.execute(
            select(CommodityRow.code, CommodityRow.exponent, CommodityRow.name)
        )
    }
    used = sorted({code for *_rest, code in rows})
    commodities = {
        code: _CommodityInfo(code, beancount_commodity(code), *known[code]) for code in used
    }
    if len({c.symbol for c in commodities.values()}) != len(commodities):
        raise InvalidEntry("Two commodity codes cannot be told apart in a plain-text journal.")

    accounts: dict[int, tuple[str, str]] = {}
    held: dict[str, set[str]] = defaultdict(set)
    group_of: dict[str, str] = {}
    for account_id, gid, name, _kind, code in rows:
        text = names[(infos[gid].code, name)]
        accounts[account_id] = (text, code)
        held[text].add(code)
        group_of[text] = infos[gid].code
    opens = {text: (group_of[text], tuple(sorted(held[text]))) for text in sorted(held)}
    ordered = tuple(sorted(infos.values(), key=lambda g: g.code))
    width = max((len(text) for text in opens), default=0)
    return _Chart(ordered, accounts, opens, commodities, width)


def _entries(session: Session, group_id: int | None) -> Iterator[_Entry]:
    query = (
        select(
            Group.code,
            JournalEntry.seq,
            JournalEntry.entry_date,
            JournalEntry.uuid,
            JournalEntry.memo,
            JournalEntry.reverses_seq,
            Posting.account_id,
            Posting.commodity,
            Posting.amount,
        )
        .join(JournalEntry, POSTING_ENTRY)
        .join(Group, Group.id == Posting.group_id)
        .order_by(JournalEntry.entry_date, Group.code, JournalEntry.seq, Posting.line_no)
        .execution_options(yield_per=10_000)
    )
    if group_id is not None:
        query = query.where(Posting.group_id == group_id)
    else:
        query = only_readable(session, query, Posting.group_id)
    entry: _Entry | None = None
    for code, seq, date, uuid, memo, reverses, account_id, commodity, amount in session.execute(
        query
    ):
        if entry is None or (entry.group_code, entry.seq) != (code, seq):
            if entry is not None:
                yield entry
            entry = _Entry(code, seq, date, uuid, memo, reverses, [])
        entry.postings.append((account_id, commodity, amount))
    if entry is not None:
        yield entry


# --- the two formats -------------------------------------------------------------------------


def _header(chart: _Chart, tool: str) -> list[str]:
    lines = [
        f"; Sansam general journal for {tool}.",
        "; Written by `sansam journal export`; the same book always gives the same file.",
        "; Amounts are debits positive and credits negative, exact to each commodity's",
        "; smallest unit. Accounts are Type:GROUP:Name, the Sansam name reduced to ASCII",
        "; letters, digits and dashes (spaces become dashes); member accounts end in the",
        "; member's code. Each entry carries its group, its number in the group's chain",
        "; (seq), its uuid and, for a correction, the number it reverses.",
        ";",
        "; Commodities:",
    ]
    for c in chart.commodities.values():
        places = "whole units" if c.exponent == 0 else f"{c.exponent} decimals"
        written = "" if c.symbol == c.code else f", written {c.symbol} (Sansam's {c.code})"
        lines.append(f";   {c.symbol}: {c.name}, {places}{written}")
    lines += [";", "; Groups (entries, chain head: last number and its hash):"]
    for g in chart.groups:
        head = f"#{g.head_seq} {g.head_hash}" if g.entries else "none yet"
        lines.append(f";   {g.code} {g.name}: {g.entries} entries, chain head {head}")
    return lines


def _posting_line(indent: str, name: str, width: int, amount: str, symbol: str) -> str:
    return f"{indent}{name:<{width}}  {amount:>{_AMOUNT_WIDTH}} {symbol}"


class _LedgerStyle:
    """ledger-cli and hledger: one journal both read (dates with dashes, commodity after
    the number, metadata as ``; key: value`` tags)."""

    def preamble(self, chart: _Chart) -> str:
        lines = [
            *_header(chart, "ledger-cli and hledger"),
            ";",
            "; In memos, a semicolon is written as a comma and a leading parenthesis as a",
            "; bracket: hledger would read the rest as a comment, or the start as a code.",
            "",
        ]
        for c in chart.commodities.values():
            lines.append(f"commodity {_ledger_symbol(c.symbol)}")
            if c.exponent:  # hledger wants a decimal mark in a format; ledger-cli none
                sample = _amount(1000 * 10**c.exponent, c.exponent)
                lines.append(f"    format {sample} {_ledger_symbol(c.symbol)}")
        lines.append("")
        lines += [f"account {name}" for name in chart.opens]
        lines += ["", *(f"tag {tag}" for tag in _TAGS), ""]
        return "\n".join(lines) + "\n"

    def entry(self, chart: _Chart, entry: _Entry) -> str:
        memo = _one_line(entry.memo).replace(";", ",")
        if memo.startswith("("):  # would be read as a transaction code
            memo = "[" + memo[1:]
        lines = [
            f"{entry.date.isoformat()} * {memo}".rstrip(),
            f"    ; group: {entry.group_code}",
            f"    ; seq: {entry.seq}",
            f"    ; uuid: {entry.uuid}",
        ]
        if entry.reverses_seq is not None:
            lines.append(f"    ; reverses: {entry.reverses_seq}")
        for account_id, code, minor in entry.postings:
            name = chart.accounts[account_id][0]
            c = chart.commodities[code]
            amount = _amount(minor, c.exponent)
            lines.append(_posting_line("    ", name, chart.width, amount, _ledger_symbol(c.symbol)))
        return "\n".join(lines) + "\n\n"


def _quoted(text: str) -> str:
    escaped = _one_line(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class _BeancountStyle:
    """beancount: ``open`` for every account with the commodities it may hold, a
    ``commodity`` directive for each, metadata as ``key: value`` lines."""

    def preamble(self, chart: _Chart) -> str:
        lines = [*_header(chart, "beancount (bean-check, Fava)")]
        codes = [g.code for g in chart.groups]
        title = f"Sansam: {codes[0]}" if len(codes) == 1 else f"Sansam: {len(codes)} groups"
        lines += ["", f"option {_quoted('title')} {_quoted(title)}", ""]
        opened = {g.code: g.opened for g in chart.groups}
        if chart.opens:
            first = min(opened.values()).isoformat()
            for c in chart.commodities.values():
                lines += [f"{first} commodity {c.symbol}", f"  name: {_quoted(c.name)}"]
            lines.append("")
        for name, (group_code, codes_held) in chart.opens.items():
            symbols = ",".join(chart.commodities[code].symbol for code in codes_held)
            lines.append(f"{opened[group_code].isoformat()} open {name}  {symbols}")
        lines.append("")
        return "\n".join(lines) + "\n"

    def entry(self, chart: _Chart, entry: _Entry) -> str:
        lines = [
            f"{entry.date.isoformat()} * {_quoted(entry.memo)}",
            f"  group: {_quoted(entry.group_code)}",
            f"  seq: {entry.seq}",
            f"  uuid: {_quoted(entry.uuid)}",
        ]
        if entry.reverses_seq is not None:
            lines.append(f"  reverses: {entry.reverses_seq}")
        for account_id, code, minor in entry.postings:
            name = chart.accounts[account_id][0]
            c = chart.commodities[code]
            lines.append(
                _posting_line("  ", name, chart.width, _amount(minor, c.exponent), c.symbol)
            )
        return "\n".join(lines) + "\n\n"


_STYLES = {"ledger": _LedgerStyle(), "beancount": _BeancountStyle()}


@contextmanager
def _writing(target: str | Path | TextIO) -> Iterator[TextIO]:
    if isinstance(target, (str, Path)):
        with open(target, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
    else:
        yield target


def export_journal_text(
    session: Session,
    path_or_stream: str | Path | TextIO,
    *,
    fmt: TextFormat,
    group_id: int | None = None,
) -> int:
    """Write every posted entry of one group (or of every group the user may read) as a
    ledger-cli/hledger or beancount journal; returns the number of entries written.

    A path is written as it is given (the caller writes to a ``.partial`` file and
    renames it if it wants the whole file or nothing); a text stream is written to and
    left open.
    """
    style = _STYLES.get(fmt)
    if style is None:
        raise InvalidEntry(f"Unknown format {fmt!r}; use one of {', '.join(TEXT_FORMATS)}.")
    if group_id is not None:
        allow(session, "read", group_id)
    chart = _read_chart(session, group_id)
    written = 0
    with _writing(path_or_stream) as out:
        out.write(style.preamble(chart))
        for entry in _entries(session, group_id):
            out.write(style.entry(chart, entry))
            written += 1
    return written
