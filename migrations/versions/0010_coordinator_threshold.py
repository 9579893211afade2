"""Loans above a group's threshold are approved by a coordinator, not the chair alone.

- ``groups.coordinator_approval_above``: an amount in the group's currency (minor
  units). A loan application for more than it is approved by someone who holds the
  coordinator role in the group. Empty: the chair approves every loan.
- ``loans.approved_as``: the role the approver acted in (chair or coordinator), so the
  loan card and the audit can show it, and so the database can check the threshold.

The database refuses an approval above the threshold that is not a coordinator's, so
raw SQL cannot approve a large loan under a chair's name.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "A loan above its group threshold is approved by a coordinator."

# Columns are added in place (ALTER TABLE ADD COLUMN): a table rebuild in SQLite would
# drop the guard triggers the loans and groups tables already carry.
SQLITE_TRIGGERS = [("loans", "trg_loans_coordinator_threshold")]
POSTGRESQL_TRIGGERS = SQLITE_TRIGGERS

# The approval is above the threshold and not a coordinator's, or the role is unknown.
_NEEDS_COORDINATOR = """
    (NEW.approved_as IS NULL OR NEW.approved_as NOT IN ('chair', 'coordinator'))
    OR (NEW.approved_as <> 'coordinator' AND EXISTS (
        SELECT 1 FROM groups g WHERE g.id = NEW.group_id
        AND g.coordinator_approval_above IS NOT NULL
        AND NEW.amount > g.coordinator_approval_above))
"""

SQLITE_RULES = [
    f"""CREATE TRIGGER trg_loans_coordinator_threshold BEFORE UPDATE OF status ON loans
    WHEN OLD.status = 'applied' AND NEW.status = 'approved' AND ({_NEEDS_COORDINATOR})
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"""
]
POSTGRESQL_RULES = [
    f"""CREATE FUNCTION ledger_loans_coordinator_threshold() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status = 'applied' AND NEW.status = 'approved' AND ({_NEEDS_COORDINATOR}) THEN
            RAISE EXCEPTION '{REFUSAL}';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER trg_loans_coordinator_threshold BEFORE UPDATE ON loans
    FOR EACH ROW EXECUTE FUNCTION ledger_loans_coordinator_threshold()""",
]


def upgrade() -> None:
    op.add_column("groups", sa.Column("coordinator_approval_above", sa.BigInteger()))
    op.add_column("loans", sa.Column("approved_as", sa.String(length=16)))
    postgresql = op.get_bind().dialect.name == "postgresql"
    # Loans approved before roles existed keep an empty role; every new approval names it.
    for statement in POSTGRESQL_RULES if postgresql else SQLITE_RULES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_loans_coordinator_threshold ON loans")
        op.execute("DROP FUNCTION IF EXISTS ledger_loans_coordinator_threshold()")
        op.drop_column("loans", "approved_as")
        op.drop_column("groups", "coordinator_approval_above")
    else:
        op.execute("DROP TRIGGER IF EXISTS trg_loans_coordinator_threshold")
        # SQLite 3.35+ drops a plain column in place, keeping the tables' other triggers.
        op.execute("ALTER TABLE loans DROP COLUMN approved_as")
        op.execute("ALTER TABLE groups DROP COLUMN coordinator_approval_above")
