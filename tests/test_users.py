"""Users on a shared PC: hashed secrets, roles per group, lockout, and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.audit import audit_trail, record_event, verify_audit
from ledger.models import User
from ledger.permissions import PermissionDenied, require
from ledger.users import SignInRefused, UserError, create_user, grant_role, lock_state, sign_in
from tests.helpers import read
from tests.savings_helpers import make_vsla

NOW = dt.datetime(2026, 11, 22, 9, 0)
ADMIN_PW = "lotus-pond-42"


@pytest.fixture
def people(book):
    """Two groups; an administrator; a treasurer and chair of PK-01; a coordinator of both."""
    a, b = make_vsla(book, "PK-01"), make_vsla(book, "PK-02")

    def setup(s):
        admin = create_user(
            s, "admin", "Office admin", ADMIN_PW, is_admin=True, created_by=None, now=NOW
        )
        for name, shown, secret, kind in (
            ("sopheap", "Men Sopheap", "190274", "pin"),
            ("dara", "Oum Dara", "rice-and-fish-9", "password"),
            ("vanna", "Sun Vanna", "district-office-7", "password"),
        ):
            create_user(s, name, shown, secret, kind=kind, created_by=admin, now=NOW)
        grant_role(s, admin, "sopheap", "PK-01", "treasurer", now=NOW)
        grant_role(s, admin, "dara", "PK-01", "chair", now=NOW)
        for code in ("PK-01", "PK-02"):
            grant_role(s, admin, "vanna", code, "coordinator", now=NOW)

    book.write(setup)
    return a, b


def signed_in(book, name, secret):
    return book.write(lambda s: sign_in(s, name, secret, now=NOW))


def test_secrets_are_stored_as_argon2_hashes_only(book, people):
    hashes = read(book, lambda s: [u.secret_hash for u in s.query(User)])
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not any("190274" in h for h in hashes)
    with pytest.raises(DBAPIError), book.engine.begin() as conn:
        conn.execute(text("UPDATE users SET secret_hash = '190274' WHERE username = 'sopheap'"))


@pytest.mark.parametrize(
    ("secret", "kind", "reason"),
    [
        ("12345", "pin", "at least 6 digits"),
        ("123456", "pin", "too easy"),
        ("777777", "pin", "too easy"),
        ("12a456", "pin", "digits only"),
        ("short", "password", "at least 10"),
        ("aaaaaaaaaaaa", "password", "too easy"),
    ],
)
def test_weak_secrets_are_refused(book, people, secret, kind, reason):
    admin = signed_in(book, "admin", ADMIN_PW)
    with pytest.raises(UserError, match=reason):
        book.write(lambda s: create_user(s, "newbie", "New", secret, kind=kind, created_by=admin))


def test_only_an_administrator_adds_users_and_grants_roles(book, people):
    treasurer = signed_in(book, "sopheap", "190274")
    with pytest.raises(PermissionDenied, match="may not manage users"):
        book.write(
            lambda s: create_user(s, "mallory", "M", "guess-me-please", created_by=treasurer)
        )
    with pytest.raises(PermissionDenied):
        book.write(lambda s: grant_role(s, treasurer, "sopheap", "PK-02", "treasurer"))
    denied = read(book, lambda s: [e for e in audit_trail(s) if e.outcome == "denied"])
    assert [e.actor for e in denied] == ["sopheap", "sopheap"]


def test_a_treasurer_records_only_for_her_own_group(book, people):
    a, b = people
    treasurer = signed_in(book, "sopheap", "190274")
    require(treasurer, "record", a.group.id, group_code="PK-01")
    with pytest.raises(PermissionDenied, match="may not record in the books of group PK-02"):
        book.write(lambda s: require(treasurer, "record", b.group.id, group_code="PK-02"))
    assert not treasurer.may("read", b.group.id)  # sees nothing of it
    assert not treasurer.may("approve_loan", a.group.id)
    events = read(book, lambda s: audit_trail(s, group_id=b.group.id))
    (denial,) = [e for e in events if e.outcome == "denied"]
    assert (denial.actor, denial.action, denial.outcome) == ("sopheap", "record", "denied")


def test_a_coordinator_reads_and_approves_many_groups_but_never_posts_cash(book, people):
    a, b = people
    coordinator = signed_in(book, "vanna", "district-office-7")
    for group in (a, b):
        assert coordinator.may("read", group.group.id)
        assert coordinator.may("approve_loan", group.group.id)
        assert coordinator.may("audit", group.group.id)
        assert not coordinator.may("record", group.group.id)
        assert not coordinator.may("read_personal", group.group.id)


def test_five_wrong_attempts_lock_the_account_for_a_growing_time(book, people):
    for k in range(5):
        with pytest.raises(SignInRefused, match="wrong"):
            book.write(
                lambda s, k=k: sign_in(s, "sopheap", "000111", now=NOW + dt.timedelta(seconds=k))
            )
    state = read(book, lambda s: lock_state(s, "sopheap"))
    assert state.failed_attempts == 5 and state.locked_until == NOW + dt.timedelta(
        seconds=4, minutes=1
    )
    # Even the right PIN is refused while locked.
    with pytest.raises(SignInRefused, match="locked for 1 more minute"):
        book.write(lambda s: sign_in(s, "sopheap", "190274", now=NOW + dt.timedelta(seconds=30)))
    later = NOW + dt.timedelta(minutes=2)
    with pytest.raises(SignInRefused, match="wrong"):
        book.write(lambda s: sign_in(s, "sopheap", "000111", now=later))
    state = read(book, lambda s: lock_state(s, "sopheap"))
    assert state.locked_until == later + dt.timedelta(minutes=2)  # doubled
    back = NOW + dt.timedelta(minutes=5)
    actor = book.write(lambda s: sign_in(s, "sopheap", "190274", now=back))
    assert actor.username == "sopheap"
    assert read(book, lambda s: lock_state(s, "sopheap")).failed_attempts == 0
    failures = read(
        book,
        lambda s: [e for e in audit_trail(s) if e.action == "sign_in" and e.outcome == "failed"],
    )
    assert len(failures) == 7


def test_an_unknown_user_gets_the_same_answer_and_is_audited(book, people):
    with pytest.raises(SignInRefused, match="The user name or the password/PIN is wrong"):
        signed_in(book, "nobody", "190274")
    last = read(book, lambda s: audit_trail(s)[-1])
    assert (last.actor, last.outcome) == ("nobody", "failed")


def test_the_first_user_must_be_the_administrator(book):
    with pytest.raises(UserError, match="first user of a book is its administrator"):
        book.write(lambda s: create_user(s, "sopheap", "S", "190274", kind="pin", created_by=None))


def test_the_audit_trail_is_a_chain_the_database_keeps(book, people):
    assert read(book, verify_audit) is None
    for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="never changed"), book.engine.begin() as conn:
            conn.execute(text(statement))
    book.write(lambda s: record_event(s, actor="admin", action="export", detail="members.csv"))
    trail = read(book, audit_trail)
    assert [e.seq for e in trail] == list(range(1, len(trail) + 1))
    assert trail[-1].action == "export"
