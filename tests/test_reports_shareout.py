"""The share-out sheet: the preview and the posted share-out, by value and on paper."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from reportlab.lib.units import mm
from reportlab.platypus import Table

from ledger.errors import InvalidEntry
from ledger.groups import find_group
from ledger.shareout import ShareoutError, plan_shareout, post_shareout
from ledger.shareout_records import posted_shareouts
from ledger.shareout_sheet import shareout_sheet
from reports.options import LANGS
from reports.shareout_sheet import SIGN_ROW, shareout_sheet_flowables, shareout_sheet_pdf
from reports.text import Words
from tests.conftest import DEMO_TODAY
from tests.helpers import read
from tests.report_helpers import inked_share, page_images, pdf_text
from tests.savings_helpers import TODAY
from tests.test_reports_loan_card import cells_too_narrow
from tests.test_shareout import LAST, a_cycle

NOW = dt.datetime(2026, 11, 22, 9, 30)


def _preview(session, method: str = "shares"):  # type: ignore[no-untyped-def]
    """The demo VSLA's share-out as it would be posted today, loans deducted."""
    group = find_group(session, "SR-PUOK-01")
    terms = {"on": DEMO_TODAY, "method": method, "deduct_loans": True, "today": DEMO_TODAY}
    return shareout_sheet(session, group.id, posted=False, **terms), plan_shareout(
        session, group.id, **terms
    )


@pytest.mark.parametrize("method", ["shares", "savings_time"])
def test_the_preview_is_the_plan_row_by_row(demo_book, method):
    with demo_book.read() as s:
        sheet, plan = _preview(s, method)
    assert not sheet.posted and sheet.posted_by is None
    assert [(r.code, r.payout, r.returned, r.profit) for r in sheet.rows] == [
        (line.code, line.payout, line.held, line.earned) for line in plan.lines
    ]
    assert [r.deducted for r in sheet.rows] == [line.deducted for line in plan.lines]
    assert sum(r.payout for r in sheet.rows) == sheet.distributed == plan.distributed
    assert (sheet.pool, sheet.deducted, sheet.leftover) == (plan.pool, plan.deducted, plan.leftover)
    assert sheet.pool == sheet.distributed + sheet.deducted + sheet.leftover
    assert sheet.social_fund == plan.social_fund
    for r in sheet.rows:
        assert r.returned + r.profit == r.deducted + r.payout, r.code
    if method == "shares":
        assert sheet.total_shares == plan.total_shares
        assert [r.shares for r in sheet.rows] == [line.shares for line in plan.lines]
        assert sheet.value_per_share is not None and plan.value_per_share is not None
        shown = Fraction(sheet.value_per_share)  # two decimals, rounded down
        assert 0 <= plan.value_per_share - shown < Fraction(1, 100)
    else:
        assert sheet.total_shares is None and sheet.value_per_share is None


def test_the_posted_sheet_is_what_was_paid(book):
    v, _ = a_cycle(book)
    plan = read(book, lambda s: plan_shareout(s, v.group.id, on=LAST, today=TODAY))
    book.write(lambda s: post_shareout(s, v.group.id, on=LAST, today=TODAY))
    sheet = read(book, lambda s: shareout_sheet(s, v.group.id, on=LAST, posted=True))
    (record,) = read(book, lambda s: posted_shareouts(s, v.group.id))
    assert sheet.posted and sheet.posted_by == record.posted_by
    assert sum(r.payout for r in sheet.rows) == sheet.distributed == plan.distributed
    assert [(r.code, r.shares, r.payout) for r in sheet.rows] == [
        (line.code, line.shares, line.payout) for line in plan.lines
    ]
    assert (sheet.pool, sheet.leftover) == (plan.pool, plan.leftover)
    assert str(sheet.value_per_share) == record.value_per_share
    text = pdf_text(shareout_sheet_pdf(sheet, words=Words("en"), now=NOW))
    assert "Share-out sheet" in text and "Preview" not in text
    assert f"{plan.distributed:,}" in text and "Sok Dara" in text
    with pytest.raises(ShareoutError, match="no share-out posted on 2026-02-09"):
        read(book, lambda s: shareout_sheet(s, v.group.id, on=dt.date(2026, 2, 9), posted=True))


def test_the_sheet_prints_every_payout_and_room_to_sign(demo_book, tmp_path):
    with demo_book.read() as s:
        sheet, _ = _preview(s)
    both = shareout_sheet_pdf(sheet, now=NOW)
    text = " ".join(pdf_text(both).split())  # a label may wrap in its cell
    for label in ("Share-out sheet", "Preview", "Savings returned", "Payout", "Treasurer"):
        assert label in text, label
    assert "Signature or thumbprint" in text and "Chairperson" in text
    assert f"{sheet.pool:,} KHR" in text and f"{sheet.distributed:,}" in text
    assert all(f"{r.payout:,}" in text and r.name_latin in text for r in sheet.rows)
    khmer = shareout_sheet_pdf(sheet, words=Words("km", khmer_digits=True), now=NOW)
    shown = pdf_text(khmer)
    assert "Share-out sheet" not in shown and f"{sheet.distributed:,}" not in shown
    for name, pdf in (("both", both), ("km", khmer)):
        pages = page_images(pdf, tmp_path, f"shareout-{name}")
        assert pages and all(inked_share(p) > 0.005 for p in pages)
    with pytest.raises(InvalidEntry, match="prints on A4 or A4-landscape, not A5"):
        shareout_sheet_pdf(sheet, size="A5")


def test_each_member_has_a_box_tall_enough_to_sign(demo_book):
    with demo_book.read() as s:
        sheet, _ = _preview(s)
    flowables = shareout_sheet_flowables(sheet, words=Words("en"))
    rows = next(
        f for f in flowables if isinstance(f, Table) and len(f._cellvalues) == len(sheet.rows) + 2
    )
    rows.wrap(180 * mm, 1000 * mm)
    members = rows._rowHeights[1:-1]
    assert len(members) == len(sheet.rows)
    assert all(h >= SIGN_ROW for h in members)


@pytest.mark.parametrize("method", ["shares", "savings_time"])
def test_every_word_of_the_sheet_fits_its_column(demo_book, method):
    with demo_book.read() as s:
        sheet, _ = _preview(s, method)
    for lang in LANGS:
        words = Words(lang, khmer_digits=lang == "km")
        for size in ("A4", "A4-landscape"):
            flowables = shareout_sheet_flowables(sheet, words=words, size=size)
            assert cells_too_narrow(flowables) == [], (lang, size)
