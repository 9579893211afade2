"""Rice banks, the cycle share-out and the balances kept at each period close.

- Rice products, rice loans and their repayments; rice events (opening stock, member
  contributions, stock counts, purchases and sales). Rice is the RICE commodity, in grams.
- Share-outs: one per cycle at most (a unique key), each member's payout, and the loans
  settled from payouts.
- The balance of every account at a period close, kept beside the close.
- The rice and trading accounts, opened for groups charted by an earlier version.

Everything added here is append-only: the database refuses to change or delete it.
A rice loan's lender is not its approver (maker is not checker), as for money loans.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIXED = "Rice, share-out and period-close records are never changed or deleted."

# (role, name, type, commodity or None for the group's currency). Listed here, not
# imported from ledger.chart, so this migration stays as it was written.
ACCOUNTS = (
    ("rice_capital", "Equity:Rice capital", "equity", "RICE"),
    ("rice_interest", "Income:Rice interest", "income", "RICE"),
    ("rice_losses_pests", "Expenses:Rice losses:Pests", "expense", "RICE"),
    ("rice_losses_damp", "Expenses:Rice losses:Damp", "expense", "RICE"),
    ("rice_losses_theft", "Expenses:Rice losses:Theft", "expense", "RICE"),
    ("rice_losses_other", "Expenses:Rice losses:Other", "expense", "RICE"),
    ("rice_trading", "Equity:Trading:Rice", "equity", "RICE"),
    ("rice_trading_money", "Equity:Trading:Rice", "equity", None),
)

TABLES = (
    "rice_products",
    "rice_loans",
    "rice_repayments",
    "rice_events",
    "shareouts",
    "shareout_payouts",
    "shareout_deductions",
    "period_close_balances",
)


def _member_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["member_id", "group_id"],
        ["members.id", "members.group_id"],
        name=op.f(f"fk_{table}_member_members"),
    )


def upgrade() -> None:
    op.create_table(
        "rice_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("interest_ppm", sa.Integer(), nullable=False),
        sa.Column("term_days", sa.Integer(), nullable=False),
        sa.Column("cash_repayment", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "interest_ppm BETWEEN 0 AND 1000000", name=op.f("ck_rice_products_interest_range")
        ),
        sa.CheckConstraint("term_days BETWEEN 1 AND 730", name=op.f("ck_rice_products_term_range")),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_rice_products_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rice_products")),
        sa.UniqueConstraint("group_id", "code", name=op.f("uq_rice_products_group_id_code")),
        sa.UniqueConstraint("id", "group_id", name=op.f("uq_rice_products_id_group_id")),
    )
    op.create_table(
        "rice_loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("lent_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("entry_seq", sa.BigInteger(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_rice_loans_quantity_positive")),
        sa.CheckConstraint("interest >= 0", name=op.f("ck_rice_loans_interest_not_negative")),
        sa.CheckConstraint("due_on > lent_on", name=op.f("ck_rice_loans_due_after_lent")),
        sa.CheckConstraint(
            "approved_by <> recorded_by", name=op.f("ck_rice_loans_maker_is_not_checker")
        ),
        _member_fk("rice_loans"),
        sa.ForeignKeyConstraint(
            ["product_id", "group_id"],
            ["rice_products.id", "rice_products.group_id"],
            name=op.f("fk_rice_loans_product_rice_products"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_rice_loans_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rice_loans")),
        sa.UniqueConstraint("group_id", "number", name=op.f("uq_rice_loans_group_id_number")),
        sa.UniqueConstraint("id", "group_id", name=op.f("uq_rice_loans_id_group_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_rice_loans_uuid")),
    )
    op.create_table(
        "rice_repayments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("repaid_on", sa.Date(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("cash_amount", sa.BigInteger(), nullable=True),
        sa.Column("entry_seq", sa.BigInteger(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "interest >= 0 AND principal >= 0 AND interest + principal > 0",
            name=op.f("ck_rice_repayments_amounts_valid"),
        ),
        sa.CheckConstraint(
            "cash_amount IS NULL OR cash_amount > 0",
            name=op.f("ck_rice_repayments_cash_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id", "group_id"],
            ["rice_loans.id", "rice_loans.group_id"],
            name=op.f("fk_rice_repayments_loan_rice_loans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rice_repayments")),
    )
    op.create_index("ix_rice_repayments_loan", "rice_repayments", ["loan_id", "repaid_on"])
    op.create_table(
        "rice_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("expected", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=8), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False, server_default=""),
        sa.Column("cash_amount", sa.BigInteger(), nullable=True),
        sa.Column("counterparty", sa.String(length=200), nullable=True),
        sa.Column("entry_seq", sa.BigInteger(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('opening', 'contribution', 'count', 'purchase', 'sale')",
            name=op.f("ck_rice_events_kind_known"),
        ),
        # A count records what was counted; every other event moves a positive quantity.
        sa.CheckConstraint(
            "(kind = 'count') = (expected IS NOT NULL) AND quantity >= 0 "
            "AND (kind = 'count' OR quantity > 0)",
            name=op.f("ck_rice_events_quantity_valid"),
        ),
        sa.CheckConstraint(
            "reason IS NULL OR reason IN ('pests', 'damp', 'theft', 'other')",
            name=op.f("ck_rice_events_reason_known"),
        ),
        sa.CheckConstraint(
            "(kind IN ('purchase', 'sale')) = (cash_amount IS NOT NULL AND cash_amount > 0)",
            name=op.f("ck_rice_events_trade_has_price"),
        ),
        sa.CheckConstraint(
            "(kind = 'contribution') = (member_id IS NOT NULL)",
            name=op.f("ck_rice_events_contribution_has_member"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_rice_events_group_id_groups")
        ),
        _member_fk("rice_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rice_events")),
    )
    op.create_index("ix_rice_events_group", "rice_events", ["group_id", "event_date"])
    op.create_table(
        "shareouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("shared_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("deduct_loans", sa.Boolean(), nullable=False),
        sa.Column("cash_unit", sa.BigInteger(), nullable=False),
        sa.Column("pool", sa.BigInteger(), nullable=False),
        sa.Column("distributed", sa.BigInteger(), nullable=False),
        sa.Column("deducted", sa.BigInteger(), nullable=False),
        sa.Column("leftover", sa.BigInteger(), nullable=False),
        sa.Column("value_per_share", sa.String(length=40), nullable=True),
        sa.Column("posted_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "method IN ('shares', 'savings_time')", name=op.f("ck_shareouts_method_known")
        ),
        sa.CheckConstraint("cash_unit >= 1", name=op.f("ck_shareouts_cash_unit_positive")),
        sa.CheckConstraint(
            "leftover >= 0 AND distributed >= 0 AND deducted >= 0 "
            "AND distributed + deducted + leftover = pool",
            name=op.f("ck_shareouts_sums_exact"),
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id", "group_id"],
            ["cycles.id", "cycles.group_id"],
            name=op.f("fk_shareouts_cycle_cycles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shareouts")),
        # At most one share-out per cycle, whatever the code does.
        sa.UniqueConstraint("cycle_id", name=op.f("uq_shareouts_cycle_id")),
        sa.UniqueConstraint("id", "group_id", name=op.f("uq_shareouts_id_group_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_shareouts_uuid")),
    )
    op.create_table(
        "shareout_payouts",
        sa.Column("shareout_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=True),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("earned", sa.BigInteger(), nullable=False),
        sa.Column("deducted", sa.BigInteger(), nullable=False),
        sa.Column("payout", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "held >= 0 AND deducted >= 0 AND payout >= 0 AND held + earned = deducted + payout",
            name=op.f("ck_shareout_payouts_sums_exact"),
        ),
        sa.ForeignKeyConstraint(
            ["shareout_id", "group_id"],
            ["shareouts.id", "shareouts.group_id"],
            name=op.f("fk_shareout_payouts_shareout_shareouts"),
        ),
        _member_fk("shareout_payouts"),
        sa.PrimaryKeyConstraint("shareout_id", "member_id", name=op.f("pk_shareout_payouts")),
    )
    op.create_table(
        "shareout_deductions",
        sa.Column("shareout_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("penalty", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "principal >= 0 AND interest >= 0 AND penalty >= 0",
            name=op.f("ck_shareout_deductions_amounts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["shareout_id", "group_id"],
            ["shareouts.id", "shareouts.group_id"],
            name=op.f("fk_shareout_deductions_shareout_shareouts"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id", "group_id"],
            ["loans.id", "loans.group_id"],
            name=op.f("fk_shareout_deductions_loan_loans"),
        ),
        sa.PrimaryKeyConstraint("shareout_id", "loan_id", name=op.f("pk_shareout_deductions")),
    )
    op.create_table(
        "period_close_balances",
        sa.Column("close_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("commodity", sa.String(length=8), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["close_id"],
            ["period_closes.id"],
            name=op.f("fk_period_close_balances_close_id_period_closes"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_period_close_balances_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("close_id", "account_id", name=op.f("pk_period_close_balances")),
    )
    _refuse_changes()
    _freeze_closed_cycles()
    _open_accounts()


def _refuse_changes() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, trigger in APPEND_ONLY:
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


CYCLE_CLOSED = "A cycle closed by its share-out is never changed or deleted."


def _freeze_closed_cycles() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for action in ("update", "delete"):
        trigger = f"trg_cycles_closed_no_{action}"
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {trigger} BEFORE {action.upper()} ON cycles FOR EACH ROW "
                f"WHEN (OLD.status = 'closed') EXECUTE FUNCTION ledger_refuse('{CYCLE_CLOSED}')"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {trigger} BEFORE {action.upper()} ON cycles "
                f"WHEN OLD.status = 'closed' BEGIN SELECT RAISE(ABORT, '{CYCLE_CLOSED}'); END"
            )


def _open_accounts() -> None:
    """The rice and trading accounts for every group that already has a chart."""
    bind = op.get_bind()
    charted = bind.execute(
        sa.text(
            "SELECT g.id, g.currency FROM groups g WHERE EXISTS (SELECT 1 FROM accounts a "
            "WHERE a.group_id = g.id AND a.role = 'cash_box')"
        )
    ).all()
    for group_id, currency in charted:
        have = set(
            bind.execute(
                sa.text("SELECT role FROM accounts WHERE group_id = :g AND member_id IS NULL"),
                {"g": group_id},
            ).scalars()
        )
        for role, name, kind, commodity in ACCOUNTS:
            if role in have:
                continue
            bind.execute(
                sa.text(
                    "INSERT INTO accounts (group_id, uuid, name, commodity, type, role, "
                    "no_negative, balance, last_seq) VALUES (:g, :u, :n, :c, :t, :r, :nn, 0, 0)"
                ),
                {
                    "g": group_id,
                    "u": str(uuid.uuid4()),
                    "n": name,
                    "c": commodity or currency,
                    "t": kind,
                    "r": role,
                    "nn": False,
                },
            )


def downgrade() -> None:
    for action in ("update", "delete"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER trg_cycles_closed_no_{action} ON cycles")
        else:
            op.execute(f"DROP TRIGGER trg_cycles_closed_no_{action}")
    for table in reversed(TABLES):
        op.drop_table(table)
    roles = ", ".join(f"'{role}'" for role, *_ in ACCOUNTS)
    op.get_bind().execute(
        sa.text(
            f"DELETE FROM accounts WHERE last_seq = 0 AND member_id IS NULL AND role IN ({roles})"
        )
    )


APPEND_ONLY = [
    (table, f"trg_{table}_no_{action}") for table in TABLES for action in ("update", "delete")
]
SQLITE_TRIGGERS = [
    *APPEND_ONLY,
    ("cycles", "trg_cycles_closed_no_update"),
    ("cycles", "trg_cycles_closed_no_delete"),
]
POSTGRESQL_TRIGGERS = SQLITE_TRIGGERS
