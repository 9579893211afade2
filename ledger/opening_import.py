"""Starting from paper: each member's balances and the group's, as of a cut-off date.

A group with years of paper books starts in Sansam from what the books say on the
cut-off date. Member rows (CSV header ``member`` and any of ``compulsory_savings,
voluntary_savings,share_value,share_money_held``) and the group's cash box, bank and
social fund are posted as opening entries against ``Equity:Opening balances``, one
entry per member and one for the group, through the one write path. Re-importing the
same balances changes nothing; different balances for a member already opened are
refused. A file with no member and no group amount is refused as the wrong file. Loans
still owed on the cut-off date have their own file
(``ledger.opening_loans``), since a member may owe more than one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from ledger.chart import GroupAccounts
from ledger.csvfile import cell_amount, cell_code
from ledger.cycles import current_cycle
from ledger.errors import IdempotencyConflict, ImportRejected, LedgerError, UnknownMember
from ledger.groups import get_group
from ledger.members import find_member
from ledger.money import format_minor
from ledger.permissions import allow
from ledger.posting import EntryRequest, Line, post_entries
from ledger.xlsxfile import read_table

REQUIRED = ("member",)
OPTIONAL = ("compulsory_savings", "voluntary_savings", "share_value", "share_money_held")


@dataclass(frozen=True, slots=True)
class OpeningSummary:
    members: int
    entries_posted: int
    entries_already_present: int


def import_opening_balances(
    session: Session,
    group_id: int,
    path: str | Path,
    *,
    as_of: dt.date,
    cash_box: int = 0,
    bank: int = 0,
    social_fund: int = 0,
) -> OpeningSummary:
    """Post opening balances; group amounts are in minor units of the group's currency."""
    author = allow(
        session, "record", group_id, audit=f"imported opening balances as of {as_of}"
    ).username
    group = get_group(session, group_id)
    accounts = GroupAccounts(session, group_id)
    cycle = current_cycle(session, group_id, required=False)
    opening = accounts.get("opening_balances").id
    requests: list[tuple[int, EntryRequest]] = []
    seen: dict[str, int] = {}

    def entry(row: int, key: str, memo: str, lines: list[tuple[int, int]]) -> None:
        moved = [(a, m) for a, m in lines if m]
        total = sum(m for _a, m in moved)
        if not moved:
            return
        moved.append((opening, -total))
        requests.append(
            (
                row,
                EntryRequest(
                    group_id=group_id,
                    entry_date=as_of,
                    memo=memo,
                    lines=tuple(Line(a, group.currency, m) for a, m in moved),
                    idempotency_key=f"opening:{key}",
                    author=author,
                ),
            )
        )

    for row, values in read_table(path, required=REQUIRED, optional=OPTIONAL, sheet="opening"):
        code = cell_code(row, values, "member")
        if code in seen:
            raise ImportRejected(row, f"Member {code} appears twice (first at row {seen[code]}).")
        seen[code] = row
        try:
            member = find_member(session, group_id, code)
        except UnknownMember as exc:
            raise ImportRejected(row, f"{exc} Import the members first.") from None
        if member.joined_on and member.joined_on > as_of:
            raise ImportRejected(
                row, f"{code} joined on {member.joined_on.isoformat()}, after the cut-off date."
            )
        amounts = {c: cell_amount(row, values, c, group.currency) for c in OPTIONAL}
        price = cycle.share_price if cycle else None
        if amounts["share_value"] and (not price or amounts["share_value"] % price):
            raise ImportRejected(
                row,
                f"share_value {format_minor(amounts['share_value'], group.currency)} is not a "
                "whole number of shares at the cycle's share price"
                + (f" ({format_minor(price, group.currency)})." if price else " (none is set)."),
            )
        ids = accounts.ids(member.id)
        entry(
            row,
            member.uuid,
            f"Opening balances from the paper books: {member.code} {member.name_latin}",
            [
                (ids["compulsory_savings"], -amounts["compulsory_savings"]),
                (ids["voluntary_savings"], -amounts["voluntary_savings"]),
                (ids["shares"], -amounts["share_value"]),
                (ids["share_money_held"], -amounts["share_money_held"]),
            ],
        )
    for label, amount in (("cash box", cash_box), ("bank", bank), ("social fund", social_fund)):
        if amount < 0:
            raise ImportRejected(None, f"The opening {label} cannot be negative.")
    if not seen and not (cash_box or bank or social_fund):
        raise ImportRejected(
            None,
            "The file has a header but no member under it, and no cash box, bank or social "
            "fund was given: there is nothing to import.",
        )
    entry(
        0,
        f"group:{group.uuid}",
        "Opening balances from the paper books: the group",
        [
            (accounts.get("cash_box").id, cash_box),
            (accounts.get("bank").id, bank),
            (accounts.get("social_fund").id, -social_fund),
        ],
    )
    try:
        results = post_entries(session, [r for _row, r in requests])
    except IdempotencyConflict:
        raise ImportRejected(
            None,
            "Opening balances were already imported for this group with different amounts; "
            "correct them by a reversal at a meeting, not by importing again.",
        ) from None
    except LedgerError as exc:
        index = exc.entry_index or 0
        row = requests[index][0] if requests else None
        raise ImportRejected(row or None, str(exc)) from None
    posted = sum(1 for r in results if not r.replayed)
    return OpeningSummary(len(seen), posted, len(results) - posted)
