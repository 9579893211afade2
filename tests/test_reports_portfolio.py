"""The portfolio report: its rows and totals against the ledger, and its printed pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ledger.groups import find_group, list_groups
from ledger.models import Account
from ledger.permissions import Actor
from ledger.portfolio import BUCKETS, LEVELS, PortfolioError, loans_at_date, portfolio
from ledger.portfolio_report import portfolio_report
from ledger.queries import chain_head
from reports.charts import percent
from reports.portfolio_report import portfolio_report_pdf
from reports.text import Words
from tests.conftest import DEMO_TODAY
from tests.report_helpers import inked_share, page_images, pdf_text

NOW = dt.datetime(2026, 11, 22, 9, 30)
SUMMED = (
    "groups",
    "loans_active",
    "gross_outstanding",
    "at_risk_30",
    "at_risk_90",
    "rescheduled_outstanding",
    "principal_in_arrears",
    "due_to_date",
    "paid_towards_due",
    "written_off",
    "recovered",
)


def test_rows_are_the_portfolio_and_the_total_is_their_sum(demo_book):
    with demo_book.read() as s:
        by_group = portfolio_report(s, as_of=DEMO_TODAY)
        # Outstanding principal is what the loan accounts hold on the day.
        lent = s.execute(
            select(func.sum(Account.balance)).where(Account.role == "loan_principal")
        ).scalar_one()
        for level in LEVELS:
            r = portfolio_report(s, as_of=DEMO_TODAY, by=level)
            assert list(r.rows) == portfolio(s, as_of=DEMO_TODAY, by=level)
            assert r.by == level and len(r.totals) == 1
            total = r.totals[0]
            for name in SUMMED:
                assert getattr(total, name) == sum(getattr(x, name) for x in r.rows), name
                assert getattr(total, name) == getattr(by_group.totals[0], name), name
            for bucket, _low, _high in BUCKETS:
                assert total.buckets[bucket] == (
                    sum(x.buckets[bucket][0] for x in r.rows),
                    sum(x.buckets[bucket][1] for x in r.rows),
                )
    total = by_group.totals[0]
    assert total.gross_outstanding == lent > 0
    assert total.groups == 3 and total.currency == "KHR"
    assert sum(principal for _n, principal in total.buckets.values()) == total.gross_outstanding
    assert sum(n for n, _principal in total.buckets.values()) == total.loans_active
    assert total.par30 == Decimal(total.at_risk_30) / Decimal(total.gross_outstanding)
    assert 0 <= total.at_risk_90 <= total.at_risk_30 <= total.gross_outstanding
    assert 0 < total.principal_in_arrears < total.gross_outstanding


def test_the_loans_at_risk_make_up_the_risk_figures(demo_book):
    with demo_book.read() as s:
        r = portfolio_report(s, as_of=DEMO_TODAY)
        every = loans_at_date(s, as_of=DEMO_TODAY)
    total = r.totals[0]
    assert r.at_risk and all(x.days_overdue > 0 or x.rescheduled for x in r.at_risk)
    assert [x for x in every if x.days_overdue > 0 or x.rescheduled] == list(r.at_risk)
    assert total.at_risk_30 == sum(
        x.principal_outstanding for x in r.at_risk if x.days_overdue > 30 or x.rescheduled
    )
    assert total.principal_in_arrears == sum(x.principal_in_arrears for x in every)
    days = [x.days_overdue for x in r.at_risk]
    assert days == sorted(days, reverse=True)


def test_the_report_covers_the_groups_asked_for_and_the_reader_may_read(demo_book):
    with demo_book.read() as s:
        whole = portfolio_report(s, as_of=DEMO_TODAY)
        one = portfolio_report(s, as_of=DEMO_TODAY, codes=["SR-PUOK-01"])
        puok = find_group(s, "SR-PUOK-01")
        heads = [chain_head(s, g.id) for g in list_groups(s)]
    assert [row.key for row in one.rows] == ["SR-PUOK-01"]
    assert one.rows[0] == next(row for row in whole.rows if row.key == "SR-PUOK-01")
    assert one.totals[0].gross_outstanding == one.rows[0].gross_outstanding
    assert {x.group_code for x in one.at_risk} <= {"SR-PUOK-01"}
    assert whole.head_seq == sum(seq for seq, _hash in heads)
    assert one.head_seq == chain_head_seq(demo_book, puok.id)
    assert whole.head_hash != one.head_hash
    coordinator = Actor(0, "dara", "Dara", False, {puok.id: frozenset({"coordinator"})})
    with demo_book.as_user(coordinator).read() as s:
        mine = portfolio_report(s, as_of=DEMO_TODAY)
        assert [g.code for g in mine.groups] == ["SR-PUOK-01"]
        assert mine.rows == one.rows and mine.head_hash == one.head_hash
        with pytest.raises(PortfolioError, match="no group 'SR-ACHM-01'"):
            portfolio_report(s, as_of=DEMO_TODAY, codes=["SR-ACHM-01"])
        with pytest.raises(PortfolioError, match="not 'village'"):
            portfolio_report(s, as_of=DEMO_TODAY, by="village")


def chain_head_seq(book, group_id: int) -> int:  # type: ignore[no-untyped-def]
    with book.read() as s:
        return chain_head(s, group_id)[0]


def test_an_earlier_date_gives_that_days_portfolio(demo_book):
    earlier = DEMO_TODAY - dt.timedelta(days=45)
    with demo_book.read() as s:
        r = portfolio_report(s, as_of=earlier, by="district")
        assert list(r.rows) == portfolio(s, as_of=earlier, by="district")
    assert r.as_of == earlier and r.totals[0].as_of == earlier


def test_percentages_print_with_one_decimal():
    w = Words("en")
    assert percent(w, Decimal(1) / Decimal(8)) == "12.5%"
    assert percent(w, Decimal(2) / Decimal(3)) == "66.7%"
    assert percent(w, None) == "–"
    assert percent(Words("km", khmer_digits=True), Decimal("0.5")) == "៥០.០%"


@pytest.mark.parametrize("level", ["group", "commune"])
def test_the_report_prints_in_english_and_khmer(demo_book, tmp_path, level):
    with demo_book.read() as s:
        r = portfolio_report(s, as_of=DEMO_TODAY, by=level)
    total = r.totals[0]
    both = portfolio_report_pdf(r, now=NOW)
    text = " ".join(pdf_text(both).split())  # a heading may wrap
    for label in (
        "Portfolio report",
        "Loans outstanding",
        "Portfolio at risk",
        "PAR30",
        "PAR90",
        "Arrears rate",
        "Repayment rate",
        "Days overdue",
    ):
        assert label in text, label
    assert f"{total.gross_outstanding:,}" in text
    w = Words("en")
    for figure in (total.par30, total.par90, total.arrears_rate, total.repayment_rate):
        assert percent(w, figure) in text
    for row in r.rows:
        assert (row.key if level == "group" else row.name) in text
    for loan in r.at_risk:
        assert loan.member_code in text
    khmer = portfolio_report_pdf(r, words=Words("km", khmer_digits=True), now=NOW)
    shown = pdf_text(khmer)
    assert "Portfolio report" not in shown and f"{total.gross_outstanding:,}" not in shown
    for name, pdf in (("both", both), ("km", khmer)):
        pages = page_images(pdf, tmp_path, f"portfolio-{level}-{name}")
        assert pages and all(inked_share(p) > 0.005 for p in pages)
