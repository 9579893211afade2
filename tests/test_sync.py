"""Sync bundles between a village book (SQLite, a copy of the demo federation) and the
central book (on each engine): what the central book holds must equal the village's,
whatever order or number of times bundles arrive, and anything altered, dropped,
mis-signed or diverging must be refused with nothing written."""

from __future__ import annotations

import gzip
import itertools
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from ledger.book_identity import book_key
from ledger.chart import GroupAccounts
from ledger.db import Book
from ledger.errors import NotHome, SyncRejected
from ledger.groups import find_group
from ledger.posting import post_entry, reverse_entry
from ledger.queries import chain_head, trial_balance
from ledger.sync import canonical, export_bundle, import_bundle, move_home
from ledger.verify import verify_book
from tests.conftest import DEMO_TODAY, DemoBooks
from tests.helpers import TESTER, new_key, transfer

ACHM = "SR-ACHM-01"
_tampered = itertools.count(1)


@pytest.fixture
def village(demo_books: DemoBooks, tmp_path: Path):
    """A village PC's book: a copy of the demo federation, on SQLite."""
    source = Path(demo_books.url("sqlite").removeprefix("sqlite:///"))
    path = tmp_path / "village.sqlite"
    shutil.copyfile(source, path)
    opened = Book(f"sqlite:///{path}").as_user(TESTER)
    yield opened
    opened.close()


def _deposit(book: Book, amount: int) -> int:
    """The treasurer takes cash to the bank: one new entry; returns its number."""

    def work(s):  # type: ignore[no-untyped-def]
        group_id = find_group(s, ACHM).id
        accounts = GroupAccounts(s, group_id)
        request = transfer(
            group_id,
            accounts.get("bank"),
            accounts.get("cash_box"),
            amount,
            date=DEMO_TODAY,
            memo="Cash to the bank",
        )
        return post_entry(s, request).seq

    return book.write(work)


def _export(book: Book, path: Path, since: int = 1):
    return book.write(lambda s: export_bundle(s, find_group(s, ACHM).id, path, since=since))


def _state(book: Book) -> tuple[int, list[tuple[str, str, int]]]:
    """What a coordinator compares: the chain's length and every account's balance."""
    with book.read() as s:
        group_id = find_group(s, ACHM).id
        rows = trial_balance(s, group_id).rows
        return chain_head(s, group_id)[0], [(r.account, r.commodity, r.balance_minor) for r in rows]


def _rewrite(path: Path, change, *, sign_with: Book | None = None) -> Path:
    """Open a bundle, change its payload, and (optionally) sign it again with a book's
    real key, as only a thief of that key could."""
    document = json.loads(gzip.decompress(path.read_bytes()))
    change(document["payload"])
    if sign_with is not None:
        key = sign_with.write(book_key)
        document["signature"] = key.sign(canonical(document["payload"]))
    out = path.with_name(f"tampered-{next(_tampered)}-{path.name}")
    out.write_bytes(gzip.compress(canonical(document)))
    return out


def test_village_to_central_and_back_again_keeps_the_books_equal(village, book, tmp_path):
    central = book
    first = tmp_path / "achm-1.sansam"
    summary = _export(village, first)
    assert summary.from_seq == 1 and summary.entries == summary.to_seq > 100

    taken = central.write(lambda s: import_bundle(s, first))
    assert taken.new_group and taken.new_entries == summary.entries
    assert _state(central) == _state(village)

    # More meetings' worth of entries in the village, including a correction.
    seq = _deposit(village, 50_000)
    _deposit(village, 20_000)
    village.write(
        lambda s: reverse_entry(
            s,
            group_id=find_group(s, ACHM).id,
            seq=seq,
            entry_date=DEMO_TODAY,
            idempotency_key=new_key(),
            author="treasurer",
        )
    )
    # Exported again from an old position (the coordinator did not say where to start).
    second = tmp_path / "achm-2.sansam"
    _export(village, second, since=summary.to_seq - 10)
    taken = central.write(lambda s: import_bundle(s, second))
    assert (taken.new_entries, taken.already_held) == (3, 11)
    again = central.write(lambda s: import_bundle(s, second))  # twice: nothing new
    older = central.write(lambda s: import_bundle(s, first))  # an older one after: nothing
    assert again.new_entries == older.new_entries == 0

    assert _state(central) == _state(village)
    with central.read() as s:
        report = verify_book(s)
    assert report.ok and report.entries == _state(village)[0]

    # The central book holds a copy: it does not post for the group.
    with pytest.raises(NotHome, match="kept by another book"):
        _deposit(central, 1_000)


