"""The rice bank screen: the position as the ledger has it, lending with the chair's
countersign (and refusing a wrong one), repaying, and counting the stock."""

from __future__ import annotations

from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Input, Select

from ledger.db import Book
from ledger.groups import find_group
from ledger.models import RiceLoan
from ledger.rice import kg
from ledger.rice_position import RicePosition, rice_position
from ledger.users import create_user, grant_role
from ledger.users import sign_in as ledger_sign_in
from tests.conftest import DEMO_TODAY
from tests.tui_helpers import BKNG, PASSWORD, make_app, screen_text, sign_in, table_rows
from tui.common import Confirm
from tui.rice_screen import Countersign, RiceForm, RiceScreen


def add_bakong_chair(book: Book) -> None:
    """Oum, the chair of SR-BKNG-01 (the demo group that keeps a rice bank)."""

    def work(session):  # type: ignore[no-untyped-def]
        admin = ledger_sign_in(session, "sophea", PASSWORD)
        create_user(session, "oum", "Oum Sopheap", PASSWORD, created_by=admin)
        grant_role(session, admin, "oum", BKNG, "chair")

    book.write(work)


async def open_rice(pilot: Pilot) -> None:
    """Sophea (treasurer of all three groups) opens SR-BKNG-01's rice bank."""
    await sign_in(pilot, "sophea")
    await pilot.press("down", "enter")  # the groups are ACHM, BKNG, PUOK
    await pilot.pause()
    await pilot.press("r")
    await pilot.pause()
    assert isinstance(pilot.app.screen, RiceScreen)


def position(pilot: Pilot) -> RicePosition:
    app = pilot.app
    with app.signed.read() as session:  # type: ignore[attr-defined]
        return rice_position(session, find_group(session, BKNG).id, on=DEMO_TODAY)


async def fill(pilot: Pilot, **answers: str) -> None:
    """Answer the form on top: choices by value, text boxes by their text."""
    screen = pilot.app.screen
    for name, value in answers.items():
        widget = screen.query_one(f"#f-{name}")
        if isinstance(widget, Select):
            widget.value = value
        else:
            assert isinstance(widget, Input)
            widget.value = value
    await pilot.pause()


async def submit_form(pilot: Pilot) -> None:
    """Enter in the form's last field sends it (as OK does)."""
    form = pilot.app.screen
    assert isinstance(form, RiceForm)
    await pilot.click(f"#f-{form.fields[-1].name}")
    await pilot.press("enter")
    await pilot.pause()


async def countersign(pilot: Pilot, user: str, password: str) -> None:
    assert isinstance(pilot.app.screen, Countersign)
    await pilot.click("#approver")
    await pilot.press(*user, "enter")
    await pilot.press(*password, "enter")
    await pilot.pause()


async def test_the_screen_shows_the_rice_position_of_the_day(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_rice(pilot)
        p = position(pilot)
        text = screen_text(pilot)
        assert f"In store\n{kg(p.stock)}" in text
        assert f"Lent, still owed\n{kg(p.principal_outstanding)}" in text
        assert f"Rice capital\n{kg(p.capital)}" in text
        assert f"Interest earned\n{kg(p.interest_earned)}" in text
        assert f"pests {kg(p.losses['pests'])}" in text
        assert f"Overdue loans\n{len(p.overdue)}" in text
        owed = [x for x in p.loans if x.standing.owed]
        assert owed and len(owed) < len(p.loans)  # the demo: some repaid, some not
        rows = table_rows(pilot)
        assert [(r[0], r[1], r[6]) for r in rows] == [
            (str(x.number), x.member_code, kg(x.standing.owed)) for x in owed
        ]
        overdue = {str(x.number): x.standing.days_overdue for x in p.overdue}
        for row in rows:
            if row[0] in overdue:
                assert row[8] == f"OVERDUE {overdue[row[0]]} d"
        await pilot.press("a")  # every loan, repaid ones too
        assert [r[0] for r in table_rows(pilot)] == [str(x.number) for x in p.loans]


async def test_lending_rice_with_the_chairs_countersign(app_book):
    add_bakong_chair(app_book)
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_rice(pilot)
        before = position(pilot)
        await pilot.press("l")
        assert isinstance(app.screen, RiceForm)
        await fill(pilot, member="BK03", product="CONS", kg="125.5", purpose="Food before harvest")
        await submit_form(pilot)
        await countersign(pilot, "oum", PASSWORD)
        assert isinstance(app.screen, Confirm)
        assert "125.5 kg" in screen_text(pilot) and "Oum Sopheap" in screen_text(pilot)
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, RiceScreen)

        after = position(pilot)
        assert after.stock == before.stock - 125_500
        new = after.loans[-1]
        assert (new.member_code, new.product_code) == ("BK03", "CONS")
        assert new.standing.quantity == 125_500
        assert new.standing.owed == 125_500 + 25_100  # 20 % interest, in kg
        with app_book.as_user(app.actor).read() as session:
            row = session.execute(select(RiceLoan).where(RiceLoan.number == new.number)).scalar()
            assert (row.recorded_by, row.approved_by) == ("sophea", "oum")
        assert str(new.number) in [r[0] for r in table_rows(pilot)]
        assert f"In store\n{kg(after.stock)}" in screen_text(pilot)


