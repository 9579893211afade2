"""The Members screen: the list with its search and pages, one member's detail, and who
may see what."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable

from ledger.cycles import current_cycle
from ledger.db import Book
from ledger.groups import find_group
from ledger.loans import loans_of_member
from ledger.member_statement import member_statement
from ledger.members import MemberRecord, list_members
from ledger.positions import MemberPosition, member_position
from tests.conftest import DEMO_TODAY
from tests.helpers import TESTER
from tests.tui_helpers import ACHM, BKNG, PUOK, make_app, screen_text, sign_in, table_rows
from tui.common import amount_text, money_text
from tui.dashboard_screen import DashboardScreen
from tui.members_screen import MemberScreen, MembersScreen


def group_id(book: Book, code: str) -> int:
    with book.as_user(TESTER).read() as session:
        return find_group(session, code).id


def positions(book: Book, code: str) -> list[MemberPosition]:
    """Every member's position, read through the ledger (not through the screen)."""
    with book.as_user(TESTER).read() as session:
        group = find_group(session, code)
        return [member_position(session, m.id) for m in list_members(session, group.id)]


async def settle(pilot: Pilot) -> None:
    """Let the screen's workers read the book and show what they read."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_members(pilot: Pilot, user: str = "dara", group: int | None = None) -> None:
    """Sign in; dara lands on her group's dashboard and presses E. Others (or another
    group) get the screen pushed as the dashboard would."""
    await sign_in(pilot, user)
    if group is None:
        assert isinstance(pilot.app.screen, DashboardScreen)
        await pilot.press("e")
    else:
        pilot.app.push_screen(MembersScreen(group))
    await settle(pilot)


async def type_search(pilot: Pilot, text: str) -> None:
    search = pilot.app.screen.query_one("#search")
    search.value = ""
    await pilot.click("#search")
    await pilot.press(*text)
    await settle(pilot)


def codes(pilot: Pilot) -> list[str]:
    return [row[0] for row in table_rows(pilot, "#members")]


async def test_the_list_shows_each_members_savings_shares_and_loans(app_book):
    expected = positions(app_book, ACHM)
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_members(pilot)
        assert isinstance(app.screen, MembersScreen)
        rows = table_rows(pilot, "#members")
        assert [r[0] for r in rows] == [p.member.code for p in expected]
        for row, p in zip(rows, expected, strict=True):
            assert row[1] == p.member.name_latin
            assert row[5] == amount_text(p.total_savings, p.currency)
            assert row[6] == str(p.shares)
            assert row[7] == amount_text(p.loans_outstanding, p.currency)
        assert any(p.loans_outstanding for p in expected)  # the demo lends: a real check
        assert f"Members 1–{len(expected)} of {len(expected)}" in screen_text(pilot)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_search_narrows_the_list_by_code_and_by_part_of_a_name(app_book):
    members = [p.member for p in positions(app_book, ACHM)]
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_members(pilot)
        await type_search(pilot, "AC1")
        assert codes(pilot) == [m.code for m in members if m.code.startswith("AC1")]
        assert 0 < len(codes(pilot)) < len(members)

        # Part of a name, in lower case, from the middle of it.
        target = members[3]
        part = target.name_latin.split()[-1][1:5].lower()
        await type_search(pilot, part)
        assert codes(pilot) == [m.code for m in members if part in m.name_latin.lower()]
        assert target.code in codes(pilot)

        await type_search(pilot, "zzz%")
        assert codes(pilot) == []
        assert "No member's code or name contains “zzz%”" in screen_text(pilot)


async def test_enter_in_the_search_opens_the_only_member_found(app_book):
    member = positions(app_book, ACHM)[0].member
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_members(pilot)
        await type_search(pilot, member.name_latin)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MemberScreen)
        assert f"{member.code} · {member.name_latin}" in screen_text(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MembersScreen)


async def test_a_long_list_is_read_a_page_at_a_time(app_book, monkeypatch):
    monkeypatch.setattr(MembersScreen, "page_size", 5)
    every = [p.member.code for p in positions(app_book, ACHM)]
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_members(pilot)
        assert codes(pilot) == every[:5]
        await pilot.press("pagedown")
        await settle(pilot)
        assert codes(pilot) == every[5:10]
        assert "Page 2/3" in screen_text(pilot)
        await pilot.press("pagedown", "pagedown")  # past the last page: stays on it
        await settle(pilot)
        assert codes(pilot) == every[10:]
        await pilot.press("pageup")
        await settle(pilot)
        assert codes(pilot) == every[5:10]


async def test_members_who_left_are_marked_as_left(app_book):
    everyone = positions(app_book, PUOK)
    leavers = [p.member for p in everyone if p.member.exited_on]
    assert leavers, "the demo has a member who leaves"
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_members(pilot, "sophea", group_id(app_book, PUOK))
        rows = {r[0]: r for r in table_rows(pilot, "#members")}
        for m in leavers:
            assert rows[m.code][1] == f"{m.name_latin} (left)"
            assert rows[m.code][4] == m.exited_on.isoformat()
        stayed = next(p.member for p in everyone if not p.member.exited_on)
        assert rows[stayed.code][1] == stayed.name_latin and rows[stayed.code][4] == "-"


def borrower(book: Book) -> tuple[MemberRecord, MemberPosition]:
    p = next(p for p in positions(book, ACHM) if p.loans_outstanding)
    return p.member, p


async def test_the_detail_shows_her_position_history_and_loans(app_book):
    member, p = borrower(app_book)
    with app_book.as_user(TESTER).read() as session:
        gid = find_group(session, ACHM).id
        start = current_cycle(session, gid).starts_on
        statement = member_statement(session, gid, member.code, start, DEMO_TODAY)
        loans = loans_of_member(session, member.id)
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_members(pilot)
        await type_search(pilot, member.code)
        await pilot.press("down", "enter")  # from the search box to the list, and open
        await settle(pilot)
        assert isinstance(app.screen, MemberScreen)
        text = screen_text(pilot)
        c = p.currency
        assert f"Compulsory savings\n{money_text(p.compulsory_savings, c)}" in text
        assert f"Voluntary savings\n{money_text(p.voluntary_savings, c)}" in text
        assert f"Shares\n{p.shares} = {money_text(p.shares_value, c)}" in text
        assert f"Social fund paid\n{money_text(p.social_fund_paid, c)}" in text
        assert f"Fines paid\n{money_text(p.fines_paid, c)}" in text
        assert f"Loans outstanding\n{money_text(p.loans_outstanding, c)}" in text
        assert f"Meetings attended\n{p.meetings_attended} / {p.meetings_held}" in text

        # History: every movement of the cycle, with the balance after it.
        history = table_rows(pilot, "#history")
        compulsory = [r for r in history if r[0] == "Compulsory savings"]
        section = statement.savings[0]
        assert len(compulsory) == len(section.movements) + 1  # the opening line first
        assert compulsory[0][5] == "Opening balance"
        last = compulsory[-1]
        assert last[1] == section.movements[-1].on.isoformat()
        assert last[2] == str(section.movements[-1].seq)
        assert last[4] == amount_text(section.closing, c) == amount_text(p.compulsory_savings, c)
        assert member.name_latin not in last[5]  # her own name is not repeated on each line
        assert statement.loans
        for loan in statement.loans:
            lines = [r for r in history if r[0] == f"Loan {loan.loan.loan.number}"]
            assert lines[-1][4] == amount_text(loan.principal.closing, c)

        # Loans: every loan she has, with what it owes now.
        assert [r[0] for r in table_rows(pilot, "#loans")] == [str(x.number) for x in loans]

        await pilot.press("h")
        assert app.screen.query_one("#tabs").active == "history-tab"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MembersScreen)


async def test_personal_details_only_for_roles_that_may_see_them(app_book):
    member = next(p.member for p in positions(app_book, ACHM) if p.member.phone)
    gid = group_id(app_book, ACHM)
    for user, shown in (("dara", True), ("vanna", False)):
        app = make_app(app_book)
        async with app.run_test(size=(100, 30)) as pilot:
            await sign_in(pilot, user)
            app.push_screen(MemberScreen(gid, member.id))
            await settle(pilot)
            text = screen_text(pilot)
            assert (member.phone in text) is shown, user
            assert ("not shown to your role" in text) is not shown, user
            assert "Compulsory savings" in text


async def test_a_treasurer_cannot_open_another_groups_members(app_book):
    other = group_id(app_book, BKNG)
    names = [p.member.name_latin for p in positions(app_book, BKNG)]
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_members(pilot, "dara", other)
        assert isinstance(app.screen, MembersScreen)
        text = screen_text(pilot)
        assert f"may not read the books of group {BKNG}" in text
        assert app.screen.query_one("#members", DataTable).row_count == 0
        assert not any(name in text for name in names)
        # Nor one of its members, by going to her detail directly.
        with app_book.as_user(TESTER).read() as session:
            someone = list_members(session, other)[0]
        app.push_screen(MemberScreen(other, someone.id))
        await settle(pilot)
        text = screen_text(pilot)
        assert "may not read the books" in text and someone.name_latin not in text
