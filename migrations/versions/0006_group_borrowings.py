"""Loans and grants the group receives from a bank, MFI or project, with a schedule.

The money arrives in, and is repaid from, the group's bank account. The schedule and
the payments are append-only; the database refuses to change or delete them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIXED = "The schedule and payments of a borrowing are never changed or deleted."


def upgrade() -> None:
    op.create_table(
        "group_borrowings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("lender", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=True),
        sa.Column("rate_ppm_per_month", sa.Integer(), nullable=True),
        sa.Column("term_periods", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.String(length=12), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('loan', 'grant')", name=op.f("ck_group_borrowings_kind_known")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_group_borrowings_amount_positive")),
        sa.CheckConstraint(
            "(kind = 'loan') = (account_id IS NOT NULL AND term_periods IS NOT NULL)",
            name=op.f("ck_group_borrowings_loan_has_terms"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_group_borrowings_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_group_borrowings_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_borrowings")),
        sa.UniqueConstraint("group_id", "number", name=op.f("uq_group_borrowings_group_id_number")),
        sa.UniqueConstraint("uuid", name=op.f("uq_group_borrowings_uuid")),
    )
    op.create_table(
        "group_borrowing_instalments",
        sa.Column("borrowing_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "principal >= 0 AND interest >= 0",
            name=op.f("ck_group_borrowing_instalments_amounts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["borrowing_id"],
            ["group_borrowings.id"],
            name=op.f("fk_group_borrowing_instalments_borrowing_id_group_borrowings"),
        ),
        sa.PrimaryKeyConstraint(
            "borrowing_id", "number", name=op.f("pk_group_borrowing_instalments")
        ),
    )
    op.create_table(
        "group_borrowing_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("borrowing_id", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("entry_seq", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint(
            "principal >= 0 AND interest >= 0 AND principal + interest > 0",
            name=op.f("ck_group_borrowing_payments_amounts_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["borrowing_id"],
            ["group_borrowings.id"],
            name=op.f("fk_group_borrowing_payments_borrowing_id_group_borrowings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_borrowing_payments")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, trigger in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        action = "UPDATE" if trigger.endswith("update") else "DELETE"
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {trigger} BEFORE {action} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION ledger_refuse('{FIXED}')"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {trigger} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{FIXED}'); END"
            )


def downgrade() -> None:
    op.drop_table("group_borrowing_payments")
    op.drop_table("group_borrowing_instalments")
    op.drop_table("group_borrowings")


SQLITE_TRIGGERS = [
    (table, f"trg_{table}_no_{action}")
    for table in ("group_borrowing_instalments", "group_borrowing_payments")
    for action in ("update", "delete")
]
POSTGRESQL_TRIGGERS = SQLITE_TRIGGERS
