"""Loans: applications, approvals, schedules, and repayments on the meeting sheet.

The database refuses an approval by the person who recorded the application (maker is
not checker), and freezes a closed meeting's repayments like the rest of its sheet.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("guarantors", sa.String(length=500), nullable=True),
        sa.Column("votes_for", sa.Integer(), nullable=True),
        sa.Column("votes_against", sa.Integer(), nullable=True),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="applied", nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("disburse_meeting_id", sa.Integer(), nullable=True),
        sa.Column("disbursed_on", sa.Date(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("rescheduled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint(
            "status IN ('applied', 'approved', 'rejected', 'disbursed', 'closed', 'written_off')",
            name=op.f("ck_loans_status_known"),
        ),
        sa.CheckConstraint(
            "status IN ('applied', 'rejected') OR approved_by IS NOT NULL",
            name=op.f("ck_loans_approved_first"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_loans_amount_positive")),
        sa.CheckConstraint(
            "approved_by IS NULL OR approved_by <> recorded_by",
            name=op.f("ck_loans_maker_is_not_checker"),
        ),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_loans_account_accounts"),
        sa.ForeignKeyConstraint(
            ["disburse_meeting_id", "group_id"],
            ["meetings.id", "meetings.group_id"],
            name="fk_loans_meeting_meetings",
        ),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name=op.f("fk_loans_group_id_groups")),
        sa.ForeignKeyConstraint(
            ["member_id", "group_id"],
            ["members.id", "members.group_id"],
            name="fk_loans_member_members",
        ),
        sa.ForeignKeyConstraint(
            ["product_id", "group_id"],
            ["loan_products.id", "loan_products.group_id"],
            name="fk_loans_product_loan_products",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
        sa.UniqueConstraint("group_id", "number", name=op.f("uq_loans_group_id_number")),
        sa.UniqueConstraint("id", "group_id", name=op.f("uq_loans_id_group_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_loans_uuid")),
    )
    op.create_table(
        "loan_instalments",
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "principal >= 0 AND interest >= 0",
            name=op.f("ck_loan_instalments_amounts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_instalments_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("loan_id", "number", name=op.f("pk_loan_instalments")),
    )
    op.create_table(
        "meeting_repayments",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("interest_paid", sa.BigInteger(), nullable=True),
        sa.Column("principal_paid", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_meeting_repayments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["loan_id", "group_id"],
            ["loans.id", "loans.group_id"],
            name="fk_meeting_repayments_loan_loans",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id", "group_id"],
            ["meetings.id", "meetings.group_id"],
            name="fk_meeting_repayments_meeting_meetings",
        ),
        sa.PrimaryKeyConstraint("meeting_id", "loan_id", name=op.f("pk_meeting_repayments")),
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER trg_meeting_repayments_closed BEFORE INSERT OR UPDATE OR DELETE "
            "ON meeting_repayments FOR EACH ROW EXECUTE FUNCTION ledger_meeting_child_guard()"
        )
    else:
        guards = importlib.import_module("migrations.versions.0002_savings_groups")
        for statement in guards._sqlite_child_guards("meeting_repayments"):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_meeting_repayments_closed ON meeting_repayments")
    else:
        for _table, trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.drop_table("meeting_repayments")
    op.drop_table("loan_instalments")
    op.drop_table("loans")


SQLITE_TRIGGERS = [
    ("meeting_repayments", "trg_meeting_repayments_closed_insert"),
    ("meeting_repayments", "trg_meeting_repayments_closed_update"),
    ("meeting_repayments", "trg_meeting_repayments_closed_delete"),
]
POSTGRESQL_TRIGGERS = [("meeting_repayments", "trg_meeting_repayments_closed")]
