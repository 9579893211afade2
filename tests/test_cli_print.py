"""Printing from the command line: one statement, a batch, and checking a statement."""

from __future__ import annotations

import datetime as dt
import shlex

import pypdfium2 as pdfium
import pytest

from ledger.audit import audit_trail
from ledger.groups import find_group
from ledger.member_statement import member_statement, members_in_period
from ledger.statement_check import statement_code
from reports import pool
from tests.conftest import DEMO_TODAY
from tests.report_helpers import pdf_text
from tui.cli import main

pytestmark = pytest.mark.usefixtures("cli_as_tester")
PERIOD = f"--from 2026-09-01 --to {DEMO_TODAY}"


def run(capsys, url: str, line: str) -> tuple[int, str, str]:
    code = main([*shlex.split(line), "--db", url])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def demo_url(demo_book) -> str:
    return str(demo_book.url)


def test_one_statement_and_its_check(demo_book, demo_url, tmp_path, capsys):
    out = tmp_path / "pk01.pdf"
    code, said, err = run(
        capsys, demo_url, f"print statement --group SR-PUOK-01 --member PK01 {PERIOD} --out {out}"
    )
    assert code == 0, err
    assert "statement of PK01, 2026-09-01 to 2026-11-22" in said
    text = pdf_text(out.read_bytes())
    assert "Member statement" in text and "PK01" in text
    with demo_book.read() as s:
        group = find_group(s, "SR-PUOK-01")
        st = member_statement(s, group.id, "PK01", dt.date(2026, 9, 1), DEMO_TODAY)
        trail = [e.detail for e in audit_trail(s, group_id=group.id, limit=5)]
    assert "printed the statement of PK01" in trail
    check = statement_code(st).text()
    code, said, _ = run(capsys, demo_url, f'verify-statement "{check}"')
    assert code == 0 and "matches" in said
    altered = check.replace(f";S{st.total_savings};", f";S{st.total_savings + 1000};")
    code, said, _ = run(capsys, demo_url, f'verify-statement "{altered}"')
    assert code == 1 and "not from this book" in said
    code, _, err = run(capsys, demo_url, 'verify-statement "SANSAM-ST1;nonsense"')
    assert code == 2 and "not a Sansam statement code" in err


@pytest.mark.parametrize("drawn_by", ["the command", "worker processes"])
def test_a_group_in_one_file_and_a_commune_one_file_each(
    demo_book, demo_url, tmp_path, capsys, monkeypatch, drawn_by
):
    if drawn_by == "worker processes":  # as a batch of a hundred statements or more would be
        monkeypatch.setattr(pool, "POOL_FROM", 4)
        monkeypatch.setattr(pool, "CHUNK", 3)
    out = tmp_path / "achm.pdf"
    code, said, err = run(
        capsys, demo_url, f"print statement --group SR-ACHM-01 {PERIOD} --lang en --out {out}"
    )
    assert code == 0, err
    with demo_book.read() as s:
        group = find_group(s, "SR-ACHM-01")
        members = members_in_period(s, group.id, dt.date(2026, 9, 1), DEMO_TODAY)
    assert f"{len(members)} statements from 1 group(s)" in said
    assert f"{len(members)}/{len(members)} statements" in err
    text = pdf_text(out.read_bytes())
    assert all(m.name_latin in text for m in members)
    assert text.count("Member statement") == len(members)
    where = [text.index(f"({m.code})") for m in members]  # "Member: Name (CODE)"
    assert where == sorted(where)
    folder = tmp_path / "puok"
    code, said, err = run(
        capsys,
        demo_url,
        f"print statement --commune Puok {PERIOD} --size A5 --one-per-member --out {folder}",
    )
    assert code == 0, err
    files = sorted(p.name for p in folder.iterdir())
    assert files and all(
        f.startswith("SR-PUOK-01-PK") and f.endswith("-20261122.pdf") for f in files
    )


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("--group SR-PUOK-01 --member ZZ9 --out {tmp}/x.pdf", "no member with code 'ZZ9'"),
        ("--group SR-PUOK-01 --out {tmp}/x.txt", "does not end in .pdf"),
        ("--commune Atlantis --out {tmp}/x.pdf", "No group you may read is in a commune"),
        (
            "--group SR-PUOK-01 --from 2026-05-01 --to 2026-04-01 --out {tmp}/x.pdf",
            "is before --from",
        ),
    ],
)
def test_bad_requests_say_why_and_write_nothing(demo_url, tmp_path, capsys, line, said):
    code, _, err = run(capsys, demo_url, "print statement " + line.format(tmp=tmp_path))
    assert code == 2 and said in err
    assert not list(tmp_path.glob("x.*"))


@pytest.mark.parametrize(
    ("line", "title"),
    [
        ("loan-card --group SR-PUOK-01 1 --on 2026-11-22", "Loan card"),
        ("group --group SR-BKNG-01 --from 2026-10-01 --to 2026-11-22", "Group report"),
        ("portfolio --as-of 2026-11-22 --by commune", "Portfolio report"),
        ("shareout --group SR-ACHM-01 --on 2026-11-22 --deduct-loans", "Share-out sheet"),
        ("sheet --group SR-PUOK-01 --date 2026-11-23", "Collection sheet"),
    ],
)
def test_every_document_prints_from_the_command_line(demo_url, tmp_path, capsys, line, title):
    out = tmp_path / "doc.pdf"
    code, said, err = run(capsys, demo_url, f"print {line} --lang en --out {out}")
    assert code == 0, err
    assert said.startswith(f"Wrote {out}")
    assert title in pdf_text(out.read_bytes())
    width, height = pdfium.PdfDocument(out.read_bytes())[0].get_size()
    assert (width > height) == (title == "Collection sheet")  # only the sheet is landscape


def test_a_document_on_paper_it_does_not_fit_is_refused(demo_url, tmp_path, capsys):
    code, _, err = run(
        capsys, demo_url, f"print sheet --group SR-PUOK-01 --size A5 --out {tmp_path}/x.pdf"
    )
    assert code == 2 and "The collection sheet prints on A4-landscape, not A5" in err
    assert not list(tmp_path.glob("x.*"))
