"""Savings groups: group details and location, members, cycles, and the meeting sheet.

Adds the group's kind, currency, meeting rhythm and official location codes; a member's
details; account roles (so services find "this member's savings" without names); cycles
with their rules; meetings with their sheet lines and group-level items.

On SQLite, adding constraints to ``groups``, ``members`` and ``accounts`` recreates those
tables, and dropping a table drops its triggers: the ledger-core triggers of the
recreated tables are created again at the end (a test checks every trigger is present).

A closed meeting is frozen by the database: its row, its sheet lines and its items
refuse every change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=8), server_default="open", nullable=False),
        sa.Column("share_price", sa.BigInteger(), nullable=True),
        sa.Column("max_shares_per_meeting", sa.Integer(), server_default="5", nullable=False),
        sa.Column("compulsory_savings", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("social_fund_contribution", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("fine_late", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("fine_absent", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_cycles_status_known")),
        sa.CheckConstraint(
            "compulsory_savings >= 0 AND social_fund_contribution >= 0 "
            "AND fine_late >= 0 AND fine_absent >= 0",
            name=op.f("ck_cycles_amounts_not_negative"),
        ),
        sa.CheckConstraint(
            "max_shares_per_meeting BETWEEN 1 AND 100", name=op.f("ck_cycles_max_shares_range")
        ),
        sa.CheckConstraint(
            "share_price IS NULL OR share_price > 0", name=op.f("ck_cycles_share_price_positive")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_cycles_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycles")),
        sa.UniqueConstraint("group_id", "number", name=op.f("uq_cycles_group_id_number")),
        sa.UniqueConstraint("id", "group_id", name=op.f("uq_cycles_id_group_id")),
    )
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="open", nullable=False),
        sa.Column("opening_cash", sa.BigInteger(), nullable=False),
        sa.Column("expected_cash", sa.BigInteger(), nullable=True),
        sa.Column("counted_cash", sa.BigInteger(), nullable=True),
        sa.Column("difference_comment", sa.String(length=500), nullable=True),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status = 'open' OR (counted_cash IS NOT NULL AND expected_cash IS NOT NULL)",
            name=op.f("ck_meetings_closed_has_count"),
        ),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_meetings_status_known")),
        sa.ForeignKeyConstraint(
            ["cycle_id", "group_id"],
            ["cycles.id", "cycles.group_id"],
            name="fk_meetings_cycle_group_cycles",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_meetings_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint(
            "group_id", "meeting_date", name=op.f("uq_meetings_group_id_meeting_date")
        ),
        sa.UniqueConstraint("group_id", "number", name=op.f("uq_meetings_group_id_number")),
        sa.UniqueConstraint("id", "group_id", name=op.f("uq_meetings_id_group_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_meetings_uuid")),
    )
    op.create_table(
        "meeting_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("memo", sa.String(length=500), server_default="", nullable=False),
        sa.Column("reverses_seq", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(kind IN ('social_fund_payout', 'member_exit')) = (member_id IS NOT NULL)",
            name=op.f("ck_meeting_items_payout_has_member"),
        ),
        sa.CheckConstraint(
            "(kind = 'reversal') = (reverses_seq IS NOT NULL)",
            name=op.f("ck_meeting_items_reversal_names_entry"),
        ),
        sa.CheckConstraint(
            "kind IN ('grant', 'expense', 'social_fund_payout', 'bank_deposit', "
            "'bank_withdrawal', 'member_exit', 'reversal')",
            name=op.f("ck_meeting_items_kind_known"),
        ),
        sa.CheckConstraint(
            "amount > 0 OR (kind = 'member_exit' AND amount >= 0) OR kind = 'reversal'",
            name=op.f("ck_meeting_items_amount_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id", "group_id"],
            ["meetings.id", "meetings.group_id"],
            name="fk_meeting_items_meeting_meetings",
        ),
        sa.ForeignKeyConstraint(
            ["member_id", "group_id"],
            ["members.id", "members.group_id"],
            name="fk_meeting_items_member_members",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_items")),
    )
    op.create_table(
        "meeting_lines",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("savings", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("voluntary_savings", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("withdrawal", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("share_money", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("social_fund", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("fine_late", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("fine_absent", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("fine_other", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "savings >= 0 AND voluntary_savings >= 0 AND withdrawal >= 0 "
            "AND share_money >= 0 AND social_fund >= 0 AND fine_late >= 0 "
            "AND fine_absent >= 0 AND fine_other >= 0",
            name=op.f("ck_meeting_lines_amounts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id", "group_id"],
            ["meetings.id", "meetings.group_id"],
            name="fk_meeting_lines_meeting_meetings",
        ),
        sa.ForeignKeyConstraint(
            ["member_id", "group_id"],
            ["members.id", "members.group_id"],
            name="fk_meeting_lines_member_members",
        ),
        sa.PrimaryKeyConstraint("meeting_id", "member_id", name=op.f("pk_meeting_lines")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_accounts_role", ["group_id", "role", "member_id"], unique=False)

    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="vsla", nullable=False)
        )
        batch_op.add_column(
            sa.Column("currency", sa.String(length=8), server_default="KHR", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "meeting_frequency", sa.String(length=12), server_default="weekly", nullable=False
            )
        )
        batch_op.add_column(sa.Column("meeting_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("province_code", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("district_code", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("commune_code", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("village_code", sa.String(length=8), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_groups_currency_commodities"), "commodities", ["currency"], ["code"]
        )
        batch_op.create_check_constraint(
            "kind_known", "kind IN ('shg', 'vsla', 'producer', 'rice_bank')"
        )
        batch_op.create_check_constraint(
            "frequency_known", "meeting_frequency IN ('weekly', 'fortnightly', 'monthly')"
        )
        batch_op.create_check_constraint("meeting_day_range", "meeting_day BETWEEN 0 AND 6")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sex", sa.String(length=1), server_default="X", nullable=False)
        )
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("household", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("id_poor", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("id_poor_number", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("role", sa.String(length=16), server_default="member", nullable=False)
        )
        batch_op.add_column(sa.Column("joined_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("exited_on", sa.Date(), nullable=True))
        batch_op.create_check_constraint("sex_known", "sex IN ('F', 'M', 'X')")
        batch_op.create_check_constraint("id_poor_level", "id_poor BETWEEN 0 AND 2")
        batch_op.create_check_constraint(
            "role_known", "role IN ('member', 'treasurer', 'chair', 'secretary')"
        )
        batch_op.create_check_constraint(
            "exit_after_join", "exited_on IS NULL OR exited_on >= joined_on"
        )

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _restore_core_triggers()
        rules = SQLITE_RULES
    else:
        rules = POSTGRESQL_RULES
    for statement in rules:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, trigger in POSTGRESQL_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        for function in POSTGRESQL_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for _table, trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    with op.batch_alter_table("members", schema=None) as batch_op:
        for check in ("sex_known", "id_poor_level", "role_known", "exit_after_join"):
            batch_op.drop_constraint(batch_op.f(f"ck_members_{check}"), type_="check")
        batch_op.drop_column("exited_on")
        batch_op.drop_column("joined_on")
        batch_op.drop_column("role")
        batch_op.drop_column("id_poor_number")
        batch_op.drop_column("id_poor")
        batch_op.drop_column("household")
        batch_op.drop_column("phone")
        batch_op.drop_column("sex")

    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_groups_currency_commodities"), type_="foreignkey")
        for check in ("kind_known", "frequency_known", "meeting_day_range"):
            batch_op.drop_constraint(batch_op.f(f"ck_groups_{check}"), type_="check")
        batch_op.drop_column("village_code")
        batch_op.drop_column("commune_code")
        batch_op.drop_column("district_code")
        batch_op.drop_column("province_code")
        batch_op.drop_column("meeting_day")
        batch_op.drop_column("meeting_frequency")
        batch_op.drop_column("currency")
        batch_op.drop_column("kind")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_role")
        batch_op.drop_column("role")

    op.drop_table("meeting_lines")
    op.drop_table("meeting_items")
    op.drop_table("meetings")
    op.drop_table("cycles")
    if op.get_bind().dialect.name == "sqlite":
        _restore_core_triggers()


def _restore_core_triggers() -> None:
    """Create again the 0001 triggers of the tables SQLite batch mode recreated."""
    core = importlib.import_module("migrations.versions.0001_ledger_core")
    recreated = {"groups", "accounts", "members"}
    names = {name for table, name in core.SQLITE_TRIGGERS if table in recreated}
    for statement in core.SQLITE_RULES:
        name = statement.split()[2]
        if name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(statement)


CLOSED = "ledger: a closed meeting cannot be changed; correct it by a reversal at the next meeting"

SQLITE_TRIGGERS = [
    ("meetings", "trg_meetings_closed_no_update"),
    ("meetings", "trg_meetings_closed_no_delete"),
    ("meeting_lines", "trg_meeting_lines_closed_insert"),
    ("meeting_lines", "trg_meeting_lines_closed_update"),
    ("meeting_lines", "trg_meeting_lines_closed_delete"),
    ("meeting_items", "trg_meeting_items_closed_insert"),
    ("meeting_items", "trg_meeting_items_closed_update"),
    ("meeting_items", "trg_meeting_items_closed_delete"),
]


def _sqlite_child_guards(table: str) -> list[str]:
    closed = "(SELECT status FROM meetings WHERE id = {row}.meeting_id) = 'closed'"
    return [
        f"""CREATE TRIGGER trg_{table}_closed_insert BEFORE INSERT ON {table}
        WHEN {closed.format(row="NEW")}
        BEGIN SELECT RAISE(ABORT, '{CLOSED}'); END""",
        f"""CREATE TRIGGER trg_{table}_closed_update BEFORE UPDATE ON {table}
        WHEN {closed.format(row="OLD")} OR {closed.format(row="NEW")}
        BEGIN SELECT RAISE(ABORT, '{CLOSED}'); END""",
        f"""CREATE TRIGGER trg_{table}_closed_delete BEFORE DELETE ON {table}
        WHEN {closed.format(row="OLD")}
        BEGIN SELECT RAISE(ABORT, '{CLOSED}'); END""",
    ]


SQLITE_RULES = [
    f"""CREATE TRIGGER trg_meetings_closed_no_update BEFORE UPDATE ON meetings
    WHEN OLD.status = 'closed'
    BEGIN SELECT RAISE(ABORT, '{CLOSED}'); END""",
    f"""CREATE TRIGGER trg_meetings_closed_no_delete BEFORE DELETE ON meetings
    WHEN OLD.status = 'closed'
    BEGIN SELECT RAISE(ABORT, '{CLOSED}'); END""",
    *_sqlite_child_guards("meeting_lines"),
    *_sqlite_child_guards("meeting_items"),
]

POSTGRESQL_FUNCTIONS = ["ledger_meeting_guard", "ledger_meeting_child_guard"]

POSTGRESQL_TRIGGERS = [
    ("meetings", "trg_meetings_closed"),
    ("meeting_lines", "trg_meeting_lines_closed"),
    ("meeting_items", "trg_meeting_items_closed"),
]

POSTGRESQL_RULES = [
    f"""CREATE FUNCTION ledger_meeting_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.status = 'closed' THEN
        RAISE EXCEPTION '{CLOSED}';
      END IF;
      IF TG_OP = 'DELETE' THEN
        RETURN OLD;
      END IF;
      RETURN NEW;
    END $$""",
    f"""CREATE FUNCTION ledger_meeting_child_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (TG_OP IN ('UPDATE', 'DELETE') AND
          (SELECT status FROM meetings WHERE id = OLD.meeting_id) = 'closed')
         OR (TG_OP IN ('INSERT', 'UPDATE') AND
          (SELECT status FROM meetings WHERE id = NEW.meeting_id) = 'closed') THEN
        RAISE EXCEPTION '{CLOSED}';
      END IF;
      IF TG_OP = 'DELETE' THEN
        RETURN OLD;
      END IF;
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER trg_meetings_closed BEFORE UPDATE OR DELETE ON meetings
    FOR EACH ROW EXECUTE FUNCTION ledger_meeting_guard()""",
    """CREATE TRIGGER trg_meeting_lines_closed BEFORE INSERT OR UPDATE OR DELETE
    ON meeting_lines FOR EACH ROW EXECUTE FUNCTION ledger_meeting_child_guard()""",
    """CREATE TRIGGER trg_meeting_items_closed BEFORE INSERT OR UPDATE OR DELETE
    ON meeting_items FOR EACH ROW EXECUTE FUNCTION ledger_meeting_child_guard()""",
]
