"""The accounts loans need, opened for groups made before they were in the chart.

Late penalties, recoveries, loan losses and interest on the group's own borrowings each
have an account in the chart a new group gets (``ledger.chart.GROUP_ACCOUNTS``). A group
made by an earlier version gets them here, once, so every service can rely on a group's
chart being complete. Groups without a chart (made by a journal import) are left alone.
The accounts are listed here, not imported, so this migration stays as it was written.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCOUNTS = (
    ("penalty_income", "Income:Late penalties", "income"),
    ("recoveries", "Income:Recoveries of written-off loans", "income"),
    ("loan_losses", "Expenses:Loans written off", "expense"),
    ("interest_expense", "Expenses:Interest on borrowings", "expense"),
)


def upgrade() -> None:
    bind = op.get_bind()
    charted = bind.execute(
        sa.text(
            "SELECT g.id, g.currency FROM groups g WHERE EXISTS (SELECT 1 FROM accounts a "
            "WHERE a.group_id = g.id AND a.role = 'cash_box')"
        )
    ).all()
    for group_id, currency in charted:
        have = set(
            bind.execute(
                sa.text("SELECT role FROM accounts WHERE group_id = :g AND member_id IS NULL"),
                {"g": group_id},
            ).scalars()
        )
        for role, name, kind in ACCOUNTS:
            if role in have:
                continue
            bind.execute(
                sa.text(
                    "INSERT INTO accounts (group_id, uuid, name, commodity, type, role, "
                    "no_negative, balance, last_seq) VALUES (:g, :u, :n, :c, :t, :r, :nn, 0, 0)"
                ),
                {
                    "g": group_id,
                    "u": str(uuid.uuid4()),
                    "n": name,
                    "c": currency,
                    "t": kind,
                    "r": role,
                    "nn": False,
                },
            )


def downgrade() -> None:
    """Accounts that were never posted to go again; the others stay (history is kept)."""
    op.get_bind().execute(
        sa.text(
            "DELETE FROM accounts WHERE last_seq = 0 AND member_id IS NULL AND role IN "
            "('penalty_income', 'recoveries', 'loan_losses', 'interest_expense')"
        )
    )
