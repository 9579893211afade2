"""General-journal CSV: import and export, one row per posting.

Header: ``txn_id,date,group,description,account,commodity,amount``. Rows with the same
``txn_id`` (kept together in the file) form one entry; ``amount`` is a signed decimal,
positive for a debit. ``txn_id`` becomes the entry's idempotency key within its group, so
importing the same file twice posts nothing the second time.

The import is all or nothing: it runs in the caller's unit of work, and the first bad row
raises ``JournalImportError`` naming the row (and the field), so the caller's rollback
leaves the book as it was; a file with a header and no row is refused as the wrong file.
It streams the file, posting in batches, so a million entries fit in memory.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.accounts import account_type, accounts_by_name, open_account
from ledger.csvfile import cell_date, read_csv
from ledger.errors import (
    ImportRejected,
    JournalImportError,
    LedgerError,
    RecordedRefusal,
    UnknownGroup,
)
from ledger.groups import GroupRecord, check_code, create_group, find_group
from ledger.models import Account, Group, JournalEntry, Posting
from ledger.money import commodity, decimal_text, parse_amount
from ledger.permissions import allow, current_actor, only_readable, take_role_in_new_group
from ledger.posting import EntryRequest, Line, post_entries
from ledger.queries import POSTING_ENTRY

HEADER = ("txn_id", "date", "group", "description", "account", "commodity", "amount")
BATCH = 2_000  # entries per call to the write path

Progress = Callable[[int, int], None]  # rows read, entries handled


@dataclass(frozen=True, slots=True)
class ImportSummary:
    rows: int
    entries_posted: int
    entries_already_present: int
    groups_created: tuple[str, ...]
    accounts_created: int


@dataclass(slots=True)
class _PendingEntry:
    first_row: int
    txn_id: str
    group_code: str
    date: dt.date
    description: str
    lines: list[tuple[int, str, str, int]]  # row, account name, commodity, minor


def import_journal(
    session: Session,
    path: str | Path,
    *,
    on_progress: Progress | None = None,
) -> ImportSummary:
    """Import a journal CSV into the book through the one write path.

    The signed-in user must record for every existing group in the file; groups the file
    brings new are created only by an administrator, who then records their history.
    """
    author = current_actor(session).username
    importer = _Importer(session, author, on_progress)
    try:
        importer.run(path)
    except JournalImportError:
        raise
    except ImportRejected as exc:  # from the shared CSV reader: same row, same reason
        raise JournalImportError(exc.row, exc.reason) from None
    return importer.summary()


class _Importer:
    def __init__(self, session: Session, author: str, on_progress: Progress | None) -> None:
        self.session = session
        self.author = author
        self.on_progress = on_progress
        self.row_number = 1
        self.groups: dict[str, GroupRecord] = {}
        self.accounts: dict[str, dict[tuple[str, str], int]] = {}
        self.groups_created: list[str] = []
        self.accounts_created = 0
        self.posted = 0
        self.replayed = 0
        self.batch: list[_PendingEntry] = []
        # A federation journal names a few thousand accounts millions of times: check each
        # name once.
        self.valid_names: set[str] = set()

    def run(self, path: str | Path) -> None:
        pending: _PendingEntry | None = None
        for row, values in read_csv(path, required=HEADER):
            self.row_number = row
            txn_id, date_text, group_code, description, account, code, amount_text = (
                values[c] for c in HEADER
            )
            if pending is not None and (txn_id, group_code) != (pending.txn_id, pending.group_code):
                self._queue(pending)
                pending = None
            if pending is None:
                pending = self._start(txn_id, date_text, group_code, description)
            elif (
                date_text != pending.date.isoformat()
                and _parse_date(date_text, self.row_number) != pending.date
            ):
                raise JournalImportError(
                    self.row_number,
                    f"Entry {txn_id!r} has rows with different dates "
                    f"({pending.date.isoformat()} and {date_text}).",
                )
            pending.lines.append((self.row_number, *self._posting(account, code, amount_text)))
        if pending is None:
            raise JournalImportError(None, "The file has a header but no rows under it.")
        self._queue(pending)
        self._flush()

    def _start(
        self, txn_id: str, date_text: str, group_code: str, description: str
    ) -> _PendingEntry:
        row = self.row_number
        if not txn_id:
            raise JournalImportError(row, "The txn_id is empty; every row needs one.")
        if not group_code:
            raise JournalImportError(row, "The group is empty; every row needs a group code.")
        try:
            check_code(group_code)
        except LedgerError as exc:
            raise JournalImportError(row, str(exc)) from None
        return _PendingEntry(row, txn_id, group_code, _parse_date(date_text, row), description, [])

    def _posting(self, account: str, code: str, amount_text: str) -> tuple[str, str, int]:
        row = self.row_number
        field = "account"
        try:
            if account not in self.valid_names:
                account_type(account)
                self.valid_names.add(account)
            field = "commodity"
            commodity_code = commodity(code).code
            field = "amount"
            minor = parse_amount(amount_text, commodity_code)
        except LedgerError as exc:
            raise JournalImportError(row, f"{field}: {exc}") from None
        if minor == 0:
            raise JournalImportError(row, "The amount is zero; leave the row out.")
        return account, commodity_code, minor

    def _queue(self, entry: _PendingEntry) -> None:
        self.batch.append(entry)
        if len(self.batch) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self.batch:
            return
        requests = [self._request(entry) for entry in self.batch]
        try:
            results = post_entries(self.session, requests)
        except RecordedRefusal:
            raise  # a refusal stays one, so the audit trail keeps it
        except LedgerError as exc:
            failed = self.batch[exc.entry_index or 0]
            raise JournalImportError(failed.first_row, f"Entry {failed.txn_id!r}: {exc}") from None
        for result in results:
            if result.replayed:
                self.replayed += 1
            else:
                self.posted += 1
        self.batch = []
        if self.on_progress:
            self.on_progress(self.row_number - 1, self.posted + self.replayed)

    def _request(self, entry: _PendingEntry) -> EntryRequest:
        group = self._group(entry.group_code)
        accounts = self.accounts[group.code]
        lines = []
        for _row, name, code, minor in entry.lines:
            account_id = accounts.get((name, code))
            if account_id is None:
                account_id = open_account(self.session, group.id, name, code).id
                accounts[(name, code)] = account_id
                self.accounts_created += 1
            lines.append(Line(account_id, code, minor))
        return EntryRequest(
            group_id=group.id,
            entry_date=entry.date,
            memo=entry.description,
            lines=tuple(lines),
            idempotency_key=entry.txn_id,
            author=self.author,
        )

    def _group(self, code: str) -> GroupRecord:
        group = self.groups.get(code)
        if group is None:
            try:
                group = find_group(self.session, code)
            except UnknownGroup:
                group = create_group(self.session, code, chart=False)
                take_role_in_new_group(self.session, group.id, "treasurer")
                self.groups_created.append(code)
            self.groups[code] = group
            self.accounts[code] = accounts_by_name(self.session, group.id)
        return group

    def summary(self) -> ImportSummary:
        return ImportSummary(
            rows=max(self.row_number - 1, 0),
            entries_posted=self.posted,
            entries_already_present=self.replayed,
            groups_created=tuple(self.groups_created),
            accounts_created=self.accounts_created,
        )


def _parse_date(text: str, row: int) -> dt.date:
    try:
        return cell_date(row, {"date": text}, "date")
    except ImportRejected as exc:
        raise JournalImportError(row, f"The {exc.reason}") from None


def export_journal(session: Session, path: str | Path, *, group_id: int | None = None) -> int:
    """Write the journal (one group, or all) in the import format; returns rows written."""
    query = (
        select(
            JournalEntry.idempotency_key,
            JournalEntry.entry_date,
            Group.code,
            JournalEntry.memo,
            Account.name,
            Posting.commodity,
            Posting.amount,
        )
        .join(JournalEntry, POSTING_ENTRY)
        .join(Group, Group.id == Posting.group_id)
        .join(Account, Account.id == Posting.account_id)
        .order_by(Group.code, Posting.entry_seq, Posting.line_no)
        .execution_options(yield_per=10_000)
    )
    if group_id is not None:
        allow(session, "read", group_id)
        query = query.where(Posting.group_id == group_id)
    else:
        query = only_readable(session, query, Posting.group_id)
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for key, date, code, memo, account, commodity_code, amount in session.execute(query):
            writer.writerow(
                (
                    key,
                    date.isoformat(),
                    code,
                    memo,
                    account,
                    commodity_code,
                    decimal_text(amount, commodity_code),
                )
            )
            rows += 1
    return rows
