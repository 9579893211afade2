"""A member's statement for a period, as data: what the printed passbook page shows.

Every figure comes from the member's own accounts, so a statement's closing balances are
the account balances on its last day, by construction: savings (compulsory, voluntary),
shares and share money held, each loan's principal and each rice loan's principal, with
the opening balance, every movement in the period (date, entry number, running balance)
and the closing balance. Beside them: social fund and fines paid at meetings in the
period, what each loan and rice loan owes, and the instalments that fall due next.

Amounts are on the side the member reads them: savings and shares as what the group
holds for her, loans as what she owes. The statement carries the group's chain head
when it was made; ``ledger.statement_check`` turns both into the code printed under it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.chart import members_account_ids
from ledger.errors import InvalidEntry
from ledger.groups import GroupRecord, get_group
from ledger.loans import LoanStatement, loan_statements
from ledger.members import MemberRecord, find_member, list_members
from ledger.models import JournalEntry, Loan, Posting, RiceLoan
from ledger.permissions import allow
from ledger.positions import MeetingPayments, members_meeting_payments
from ledger.queries import POSTING_ENTRY, chain_head
from ledger.rice_loans import RiceLoanStatement, rice_loans

# The member's own accounts, in the order a passbook shows them, and the sign that turns
# a posting (debit positive) into what the member reads (held for her, or owed by her).
SAVINGS_ROLES = (
    ("compulsory_savings", "Compulsory savings"),
    ("voluntary_savings", "Voluntary savings"),
    ("shares", "Shares"),
    ("share_money_held", "Share money held"),
)
NEXT_INSTALMENTS = 3  # per loan


@dataclass(frozen=True, slots=True)
class Movement:
    on: dt.date
    seq: int
    memo: str
    amount: int  # + raises what is held for (or owed by) the member
    running: int


@dataclass(frozen=True, slots=True)
class AccountSection:
    """One account over the period: opening, every movement, closing."""

    key: str  # the account's role, or "loan 3" / "rice loan 2"
    title: str  # English; the catalog has the Khmer
    commodity: str
    opening: int
    movements: tuple[Movement, ...]

    @property
    def closing(self) -> int:
        return self.movements[-1].running if self.movements else self.opening

    @property
    def paid_in(self) -> int:
        return sum(m.amount for m in self.movements if m.amount > 0)

    @property
    def paid_out(self) -> int:
        return -sum(m.amount for m in self.movements if m.amount < 0)


@dataclass(frozen=True, slots=True)
class LoanSection:
    loan: LoanStatement
    principal: AccountSection


@dataclass(frozen=True, slots=True)
class RiceSection:
    loan: RiceLoanStatement
    principal: AccountSection


@dataclass(frozen=True, slots=True)
class DueInstalment:
    loan_number: int
    number: int
    due_on: dt.date
    amount: int  # what is still to pay of this instalment
    status: str


@dataclass(frozen=True, slots=True)
class MemberStatement:
    group: GroupRecord
    member: MemberRecord
    start: dt.date
    end: dt.date
    savings: tuple[AccountSection, ...]
    social_fund_paid: int
    fines_paid: int
    meetings_attended: int
    meetings_held: int
    loans: tuple[LoanSection, ...]
    rice: tuple[RiceSection, ...]
    due_next: tuple[DueInstalment, ...]
    head_seq: int  # the group's chain head when the statement was made
    head_hash: str

    @property
    def total_savings(self) -> int:
        return sum(s.closing for s in self.savings if s.key.endswith("savings"))

    @property
    def loans_owed(self) -> int:
        return sum(s.principal.closing for s in self.loans)

    @property
    def rice_owed(self) -> int:
        """Rice principal still owed (grams); interest owed is on each rice loan."""
        return sum(s.principal.closing for s in self.rice)


def member_statement(
    session: Session,
    group_id: int,
    member_code: str,
    start: dt.date,
    end: dt.date,
    *,
    through_seq: int | None = None,
) -> MemberStatement:
    """The statement of one member for ``start``..``end`` (both included).

    With ``through_seq``, the accounts are read as the book stood when its chain ended
    at that entry (what a statement printed then showed); ``ledger.statement_check``
    uses it to tell a stale statement from an altered one.
    """
    if end < start:
        raise InvalidEntry(f"The statement ends ({end}) before it starts ({start}).")
    allow(session, "read", group_id)
    group = get_group(session, group_id)
    member = find_member(session, group_id, member_code)
    head = chain_head(session, group_id)
    if through_seq is not None:
        head = (through_seq, "")
    facts = _MemberFacts.of(session, group_id, [member], start, end)
    return _statement(session, group, member, start, end, head, facts)


def members_in_period(
    session: Session, group_id: int, start: dt.date, end: dt.date
) -> list[MemberRecord]:
    """The members who belonged to the group at some time in the period."""
    return [
        m
        for m in list_members(session, group_id)
        if not (m.joined_on is not None and m.joined_on > end)
        and not (m.exited_on is not None and m.exited_on < start)
    ]


def member_statements(
    session: Session,
    group_id: int,
    start: dt.date,
    end: dt.date,
    *,
    members: Sequence[MemberRecord] | None = None,
) -> Iterator[MemberStatement]:
    """Every member's statement for the period, one at a time (a batch of a thousand
    never holds a thousand statements' data at once). ``members``: those of
    ``members_in_period`` when the caller has them already."""
    allow(session, "read", group_id)
    group = get_group(session, group_id)
    head = chain_head(session, group_id)
    if members is None:
        members = members_in_period(session, group_id, start, end)
    members = list(members)
    facts = _MemberFacts.of(session, group_id, members, start, end)
    for member in members:
        yield _statement(session, group, member, start, end, head, facts)


@dataclass(slots=True)
class _MemberFacts:
    """What the statements of some members need besides their accounts' history, read
    for all of them at once: a few queries for a batch of a thousand, not a dozen for
    each statement. Small per member (her account ids, loans and meeting totals), so a
    batch still never holds its statements' movements at once."""

    account_ids: dict[int, dict[str, int]]
    loans: dict[int, list[LoanStatement]]  # by member, oldest first
    rice: dict[int, list[RiceLoanStatement]]
    rice_accounts: dict[int, int]  # rice loan id -> its account
    payments: dict[int, MeetingPayments]

    @classmethod
    def of(
        cls,
        session: Session,
        group_id: int,
        members: Sequence[MemberRecord],
        start: dt.date,
        end: dt.date,
    ) -> _MemberFacts:
        ids = [member.id for member in members]
        loans: list[Loan] = []
        for k in range(0, len(ids), 500):
            loans += session.execute(
                select(Loan).where(
                    Loan.member_id.in_(ids[k : k + 500]), Loan.account_id.is_not(None)
                )
            ).scalars()
        loans.sort(key=lambda loan: loan.number)
        by_member: dict[int, list[LoanStatement]] = {}
        for statement in loan_statements(session, loans, on=end) if loans else []:
            by_member.setdefault(statement.loan.member_id, []).append(statement)
        wanted = set(ids)
        rice: dict[int, list[RiceLoanStatement]] = {}
        for loan in rice_loans(session, group_id, on=end):
            if loan.member_id in wanted:
                rice.setdefault(loan.member_id, []).append(loan)
        rice_accounts = dict(
            session.execute(
                select(RiceLoan.id, RiceLoan.account_id).where(RiceLoan.group_id == group_id)
            ).all()
        )
        return cls(
            members_account_ids(session, ids),
            by_member,
            rice,
            rice_accounts,
            members_meeting_payments(session, members, start, end),
        )


