"""Property-based: any sequence of postings, replays, conflicts and reversals keeps the
ledger's invariants, checked against a plain in-memory model of what the books should say.

Invariants after every step: every entry balanced (trial balance sums to zero per
commodity); cached balances equal the model (and, at the end, the sum of the postings,
via verify); replays return the first entry; no-negative accounts never go below zero;
the hash chain verifies.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from ledger.accounts import open_account
from ledger.db import Book
from ledger.errors import IdempotencyConflict, InsufficientBalance, ReversalError, UnbalancedEntry
from ledger.groups import create_group
from ledger.models import DEBIT_NORMAL
from ledger.posting import EntryRequest, Line, post_entry, reverse_entry
from ledger.queries import trial_balance
from ledger.verify import verify_book

ACCOUNTS = [
    # name, commodity, no_negative
    ("Assets:Cash box", "KHR", True),
    ("Assets:Bank", "KHR", False),
    ("Liabilities:Savings:Sokha", "KHR", True),
    ("Income:Fines", "KHR", False),
    ("Assets:Rice stock", "RICE", True),
    ("Equity:Rice contributed", "RICE", False),
    ("Assets:Rice loans", "RICE", False),
]
_codes = itertools.count(1)
DAY = dt.date(2026, 5, 4)


def make_machine(book: Book):
    class LedgerMachine(RuleBasedStateMachine):
        entries = Bundle("entries")

        def __init__(self) -> None:
            super().__init__()
            self.book = book

            def setup(session):
                group = create_group(session, f"P{next(_codes)}", chart=False)
                accounts = [
                    open_account(session, group.id, name, code, no_negative=flag)
                    for name, code, flag in ACCOUNTS
                ]
                return group, accounts

            self.group, self.accounts = book.write(setup)
            self.model = {a.id: 0 for a in self.accounts}
            self.keys = itertools.count(1)
            self.requests: dict[str, EntryRequest] = {}
            self.entry_lines: dict[int, tuple[Line, ...]] = {}
            self.reversed: set[int] = set()
            self.seq = 0

        def _fits(self, lines) -> bool:
            after = dict(self.model)
            for line in lines:
                after[line.account_id] += line.minor
            for a in self.accounts:
                natural = after[a.id] if a.type in DEBIT_NORMAL else -after[a.id]
                if a.no_negative and natural < 0:
                    return False
            return True

        def _post(self, request: EntryRequest):
            fits = self._fits(request.lines)
            try:
                result = self.book.write(lambda s: post_entry(s, request))
            except InsufficientBalance:
                assert not fits, "refused an entry that keeps every account at or above zero"
                return None
            assert fits, "posted an entry that takes a no-negative account below zero"
            for line in request.lines:
                self.model[line.account_id] += line.minor
            self.seq += 1
            assert result.seq == self.seq and not result.replayed
            self.entry_lines[result.seq] = request.lines
            return result

        @rule(
            target=entries,
            pair=st.tuples(st.integers(0, 6), st.integers(0, 6)),
            amount=st.integers(1, 10**9),
        )
        def post_transfer(self, pair, amount):
            debit, credit = self.accounts[pair[0]], self.accounts[pair[1]]
            if debit.commodity != credit.commodity:
                credit = next(
                    a for a in self.accounts if a.commodity == debit.commodity and a is not debit
                )
            key = f"k{next(self.keys)}"
            request = EntryRequest(
                self.group.id,
                DAY,
                "property",
                (
                    Line(debit.id, debit.commodity, amount),
                    Line(credit.id, credit.commodity, -amount),
                ),
                key,
                "hypothesis",
            )
            result = self._post(request)
            if result is None:
                return None
            self.requests[key] = request
            return result.seq

        @rule()
        def replay_a_key(self):
            if not self.requests:
                return
            key = sorted(self.requests)[len(self.requests) // 2]
            before = dict(self.model)
            result = self.book.write(lambda s: post_entry(s, self.requests[key]))
            assert result.replayed
            assert self.model == before

        @rule(extra=st.integers(1, 1000))
        def reuse_a_key_for_another_request(self, extra):
            if not self.requests:
                return
            key = sorted(self.requests)[0]
            old = self.requests[key]
            changed = EntryRequest(
                old.group_id,
                old.entry_date,
                old.memo,
                tuple(
                    Line(
                        ln.account_id, ln.commodity, ln.minor + (extra if ln.minor > 0 else -extra)
                    )
                    for ln in old.lines
                ),
                key,
                old.author,
            )
            with pytest.raises(IdempotencyConflict):
                self.book.write(lambda s: post_entry(s, changed))

        @rule(amount=st.integers(1, 10**6))
        def unbalanced_is_refused(self, amount):
            a, b = self.accounts[1], self.accounts[3]
            request = EntryRequest(
                self.group.id,
                DAY,
                "bad",
                (Line(a.id, "KHR", amount), Line(b.id, "KHR", -amount - 1)),
                f"bad{next(self.keys)}",
                "hypothesis",
            )
            with pytest.raises(UnbalancedEntry):
                self.book.write(lambda s: post_entry(s, request))

        def _reverse(self, seq: int):
            key = f"rev{next(self.keys)}"
            return self.book.write(
                lambda s: reverse_entry(
                    s,
                    group_id=self.group.id,
                    seq=seq,
                    entry_date=DAY,
                    idempotency_key=key,
                    author="h",
                )
            )

        @rule(seq=entries)
        def reverse(self, seq):
            if seq is None:
                return
            if seq in self.reversed:
                with pytest.raises(ReversalError):
                    self._reverse(seq)
                return
            negated = tuple(
                Line(ln.account_id, ln.commodity, -ln.minor) for ln in self.entry_lines[seq]
            )
            fits = self._fits(negated)
            try:
                result = self._reverse(seq)
            except InsufficientBalance:
                assert not fits
                return
            assert fits
            for line in negated:
                self.model[line.account_id] += line.minor
            self.seq += 1
            assert result.seq == self.seq
            self.entry_lines[result.seq] = negated
            self.reversed.add(seq)

        @invariant()
        def balances_match_the_model_and_sum_to_zero(self):
            with self.book.read() as s:
                tb = trial_balance(s, self.group.id)
            assert {r.account_id: r.balance_minor for r in tb.rows} == self.model
            assert tb.balanced

        def teardown(self):
            with self.book.read() as s:
                report = verify_book(s, self.group.id)
            assert report.ok, report.problems
            assert report.entries == self.seq

    return LedgerMachine


def test_ledger_invariants_hold_for_any_sequence(book):
    from hypothesis import settings

    machine = make_machine(book)
    run_state_machine_as_test(machine, settings=settings(stateful_step_count=25))
