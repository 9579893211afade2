"""The loans screen: the group's loans as the ledger states them, and a loan's life from
application to the meeting's sheet, each step by the person who may take it."""

from __future__ import annotations

from decimal import Decimal

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from ledger.db import Book
from ledger.groups import find_group
from ledger.loan_products import create_product
from ledger.loans import (
    LoanRecord,
    apply_for_loan,
    approve_loan,
    find_loan,
    loan_statement,
    loan_statements,
    loans_of_group,
)
from ledger.meetings import open_meeting
from ledger.money import from_minor
from tests.conftest import DEMO_TODAY
from tests.helpers import CHAIR, TESTER
from tests.tui_helpers import ACHM, PUOK, make_app, screen_text, sign_in, table_rows
from tui.common import Confirm, money_text
from tui.dashboard_screen import DashboardScreen
from tui.loans_screen import LoanApplicationForm, LoanScheduleScreen, LoansScreen

OVERDUE_LOAN = 1  # the demo's loan of PK10 in SR-PUOK-01, an instalment behind


async def open_loans(pilot: Pilot, user: str, group: str = ACHM) -> LoansScreen:
    """Sign in as ``user``, open the group's dashboard and press L on it."""
    await sign_in(pilot, user)
    if not isinstance(pilot.app.screen, DashboardScreen):  # a user of several groups
        await choose(pilot, group)
        await pilot.press("enter")
        await pilot.pause()
    await pilot.press("l")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, LoansScreen)
    return screen


async def choose(pilot: Pilot, row: int | str) -> None:
    """Put the cursor on a row (a loan's number, a group's code), as the arrow keys would."""
    table = pilot.app.screen.query_one(DataTable)
    keys = [str(table.get_row_at(r)[0]) for r in range(table.row_count)]
    table.move_cursor(row=keys.index(str(row)))
    await pilot.pause()


def message(pilot: Pilot) -> str:
    return str(pilot.app.screen.query_one("#message").render())


def group_id(book: Book, code: str = ACHM) -> int:
    with book.as_user(TESTER).read() as session:
        return find_group(session, code).id


def newest_loan(book: Book) -> LoanRecord:
    with book.as_user(TESTER).read() as session:
        gid = find_group(session, ACHM).id
        return find_loan(session, gid, loans_of_group(session, gid)[-1].number)


def application(book: Book, member: str = "AC05") -> LoanRecord:
    """An application in SR-ACHM-01, recorded through the ledger by the test treasurer."""
    gid = group_id(book)
    return book.as_user(TESTER).write(
        lambda s: apply_for_loan(
            s,
            gid,
            member,
            "LOAN",
            from_minor(120_000, "KHR"),
            purpose="A water pump",
            applied_on=DEMO_TODAY,
        )
    )


def approved_loan(book: Book) -> LoanRecord:
    """An application recorded by one officer and approved by another, through the ledger."""
    loan = application(book)
    return book.as_user(CHAIR).write(lambda s: approve_loan(s, loan.id, on=DEMO_TODAY))


