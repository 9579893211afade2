"""Opening accounts. An account keeps one commodity; its name is a colon-separated path
whose first segment says its type (Assets, Liabilities, Equity, Income, Expenses)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import InvalidEntry
from ledger.models import Account, new_uuid
from ledger.money import commodity

TOP_LEVELS = {
    "Assets": "asset",
    "Liabilities": "liability",
    "Equity": "equity",
    "Income": "income",
    "Expenses": "expense",
}
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class AccountRecord:
    id: int
    group_id: int
    uuid: str
    name: str
    commodity: str
    type: str
    no_negative: bool


def account_type(name: str) -> str:
    """The type an account name implies, or a clear error naming the allowed roots."""
    parts = name.split(":")
    if len(name) > MAX_NAME or any(not p.strip() or p != p.strip() for p in parts):
        raise InvalidEntry(
            f"{name!r} is not a usable account name: write segments separated by ':' with no "
            f"empty segment or spaces around it (at most {MAX_NAME} characters)."
        )
    if any(ch < " " for ch in name):
        raise InvalidEntry(f"{name!r} contains control characters.")
    kind = TOP_LEVELS.get(parts[0])
    if kind is None:
        raise InvalidEntry(
            f"Account {name!r} must start with one of {', '.join(TOP_LEVELS)} "
            "(for example Assets:Cash box)."
        )
    return kind


def open_account(
    session: Session,
    group_id: int,
    name: str,
    commodity_code: str,
    *,
    no_negative: bool = False,
    member_id: int | None = None,
    role: str | None = None,
) -> AccountRecord:
    """Open an account, or return the existing one with that name and commodity.

    ``role`` is what services find it by (e.g. "loan_principal" for a loan's own account).
    """
    kind = account_type(name)
    code = commodity(commodity_code).code
    existing = session.execute(
        select(Account).where(
            Account.group_id == group_id, Account.name == name, Account.commodity == code
        )
    ).scalar_one_or_none()
    if existing is None:
        existing = Account(
            group_id=group_id,
            uuid=new_uuid(),
            name=name,
            commodity=code,
            type=kind,
            member_id=member_id,
            role=role,
            no_negative=no_negative,
            balance=0,
            last_seq=0,
        )
        session.add(existing)
        session.flush()
    return AccountRecord(
        existing.id,
        existing.group_id,
        existing.uuid,
        existing.name,
        existing.commodity,
        existing.type,
        existing.no_negative,
    )


def accounts_by_name(session: Session, group_id: int) -> dict[tuple[str, str], int]:
    """(name, commodity) -> account id for one group; used by importers."""
    rows = session.execute(
        select(Account.name, Account.commodity, Account.id).where(Account.group_id == group_id)
    )
    return {(name, code): account_id for name, code, account_id in rows}