async def test_a_wrong_countersign_is_refused_and_nothing_is_lent(app_book):
    add_bakong_chair(app_book)
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_rice(pilot)
        before = position(pilot)
        await pilot.press("l")
        await fill(pilot, member="BK03", product="CONS", kg="100", purpose="Food")
        await submit_form(pilot)
        await countersign(pilot, "oum", "not-her-password")
        assert isinstance(app.screen, Countersign)  # refused in place, she may try again
        assert "wrong" in screen_text(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RiceScreen)
        assert position(pilot) == before


async def test_the_treasurer_cannot_countersign_her_own_loan(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_rice(pilot)
        before = position(pilot)
        await pilot.press("l")
        await fill(pilot, member="BK03", product="CONS", kg="100", purpose="Food")
        await submit_form(pilot)
        await countersign(pilot, "sophea", PASSWORD)
        assert isinstance(app.screen, Countersign)
        assert "someone other than the person recording it" in screen_text(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert position(pilot) == before


async def test_a_bad_quantity_is_refused_in_the_form(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_rice(pilot)
        await pilot.press("l")
        await fill(pilot, member="BK03", product="CONS", kg="lots", purpose="Food")
        await submit_form(pilot)
        assert isinstance(app.screen, RiceForm)
        assert "'lots' is not a number" in screen_text(pilot)
        await fill(pilot, kg="0")
        await submit_form(pilot)
        assert "more than 0 kg" in screen_text(pilot)


async def test_repaying_the_loan_under_the_cursor(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_rice(pilot)
        loan = next(x for x in position(pilot).loans if x.standing.owed)
        await pilot.press("r")  # the cursor is on the first loan still owed
        assert app.screen.query_one("#f-loan", Select).value == str(loan.number)
        await fill(pilot, kg="10")
        await submit_form(pilot)
        await pilot.press("y")
        await pilot.pause()
        after = next(x for x in position(pilot).loans if x.number == loan.number)
        assert after.standing.owed == loan.standing.owed - 10_000
        assert kg(after.standing.owed) in [r[6] for r in table_rows(pilot)]


async def test_counting_the_stock_posts_the_loss(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_rice(pilot)
        before = position(pilot)
        await pilot.press("c")
        counted = kg(before.stock - 8_500).removesuffix(" kg")
        await fill(pilot, kg=counted)  # 8.5 kg short, and no reason given
        await submit_form(pilot)
        assert isinstance(app.screen, RiceForm)
        assert "8.5 kg short of the books; choose why" in screen_text(pilot)
        await fill(pilot, reason="damp")
        await submit_form(pilot)
        assert "A loss: 8.5 kg (damp)" in screen_text(pilot)
        await pilot.press("y")
        await pilot.pause()
        after = position(pilot)
        assert after.stock == before.stock - 8_500
        assert after.losses["damp"] == before.losses["damp"] + 8_500
