"""Users, their roles per group, and the audit trail.

- ``users``: a sign-in name, an argon2 hash of the password or PIN (never the secret),
  whether the user administers users, and the failed-attempt counter and lock.
- ``user_roles``: which groups a user works for, and as what (treasurer, chair,
  coordinator). A user without a role in a group sees nothing of it.
- ``audit_events``: every sign-in, failure, denial and write, in a hash chain of its own.
  Append-only: the database refuses to change or delete an event, and a gap or a second
  event with the same number is refused by its key.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIXED = "The audit trail is never changed or deleted."


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("secret_kind", sa.String(length=8), nullable=False),
        sa.Column("secret_hash", sa.String(length=200), nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "secret_kind IN ('password', 'pin')", name=op.f("ck_users_secret_kind_known")
        ),
        sa.CheckConstraint("secret_hash LIKE '$argon2%'", name=op.f("ck_users_secret_is_a_hash")),
        sa.CheckConstraint("failed_attempts >= 0", name=op.f("ck_users_failures_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("granted_by", sa.String(length=100), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "role IN ('treasurer', 'chair', 'coordinator')", name=op.f("ck_user_roles_role_known")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_user_roles_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("user_id", "group_id", "role", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=1000), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('ok', 'denied', 'failed')", name=op.f("ck_audit_events_outcome_known")
        ),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_audit_events_seq_positive")),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_audit_events_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_group", "audit_events", ["group_id", "seq"])
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
    op.drop_table("audit_events")
    op.drop_table("user_roles")
    op.drop_table("users")


SQLITE_TRIGGERS = [
    ("audit_events", "trg_audit_events_no_update"),
    ("audit_events", "trg_audit_events_no_delete"),
]
POSTGRESQL_TRIGGERS = SQLITE_TRIGGERS