async def test_the_list_is_the_ledgers_loans_newest_first_with_overdue_in_red(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_loans(pilot, "sophea", PUOK)
        with app.signed.read() as session:
            gid = find_group(session, PUOK).id
            statements = loan_statements(session, loans_of_group(session, gid), on=DEMO_TODAY)
        expected = [
            [
                str(st.loan.number),
                st.loan.member_code,
                st.loan.product_code,
                f"{st.loan.amount:,}",
                st.state,
                f"{st.principal_outstanding:,}",
                f"{st.due_now:,}",
                str(st.days_overdue),
            ]
            for st in reversed(statements)
        ]
        assert table_rows(pilot) == expected
        overdue = [st.loan.number for st in statements if st.days_overdue]
        assert overdue == [OVERDUE_LOAN]
        table = app.screen.query_one(DataTable)
        for row in range(table.row_count):
            number = int(str(table.get_row_at(row)[0]))
            styles = {str(cell.style) for cell in table.get_row_at(row)}
            assert ("red" in " ".join(styles)) == (number in overdue)
        n = len(statements)
        assert f"{PUOK} · Loans 1–{n} / {n}" in screen_text(pilot)


async def test_a_long_list_is_read_a_page_at_a_time(app_book, monkeypatch):
    monkeypatch.setattr("tui.loans_screen.PAGE_SIZE", 5)
    for _ in range(13):
        application(app_book)  # 14 loans in all
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_loans(pilot, "dara")
        assert [row[0] for row in table_rows(pilot)] == ["14", "13", "12", "11", "10"]
        await pilot.press("n")
        assert [row[0] for row in table_rows(pilot)] == ["9", "8", "7", "6", "5"]
        await pilot.press("n", "n")
        assert [row[0] for row in table_rows(pilot)] == ["4", "3", "2", "1"]
        assert "There are no older loans." in message(pilot)
        await pilot.press("p")
        assert [row[0] for row in table_rows(pilot)] == ["9", "8", "7", "6", "5"]
        assert "Loans 6–10 / 14" in screen_text(pilot)


async def test_the_treasurer_records_an_application_and_cannot_approve_it(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_loans(pilot, "dara")
        before = newest_loan(app_book).number
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, LoanApplicationForm)
        # A typing mistake is refused in place, and nothing is asked or written.
        await pilot.press(*"ac03", "enter", *"15o,000", "enter", *"Piglets", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LoanApplicationForm)
        assert "15o,000" in str(app.screen.query_one("#form-error").render())
        app.screen.query_one("#amount").value = ""
        app.screen.query_one("#amount").focus()
        await pilot.press(*"150,000", "enter", "enter")  # on to the purpose, then record
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert "AC03" in screen_text(pilot) and "150,000 KHR" in screen_text(pilot)
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is screen

        loan = newest_loan(app_book)
        assert loan.number == before + 1
        assert (loan.member_code, loan.amount, loan.purpose) == ("AC03", 150_000, "Piglets")
        assert (loan.status, loan.recorded_by) == ("applied", "dara")
        assert table_rows(pilot)[0][:5] == [str(loan.number), "AC03", "LOAN", "150,000", "applied"]
        assert f"Recorded loan #{loan.number}" in message(pilot)

        # Maker is not checker: dara is refused in plain words, and is not even asked.
        await pilot.press("v")
        await pilot.pause()
        assert app.screen is screen
        assert "Dara Keo (dara) may not approve loans in group SR-ACHM-01" in message(pilot)
        assert "chair" in message(pilot)
        assert newest_loan(app_book).status == "applied"


async def test_the_chair_approves_the_treasurers_application(app_book):
    gid = group_id(app_book)
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_loans(pilot, "dara")
        await pilot.press("a")
        await pilot.press(*"AC03", "enter", *"150000", "enter", *"Piglets", "enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    loan = newest_loan(app_book)

    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_loans(pilot, "chan")
        assert table_rows(pilot)[0][0] == str(loan.number)  # newest first, under the cursor
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")  # "No" writes nothing
        await pilot.pause()
        assert newest_loan(app_book).status == "applied"
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert f"Loan #{loan.number} approved by chan (chair)" in message(pilot)
        assert table_rows(pilot)[0][4] == "approved"
    with app_book.as_user(TESTER).read() as session:
        done = find_loan(session, gid, loan.number)
    assert (done.status, done.approved_by, done.approved_as) == ("approved", "chan", "chair")


async def test_the_schedule_shows_instalments_with_the_overdue_ones_marked(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_loans(pilot, "sophea", PUOK)
        await choose(pilot, OVERDUE_LOAN)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LoanScheduleScreen)
        with app.signed.read() as session:
            gid = find_group(session, PUOK).id
            loan = find_loan(session, gid, OVERDUE_LOAN)
            st = loan_statement(session, loan.id, on=DEMO_TODAY)
        rows = table_rows(pilot)
        assert [row[0] for row in rows] == [str(i.number) for i in st.instalments] + ["Total"]
        for row, i in zip(rows, st.instalments, strict=False):
            assert row[1] == i.due_on.isoformat()
            assert row[2:4] == [f"{i.principal:,}", f"{i.interest:,}"]
            assert row[5] == f"{i.paid:,}"
            assert row[6].startswith(i.status)
        assert rows[-1][2] == f"{sum(i.principal for i in st.instalments):,}"
        overdue = [i for i in st.instalments if i.status == "overdue"]
        assert overdue
        table = app.screen.query_one(DataTable)
        for row, i in enumerate(st.instalments):
            red = "red" in str(table.get_row_at(row)[6].style)
            assert red == (i.status == "overdue")
        text = screen_text(pilot)
        assert f"Due now: {money_text(st.due_now, 'KHR')}" in text
        assert f"Settles the loan now: {money_text(st.owed_now, 'KHR')}" in text
        assert f"{st.days_overdue} days overdue" in text
        await pilot.press("escape")
        assert isinstance(app.screen, LoansScreen)


async def test_lending_needs_the_open_meeting(app_book):
    loan = approved_loan(app_book)
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_loans(pilot, "dara")
        await choose(pilot, loan.number)
        await pilot.press("d")
        await pilot.pause()
        assert app.screen is screen  # nothing asked
        assert "Open the meeting first (m on the dashboard)." in message(pilot)
        assert newest_loan(app_book).status == "approved"

        gid = group_id(app_book)
        meeting = app.signed.write(lambda s: open_meeting(s, gid, DEMO_TODAY, today=DEMO_TODAY))
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert f"at meeting #{meeting.number}" in screen_text(pilot)
        await pilot.press("y")
        await pilot.pause()
        assert f"is on the sheet of meeting #{meeting.number}" in message(pilot)
        assert table_rows(pilot)[0][4] == f"to lend at #{meeting.number}"


async def test_the_chair_may_not_lend_and_only_an_approved_loan_is_lent(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_loans(pilot, "chan")
        await choose(pilot, 1)  # lent long ago
        await pilot.press("d")
        await pilot.pause()
        assert app.screen is screen
        assert "Only an approved loan is lent." in message(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert app.screen is screen
        assert "may not record in the books of group SR-ACHM-01" in message(pilot)


async def test_a_product_is_chosen_and_the_ledgers_refusal_shows_in_the_form(app_book):
    gid = group_id(app_book)
    app_book.as_user(TESTER).write(
        lambda s: create_product(
            s,
            gid,
            "SMALL",
            "Small loan",
            rate_per_month=Decimal("0.015"),
            term_periods=4,
            frequency="weekly",
            max_amount=from_minor(50_000, "KHR"),
        )
    )
    before = newest_loan(app_book).number
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_loans(pilot, "dara")
        await pilot.press("a", *"AC03", "enter")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, LoanApplicationForm)
        assert str(form.query_one("#member-name").render()).strip()  # AC03's name, shown
        await pilot.press("enter", "down", "enter")  # open the list, pick SMALL
        await pilot.pause()
        assert str(form.query_one("#product").value) == "SMALL"
        assert form.query_one("#amount", Input).has_focus
        await pilot.press(*"80000", "enter", *"Seeds", "enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is form  # still open, with what was typed
        error = str(form.query_one("#form-error").render())
        assert "SMALL lends at most 50,000 KHR" in error
        assert newest_loan(app_book).number == before  # nothing written
        form.query_one("#amount", Input).value = "50,000"
        form.query_one("#purpose", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, LoansScreen)
    loan = newest_loan(app_book)
    assert (loan.number, loan.product_code, loan.amount) == (before + 1, "SMALL", 50_000)
