"""Sync between books: each book's own signing key, and each group's home book.

- ``book_identity``: one row, the book's Ed25519 key pair and a UUID. Bundles of a
  group's books carried to another book (on a USB stick, or over a flaky line) are
  signed with it, so the receiving book knows which book made them and that nothing in
  them changed on the way.
- ``group_homes``: for a group whose books are kept by another book, that book's public
  key. Only the home posts for a group; a group with no row here is at home in this
  book. The central book learns a group's home from its first bundle, and a coordinator
  can move it deliberately.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "book_identity",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("book_uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("private_key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_book_identity_one_row"),
        sa.CheckConstraint(
            "length(public_key) = 64 AND length(private_key) = 64",
            name="ck_book_identity_key_length",
        ),
    )
    op.create_table(
        "group_homes",
        sa.Column(
            "group_id",
            sa.Integer(),
            sa.ForeignKey("groups.id", name="fk_group_homes_group_id_groups"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("home_key", sa.String(64), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("moved_by", sa.String(100), nullable=False),
        sa.CheckConstraint("length(home_key) = 64", name="ck_group_homes_key_length"),
    )


def downgrade() -> None:
    op.drop_table("group_homes")
    op.drop_table("book_identity")
