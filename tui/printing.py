"""Printing from the app: the same documents as ``sansam print``, written the same way.

The print screen gathers a ``PrintRequest`` on screen and hands it to ``write_document``,
which runs in a worker thread: it reads the book in one read-only unit of work, lays the
document out with ``reports/``, writes the PDF as a ``.partial`` file renamed when
complete (``tui.cli_print``'s writer, so a file is either whole or untouched) and keeps
an "export" event in the audit trail, worded as the command line words it. Nothing here
touches a widget: progress goes out through a callback.

``send_to_printer`` hands a written PDF to the command in ``SANSAM_PRINT_COMMAND``
(e.g. ``lp -d office``), run without a shell, with the PDF's path appended.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ledger.db import Book
from ledger.errors import InvalidEntry, LedgerError
from ledger.group_report import group_report
from ledger.groups import get_group
from ledger.member_statement import member_statement, member_statements, members_in_period
from ledger.permissions import log_reading
from ledger.portfolio_report import portfolio_report
from reports.options import Lang
from tui.cli_print import check_pdf_name, period, write_whole
from tui.words import t

if TYPE_CHECKING:
    from reports.text import Words

PRINT_COMMAND_VARIABLE = "SANSAM_PRINT_COMMAND"
PRINT_TIMEOUT_SECONDS = 120
# What a document is, as the screen offers it (English; the screen translates).
DOCUMENTS: dict[str, str] = {
    "statement": "One member's statement",
    "statements": "Every member's statement (one PDF)",
    "group": "Group report",
    "portfolio": "Portfolio report (all your groups)",
}
Progress = Callable[[int, int], None]  # (done, total)


class PrintFailed(LedgerError):
    """The PDF could not be written, or the printer command did not take it."""


@dataclass(frozen=True, slots=True)
class PrintRequest:
    """Everything the screen asked for, read from its fields before the worker starts."""

    kind: str  # a key of DOCUMENTS
    group_id: int
    member_code: str | None
    start: dt.date
    end: dt.date
    lang: Lang  # both, km, en
    size: str  # A4, A5
    khmer_digits: bool
    path: Path


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    what: str  # what the file holds, in English as the command line says it


# --- before any work ------------------------------------------------------------------------


def default_folder() -> Path:
    """Where PDFs go unless the user says otherwise: Documents/Sansam."""
    from platformdirs import user_documents_path

    return user_documents_path() / "Sansam"


def default_period(session: Session, group_id: int, today: dt.date) -> tuple[dt.date, dt.date]:
    """The current cycle up to today (the command line's default, with the app's today)."""
    group = get_group(session, group_id)
    return period(session, group, None, today)


def default_file_name(kind: str, group_code: str, member_code: str | None, end: dt.date) -> str:
    """A name that says what the file holds and when, so a folder of them sorts well."""
    day = f"{end:%Y%m%d}"
    names = {
        "statement": f"{group_code}-{member_code or 'member'}-{day}.pdf",
        "statements": f"{group_code}-statements-{day}.pdf",
        "group": f"{group_code}-report-{day}.pdf",
        "portfolio": f"portfolio-{day}.pdf",
    }
    return names[kind]


def output_path(folder_text: str, name_text: str) -> Path:
    """The file to write, from the two fields; refused with a sentence a treasurer can
    act on before anything is read or written."""
    folder_text, name = folder_text.strip(), name_text.strip()
    if not folder_text:
        raise InvalidEntry(t("Type the folder to save the PDF in."))
    if not name:
        raise InvalidEntry(t("Type a file name, e.g. statement.pdf."))
    if "/" in name or "\\" in name:
        raise InvalidEntry(t("The file name cannot contain / or \\; put the folder in Folder."))
    folder = Path(folder_text).expanduser()
    path = folder / name
    check_pdf_name(path)
    _check_folder(folder)
    return path


def _check_folder(folder: Path) -> None:
    """The folder must be one, or be possible to make inside a folder we may write in."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise InvalidEntry(
            f"{existing}: " + t("this is a file, not a folder. Choose another folder.")
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidEntry(
            f"{existing}: " + t("you may not save files in this folder. Choose another folder.")
        )


# --- the work (in a worker thread) ----------------------------------------------------------


def write_document(book: Book, request: PrintRequest, on_progress: Progress) -> Written:
    """Read, lay out and write one document, then keep its trace in the audit trail."""
    if request.end < request.start:
        raise InvalidEntry(
            t("The period ends before it starts:") + f" {request.start} – {request.end}."
        )
    with book.read() as session:
        if request.kind == "statements":
            pdf, message, detail = _statements(session, request, on_progress)
        else:
            on_progress(0, 3)
            pdf, message, detail = _one_document(session, request)
            on_progress(2, 3)
    _write_file(request.path, pdf)
    group_id = None if request.kind == "portfolio" else request.group_id
    book.write(lambda s: log_reading(s, "export", group_id, detail))
    if request.kind != "statements":
        on_progress(3, 3)
    return Written(request.path, message)


