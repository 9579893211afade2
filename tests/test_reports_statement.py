"""The member statement: its figures against the book, its pages, and its check code."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ledger.chart import balance_of, member_account_ids
from ledger.errors import InvalidEntry
from ledger.groups import find_group
from ledger.member_statement import member_statement, member_statements
from ledger.models import Account, Loan, RiceLoan
from ledger.posting import EntryRequest, Line
from ledger.statement_check import check_statement, statement_code
from reports.member_statement import short_memo, statement_pdf
from reports.text import Words
from tests.conftest import DEMO_TODAY
from tests.helpers import new_key, post
from tests.report_helpers import inked_share, page_images, pdf_text
from tests.savings_helpers import CYCLE_START, khr, make_vsla

START = dt.date(2026, 1, 1)


def _with_loans(session, code: str):  # type: ignore[no-untyped-def]
    """The group, and a member of it who has had a loan."""
    group = find_group(session, code)
    member_id = session.execute(
        select(Loan.member_id).where(Loan.group_id == group.id, Loan.account_id.is_not(None))
    ).scalar()
    from ledger.members import get_member

    return group, get_member(session, member_id)


def test_closing_balances_are_the_account_balances(demo_book):
    with demo_book.read() as s:
        group, member = _with_loans(s, "SR-PUOK-01")
        st = member_statement(s, group.id, member.code, START, DEMO_TODAY)
        ids = member_account_ids(s, member.id)
        for section in st.savings:
            assert section.closing == -balance_of(s, ids[section.key]), section.key
        assert st.loans, "the member has had a loan"
        for loan in st.loans:
            account = loan.loan.loan.account_id
            assert loan.principal.closing == balance_of(s, account)
            assert loan.principal.closing == loan.loan.principal_outstanding
        rice_group = find_group(s, "SR-BKNG-01")
        borrower = s.execute(
            select(RiceLoan.member_id).where(RiceLoan.group_id == rice_group.id)
        ).scalar()
        from ledger.members import get_member

        rice_member = get_member(s, borrower)
        rice = member_statement(s, rice_group.id, rice_member.code, START, DEMO_TODAY)
        assert rice.rice
        for r in rice.rice:
            account = s.execute(
                select(RiceLoan.account_id).where(RiceLoan.id == r.loan.id)
            ).scalar()
            assert r.principal.closing == balance_of(s, account)


def test_a_period_opens_where_the_one_before_closed(demo_book):
    middle = DEMO_TODAY - dt.timedelta(days=40)
    with demo_book.read() as s:
        group, member = _with_loans(s, "SR-PUOK-01")
        first = member_statement(s, group.id, member.code, START, middle)
        second = member_statement(
            s, group.id, member.code, middle + dt.timedelta(days=1), DEMO_TODAY
        )
    for a, b in zip(first.savings, second.savings, strict=True):
        assert b.opening == a.closing
        assert all(middle < m.on <= DEMO_TODAY for m in b.movements)
        running = b.opening
        for m in b.movements:
            running += m.amount
            assert m.running == running


def test_every_member_of_the_period_gets_a_statement(demo_book):
    with demo_book.read() as s:
        group = find_group(s, "SR-ACHM-01")
        statements = list(member_statements(s, group.id, START, DEMO_TODAY))
        from ledger.members import list_members

        members = list_members(s, group.id)
    assert [x.member.code for x in statements] == [m.code for m in members]


def test_the_statement_prints_its_figures_in_english_and_khmer(demo_book, tmp_path):
    with demo_book.read() as s:
        group, member = _with_loans(s, "SR-PUOK-01")
        st = member_statement(s, group.id, member.code, START, DEMO_TODAY)
    both = statement_pdf(st, size="A4")
    text = pdf_text(both)
    assert "Member statement" in text and member.name_latin in text
    assert f"{st.total_savings:,} KHR" in text
    assert "Opening balance" in text and "Closing balance" in text
    assert statement_code(st).text()[:40] in text.replace("\r", "").replace("\n", "")
    english = pdf_text(statement_pdf(st, words=Words("en"), size="A5"))
    assert "Member statement" in english and "សមាជិក" not in english
    khmer = statement_pdf(st, words=Words("km", khmer_digits=True), size="A5")
    shown = pdf_text(khmer)
    assert "Member statement" not in shown and f"{st.total_savings:,}" not in shown
    for name, pdf in (("both-A4", both), ("km-A5", khmer)):
        pages = page_images(pdf, tmp_path, f"statement-{name}")
        assert pages and all(inked_share(p) > 0.005 for p in pages)


def test_movements_read_without_repeating_the_member():
    assert short_memo("Meeting #7 2026-01-05: PK10 Touch Sreymom", "PK10", "Touch Sreymom") == (
        "Meeting #7"
    )
    assert short_memo(
        "Meeting #52 2026-11-19: AC13 Heng Davy: withdrawal", "AC13", "Heng Davy"
    ) == ("Meeting #52: withdrawal")
    assert short_memo("Meeting #9 2026-03-02: PK10 repays loan #4", "PK10", "X") == (
        "Meeting #9: repays loan #4"
    )
    assert short_memo("Opening balance", "PK10", "X") == "Opening balance"


def test_a_statement_code_is_checked_against_the_book(book):
    vsla = make_vsla(book)
    gid = vsla.group.id
    member = vsla.members["M01"]

    def deposit(on: dt.date, amount: int) -> None:
        def work(s):  # type: ignore[no-untyped-def]
            ids = member_account_ids(s, member.id)
            cash = s.execute(
                select(Account.id).where(Account.group_id == gid, Account.role == "cash_box")
            ).scalar_one()
            return EntryRequest(
                gid,
                on,
                "Correction: savings not recorded",
                (Line.of(cash, khr(amount)), Line.of(ids["voluntary_savings"], khr(-amount))),
                new_key(),
                "treasurer",
            )

        post(book, book.write(work))

    end = CYCLE_START + dt.timedelta(days=30)
    deposit(CYCLE_START + dt.timedelta(days=7), 10_000)
    with book.read() as s:
        code = statement_code(member_statement(s, gid, "M01", CYCLE_START, end)).text()
    assert ";S10000;" in code
    with book.read() as s:
        assert check_statement(s, code).verdict == "matches"
    deposit(end + dt.timedelta(days=3), 5_000)  # after the period: the paper still holds
    with book.read() as s:
        result = check_statement(s, code)
    assert result.verdict == "matches" and "1 entries recorded since" in result.message
    forged = code.replace(";S10000;", ";S90000;")
    with book.read() as s:
        assert check_statement(s, forged).verdict == "not from this book"
    deposit(end - dt.timedelta(days=1), 2_000)  # a correction dated inside the period
    with book.read() as s:
        result = check_statement(s, code)
    assert result.verdict == "changed" and result.now is not None
    assert result.now.savings == 12_000 and "Print a new statement" in result.message
    wrong_head = code.replace(code.split(";")[4], code.split(";")[4][:-4] + "0000")
    with book.read() as s:
        assert check_statement(s, wrong_head).verdict == "not from this book"
    with pytest.raises(InvalidEntry, match="not a Sansam statement code"), book.read() as s:
        check_statement(s, "hello")
    with pytest.raises(InvalidEntry, match="damaged"), book.read() as s:
        check_statement(s, code.replace("S10000", "Sten"))