def test_a_bundle_changed_on_the_way_is_refused_with_nothing_written(village, book, tmp_path):
    central = book
    first = tmp_path / "achm.sansam"
    _export(village, first)
    central.write(lambda s: import_bundle(s, first))
    held = _state(central)
    for _ in range(3):
        _deposit(village, 10_000)
    bundle = tmp_path / "new.sansam"
    _export(village, bundle, since=held[0] + 1)

    def one_amount(payload):
        entry = payload["entries"][1]
        entry["postings"][0][2] += 1000
        entry["postings"][1][2] -= 1000  # still balanced: only the hash can tell

    def one_dropped(payload):
        del payload["entries"][1]

    refusals = [
        (_rewrite(bundle, one_amount), "signature does not match"),
        (_rewrite(bundle, one_dropped), "signature does not match"),
        (_rewrite(bundle, one_amount, sign_with=village), "was changed after it was posted"),
        (_rewrite(bundle, one_dropped, sign_with=village), "is missing from the bundle"),
    ]

    # Passed off as another book's: the signature no longer holds either.
    def claimed_by_another(payload):
        payload["book"]["public_key"] = "ab" * 32

    refusals.append((_rewrite(bundle, claimed_by_another), "signature does not match"))
    for path, reason in refusals:
        with pytest.raises(SyncRejected, match=reason):
            central.write(lambda s, path=path: import_bundle(s, path))
        assert _state(central) == held  # nothing written

    not_a_bundle = tmp_path / "notes.txt"
    not_a_bundle.write_text("meeting notes", encoding="utf-8")
    with pytest.raises(SyncRejected, match="not a Sansam sync bundle"):
        central.write(lambda s: import_bundle(s, not_a_bundle))


def test_a_bundle_from_another_book_than_the_home_is_refused(village, demo_books, book, tmp_path):
    central = book
    bundle = tmp_path / "achm.sansam"
    _export(village, bundle)
    central.write(lambda s: import_bundle(s, bundle))
    # A second PC with a copy of the same group's books (its own key) exports too.
    twin_path = tmp_path / "twin.sqlite"
    shutil.copyfile(Path(demo_books.url("sqlite").removeprefix("sqlite:///")), twin_path)
    twin = Book(f"sqlite:///{twin_path}").as_user(TESTER)
    _deposit(twin, 5_000)
    from_twin = tmp_path / "twin.sansam"
    _export(twin, from_twin)
    twin.close()
    held = _state(central)
    with pytest.raises(SyncRejected, match="home is book"):
        central.write(lambda s: import_bundle(s, from_twin))
    assert _state(central) == held


def test_a_diverged_chain_is_refused_naming_the_entry(village, book, tmp_path):
    """The village PC is restored from an old backup and records again: its new entry
    #N is not the #N the central book already took."""
    central = book
    first = tmp_path / "achm.sansam"
    summary = _export(village, first)  # (the book's key exists from here on)
    backup = tmp_path / "backup.sqlite"
    source = sqlite3.connect(village.url.removeprefix("sqlite:///"))
    copy = sqlite3.connect(backup)
    source.backup(copy)  # as the app's backups are made (WAL included)
    source.close()
    copy.close()

    _deposit(village, 50_000)
    later = tmp_path / "later.sansam"
    _export(village, later)
    central.write(lambda s: import_bundle(s, first))
    central.write(lambda s: import_bundle(s, later))
    held = _state(central)

    restored = Book(f"sqlite:///{backup}").as_user(TESTER)
    _deposit(restored, 70_000)  # a different entry with the same number
    diverged = tmp_path / "diverged.sansam"
    _export(restored, diverged)
    restored.close()
    with pytest.raises(SyncRejected, match=f"diverges .* at entry #{summary.to_seq + 1} "):
        central.write(lambda s: import_bundle(s, diverged))
    assert _state(central) == held


def test_moving_the_home_lets_the_central_book_post_and_stops_the_village(village, book, tmp_path):
    central = book
    bundle = tmp_path / "achm.sansam"
    _export(village, bundle)
    central.write(lambda s: import_bundle(s, bundle))
    central_key = central.write(book_key).public_key

    village.write(lambda s: move_home(s, find_group(s, ACHM).id, central_key))
    with pytest.raises(NotHome):
        _deposit(village, 1_000)  # the village now holds a copy
    handover = tmp_path / "handover.sansam"
    _export(village, handover)
    central.write(lambda s: import_bundle(s, handover))
    _deposit(central, 1_000)  # the central book is the home now
    with central.read() as s:
        assert verify_book(s).ok


def test_a_lost_village_pc_is_replaced_only_by_force(village, book, tmp_path):
    central = book
    bundle = tmp_path / "achm.sansam"
    _export(village, bundle)
    central.write(lambda s: import_bundle(s, bundle))
    own = central.write(book_key).public_key
    with pytest.raises(SyncRejected, match="Only if that PC is lost"):
        central.write(lambda s: move_home(s, find_group(s, ACHM).id, own))
    central.write(lambda s: move_home(s, find_group(s, ACHM).id, own, force=True))
    _deposit(central, 1_000)
    # The old PC turns up and sends what it recorded meanwhile: refused.
    _deposit(village, 2_000)
    late = tmp_path / "late.sansam"
    _export(village, late)
    with pytest.raises(SyncRejected, match=f"This book is group {ACHM}'s home"):
        central.write(lambda s: import_bundle(s, late))