def _words(request: PrintRequest) -> Words:
    from reports.text import Words  # ReportLab loads only when something is printed

    return Words(request.lang, khmer_digits=request.khmer_digits)


def _one_document(session: Session, r: PrintRequest) -> tuple[bytes, str, str]:
    """(pdf, what was written, the audit trail's detail) for a single document."""
    words = _words(r)
    if r.kind == "statement":
        from reports.member_statement import statement_pdf

        if not r.member_code:
            raise InvalidEntry(t("Choose the member whose statement to print."))
        s = member_statement(session, r.group_id, r.member_code, r.start, r.end)
        pdf = statement_pdf(s, words=words, size=r.size)
        what = f"the statement of {s.member.code}, {r.start} to {r.end}"
        return pdf, what, f"printed the statement of {s.member.code}"
    if r.kind == "group":
        from reports.group_report import group_report_pdf

        report = group_report(session, r.group_id, r.start, r.end)
        pdf = group_report_pdf(report, words=words, size=r.size)
        what = f"the report of {report.group.code} for {r.start} to {r.end}"
        return pdf, what, f"printed {what}"
    if r.kind == "portfolio":
        from reports.portfolio_report import portfolio_report_pdf

        folio = portfolio_report(session, as_of=r.end, by="group")
        pdf = portfolio_report_pdf(folio, words=words, size=r.size)
        what = f"the portfolio by group as of {r.end}"
        return pdf, what, f"printed {what}"
    raise ValueError(f"unknown document {r.kind!r}")


def _statements(session: Session, r: PrintRequest, on_progress: Progress) -> tuple[bytes, str, str]:
    """Every member's statement in one PDF, reporting progress per statement."""
    from reports.batch import statements_pdf

    members = members_in_period(session, r.group_id, r.start, r.end)
    total = len(members)
    if not total:
        raise InvalidEntry(t("No member belonged to the group in that period."))
    on_progress(0, total)
    statements = member_statements(session, r.group_id, r.start, r.end, members=members)
    pdf, count = statements_pdf(
        statements,
        words=_words(r),
        size=r.size,
        on_progress=lambda done: on_progress(done, total),
    )
    what = f"{count} statements, {r.start} to {r.end}"
    return pdf, what, f"printed the statements of {count} members for {r.start}..{r.end}"


def _write_file(path: Path, pdf: bytes) -> None:
    """The command line's writer (whole file or nothing), with a plain sentence when the
    disk or the folder refuses, and no ``.partial`` left behind."""
    try:
        write_whole(path, pdf)
    except OSError as exc:
        path.with_name(path.name + ".partial").unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise PrintFailed(f"{path}: " + t("the PDF could not be saved") + f" ({reason}).") from exc


# --- the printer ----------------------------------------------------------------------------


def print_command() -> list[str] | None:
    """The configured printer command as words (no shell), or None when not set."""
    configured = os.environ.get(PRINT_COMMAND_VARIABLE, "").strip()
    return shlex.split(configured) if configured else None


def how_to_configure() -> str:
    return t(
        "No printer is set up. To print from Sansam, set SANSAM_PRINT_COMMAND before "
        "starting it, e.g. SANSAM_PRINT_COMMAND='lp -d office'."
    )


def send_to_printer(path: Path) -> str:
    """Run the printer command with the PDF's path appended; a failure is one sentence."""
    command = print_command()
    if command is None:
        raise PrintFailed(how_to_configure())
    try:
        done = subprocess.run(
            [*command, str(path)],
            capture_output=True,
            text=True,
            timeout=PRINT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError as exc:
        raise PrintFailed(
            f"{command[0]}: " + t("this printer command was not found; check SANSAM_PRINT_COMMAND.")
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise PrintFailed(t("The printer command did not finish in 2 minutes.")) from exc
    except OSError as exc:
        raise PrintFailed(f"{command[0]}: {exc.strerror or exc}") from exc
    if done.returncode != 0:
        said = (done.stderr or done.stdout or "").strip().splitlines()
        reason = f": {said[-1]}" if said else ""
        raise PrintFailed(
            t("The printer refused the document")
            + f" ({command[0]}, exit {done.returncode}{reason})."
        )
    return t("Sent to the printer:") + f" {path.name}"
