"""The one write path, by worked example, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.accounts import open_account
from ledger.errors import (
    ClosedPeriod,
    CommodityMismatch,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidAmount,
    InvalidEntry,
    ReversalError,
    TooFewPostings,
    UnbalancedEntry,
    UnknownAccount,
)
from ledger.money import money
from ledger.periods import close_period
from ledger.posting import EntryRequest, Line, post_entries, post_entry, reverse_entry
from ledger.queries import account_history, trial_balance
from ledger.verify import verify_book
from tests.helpers import DAY, make_group, new_key, post, transfer


def balances(book, group_id=None):
    with book.read() as session:
        return {
            (r.account, r.commodity): r.balance_minor for r in trial_balance(session, group_id).rows
        }


def entry_count(book):
    from sqlalchemy import func, select

    from ledger.models import JournalEntry, Posting

    with book.read() as s:
        return (
            s.execute(select(func.count()).select_from(JournalEntry)).scalar(),
            s.execute(select(func.count()).select_from(Posting)).scalar(),
        )


def test_a_meeting_of_savings_then_a_withdrawal(book):
    g = make_group(book)
    post(book, transfer(g.group.id, g.cash, g.savings, "5000", memo="Dara saves"))
    post(book, transfer(g.group.id, g.cash, g.savings, "2500", memo="Dara saves more"))
    post(book, transfer(g.group.id, g.savings, g.cash, "1000", memo="Dara withdraws"))
    b = balances(book)
    assert b[("Assets:Cash box", "KHR")] == 6500
    assert b[("Liabilities:Savings:Dara", "KHR")] == -6500
    with book.read() as s:
        history = account_history(s, g.savings.id)
        assert [(h.amount_minor, h.running_minor) for h in history] == [
            (-5000, -5000),
            (-2500, -7500),
            (1000, -6500),
        ]
        assert verify_book(s).ok


def test_entry_in_two_commodities_balances_each_separately(book):
    g = make_group(book)
    usd_opening = book.write(lambda s: open_account(s, g.group.id, "Equity:Opening", "USD"))
    request = EntryRequest(
        g.group.id,
        DAY,
        "Opening: cash in riel and dollars",
        (
            Line.of(g.cash.id, money("400000", "KHR")),
            Line.of(g.income.id, money("-400000", "KHR")),
            Line.of(g.usd_cash.id, money("25.50", "USD")),
            Line.of(usd_opening.id, money("-25.50", "USD")),
        ),
        new_key(),
        "tester",
    )
    assert post(book, request).seq == 1
    b = balances(book)
    assert b[("Assets:Cash box", "USD")] == 2550
    assert b[("Equity:Opening", "USD")] == -2550
    assert b[("Assets:Cash box", "KHR")] == 400000


def test_riel_is_never_netted_against_dollars(book):
    g = make_group(book)
    request = EntryRequest(
        g.group.id,
        DAY,
        "wrong",
        (Line.of(g.cash.id, money("4000", "KHR")), Line.of(g.usd_cash.id, money("-1", "USD"))),
        new_key(),
        "tester",
    )
    with pytest.raises(UnbalancedEntry, match="4,000 KHR too much on the debit side"):
        post(book, request)
    assert entry_count(book) == (0, 0)


def test_one_posting_is_not_an_entry(book):
    g = make_group(book)
    request = EntryRequest(
        g.group.id, DAY, "half", (Line.of(g.cash.id, money("1", "KHR")),), new_key(), "t"
    )
    with pytest.raises(TooFewPostings):
        post(book, request)


def test_zero_and_float_postings_are_refused(book):
    g = make_group(book)
    with pytest.raises(InvalidAmount, match="zero"):
        post(
            book,
            EntryRequest(
                g.group.id,
                DAY,
                "z",
                (Line(g.cash.id, "KHR", 0), Line(g.savings.id, "KHR", 0)),
                new_key(),
                "t",
            ),
        )
    with pytest.raises(InvalidAmount, match="whole minor units"):
        post(
            book,
            EntryRequest(
                g.group.id,
                DAY,
                "f",
                (Line(g.cash.id, "KHR", 1.0), Line(g.savings.id, "KHR", -1.0)),
                new_key(),
                "t",
            ),
        )


def test_commodity_must_match_the_account(book):
    g = make_group(book)
    request = EntryRequest(
        g.group.id,
        DAY,
        "x",
        (Line(g.cash.id, "USD", 100), Line(g.usd_cash.id, "USD", -100)),
        new_key(),
        "t",
    )
    with pytest.raises(CommodityMismatch, match="Assets:Cash box, which keeps KHR"):
        post(book, request)


def test_an_account_of_another_group_is_refused(book):
    a = make_group(book, "A")
    b = make_group(book, "B")
    with pytest.raises(UnknownAccount):
        post(book, transfer(a.group.id, a.cash, b.savings, "100"))


def test_cash_box_cannot_go_below_zero(book):
    g = make_group(book)
    post(book, transfer(g.group.id, g.cash, g.savings, "5000"))
    with pytest.raises(InsufficientBalance, match=r"has 5,000 KHR.*-4,000 KHR"):
        post(book, transfer(g.group.id, g.savings, g.cash, "9000"))
    assert balances(book)[("Assets:Cash box", "KHR")] == 5000


def test_savings_cannot_be_withdrawn_below_zero(book):
    g = make_group(book)
    post(book, transfer(g.group.id, g.cash, g.savings, "5000"))
    post(book, transfer(g.group.id, g.cash, g.income, "5000"))
    with pytest.raises(InsufficientBalance, match="Liabilities:Savings:Dara has 5,000 KHR"):
        post(book, transfer(g.group.id, g.savings, g.cash, "6000"))


def test_same_key_same_request_returns_the_first_entry(book):
    g = make_group(book)
    request = transfer(g.group.id, g.cash, g.savings, "5000", key="meeting-7/dara")
    first = post(book, request)
    second = post(book, request)
    assert second.replayed and not first.replayed
    assert (second.seq, second.uuid, second.hash) == (first.seq, first.uuid, first.hash)
    assert balances(book)[("Assets:Cash box", "KHR")] == 5000
    assert entry_count(book) == (1, 2)


def test_same_key_different_request_is_refused(book):
    g = make_group(book)
    post(book, transfer(g.group.id, g.cash, g.savings, "5000", key="meeting-7/dara"))
    with pytest.raises(IdempotencyConflict, match="already used for a different entry"):
        post(book, transfer(g.group.id, g.cash, g.savings, "6000", key="meeting-7/dara"))


def test_same_key_twice_in_one_batch(book):
    g = make_group(book)
    r = transfer(g.group.id, g.cash, g.savings, "5000", key="k")
    results = book.write(lambda s: post_entries(s, [r, r]))
    assert [x.replayed for x in results] == [False, True]
    assert entry_count(book) == (1, 2)


def test_a_bad_entry_in_a_batch_writes_nothing_and_names_itself(book):
    g = make_group(book)
    good = transfer(g.group.id, g.cash, g.savings, "5000")
    bad = transfer(g.group.id, g.savings, g.cash, "99999")
    with pytest.raises(InsufficientBalance) as caught:
        book.write(lambda s: post_entries(s, [good, good, bad]))
    assert caught.value.entry_index == 2
    assert entry_count(book) == (0, 0)


def test_a_refusal_inside_a_unit_of_work_leaves_the_rest_of_it_usable(book):
    g = make_group(book)

    def work(session):
        post_entry(session, transfer(g.group.id, g.cash, g.savings, "100"))
        with pytest.raises(UnbalancedEntry):
            post_entry(
                session,
                EntryRequest(
                    g.group.id,
                    DAY,
                    "x",
                    (Line(g.cash.id, "KHR", 5), Line(g.savings.id, "KHR", -4)),
                    new_key(),
                    "t",
                ),
            )
        return post_entry(session, transfer(g.group.id, g.cash, g.savings, "200"))

    assert book.write(work).seq == 2


def test_reversal_restores_balances_and_keeps_the_original(book):
    g = make_group(book)
    original = post(book, transfer(g.group.id, g.cash, g.savings, "5000"))
    reversal = book.write(
        lambda s: reverse_entry(
            s,
            group_id=g.group.id,
            seq=original.seq,
            entry_date=DAY,
            idempotency_key="r",
            author="t",
        )
    )
    assert reversal.seq == 2
    assert balances(book)[("Assets:Cash box", "KHR")] == 0
    assert entry_count(book) == (2, 4)
    with pytest.raises(ReversalError, match="already been reversed"):
        book.write(
            lambda s: reverse_entry(
                s, group_id=g.group.id, seq=1, entry_date=DAY, idempotency_key="r2", author="t"
            )
        )
    with pytest.raises(ReversalError, match="no entry #9"):
        book.write(
            lambda s: reverse_entry(
                s, group_id=g.group.id, seq=9, entry_date=DAY, idempotency_key="r3", author="t"
            )
        )


def test_pressing_enter_twice_on_a_reversal_returns_the_first_reversal(book):
    g = make_group(book)
    post(book, transfer(g.group.id, g.cash, g.savings, "5000"))

    def reverse(session):
        return reverse_entry(
            session, group_id=g.group.id, seq=1, entry_date=DAY, idempotency_key="fix-1", author="t"
        )

    first = book.write(reverse)
    second = book.write(reverse)
    assert second.replayed and (second.seq, second.hash) == (first.seq, first.hash)
    assert entry_count(book) == (2, 4)


def test_nothing_is_posted_into_a_closed_period(book):
    g = make_group(book)
    post(book, transfer(g.group.id, g.cash, g.savings, "5000", date=dt.date(2026, 1, 20)))
    book.write(lambda s: close_period(s, g.group.id, dt.date(2026, 1, 31)))
    with pytest.raises(ClosedPeriod, match="closed up to 2026-01-31"):
        post(book, transfer(g.group.id, g.cash, g.savings, "1", date=dt.date(2026, 1, 31)))
    # The correction goes into the open period.
    with book.read() as s:
        assert verify_book(s).ok
    post(book, transfer(g.group.id, g.savings, g.cash, "5000", date=dt.date(2026, 2, 1)))
    with pytest.raises(ClosedPeriod, match="already closed"):
        book.write(lambda s: close_period(s, g.group.id, dt.date(2026, 1, 15)))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"idempotency_key": ""}, "idempotency key is empty"),
        ({"memo": "x" * 501}, "longer than 500"),
        ({"memo": "tab\there"}, "control characters"),
        ({"author": ""}, "author is empty"),
        ({"entry_date": dt.date(1989, 12, 31)}, "out of range"),
        ({"entry_date": dt.date.today() + dt.timedelta(days=400)}, "out of range"),
        ({"entry_date": dt.datetime(2026, 1, 1, 12, 0)}, "no time of day"),
    ],
)
def test_malformed_requests_are_refused_clearly(book, change, message):
    g = make_group(book)
    base = transfer(g.group.id, g.cash, g.savings, "100")
    fields = {f: getattr(base, f) for f in base.__slots__} | change
    with pytest.raises(InvalidEntry, match=message):
        post(book, EntryRequest(**fields))


def test_khmer_memo_round_trips(book):
    g = make_group(book)
    post(book, transfer(g.group.id, g.cash, g.savings, "5000", memo="ប្រាក់សន្សំ ដារ៉ា"))
    with book.read() as s:
        assert account_history(s, g.cash.id)[0].memo == "ប្រាក់សន្សំ ដារ៉ា"
        assert verify_book(s).ok


def test_each_group_has_its_own_gapless_chain(book):
    a = make_group(book, "A")
    b = make_group(book, "B")
    seqs = [
        post(book, transfer(a.group.id, a.cash, a.savings, "1")).seq,
        post(book, transfer(b.group.id, b.cash, b.savings, "1")).seq,
        post(book, transfer(a.group.id, a.cash, a.savings, "1")).seq,
    ]
    assert seqs == [1, 1, 2]
    assert balances(book, a.group.id)[("Assets:Cash box", "KHR")] == 2
