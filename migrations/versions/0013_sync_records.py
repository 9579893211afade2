"""Sync carries a group's records, not only its journal: what the central book last took.

A bundle now carries the group's meetings, loans and schedules, rice, share-outs, period
closes and audit events besides its journal. Those records change at the home (a draft
meeting is filled in, a loan is approved), so the central book keeps, per group:

- ``synced_at``: when the home wrote the last bundle whose records were applied, so an
  older bundle arriving later never rolls a record back;
- ``audit_through``: the home's last audit event already copied into this book's trail,
  so importing twice copies nothing twice.

Both restart when the home moves (the new home has its own clock and numbering).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("group_homes") as batch:
        batch.add_column(sa.Column("synced_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("audit_through", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("group_homes") as batch:
        batch.drop_column("audit_through")
        batch.drop_column("synced_at")
