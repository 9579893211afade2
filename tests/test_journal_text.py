"""The journal for ledger-cli/hledger and beancount: an accountant's tools read it, and
their totals are the ledger's own trial balance, account by account."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import account as bean_account
from beancount.core import data as bean_data
from beancount.core import realization

from ledger.audit import audit_trail
from ledger.errors import InvalidEntry
from ledger.groups import find_group
from ledger.journal_csv import import_journal
from ledger.journal_text import account_names, beancount_commodity, export_journal_text
from ledger.models import JournalEntry
from ledger.money import commodity
from ledger.permissions import Actor, PermissionDenied
from ledger.posting import reverse_entry
from ledger.queries import trial_balance
from tests.helpers import TESTER

Balances = dict[tuple[str, str], Decimal]  # (account as written, commodity) -> amount


# --- what the ledger says ----------------------------------------------------------------------


def ledger_balances(book, group_id: int | None = None) -> Balances:
    """The trial balance, every account (zero ones too), under its exported name."""
    with book.read() as s:
        rows = trial_balance(s, group_id).rows
    kinds: dict[str, dict[str, str]] = defaultdict(dict)
    for r in rows:
        kinds[r.group_code][r.account] = r.type
    names = account_names(kinds)
    assert len(set(names.values())) == len(names)  # no two Sansam accounts share a name
    return {
        (names[(r.group_code, r.account)], beancount_commodity(r.commodity)): Decimal(
            r.balance_minor
        ).scaleb(-commodity(r.commodity).exponent)
        for r in rows
    }


def nonzero(balances: Balances) -> Balances:
    return {key: amount for key, amount in balances.items() if amount != 0}


def memos(book, group_id: int | None = None) -> dict[tuple[str, int], str]:
    from sqlalchemy import select

    from ledger.models import Group

    with book.read() as s:
        query = select(Group.code, JournalEntry.seq, JournalEntry.memo).join(
            Group, Group.id == JournalEntry.group_id
        )
        if group_id is not None:
            query = query.where(JournalEntry.group_id == group_id)
        return {(code, seq): memo for code, seq, memo in s.execute(query)}


def as_ledger_memo(memo: str) -> str:
    """hledger ends a description at a semicolon and reads a leading parenthesis as a
    code: the file writes those as a comma and a bracket, and nothing else changes."""
    memo = memo.replace(";", ",")
    return "[" + memo[1:] if memo.startswith("(") else memo


def export(book, path: Path, fmt: str, group_id: int | None = None) -> int:
    with book.read() as s:
        return export_journal_text(s, path, fmt=fmt, group_id=group_id)


# --- what beancount says -----------------------------------------------------------------------


def bean_check(path: Path) -> None:
    program = shutil.which("bean-check", path=str(Path(sys.executable).parent))
    assert program, "bean-check is installed with the test dependencies (beancount)"
    done = subprocess.run([program, str(path)], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def bean_load(path: Path) -> list:
    entries, errors, _options = loader.load_file(str(path))
    assert errors == []
    return entries


def bean_balances(entries: list) -> Balances:
    """Each account's own balance, as beancount's realization computes it."""
    root = realization.realize(entries)
    found: Balances = {}
    for real in realization.iter_children(root):
        for position in real.balance:
            found[(real.account, position.units.currency)] = position.units.number
    return found


def transactions(entries: list) -> list[bean_data.Transaction]:
    return [e for e in entries if isinstance(e, bean_data.Transaction)]


# --- an independent reading of the ledger-cli file --------------------------------------------

TXN = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2}) \*(?: (?P<memo>.*))?$")
POSTING = re.compile(
    r"^    (?P<account>[^\s;]+) {2,}(?P<amount>-?\d+(?:\.\d+)?) (?P<symbol>[A-Z]+)$"
)
TAG = re.compile(r"^    ; (?P<key>[a-z]+): (?P<value>.*)$")
DIRECTIVE = re.compile(r"^(commodity |account |tag |    format |;|$)")


def read_ledger_file(text: str) -> list[dict]:
    """Every transaction with its date, memo, tags and postings; any line that is none of
    those, nor a comment or a directive, fails the test."""
    found: list[dict] = []
    for number, line in enumerate(text.split("\n"), 1):
        if m := TXN.match(line):
            found.append({"date": m["date"], "memo": m["memo"] or "", "tags": {}, "postings": []})
        elif (m := POSTING.match(line)) and found:
            found[-1]["postings"].append((m["account"], m["symbol"], Decimal(m["amount"])))
        elif (m := TAG.match(line)) and found and not found[-1]["postings"]:
            found[-1]["tags"][m["key"]] = m["value"]
        else:
            assert DIRECTIVE.match(line), f"line {number} is not understood: {line!r}"
    return found


def ledger_file_balances(entries: list[dict]) -> Balances:
    sums: Balances = defaultdict(Decimal)
    for entry in entries:
        per_commodity: dict[str, Decimal] = defaultdict(Decimal)
        for account, symbol, amount in entry["postings"]:
            sums[(account, symbol)] += amount
            per_commodity[symbol] += amount
        assert len(entry["postings"]) >= 2
        assert all(total == 0 for total in per_commodity.values()), entry
    return dict(sums)


def in_file_order(entries: list[dict]) -> bool:
    keys = [(e["date"], e["tags"]["group"], int(e["tags"]["seq"])) for e in entries]
    return keys == sorted(keys)


# --- the accountant's own tools, when the machine has them -------------------------------------


def hledger_balances(path: Path) -> Balances:
    program = shutil.which("hledger")
    if program is None:
        pytest.skip("hledger is not installed on this machine (the file is checked without it)")
    run = [program, "-f", str(path)]
    subprocess.run([*run, "check", "--strict"], check=True, capture_output=True)
    done = subprocess.run(
        [*run, "balance", "--no-total", "--layout=bare", "-O", "csv"],
        check=True,
        capture_output=True,
        text=True,
    )
    return {
        (row["account"], row["commodity"]): Decimal(row["balance"])
        for row in csv.DictReader(io.StringIO(done.stdout))
    }


def ledger_cli_balances(path: Path) -> Balances:
    program = shutil.which("ledger")
    if program is None:
        pytest.skip("ledger-cli is not installed on this machine (the file is checked without it)")
    done = subprocess.run(
        [
            program,
            "-f",
            str(path),
            "--pedantic",  # every account, commodity and tag must be declared
            "register",
            "--format",
            "%(account)\t%(commodity)\t%(quantity(amount))\n",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    sums: Balances = defaultdict(Decimal)
    for line in done.stdout.splitlines():
        account, symbol, amount = line.split("\t")
        sums[(account, symbol)] += Decimal(amount)
    return dict(sums)


TOOLS = {"hledger": hledger_balances, "ledger-cli": ledger_cli_balances}


# --- the demo federation -----------------------------------------------------------------------


def test_beancount_export_of_the_demo_passes_bean_check_with_the_ledgers_balances(
    demo_book, tmp_path
):
    path = tmp_path / "demo.beancount"
    written = export(demo_book, path, "beancount")
    with demo_book.read() as s:
        assert written == s.query(JournalEntry).count() > 300
    bean_check(path)
    entries = bean_load(path)
    assert len(transactions(entries)) == written
    expected = ledger_balances(demo_book)
    found = bean_balances(entries)
    assert {key: found.get(key, Decimal(0)) for key in expected} == expected
    assert nonzero(found) == nonzero(expected)  # and nothing beancount has that Sansam has not
    opened = {e.account for e in entries if isinstance(e, bean_data.Open)}
    assert opened == {account for account, _ in expected}  # every account, zero ones too
    # What an accountant looks up by hand: the cash box, a member's savings, rice in kg.
    assert found[("Assets:SR-ACHM-01:Cash-box", "KHR")] > 0
    assert found[("Liabilities:SR-PUOK-01:Savings:Compulsory:PK01", "KHR")] < 0
    assert ("Assets:SR-BKNG-01:Rice-stock", "RICE") in found
    assert "RICE: Rice (kilograms), 3 decimals" in path.read_text(encoding="utf-8")


def test_ledger_export_of_the_demo_balances_entry_by_entry_and_in_total(demo_book, tmp_path):
    path = tmp_path / "demo.ledger"
    written = export(demo_book, path, "ledger")
    entries = read_ledger_file(path.read_text(encoding="utf-8"))
    assert len(entries) == written
    assert in_file_order(entries)  # date, then group, then the entry's number
    assert nonzero(ledger_file_balances(entries)) == nonzero(ledger_balances(demo_book))
    by_key = {(e["tags"]["group"], int(e["tags"]["seq"])): e for e in entries}
    assert {key: e["memo"] for key, e in by_key.items()} == {
        key: as_ledger_memo(memo) for key, memo in memos(demo_book).items()
    }


@pytest.mark.parametrize("tool", TOOLS)
def test_hledger_and_ledger_cli_read_the_demo_with_the_ledgers_balances(demo_book, tmp_path, tool):
    path = tmp_path / "demo.ledger"
    export(demo_book, path, "ledger")
    assert nonzero(TOOLS[tool](path)) == nonzero(ledger_balances(demo_book))


def test_one_group_alone_has_its_entries_under_the_same_names(demo_book, tmp_path):
    with demo_book.read() as s:
        group = find_group(s, "SR-BKNG-01")
    alone, everyone = tmp_path / "bkng.beancount", tmp_path / "all.beancount"
    written = export(demo_book, alone, "beancount", group.id)
    export(demo_book, everyone, "beancount")
    bean_check(alone)
    entries = bean_load(alone)
    assert written == len(memos(demo_book, group.id))
    assert {t.meta["group"] for t in transactions(entries)} == {"SR-BKNG-01"}
    expected = ledger_balances(demo_book, group.id)
    assert nonzero(bean_balances(entries)) == nonzero(expected)
    # The group's entries read the same, word for word, in the federation's file.
    federation = everyone.read_text(encoding="utf-8")
    for block in alone.read_text(encoding="utf-8").split("\n\n"):
        if '  group: "SR-BKNG-01"' in block:
            assert block in federation


@pytest.mark.parametrize("fmt", ["ledger", "beancount"])
def test_the_same_book_gives_the_same_bytes(demo_book, tmp_path, fmt):
    first, second = tmp_path / "first", tmp_path / "second"
    export(demo_book, first, fmt)
    export(demo_book, second, fmt)
    stream = io.StringIO()
    with demo_book.read() as s:
        export_journal_text(s, stream, fmt=fmt)
    assert first.read_bytes() == second.read_bytes() == stream.getvalue().encode("utf-8")


# --- names and memos the tools are fussy about --------------------------------------------------

AWKWARD = """txn_id,date,group,description,account,commodity,amount
t1,2026-01-05,SR-01,"He said ""hi"" \\ ok; (not a code) | pipe",Assets:Cash box,KHR,"150,000"
t1,2026-01-05,SR-01,"He said ""hi"" \\ ok; (not a code) | pipe",Equity:Opening,KHR,-150000
t2,2026-01-05,SR-01,(Starts with a parenthesis),Assets:Cash-box,KHR,5000
t2,2026-01-05,SR-01,(Starts with a parenthesis),Income:fees,KHR,-5000
t3,2026-01-12,SR-01,សន្សំប្រាក់ ដារ៉ា,Assets:Cash box,USD,10.25
t3,2026-01-12,SR-01,សន្សំប្រាក់ ដារ៉ា,Equity:Opening,USD,-10.25
t4,2026-01-12,sr_01,Rice and baht,Assets:Rice stock,RICE,120.5
t4,2026-01-12,sr_01,Rice and baht,Expenses:ការចំណាយ,RICE,-120.500
t4,2026-01-12,sr_01,Rice and baht,Assets:Bank,THB,0.05
t4,2026-01-12,sr_01,Rice and baht,Equity:Café à l'eau,THB,-0.05
t5,2026-01-03,SR-01,Earlier day,Assets:Cash box,KHR,1
t5,2026-01-03,SR-01,Earlier day,Equity:Opening,KHR,-1
"""


@pytest.fixture
def awkward(book, tmp_path):
    """Two groups whose code and account names beancount would refuse as they are, two
    accounts that clean up to the same name, four commodities, memos with quotes,
    semicolons and Khmer, an entry dated before earlier ones, and a reversal."""
    source = tmp_path / "awkward.csv"
    source.write_text(AWKWARD, encoding="utf-8")

    def load(s):  # type: ignore[no-untyped-def]
        import_journal(s, source)
        group = find_group(s, "SR-01")
        reverse_entry(
            s,
            group_id=group.id,
            seq=2,
            entry_date=dt.date(2026, 2, 2),
            idempotency_key="undo-t2",
            author=TESTER.username,
        )

    book.write(load)
    return book


def test_awkward_names_and_memos_come_out_valid_distinct_and_exact(awkward, tmp_path):
    path = tmp_path / "awkward.beancount"
    assert export(awkward, path, "beancount") == 6
    bean_check(path)
    entries = bean_load(path)
    expected = ledger_balances(awkward)
    assert nonzero(bean_balances(entries)) == nonzero(expected)
    names = {account for account, _ in expected}
    assert all(bean_account.is_valid(name) for name in names)
    assert len(names) == 4 + 4  # one name per account, whatever commodities it holds
    # "Cash box" and "Cash-box" would both be Cash-box: each gets its own digest.
    assert sum(n.startswith("Assets:SR-01:Cash-box-") for n in names) == 2
    assert any(n.startswith("Expenses:Sr-01-") and ":U1780" in n for n in names)
    assert "Equity:SR-01:Opening" in names
    assert {
        (t.meta["group"], int(t.meta["seq"])): t.narration for t in transactions(entries)
    } == memos(awkward)
    reversal = [t for t in transactions(entries) if "reverses" in t.meta]
    assert [int(t.meta["reverses"]) for t in reversal] == [2]


def test_awkward_book_in_ledger_format_reads_back_exactly(awkward, tmp_path):
    path = tmp_path / "awkward.ledger"
    assert export(awkward, path, "ledger") == 6
    entries = read_ledger_file(path.read_text(encoding="utf-8"))
    assert in_file_order(entries)
    assert entries[0]["memo"] == "Earlier day"  # dated first, posted later
    assert nonzero(ledger_file_balances(entries)) == nonzero(ledger_balances(awkward))
    said = {e["memo"] for e in entries}
    # A semicolon would start a comment, a leading parenthesis a transaction code.
    assert 'He said "hi" \\ ok, (not a code) | pipe' in said
    assert "[Starts with a parenthesis)" in said
    assert "សន្សំប្រាក់ ដារ៉ា" in said


@pytest.mark.parametrize("tool", TOOLS)
def test_awkward_book_reads_in_hledger_and_ledger_cli(awkward, tmp_path, tool):
    path = tmp_path / "awkward.ledger"
    export(awkward, path, "ledger")
    assert nonzero(TOOLS[tool](path)) == nonzero(ledger_balances(awkward))


def test_a_user_exports_only_the_groups_she_may_read(awkward, tmp_path):
    with awkward.read() as s:
        mine, theirs = find_group(s, "SR-01").id, find_group(s, "sr_01").id
    dara = Actor(7, "dara", "Dara", False, {mine: frozenset({"treasurer"})})
    as_dara = awkward.as_user(dara)
    path = tmp_path / "mine.beancount"
    assert export(as_dara, path, "beancount") == 5
    bean_check(path)
    entries = bean_load(path)
    assert {t.meta["group"] for t in transactions(entries)} == {"SR-01"}
    assert all(":SR-01:" in e.account for e in entries if isinstance(e, bean_data.Open))
    with pytest.raises(PermissionDenied, match="may not read the books of group sr_01"):
        export(as_dara, tmp_path / "theirs.beancount", "beancount", theirs)


def test_an_unknown_format_is_refused_by_the_ledger(awkward, tmp_path):
    with pytest.raises(InvalidEntry, match="Unknown format 'xml'; use one of ledger, beancount"):
        export(awkward, tmp_path / "x", "xml")


# --- the command line --------------------------------------------------------------------------


@pytest.mark.usefixtures("cli_as_tester")
def test_the_command_writes_the_file_and_says_how_many_entries(demo_book, tmp_path, capsys):
    from tui.cli import main

    out = tmp_path / "achm.beancount"
    db = ("--db", str(demo_book.url))
    argv = ["journal", "export", "--format", "beancount", "--group", "SR-ACHM-01", str(out)]
    assert main([*argv, *db]) == 0
    with demo_book.read() as s:
        group_id = find_group(s, "SR-ACHM-01").id
        count = len(memos(demo_book, group_id))
        last = audit_trail(s, group_id=group_id)[-1]
    assert capsys.readouterr().out == f"Wrote {count:,} entries (beancount format) to {out}.\n"
    assert not out.with_name(out.name + ".partial").exists()
    bean_check(out)
    assert (last.action, last.detail) == ("export", f"journal in beancount format, {count} entries")

    ledger_file = tmp_path / "all.ledger"
    assert main(["journal", "export", "--format", "ledger", str(ledger_file), *db]) == 0
    assert capsys.readouterr().out.startswith("Wrote ")
    entries = read_ledger_file(ledger_file.read_text(encoding="utf-8"))
    assert nonzero(ledger_file_balances(entries)) == nonzero(ledger_balances(demo_book))

    csv_file = tmp_path / "all.csv"  # the default is still Sansam's own CSV
    assert main(["journal", "export", str(csv_file), *db]) == 0
    assert capsys.readouterr().out.endswith(f"postings to {csv_file}.\n")
    assert csv_file.read_text(encoding="utf-8").startswith("txn_id,date,group,")


def test_the_command_refuses_an_unknown_format(tmp_path, capsys):
    from tui.cli import main

    out = tmp_path / "x.xml"
    with pytest.raises(SystemExit) as stopped:
        main(["journal", "export", "--format", "xml", str(out)])
    assert stopped.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err
    assert not out.exists()
