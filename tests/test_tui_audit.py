"""The audit screen: a coordinator verifies the books and reads the trail a page at a
time, a tampered book shows its break, a treasurer is refused, and the arrears list is
the portfolio's own."""

from __future__ import annotations

import importlib

from sqlalchemy import text
from textual.widgets import TabbedContent

from ledger.audit import record_event
from ledger.groups import list_groups
from ledger.portfolio import loans_at_date
from tests.conftest import DEMO_TODAY
from tests.tui_helpers import ACHM, make_app, screen_text, sign_in, table_rows
from tui.audit_screen import TRAIL_PAGE, AuditScreen

core = importlib.import_module("migrations.versions.0001_ledger_core")


async def open_audit(pilot, user: str = "vanna") -> None:
    """Sign in, open SR-ACHM-01's dashboard and press A."""
    await sign_in(pilot, user)
    if user != "dara":  # dara's only group opens by itself
        await pilot.press("enter")
        await pilot.pause()
    await pilot.press("a")
    await pilot.pause()
    assert isinstance(pilot.app.screen, AuditScreen)


async def verify(pilot) -> str:
    await pilot.press("v")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen_text(pilot)


async def test_a_coordinator_verifies_the_demo_book(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_audit(pilot)
        shown = await verify(pilot)
        assert "OK: 3 group(s)" in shown and "verified" in shown
        assert "PROBLEMS" not in shown
        # The trail tab shows her verification, newest first, in this group's trail.
        app.screen.query_one(TabbedContent).active = "trail-tab"
        await pilot.pause()
        newest = table_rows(pilot, "#trail")[0]
        assert (newest[2], newest[3], newest[5]) == ("vanna", "verify", "ok")


async def test_a_tampered_posting_shows_where_the_book_breaks(app_book):
    with app_book.engine.begin() as conn:
        for _table, trigger in core.SQLITE_TRIGGERS:
            conn.execute(text(f"DROP TRIGGER {trigger}"))
        group_id = conn.execute(text("SELECT id FROM groups WHERE code = :c"), {"c": ACHM}).scalar()
        conn.execute(
            text(
                "UPDATE postings SET amount = amount + 100 "
                "WHERE group_id = :g AND entry_seq = 7 AND line_no = 1"
            ),
            {"g": group_id},
        )
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_audit(pilot)
        shown = await verify(pilot)
        assert "PROBLEMS FOUND" in shown
        assert f"{ACHM}: first break — entry #7" in shown
        assert "was changed after it was posted" in shown
        assert "OK:" not in shown
        app.screen.query_one(TabbedContent).active = "trail-tab"
        await pilot.pause()
        newest = table_rows(pilot, "#trail")[0]
        assert (newest[2], newest[3], newest[5]) == ("vanna", "verify", "problems found")


async def test_a_treasurer_is_refused_and_sees_no_data(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_audit(pilot, "dara")
        said = screen_text(pilot)
        assert "Only coordinators and the group's chair may audit" in said
        assert not app.screen.query("DataTable")
        await pilot.press("v")  # no data key does anything
        await pilot.pause()
        assert screen_text(pilot) == said
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AuditScreen)


async def test_the_trail_is_read_a_page_at_a_time_newest_first(app_book):
    with app_book.read() as session:
        group_id = session.execute(
            text("SELECT id FROM groups WHERE code = :c"), {"c": ACHM}
        ).scalar()

    def many(session):  # type: ignore[no-untyped-def]
        for n in range(TRAIL_PAGE + 5):
            record_event(session, actor="vanna", action="export", group_id=group_id, detail=f"n{n}")

    app_book.write(many)
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_audit(pilot)
        await pilot.press("n")
        await pilot.pause()
        first_older = table_rows(pilot, "#trail")
        assert len(first_older) <= TRAIL_PAGE
        await pilot.press("p")
        await pilot.pause()
        page = table_rows(pilot, "#trail")
        assert len(page) == TRAIL_PAGE
        assert page[0][5] == f"n{TRAIL_PAGE + 4}"  # the newest event comes first
        seqs = [int(row[0]) for row in page]
        assert seqs == sorted(seqs, reverse=True)
        assert int(first_older[0][0]) < seqs[-1]  # the next page goes on, older
        assert "newest first" in screen_text(pilot)


async def test_arrears_match_the_portfolio_across_her_groups(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_audit(pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = table_rows(pilot, "#arrears")
        with app.signed.read() as session:
            codes = [g.code for g in list_groups(session)]
            expected = [
                loan
                for loan in loans_at_date(session, as_of=DEMO_TODAY, group_codes=codes)
                if loan.days_overdue > 0
            ]
    assert expected, "the demo book has loans in arrears"
    assert [(r[0], r[1], r[2], int(r[3])) for r in shown] == [
        (x.group_code, f"#{x.loan_number}", x.member_code, x.days_overdue) for x in expected
    ]
    days = [int(r[3]) for r in shown]
    assert days == sorted(days, reverse=True)  # most overdue first
    assert {r[0] for r in shown} - {ACHM}  # from her other groups too, not only the open one


async def test_a_chair_audits_only_her_own_group(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "chan")
        if not isinstance(app.screen, AuditScreen):
            await pilot.press("a")
            await pilot.pause()
        assert isinstance(app.screen, AuditScreen)
        shown = await verify(pilot)
        assert "OK: 1 group(s)" in shown
        assert {row[0] for row in table_rows(pilot, "#arrears")} <= {ACHM}
