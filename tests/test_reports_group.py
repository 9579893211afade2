"""The group report: its figures against the ledger, and its printed pages."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.errors import InvalidEntry
from ledger.group_report import GroupReport, group_report, month_ends
from ledger.groups import create_group, find_group, list_groups
from ledger.members import list_members
from ledger.permissions import Actor, PermissionDenied
from ledger.positions import group_position
from ledger.queries import chain_head, trial_balance
from ledger.statements import (
    balance_sheets,
    cash_book,
    income_and_expenditure,
    period_trial_balance,
)
from reports.group_report import group_report_pdf, short_memo
from reports.text import Words
from tests.conftest import DEMO_TODAY
from tests.report_helpers import inked_share, page_images, pdf_text

START = dt.date(2026, 1, 1)
RECENT = dt.date(2026, 10, 1)
NOW = dt.datetime(2026, 11, 22, 9, 30)


def _reports(book, start: dt.date = START) -> list[GroupReport]:  # type: ignore[no-untyped-def]
    with book.read() as s:
        return [group_report(s, g.id, start, DEMO_TODAY) for g in list_groups(s)]


def test_the_statements_are_the_ledgers(demo_book):
    with demo_book.read() as s:
        for g in list_groups(s):
            r = group_report(s, g.id, START, DEMO_TODAY)
            assert r.trial_balance == period_trial_balance(s, g.id, START, DEMO_TODAY)
            assert list(r.balance_sheets) == balance_sheets(s, g.id, DEMO_TODAY)
            assert list(r.income) == income_and_expenditure(s, g.id, START, DEMO_TODAY)
            assert r.cash_book == cash_book(s, g.id, START, DEMO_TODAY)
            assert (r.head_seq, r.head_hash) == chain_head(s, g.id)
            # The period ends on the book's last day: closings are the cached balances.
            cached = {row.account_id: row.balance_minor for row in trial_balance(s, g.id).rows}
            for line in r.trial_balance.lines:
                assert line.closing == cached[line.account_id], line.account
            assert sum(cached.values()) == 0


def test_summing_member_accounts_keeps_every_total(demo_book):
    for r in _reports(demo_book):
        full, summary = r.trial_balance, r.trial_summary
        assert summary.commodities == full.commodities
        for c in full.commodities:
            opening, debits, credits, closing = summary.totals(c)
            assert (opening, debits, credits, closing) == full.totals(c)
            assert opening == 0 and closing == 0 and debits == credits
        # One line per kind: far fewer lines than accounts, none of them a member's.
        assert len(summary.lines) < len(full.lines)
        assert not any(":" in line.account for line in summary.lines)
        for sheet, whole in zip(r.sheets, r.balance_sheets, strict=True):
            assert sheet.balanced and whole.balanced
            assert sheet.total_assets == whole.total_assets
            assert sheet.total_liabilities == whole.total_liabilities
            assert sheet.total_equity == whole.total_equity
            closing = {
                line.account: line.natural_closing
                for line in summary.lines
                if line.commodity == sheet.commodity and line.type == "asset"
            }
            assert {row.account: row.amount for row in sheet.assets} == {
                k: v for k, v in closing.items() if v
            }
        for mine, whole in zip(r.income_summary, r.income, strict=True):
            assert mine.surplus == whole.surplus
            assert mine.total_income == whole.total_income


def test_savings_grow_from_the_opening_to_the_balance_sheet(demo_book):
    for r in _reports(demo_book):
        lines = {line.account: line for line in r.trial_summary.lines}

        def held(label: str, *, opening: bool = False, lines=lines) -> int:  # type: ignore[no-untyped-def]
            line = lines.get(label)
            if line is None:
                return 0
            return -line.opening if opening else line.natural_closing

        first, last = r.savings_growth[0], r.savings_growth[-1]
        assert first.on == START - dt.timedelta(days=1) and last.on == DEMO_TODAY
        assert first.compulsory == held("Compulsory savings", opening=True)
        assert first.voluntary == held("Voluntary savings", opening=True)
        assert first.shares == held("Shares", opening=True)
        assert last.compulsory == held("Compulsory savings")
        assert last.voluntary == held("Voluntary savings")
        assert last.shares == held("Shares")
        assert last.savings == last.compulsory + last.voluntary > 0
        assert [p.on for p in r.savings_growth] == month_ends(START, DEMO_TODAY)


def test_the_cash_book_closes_on_the_cash_box(demo_book):
    for r in _reports(demo_book):
        cash = next(line for line in r.trial_summary.lines if line.account == "Cash box")
        assert r.cash_book.opening == cash.opening
        assert r.cash_book.closing == cash.closing
        assert (r.cash_book.total_in, r.cash_book.total_out) == (cash.debits, cash.credits)


def test_membership_counts_the_members(demo_book):
    with demo_book.read() as s:
        for g in list_groups(s):
            r = group_report(s, g.id, START, DEMO_TODAY)
            m = r.membership
            for count in (m.at_start, m.at_end):
                present = list_members(s, g.id, on=count.on)
                assert count.members == len(present)
                assert count.women == sum(1 for x in present if x.sex == "F")
                assert count.id_poor_households == len(
                    {x.household or x.code for x in present if x.id_poor in (1, 2)}
                )
            position = group_position(s, g.id, on=DEMO_TODAY)
            assert (m.at_end.members, m.at_end.women, m.at_end.id_poor_households) == (
                position.members,
                position.women,
                position.id_poor_households,
            )
            assert m.at_start.members + m.joined - m.left == m.at_end.members
            assert m.at_end.women > 0 and m.at_end.id_poor_households > 0
            assert 0 < r.meetings_held <= position.meetings_held


def test_month_ends():
    assert month_ends(dt.date(2026, 1, 1), dt.date(2026, 3, 15)) == [
        dt.date(2025, 12, 31),
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 15),
    ]
    assert month_ends(dt.date(2026, 1, 15), dt.date(2026, 2, 28)) == [
        dt.date(2026, 1, 14),
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 28),
    ]
    assert month_ends(dt.date(2026, 12, 1), dt.date(2026, 12, 1)) == [
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 1),
    ]


def test_a_period_must_not_end_before_it_starts(demo_book):
    with demo_book.read() as s, pytest.raises(InvalidEntry, match="ends"):
        group_report(s, find_group(s, "SR-PUOK-01").id, DEMO_TODAY, START)


def test_only_a_reader_of_the_group_gets_its_report(demo_book):
    with demo_book.read() as s:
        mine, other = find_group(s, "SR-PUOK-01").id, find_group(s, "SR-ACHM-01").id
    coordinator = Actor(0, "dara", "Dara", False, {mine: frozenset({"coordinator"})})
    reader = demo_book.as_user(coordinator)
    with reader.read() as s:
        assert group_report(s, mine, RECENT, DEMO_TODAY).membership.at_end.members > 0
    with pytest.raises(PermissionDenied, match="may not read"), reader.read() as s:
        group_report(s, other, RECENT, DEMO_TODAY)


def test_a_meetings_date_is_not_repeated_in_the_cash_book():
    assert short_memo("Meeting #11 2026-10-04: BK02 Men Theary") == "Meeting #11: BK02 Men Theary"
    assert short_memo("Cash counted 2026-10-04") == "Cash counted 2026-10-04"


def test_the_report_prints_its_figures_in_english_and_khmer(demo_book, tmp_path):
    with demo_book.read() as s:
        group = find_group(s, "SR-BKNG-01")  # a rice bank: money and rice statements
        r = group_report(s, group.id, RECENT, DEMO_TODAY)
    both = group_report_pdf(r, now=NOW)
    text = pdf_text(both)
    for label in (
        "Group report",
        "Membership",
        "Balance sheet",
        "Income and expenditure",
        "Savings growth",
        "Cash book",
        "Trial balance",
        "Treasurer",
    ):
        assert label in text, label
    assert group.name in text and "22-11-2026" in text
    money = r.sheets[0]
    assert money.commodity == "KHR"
    assert f"{money.total_assets:,} KHR" in text
    assert f"{r.cash_book.closing:,}" in text
    _, debits, _, _ = r.trial_summary.totals("KHR")
    assert f"{debits:,}" in text
    rice = next(sheet for sheet in r.sheets if sheet.commodity == "RICE")
    assert Words("en").amount(rice.total_assets, "RICE", unit=True) in text
    english = pdf_text(group_report_pdf(r, words=Words("en"), now=NOW))
    assert "Trial balance" in english and "សមាជិក" not in english
    khmer = group_report_pdf(r, words=Words("km", khmer_digits=True), now=NOW)
    shown = pdf_text(khmer)
    assert "Group report" not in shown and f"{money.total_assets:,}" not in shown
    for name, pdf in (("both", both), ("km", khmer)):
        pages = page_images(pdf, tmp_path, f"group-report-{name}")
        assert len(pages) >= 3 and all(inked_share(p) > 0.005 for p in pages)


def test_a_small_page_and_a_quiet_period_print(demo_book, tmp_path):
    """An A5 copy, and a single day with no cash movement, still make a whole report."""
    with demo_book.read() as s:
        group = find_group(s, "SR-PUOK-01")
        quiet = DEMO_TODAY  # a Sunday: no meeting
        r = group_report(s, group.id, quiet, quiet)
    assert not r.cash_book.lines
    assert not any(i.income or i.expenses for i in r.income)
    pdf = group_report_pdf(r, words=Words("km"), size="A5", now=NOW)
    pages = page_images(pdf, tmp_path, "group-report-quiet")
    assert pages and all(inked_share(p) > 0.005 for p in pages)


def test_a_new_group_with_empty_books_prints_a_report(book, tmp_path):
    """Nothing posted yet: no statement lines, savings at zero, and still a whole report."""
    group = book.write(lambda s: create_group(s, "NEW-01", "New group", kind="shg"))
    with book.read() as s:
        r = group_report(s, group.id, START, DEMO_TODAY)
    assert not r.trial_balance.lines and not r.balance_sheets and not r.income
    assert r.cash_book.closing == 0 and r.membership.at_end.members == 0
    assert all(p.total == 0 for p in r.savings_growth)
    assert r.location is None and r.head_seq == 0
    pdf = group_report_pdf(r, now=NOW)
    assert "New group" in pdf_text(pdf)
    pages = page_images(pdf, tmp_path, "group-report-empty")
    assert pages and all(inked_share(p) > 0.005 for p in pages)
