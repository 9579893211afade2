"""Every rule the ledger enforces has its own error, all under ``LedgerError``.

Messages are written for the person at the keyboard (usually a treasurer): they say what
was refused and what to do instead, never a stack trace or an SQL fragment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class LedgerError(Exception):
    """Root of every refusal the ledger makes; the message is safe to show to a user.

    ``entry_index`` is set when the refusal concerns one request of a batch (its position),
    so an importer can name the row the user has to fix.
    """

    entry_index: int | None = None


class InvalidAmount(LedgerError):
    """An amount that is not exact, not finite, zero where it may not be, or too large."""


class InvalidDate(LedgerError):
    """A typed date that is not YYYY-MM-DD, not a day of the calendar, or out of range."""


class UnknownCommodity(LedgerError):
    """A commodity code the ledger does not keep."""


class CommodityMismatch(LedgerError):
    """An amount in one commodity sent to an account that keeps another."""


class InvalidEntry(LedgerError):
    """An entry that is malformed: no key, an impossible date, a too-long memo."""


class TooFewPostings(InvalidEntry):
    """An entry must move value between at least two postings."""


class UnbalancedEntry(InvalidEntry):
    """The postings of one commodity in an entry do not sum to zero."""


class UnknownAccount(LedgerError):
    """An account that does not exist, or exists in another group."""


class UnknownLocation(LedgerError):
    """A province, district, commune or village that is not in the official list."""


class UnknownMember(LedgerError):
    """A member code that the group does not have."""


class MemberError(LedgerError):
    """Member details that cannot be accepted (bad sex, ID-Poor level, dates...)."""


class MeetingError(LedgerError):
    """A meeting that cannot be opened, changed or closed as asked."""


class SheetError(MeetingError):
    """A collection-sheet line that breaks a savings rule (shares, withdrawals...)."""


class UnknownGroup(LedgerError):
    """A group code or id that the book does not hold."""


class InsufficientBalance(LedgerError):
    """A posting would take an account that forbids it below zero."""


class ClosedPeriod(LedgerError):
    """An entry dated inside a period that has been closed."""


class IdempotencyConflict(LedgerError):
    """An idempotency key reused for a different request."""


class ReversalError(LedgerError):
    """An entry that cannot be reversed (unknown, or reversed already)."""


class ImportRejected(LedgerError):
    """A file that cannot be imported; names the row (and field) and the reason.

    Imports are all or nothing, so the message always ends by saying nothing was written.
    """

    def __init__(self, row: int | None, reason: str) -> None:
        self.row = row
        self.reason = reason
        where = f"Row {row}: " if row is not None else ""
        super().__init__(f"{where}{reason} Nothing was imported.")


class JournalImportError(ImportRejected):
    """A general-journal CSV that cannot be imported."""


class BookNotReady(LedgerError):
    """A book that has not been created or is at an older schema version."""


class BookBusy(LedgerError):
    """Another user is writing to the book and did not finish in time; try again."""


class DatabaseRefused(LedgerError):
    """The database itself refused a change that would break a ledger rule.

    The Python checks run first and give the detailed message; this error means something
    got past them (or went around them), and the database held the line.
    """


class RecordedRefusal(LedgerError):
    """A refusal that must leave a trace: a denied action, a failed sign-in.

    The unit of work that raised it is rolled back like any other (nothing of it is
    written); ``Book.write`` then calls ``record`` in a transaction of its own, so the
    audit trail and the failed-attempt counter keep what happened.
    """

    def record(self, session: Session) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class SyncRejected(LedgerError):
    """A sync bundle that cannot be taken: unsigned, altered, from a book that is not the
    group's home, or diverging from the chain this book holds. Nothing is written."""


class NotHome(LedgerError):
    """A posting for a group whose books are kept by another book (its home)."""