def _statement(
    session: Session,
    group: GroupRecord,
    member: MemberRecord,
    start: dt.date,
    end: dt.date,
    head: tuple[int, str],
    facts: _MemberFacts,
) -> MemberStatement:
    ids = facts.account_ids[member.id]
    loans = facts.loans.get(member.id, [])
    rice = facts.rice.get(member.id, [])
    rice_accounts = facts.rice_accounts
    wanted = {ids[role]: -1 for role, _ in SAVINGS_ROLES}  # held for her: credit side
    wanted |= {st.loan.account_id: 1 for st in loans if st.loan.account_id is not None}
    wanted |= {rice_accounts[r.id]: 1 for r in rice}
    history = _history(session, wanted, start, end, through_seq=head[0])

    savings = tuple(
        _section(role, title, group.currency, history[ids[role]]) for role, title in SAVINGS_ROLES
    )
    loan_sections = []
    for statement in loans:
        account = statement.loan.account_id
        assert account is not None
        section = _section(
            f"loan {statement.loan.number}", "Loan", group.currency, history[account]
        )
        if section.opening or section.movements:
            loan_sections.append(LoanSection(statement, section))
    rice_sections = []
    for r in rice:
        section = _section(
            f"rice loan {r.number}", "Rice loan", "RICE", history[rice_accounts[r.id]]
        )
        if section.opening or section.movements or r.standing.owed:
            rice_sections.append(RiceSection(r, section))
    paid = facts.payments[member.id]
    return MemberStatement(
        group=group,
        member=member,
        start=start,
        end=end,
        savings=savings,
        social_fund_paid=paid.social_fund,
        fines_paid=paid.fines,
        meetings_attended=paid.attended,
        meetings_held=paid.held,
        loans=tuple(loan_sections),
        rice=tuple(rice_sections),
        due_next=_due_next(loan_sections, end),
        head_seq=head[0],
        head_hash=head[1],
    )


