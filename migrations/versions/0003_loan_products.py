"""Loan products: the terms a group lends on, with the central bank's rate cap.

A CHECK constraint makes the database refuse a product with flat interest or a rate
above its cap unless the reason it was allowed is recorded.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loan_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("rate_ppm_per_month", sa.Integer(), nullable=False),
        sa.Column("term_periods", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=12), nullable=False),
        sa.Column("rounding_unit", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("grace_periods", sa.Integer(), server_default="0", nullable=False),
        sa.Column("late_penalty", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("max_amount", sa.BigInteger(), nullable=True),
        sa.Column("cap_ppm_per_year", sa.Integer(), server_default="180000", nullable=False),
        sa.Column("override_reason", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "frequency IN ('weekly', 'fortnightly', 'monthly', 'bullet')",
            name=op.f("ck_loan_products_frequency_known"),
        ),
        sa.CheckConstraint(
            "method IN ('declining_equal_instalments', 'declining_equal_principal', 'flat', "
            "'vsla_30_days')",
            name=op.f("ck_loan_products_method_known"),
        ),
        sa.CheckConstraint(
            "override_reason IS NOT NULL OR (method <> 'flat' "
            "AND rate_ppm_per_month * 12 <= cap_ppm_per_year)",
            name=op.f("ck_loan_products_override_recorded"),
        ),
        sa.CheckConstraint(
            "grace_periods >= 0 AND grace_periods < term_periods",
            name=op.f("ck_loan_products_grace_range"),
        ),
        sa.CheckConstraint(
            "max_amount IS NULL OR max_amount > 0",
            name=op.f("ck_loan_products_max_amount_positive"),
        ),
        sa.CheckConstraint(
            "rate_ppm_per_month BETWEEN 0 AND 999999", name=op.f("ck_loan_products_rate_range")
        ),
        sa.CheckConstraint(
            "rounding_unit >= 1 AND late_penalty >= 0", name=op.f("ck_loan_products_amounts_valid")
        ),
        sa.CheckConstraint(
            "term_periods BETWEEN 1 AND 520", name=op.f("ck_loan_products_term_range")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_loan_products_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_products")),
        sa.UniqueConstraint("group_id", "code", name=op.f("uq_loan_products_group_id_code")),
        sa.UniqueConstraint("id", "group_id", name=op.f("uq_loan_products_id_group_id")),
    )


def downgrade() -> None:
    op.drop_table("loan_products")
