"""Indexes for reading one member's records: a statement, a loan card, a passbook.

A member's accounts, meeting lines, loans and rice loans were found by scanning the
group's (or the book's) rows: a batch of 1,000 statements read 1,000 times every meeting
line of the group. Each lookup by member is now an index search.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_accounts_member", "accounts", ["member_id"]),
    ("ix_meeting_lines_member", "meeting_lines", ["member_id", "meeting_id"]),
    ("ix_loans_member", "loans", ["member_id"]),
    ("ix_rice_loans_member", "rice_loans", ["member_id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
