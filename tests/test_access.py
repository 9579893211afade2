"""Permissions are the services' own: whatever screen or script calls them, a treasurer
of PK-01 can neither read nor write PK-02, a coordinator never posts cash, a chair
cannot approve what she recorded, and every refusal is kept in the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update

from ledger.audit import audit_trail
from ledger.db import Book
from ledger.errors import DatabaseRefused
from ledger.groups import get_group, set_coordinator_threshold
from ledger.journal_csv import export_journal
from ledger.loan_products import create_product, list_products
from ledger.loans import apply_for_loan, approve_loan, loans_of_group
from ledger.meetings import open_meeting
from ledger.members import add_member, list_members
from ledger.models import AuditEvent, Group, JournalEntry
from ledger.periods import close_period
from ledger.permissions import Actor, NotSignedIn, PermissionDenied
from ledger.portfolio import group_portfolio
from ledger.positions import group_position
from ledger.posting import EntryRequest, Line, post_entry
from ledger.queries import trial_balance
from ledger.rice import receive_rice
from ledger.rice_position import rice_position
from ledger.shareout import plan_shareout
from ledger.statements import cash_book
from ledger.summary import book_summary
from ledger.users import create_user, grant_role, sign_in
from ledger.verify import verify_book
from tests.helpers import TESTER
from tests.savings_helpers import CYCLE_START, TODAY, khr, make_vsla

DAY = dt.date(2026, 1, 12)


@pytest.fixture
def office(book: Book):
    """PK-01 and PK-02; Dara treasurer of PK-01, Chan chair of PK-01, Vanna coordinator of
    both, each signed in for real."""
    a, b = make_vsla(book, "PK-01"), make_vsla(book, "PK-02")

    def people(s):  # type: ignore[no-untyped-def]
        admin = create_user(
            s, "sophea", "Sophea", "kampot-pepper-26", is_admin=True, created_by=None
        )
        for user, role, groups in (
            ("dara", "treasurer", ["PK-01"]),
            ("chan", "chair", ["PK-01"]),
            ("vanna", "coordinator", ["PK-01", "PK-02"]),
        ):
            create_user(s, user, user.title(), "482915", kind="pin", created_by=admin)
            for code in groups:
                grant_role(s, admin, user, code, role)
        return {u: sign_in(s, u, "482915") for u in ("dara", "chan", "vanna")}

    users = book.write(people)
    return a, b, {name: book.as_user(actor) for name, actor in users.items()}


READS: dict[str, Callable] = {
    "group position": lambda s, g: group_position(s, g),
    "members": lambda s, g: list_members(s, g),
    "loans": lambda s, g: loans_of_group(s, g),
    "loan products": lambda s, g: list_products(s, g),
    "rice": lambda s, g: rice_position(s, g, on=TODAY),
    "trial balance": lambda s, g: trial_balance(s, g),
    "cash book": lambda s, g: cash_book(s, g, CYCLE_START, TODAY),
    "portfolio": lambda s, g: group_portfolio(s, g, as_of=TODAY),
    "share-out plan": lambda s, g: plan_shareout(s, g, on=TODAY, today=TODAY),
    "verify": lambda s, g: verify_book(s, g),
    "export": lambda s, g: export_journal(s, "/dev/null", group_id=g),
}

WRITES: dict[str, Callable] = {
    "open a meeting": lambda s, g: open_meeting(s, g, DAY, today=TODAY),
    "add a member": lambda s, g: add_member(s, g, "M09", name_latin="Sina", joined_on=DAY),
    "receive rice": lambda s, g: receive_rice(s, g, _kg(50), on=DAY, today=TODAY),
    "apply for a loan": lambda s, g: apply_for_loan(
        s, g, "M01", "W4", khr(10_000), purpose="Seeds", applied_on=DAY
    ),
    "close a period": lambda s, g: close_period(s, g, DAY, today=TODAY),
    "post an entry": lambda s, g: post_entry(
        s,
        EntryRequest(
            g,
            DAY,
            "Cash",
            (
                Line.of(_account(s, g, "Assets:Cash box"), khr(1)),
                Line.of(_account(s, g, "Income:Interest"), khr(-1)),
            ),
            "k-1",
            "dara",
        ),
    ),
}


def _product(s, group_id: int):  # type: ignore[no-untyped-def]
    return create_product(
        s, group_id, "W4", "W4", rate_per_month=Decimal("0.01"), term_periods=4, frequency="weekly"
    )


def _kg(n: int):  # type: ignore[no-untyped-def]
    from ledger.money import money

    return money(n, "RICE")


def _account(s, group_id: int, name: str) -> int:  # type: ignore[no-untyped-def]
    from ledger.models import Account

    return s.execute(
        select(Account.id).where(
            Account.group_id == group_id, Account.name == name, Account.commodity == "KHR"
        )
    ).scalar_one()


def _counts(book: Book) -> tuple[int, int]:
    with book.engine.connect() as c:
        return (
            c.execute(select(func.count()).select_from(JournalEntry)).scalar_one(),
            c.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
        )


@pytest.mark.parametrize("what", READS)
def test_a_treasurer_reads_nothing_of_another_group(office, what):
    a, b, users = office
    dara = users["dara"]
    with dara.read() as s:
        READS[what](s, a.group.id)  # her own group: fine
    refused = r"Dara \(dara\) may not read the books of group PK-02"
    with pytest.raises(PermissionDenied, match=refused), dara.read() as s:
        READS[what](s, b.group.id)
    with dara.read() as s:
        assert [g.code for g in book_summary(s).groups] == ["PK-01"]
        assert {r.group_code for r in trial_balance(s).rows} == {"PK-01"}


@pytest.mark.parametrize("what", WRITES)
def test_a_treasurer_writes_nothing_in_another_group_and_the_refusal_is_kept(book, office, what):
    _a, b, users = office
    if what == "apply for a loan":
        book.write(lambda s: _product(s, b.group.id))
    entries, events = _counts(book)
    with pytest.raises(PermissionDenied, match="group PK-02"):
        users["dara"].write(lambda s: WRITES[what](s, b.group.id))
    assert _counts(book) == (entries, events + 1)  # nothing written but the refusal
    with book.read() as s:
        last = audit_trail(s, limit=1)[0]
    assert (last.actor, last.outcome, last.group_code) == ("dara", "denied", "PK-02")


def test_a_coordinator_reads_and_approves_but_never_posts_cash(book, office):
    a, _b, users = office
    vanna = users["vanna"]
    with vanna.read() as s:
        members = list_members(s, a.group.id)
    assert members and all(m.phone is None and m.personal_hidden for m in members)
    for what in ("open a meeting", "post an entry", "receive rice"):
        with pytest.raises(PermissionDenied, match=r"Vanna \(vanna\) may not record"):
            vanna.write(lambda s, w=what: WRITES[w](s, a.group.id))
    book.write(lambda s: _product(s, a.group.id))
    loan = users["dara"].write(lambda s: WRITES["apply for a loan"](s, a.group.id))
    approved = vanna.write(lambda s: approve_loan(s, loan.id, on=DAY))
    assert (approved.recorded_by, approved.approved_by) == ("dara", "vanna")
    with users["dara"].read() as s:
        assert not list_members(s, a.group.id)[0].personal_hidden


def test_the_recorder_cannot_approve_even_with_both_roles(book, office):
    a, _b, _users = office
    book.write(lambda s: grant_role(s, TESTER, "dara", "PK-01", "chair"))
    dara = book.write(lambda s: sign_in(s, "dara", "482915"))
    book.write(lambda s: _product(s, a.group.id))
    loan = book.as_user(dara).write(lambda s: WRITES["apply for a loan"](s, a.group.id))
    with pytest.raises(Exception, match="dara recorded this application and so cannot approve"):
        book.as_user(dara).write(lambda s: approve_loan(s, loan.id, on=DAY))


def test_a_loan_above_the_threshold_waits_for_the_coordinator(book, office):
    a, _b, users = office
    gid = a.group.id
    book.write(lambda s: _product(s, gid))
    with pytest.raises(PermissionDenied, match=r"Chan \(chan\) may not set the loan approval"):
        users["chan"].write(lambda s: set_coordinator_threshold(s, gid, 0))
    users["vanna"].write(lambda s: set_coordinator_threshold(s, gid, 500_000))

    def apply(amount: int):  # type: ignore[no-untyped-def]
        return users["dara"].write(
            lambda s: apply_for_loan(
                s, gid, "M01", "W4", khr(amount), purpose="Cow", applied_on=DAY
            )
        )

    small, large = apply(500_000), apply(500_001)
    assert users["chan"].write(lambda s: approve_loan(s, small.id, on=DAY)).approved_as == "chair"
    entries, events = _counts(book)
    refused = r"Loan #2 is for 500,001 KHR, above group PK-01's threshold of 500,000 KHR"
    with pytest.raises(PermissionDenied, match=refused):
        users["chan"].write(lambda s: approve_loan(s, large.id, on=DAY))
    assert _counts(book) == (entries, events + 1)  # the refusal is kept, nothing else
    with book.read() as s:
        assert loans_of_group(s, gid)[1].status == "applied"
    approved = users["vanna"].write(lambda s: approve_loan(s, large.id, on=DAY))
    assert (approved.approved_by, approved.approved_as) == ("vanna", "coordinator")
    with book.read() as s:
        trail = [e.detail for e in audit_trail(s, limit=3)]
    assert "approved loan #2 on 2026-01-12 as coordinator" in trail


def test_the_database_refuses_a_chair_approving_above_the_threshold(book, office):
    a, _b, users = office
    gid = a.group.id
    book.write(lambda s: _product(s, gid))
    users["vanna"].write(lambda s: set_coordinator_threshold(s, gid, 100_000))
    loan = users["dara"].write(lambda s: WRITES["apply for a loan"](s, gid))
    book.write(
        lambda s: s.execute(
            update(Group).where(Group.id == gid).values(coordinator_approval_above=9_999)
        )
    )
    sql = "UPDATE loans SET status = 'approved', approved_by = 'chan', approved_as = :role "
    for role in ("chair", None):
        with pytest.raises(DatabaseRefused, match="approved by a coordinator"):
            book.write(
                lambda s, r=role: s.execute(
                    text(sql + "WHERE id = :id"), {"role": r, "id": loan.id}
                )
            )
    book.write(
        lambda s: s.execute(text(sql + "WHERE id = :id"), {"role": "coordinator", "id": loan.id})
    )
    users["vanna"].write(lambda s: set_coordinator_threshold(s, gid, None))
    with book.read() as s:
        assert get_group(s, gid).coordinator_approval_above is None


def test_nobody_signed_in_may_do_nothing(book, office):
    a, _b, _users = office
    anonymous = Book(book.url)
    try:
        with pytest.raises(NotSignedIn), anonymous.read() as s:
            list_members(s, a.group.id)
        with pytest.raises(NotSignedIn):
            anonymous.write(lambda s: open_meeting(s, a.group.id, DAY, today=TODAY))
    finally:
        anonymous.close()


def test_an_actor_with_no_role_anywhere_sees_no_group(book, office):
    stranger = book.as_user(Actor(99, "ghost", "Ghost", False))
    with stranger.read() as s:
        assert not book_summary(s).groups
        assert trial_balance(s).rows == ()


def test_adding_a_member_is_in_the_trail(book, office):
    a, _b, users = office
    users["dara"].write(lambda s: WRITES["add a member"](s, a.group.id))
    with book.read() as s:
        last = audit_trail(s, group_id=a.group.id, limit=1)[0]
    assert (last.actor, last.action) == ("dara", "record")
    assert last.detail == "added member M09 (Sina), joined 2026-01-12"
