"""The rest of a loan's life: penalties, rescheduling, write-off, loans from paper.

- ``loans``: where the money was lent from (cash box or bank); the principal and date
  of a loan carried over from the paper books; the schedule version in force; the
  dates it was rescheduled and written off.
- ``loan_instalments.version``: a reschedule adds a new version of the schedule and
  never changes the old one, so a loan's history can be read as it stood on any date.
- ``meeting_repayments.penalty_paid``: the late-penalty part of a repayment.
- ``loan_products.allocation_order``: the order a repayment pays penalty, interest and
  principal.
- ``loan_events``: reschedules and write-offs with who decided, when and why.
- ``meeting_cancellations``: meetings called off in advance (Khmer New Year, Pchum
  Ben); instalments skip them.

Schedules and loan events are append-only; the database refuses to change or delete
them. Columns are added in place (no table rebuild), so SQLite keeps the triggers of
the tables it already had.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEDULE_FIXED = "A loan schedule is never changed or deleted; reschedule the loan instead."
EVENT_FIXED = "A recorded reschedule or write-off is never changed or deleted."


def upgrade() -> None:
    op.add_column(
        "loans",
        sa.Column("disburse_from", sa.String(length=12), server_default="cash_box", nullable=False),
    )
    op.add_column("loans", sa.Column("opening_principal", sa.BigInteger(), nullable=True))
    op.add_column("loans", sa.Column("opening_on", sa.Date(), nullable=True))
    op.add_column(
        "loans", sa.Column("schedule_version", sa.Integer(), server_default="1", nullable=False)
    )
    op.add_column("loans", sa.Column("rescheduled_on", sa.Date(), nullable=True))
    op.add_column("loans", sa.Column("written_off_on", sa.Date(), nullable=True))
    op.add_column(
        "loan_instalments",
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
    )
    op.add_column("meeting_repayments", sa.Column("penalty_paid", sa.BigInteger(), nullable=True))
    op.add_column(
        "loan_products",
        sa.Column(
            "allocation_order",
            sa.String(length=40),
            server_default="penalty,interest,principal",
            nullable=False,
        ),
    )
    op.create_table(
        "loan_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("entry_seq", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('reschedule', 'write_off')", name=op.f("ck_loan_events_kind_known")
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_loan_events_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["loan_id", "group_id"],
            ["loans.id", "loans.group_id"],
            name="fk_loan_events_loan_loans",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_events")),
    )
    op.create_table(
        "meeting_cancellations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_meeting_cancellations_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_cancellations")),
        sa.UniqueConstraint(
            "group_id", "meeting_date", name=op.f("uq_meeting_cancellations_group_id_meeting_date")
        ),
    )
    for statement in (
        POSTGRESQL_RULES if op.get_bind().dialect.name == "postgresql" else SQLITE_RULES
    ):
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, trigger in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(
            f"DROP TRIGGER IF EXISTS {trigger} ON {table}"
            if postgresql
            else f"DROP TRIGGER IF EXISTS {trigger}"
        )
    op.drop_table("meeting_cancellations")
    op.drop_table("loan_events")
    with op.batch_alter_table("loan_products") as batch:
        batch.drop_column("allocation_order")
    with op.batch_alter_table("loan_instalments") as batch:
        batch.drop_column("version")
    if postgresql:
        op.drop_column("meeting_repayments", "penalty_paid")
    else:
        # A table rebuild would drop meeting_repayments' guard triggers; SQLite 3.35+
        # drops a plain column in place.
        op.execute("ALTER TABLE meeting_repayments DROP COLUMN penalty_paid")
    with op.batch_alter_table("loans") as batch:
        for column in (
            "written_off_on",
            "rescheduled_on",
            "schedule_version",
            "opening_on",
            "opening_principal",
            "disburse_from",
        ):
            batch.drop_column(column)


SQLITE_TRIGGERS = [
    ("loan_instalments", "trg_loan_instalments_no_update"),
    ("loan_instalments", "trg_loan_instalments_no_delete"),
    ("loan_events", "trg_loan_events_no_update"),
    ("loan_events", "trg_loan_events_no_delete"),
]
POSTGRESQL_TRIGGERS = SQLITE_TRIGGERS

SQLITE_RULES = [
    f"""CREATE TRIGGER {trigger} BEFORE {"UPDATE" if "update" in trigger else "DELETE"}
    ON {table} BEGIN SELECT RAISE(ABORT, '{
        SCHEDULE_FIXED if table == "loan_instalments" else EVENT_FIXED
    }'); END"""
    for table, trigger in SQLITE_TRIGGERS
]
POSTGRESQL_RULES = [
    f"""CREATE TRIGGER {trigger} BEFORE {"UPDATE" if "update" in trigger else "DELETE"}
    ON {table} FOR EACH ROW EXECUTE FUNCTION ledger_refuse('{
        SCHEDULE_FIXED if table == "loan_instalments" else EVENT_FIXED
    }')"""
    for table, trigger in POSTGRESQL_TRIGGERS
]
