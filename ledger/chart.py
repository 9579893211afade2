"""The chart of accounts a group gets, and finding accounts by what they are for.

Treasurers never type account names: every account a service posts to is found by its
role (and member), e.g. ("voluntary_savings", member 12). Names follow the journal
convention (Assets:..., Liabilities:...) so exports read naturally.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.accounts import AccountRecord, account_type
from ledger.errors import UnknownAccount
from ledger.models import Account, new_uuid


@dataclass(frozen=True, slots=True)
class Template:
    role: str
    name: str
    no_negative: bool
    commodity: str | None = None  # None: the group's currency


GROUP_ACCOUNTS = (
    Template("cash_box", "Assets:Cash box", True),
    Template("bank", "Assets:Bank", True),
    Template("loans_receivable", "Assets:Loans receivable", True),
    Template("rice_stock", "Assets:Rice stock", True, "RICE"),
    Template("social_fund", "Equity:Social fund", True),
    Template("retained_surplus", "Equity:Retained surplus", False),
    Template("opening_balances", "Equity:Opening balances", False),
    Template("interest_income", "Income:Interest", False),
    Template("penalty_income", "Income:Late penalties", False),
    Template("recoveries", "Income:Recoveries of written-off loans", False),
    Template("fines_late", "Income:Fines:Late", False),
    Template("fines_absent", "Income:Fines:Absent", False),
    Template("fines_other", "Income:Fines:Other", False),
    Template("grants", "Income:Grants", False),
    Template("expenses", "Expenses:General", False),
    Template("cash_over_short", "Expenses:Cash over and short", False),
    Template("loan_losses", "Expenses:Loans written off", False),
    Template("interest_expense", "Expenses:Interest on borrowings", False),
    # Rice is its own commodity: stock, capital, interest and losses all in kg. Rice
    # bought or sold for money passes through the trading account, which has one side in
    # rice and one in the group's currency, so every entry balances in each commodity.
    Template("rice_capital", "Equity:Rice capital", False, "RICE"),
    Template("rice_interest", "Income:Rice interest", False, "RICE"),
    Template("rice_losses_pests", "Expenses:Rice losses:Pests", False, "RICE"),
    Template("rice_losses_damp", "Expenses:Rice losses:Damp", False, "RICE"),
    Template("rice_losses_theft", "Expenses:Rice losses:Theft", False, "RICE"),
    Template("rice_losses_other", "Expenses:Rice losses:Other", False, "RICE"),
    Template("rice_trading", "Equity:Trading:Rice", False, "RICE"),
    Template("rice_trading_money", "Equity:Trading:Rice", False),
)

# {code} is the member's code. Savings and share money held are owed to the member;
# shares are the member's stake in the group (equity). None may go below zero.
MEMBER_ACCOUNTS = (
    Template("compulsory_savings", "Liabilities:Savings:Compulsory:{code}", True),
    Template("voluntary_savings", "Liabilities:Savings:Voluntary:{code}", True),
    Template("share_money_held", "Liabilities:Share money held:{code}", True),
    Template("shares", "Equity:Shares:{code}", True),
)


def _open(
    session: Session,
    group_id: int,
    currency: str,
    templates: tuple[Template, ...],
    *,
    member_id: int | None = None,
    member_code: str = "",
) -> None:
    for t in templates:
        name = t.name.format(code=member_code)
        session.add(
            Account(
                group_id=group_id,
                uuid=new_uuid(),
                name=name,
                commodity=t.commodity or currency,
                type=account_type(name),
                member_id=member_id,
                role=t.role,
                no_negative=t.no_negative,
                balance=0,
                last_seq=0,
            )
        )
    session.flush()


def open_group_accounts(session: Session, group_id: int, currency: str) -> None:
    _open(session, group_id, currency, GROUP_ACCOUNTS)


def open_member_accounts(
    session: Session, group_id: int, currency: str, member_id: int, member_code: str
) -> None:
    _open(
        session, group_id, currency, MEMBER_ACCOUNTS, member_id=member_id, member_code=member_code
    )


class GroupAccounts:
    """All role-bearing accounts of one group, loaded in one query."""

    def __init__(self, session: Session, group_id: int) -> None:
        self.group_id = group_id
        self._by_role: dict[tuple[str, int | None], AccountRecord] = {}
        # Plain columns, not ORM objects: a group of 30 members has nearly 200 role
        # accounts, and a meeting's close and each repayment read them all.
        rows = session.execute(
            select(
                Account.role,
                Account.member_id,
                Account.id,
                Account.group_id,
                Account.uuid,
                Account.name,
                Account.commodity,
                Account.type,
                Account.no_negative,
            ).where(Account.group_id == group_id, Account.role.is_not(None))
        )
        for role, member_id, *fields in rows:
            self._by_role[(role, member_id)] = AccountRecord(*fields)

    def get(self, role: str, member_id: int | None = None) -> AccountRecord:
        try:
            return self._by_role[(role, member_id)]
        except KeyError:
            whose = f" of member #{member_id}" if member_id else ""
            raise UnknownAccount(
                f"The group has no {role.replace('_', ' ')} account{whose}; "
                "its chart of accounts is incomplete."
            ) from None

    def ids(self, member_id: int) -> dict[str, int]:
        return {t.role: self.get(t.role, member_id).id for t in MEMBER_ACCOUNTS}


def member_account_ids(session: Session, member_id: int) -> dict[str, int]:
    """One member's accounts by role, without loading the whole group's chart."""
    return members_account_ids(session, [member_id])[member_id]


def members_account_ids(session: Session, member_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Several members' accounts by role, in one query per 500 members (a batch of
    statements reads a thousand members' accounts)."""
    found: dict[int, dict[str, int]] = {member_id: {} for member_id in member_ids}
    unique = sorted(found)
    for k in range(0, len(unique), 500):
        rows = session.execute(
            select(Account.member_id, Account.role, Account.id).where(
                Account.member_id.in_(unique[k : k + 500]), Account.role.is_not(None)
            )
        )
        for member_id, role, account_id in rows:
            found[member_id][role] = account_id
    for member_id, roles in found.items():
        missing = [t.role for t in MEMBER_ACCOUNTS if t.role not in roles]
        if missing:
            raise UnknownAccount(
                f"Member #{member_id} has no {missing[0].replace('_', ' ')} account; "
                "the chart of accounts is incomplete."
            )
    return found


def member_balances(session: Session, member_id: int, roles: Iterable[str]) -> dict[str, int]:
    """The cached balances of some of one member's accounts, by role, in one query (a
    sheet row checks her share money held and voluntary savings as it is saved)."""
    wanted = sorted(set(roles))
    found = dict(
        session.execute(
            select(Account.role, Account.balance).where(
                Account.member_id == member_id, Account.role.in_(wanted)
            )
        ).all()
    )
    missing = [role for role in wanted if role not in found]
    if missing:
        raise UnknownAccount(
            f"Member #{member_id} has no {missing[0].replace('_', ' ')} account; "
            "the chart of accounts is incomplete."
        )
    return found


def balance_of(session: Session, account_id: int) -> int:
    return session.execute(select(Account.balance).where(Account.id == account_id)).scalar_one()
