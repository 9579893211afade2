"""The meeting sheet's rows as the treasurer types them, before they reach the book.

Each row holds the member's amounts as last accepted (integer minor units), which cells
show something refused, and the figures the totals and the expected cash box are made
of. No Textual here: the meeting screen draws these rows, the tests can check them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.collection_sheet import CollectionRow
from ledger.meetings import AMOUNT_FIELDS, MeetingSummary, SheetLine

# The columns a treasurer types into, in order. "fine" is all of a member's fines;
# "repay" is her loan repayment (spread over her loans, oldest first, when saved).
NARROW_FIELDS = ("savings", "share_money", "social_fund", "fine", "repay")
WIDE_FIELDS = (
    "savings",
    "voluntary_savings",
    "withdrawal",
    "share_money",
    "social_fund",
    "fine",
    "repay",
)
HEADERS = {
    "savings": "Savings",
    "voluntary_savings": "Voluntary",
    "withdrawal": "Withdraw",
    "share_money": "Shares",
    "social_fund": "Social",
    "fine": "Fine",
    "repay": "Repay",
}


@dataclass(slots=True)
class SheetRow:
    code: str
    name: str
    due: int  # what the member's loans need today to be up to date
    overdue: bool
    has_loan: bool
    attended: bool | None = None  # None: not marked yet
    amounts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AMOUNT_FIELDS, 0))
    repay: int = 0
    invalid: dict[str, str] = field(default_factory=dict)  # column -> the reason
    saved: bool = True  # False while a change has not reached the book

    @classmethod
    def of(cls, row: CollectionRow) -> SheetRow:
        return cls(
            row.member.code, row.member.name_latin, row.loan_due, row.overdue, bool(row.loans)
        )

    def load(self, line: SheetLine | None, repaid: int) -> None:
        if line is not None:
            self.attended = line.attended
            self.amounts = {f: getattr(line, f) for f in AMOUNT_FIELDS}
        self.repay = repaid

    def value(self, column: str) -> int:
        if column == "repay":
            return self.repay
        if column == "fine":
            return (
                self.amounts["fine_late"] + self.amounts["fine_absent"] + self.amounts["fine_other"]
            )
        return self.amounts[column]

    def set(self, column: str, minor: int) -> str | None:
        """Take a typed amount; returns why it cannot be taken (the cell shows it)."""
        if column == "repay":
            if minor and not self.has_loan:
                return f"{self.code} has no loan to repay."
            self.repay = minor
        elif column == "fine":
            # Late and absence fines may have come from a paper sheet's import; the
            # treasurer types the member's total, and the rest is "other" fines.
            fixed = self.amounts["fine_late"] + self.amounts["fine_absent"]
            if minor < fixed:
                return f"{self.code} already has {fixed:,} in late/absence fines; type the total."
            self.amounts["fine_other"] = minor - fixed
        else:
            self.amounts[column] = minor
        if minor and self.attended is None:
            self.attended = True  # who pays at the meeting is there
        return None

    @property
    def empty(self) -> bool:
        return self.attended is None and not any(self.amounts.values()) and not self.repay

    @property
    def cash_in(self) -> int:
        return sum(v for f, v in self.amounts.items() if f != "withdrawal") + self.repay

    @property
    def cash_out(self) -> int:
        return self.amounts["withdrawal"]


@dataclass(frozen=True, slots=True)
class SheetTotals:
    columns: dict[str, int]
    present: int
    marked: int
    cash_in: int
    cash_out: int
    expected_cash: int


def cash_base(summary: MeetingSummary) -> int:
    """The expected cash box without the member rows: the opening cash, the group's items
    (grants, expenses, bank trips) and the loans lent from the box at this meeting."""
    lines_in = sum(line.cash_in for line in summary.lines) + sum(
        r.amount for r in summary.repayments
    )
    lines_out = sum(line.cash_out for line in summary.lines)
    return summary.expected_cash - lines_in + lines_out


def totals(rows: list[SheetRow], columns: tuple[str, ...], base: int) -> SheetTotals:
    cash_in = sum(r.cash_in for r in rows)
    cash_out = sum(r.cash_out for r in rows)
    return SheetTotals(
        columns={c: sum(r.value(c) for r in rows) for c in columns},
        present=sum(1 for r in rows if r.attended),
        marked=sum(1 for r in rows if r.attended is not None),
        cash_in=cash_in,
        cash_out=cash_out,
        expected_cash=base + cash_in - cash_out,
    )