_History = dict[int, tuple[int, list[tuple[dt.date, int, str, int]]]]


def _history(
    session: Session,
    signs: dict[int, int],
    start: dt.date,
    end: dt.date,
    *,
    through_seq: int,
) -> _History:
    """Per account: (opening balance, movements in the period), signed for the member.

    Two queries over the (account_id, entry_seq) index, whatever the size of the book:
    the sums before the period, and the postings inside it in date order. They do not
    filter on the group (the accounts are the group's): with that filter SQLite chose
    the postings' key and read the whole group's postings for every member.
    """
    ids = sorted(signs)
    out: _History = {account: (0, []) for account in ids}
    if not ids:
        return out
    before = session.execute(
        select(Posting.account_id, func.sum(Posting.amount))
        .join(JournalEntry, POSTING_ENTRY)
        .where(
            Posting.account_id.in_(ids),
            JournalEntry.entry_date < start,
            JournalEntry.seq <= through_seq,
        )
        .group_by(Posting.account_id)
    )
    for account, total in before:
        out[account] = (int(total or 0) * signs[account], [])
    inside = session.execute(
        select(
            Posting.account_id,
            JournalEntry.entry_date,
            JournalEntry.seq,
            JournalEntry.memo,
            Posting.amount,
        )
        .join(JournalEntry, POSTING_ENTRY)
        .where(
            Posting.account_id.in_(ids),
            JournalEntry.entry_date >= start,
            JournalEntry.entry_date <= end,
            JournalEntry.seq <= through_seq,
        )
        .order_by(JournalEntry.entry_date, JournalEntry.seq, Posting.line_no)
    )
    for account, on, seq, memo, amount in inside:
        out[account][1].append((on, seq, memo, int(amount) * signs[account]))
    return out


def _section(
    key: str,
    title: str,
    commodity: str,
    history: tuple[int, list[tuple[dt.date, int, str, int]]],
) -> AccountSection:
    opening, rows = history
    running = opening
    movements = []
    for on, seq, memo, amount in rows:
        running += amount
        movements.append(Movement(on, seq, memo, amount, running))
    return AccountSection(key, title, commodity, opening, tuple(movements))


def _due_next(loans: list[LoanSection], end: dt.date) -> tuple[DueInstalment, ...]:
    """Per active loan: its instalments not fully paid, overdue ones and the next ones."""
    due: list[DueInstalment] = []
    for section in loans:
        statement = section.loan
        if statement.state != "active":
            continue
        upcoming = 0
        for i in statement.instalments:
            if i.status == "paid":
                continue
            if i.due_on > end:
                upcoming += 1
                if upcoming > NEXT_INSTALMENTS:
                    break
            due.append(
                DueInstalment(statement.loan.number, i.number, i.due_on, i.total - i.paid, i.status)
            )
    return tuple(sorted(due, key=lambda d: (d.due_on, d.loan_number)))
