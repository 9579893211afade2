"""The coordinator's audit screen: prove the books were not edited after the fact, read
who did what in the group, and see the loans in arrears across all her groups.

Only those who may audit (coordinators, and a group's chair) open it; anyone else gets
one plain sentence and nothing of the data is read. Three tabs:

- **Verify**: ``verify_book`` recomputes every hash chain and cached balance of the
  groups the user audits, in a worker with a progress bar, and the trail's own chain is
  checked as ``sansam verify`` does; the outcome is kept in each group's trail.
- **Audit trail**: the group's events, newest first, read from the database one page at
  a time (keyset on the event number, so the thousandth page costs what the first does).
- **Arrears**: ``loans_at_date`` on today over the groups the user audits, the loans with
  days overdue, most overdue first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
)

from ledger.audit import AuditRecord, verify_audit
from ledger.db import Book
from ledger.errors import LedgerError
from ledger.groups import GroupRecord, list_groups
from ledger.models import AuditEvent, Group
from ledger.permissions import allow, log_reading
from ledger.portfolio import LoanAtDate, loans_at_date
from ledger.summary import book_summary
from ledger.verify import VerifyReport, verify_book
from tui.common import GroupScreen, amount_text
from tui.words import t

ARREARS_COLUMNS = (
    "Group",
    "Loan",
    "Member",
    "Days overdue",
    "Bucket",
    "Outstanding",
    "In arrears",
    "Cur.",
    "Resched.",
)
TRAIL_PAGE = 50  # events per page of the trail
MOST_PROBLEMS = 100  # problems listed on screen (the first break of each group comes first)
MOST_ARREARS = 1000  # loans listed on screen (the most overdue)
DATA_ACTIONS = frozenset({"verify", "older", "newer", "refresh"})
# Sentences with blanks, translated whole (the catalog keeps the {names}).
VERIFIED_OK = (
    "OK: {groups} group(s), {entries} entries and {postings} postings verified; "
    "every chain and balance matches."
)
TRAIL_BROKEN = "The audit trail itself was changed: event {seq} does not match its hash chain."
ARREARS_NONE = "No loan is in arrears on {day} in your {groups} group(s)."
ARREARS_SOME = "{count} loan(s) in arrears on {day} in your {groups} group(s), most overdue first."


@dataclass(frozen=True, slots=True)
class TrailPage:
    records: list[AuditRecord]  # newest first
    total: int  # events of the group in all
    newer: int  # events newer than this page
    has_older: bool


def trail_page(
    session: Session, group_id: int, *, before: int | None, size: int = TRAIL_PAGE
) -> TrailPage:
    """One page of the group's trail, newest first: the ``size`` events numbered below
    ``before`` (None: the newest). Checks the reader may audit the group, as
    ``ledger.audit_view.group_trail`` does."""
    allow(session, "audit", group_id)
    query = (
        select(AuditEvent, Group.code)
        .outerjoin(Group, Group.id == AuditEvent.group_id)
        .where(AuditEvent.group_id == group_id)
    )
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    rows = session.execute(query.order_by(AuditEvent.seq.desc()).limit(size + 1)).all()
    counted = select(func.count()).select_from(AuditEvent).where(AuditEvent.group_id == group_id)
    total = session.execute(counted).scalar_one()
    newer = 0
    if before is not None:
        newer = session.execute(counted.where(AuditEvent.seq >= before)).scalar_one()
    records = [
        AuditRecord(e.seq, e.at, e.actor, e.action, e.outcome, code, e.detail, e.hash)
        for e, code in rows[:size]
    ]
    return TrailPage(records, total, newer, len(rows) > size)


@dataclass(frozen=True, slots=True)
class Verified:
    report: VerifyReport
    trail_break: int | None  # the first audit event that does not match its chain

    @property
    def ok(self) -> bool:
        return self.report.ok and self.trail_break is None


class AuditScreen(GroupScreen):
    BINDINGS = [
        Binding("v", "verify", "Verify the books"),
        Binding("n", "older", "Older events"),
        Binding("p", "newer", "Newer events"),
        Binding("ctrl+r", "refresh", "Refresh"),
        Binding("escape", "back", "Back to the dashboard"),
    ]

    DEFAULT_CSS = """
    AuditScreen TabbedContent {
        height: 1fr;
    }
    AuditScreen TabPane {
        padding: 0 1;
    }
    AuditScreen #verify-progress {
        height: 1;
        margin: 1 0;
    }
    AuditScreen #verify-result {
        height: auto;
    }
    AuditScreen #verify-result.ok {
        color: $success;
        text-style: bold;
    }
    AuditScreen #refused {
        margin: 1 2;
        padding: 1 2;
        border: round $warning;
        height: auto;
    }
    """

    def __init__(self, group_id: int) -> None:
        super().__init__(group_id)
        self.allowed = False
        self.groups: list[GroupRecord] = []  # the groups the user audits
        self._before: list[int | None] = [None]  # the trail's pages seen, newest first
        self._page: TrailPage | None = None
        self._verifying = False

    @property
    def book(self) -> Book:
        book = self.sansam.signed
        assert book is not None
        return book

    # --- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.allowed = self.sansam.actor.may("audit", self.group_id)
        yield Header()
        yield Static(t("Audit"), id="title", classes="title")
        if not self.allowed:
            yield Static(
                t(
                    "Only coordinators and the group's chair may audit its books. "
                    "Ask the administrator if you need to."
                ),
                id="refused",
            )
            yield Footer()
            return
        with TabbedContent(id="tabs"):
            with TabPane(t("Verify the books"), id="verify-tab"), VerticalScroll():
                yield Static("", id="verify-hint", classes="hint")
                yield ProgressBar(id="verify-progress", show_eta=False)
                yield Static("", id="verify-result", markup=False)
            with TabPane(t("Audit trail"), id="trail-tab"):
                yield Static("", id="trail-page", classes="hint")
                yield DataTable(id="trail", cursor_type="row", zebra_stripes=True)
            with TabPane(t("Loans in arrears"), id="arrears-tab"):
                yield Static("", id="arrears-note", classes="hint", markup=False)
                yield DataTable(id="arrears", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Someone who may not audit has no data keys at all."""
        return self.allowed or action not in DATA_ACTIONS

    def on_mount(self) -> None:
        if not self.allowed:
            return
        with self.book.read() as session:
            self.groups = [g for g in list_groups(session) if self.sansam.actor.may("audit", g.id)]
        group = next(g for g in self.groups if g.id == self.group_id)
        self.query_one("#title", Static).update(f"{t('Audit')} · {group.code} · {group.name}")
        codes = ", ".join(g.code for g in self.groups)
        self.query_one("#verify-hint", Static).update(
            t("Press V to check that nothing in the books was changed after it was posted.")
            + f"\n{t('Groups')}: {codes}"
        )
        self.query_one("#verify-progress", ProgressBar).display = False
        self.query_one("#trail", DataTable).add_columns(
            "No.", "When (UTC)", "Who", "Action", "Outcome", "Detail"
        )
        self.query_one("#arrears", DataTable).add_columns(*ARREARS_COLUMNS)
        self.action_refresh()

    # --- verify ------------------------------------------------------------------------------

    def action_verify(self) -> None:
        if self._verifying:
            self.notify(t("The books are being verified; wait for it to finish."))
            return
        self._verifying = True
        self.query_one("#tabs", TabbedContent).active = "verify-tab"
        bar = self.query_one("#verify-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        result = self.query_one("#verify-result", Static)
        result.update(t("Verifying…"))
        result.remove_class("ok", "error")
        self._verify(self.book, [g.id for g in self.groups])

    @work(thread=True, exclusive=True, group="verify")
    def _verify(self, book: Book, group_ids: list[int]) -> None:
        """In a thread: every group's chain in one snapshot, then the trail's own chain;
        the outcome is kept in each group's trail, as ``sansam verify`` keeps it."""
        call = self.app.call_from_thread
        try:
            verified = self._verify_groups(book, group_ids)
        except LedgerError as exc:  # e.g. the book is busy: say so, nothing was kept
            call(self._verify_failed, str(exc))
            return
        call(self._verified, verified)

    def _verify_groups(self, book: Book, group_ids: list[int]) -> Verified:
        """The groups one after another, the bar moving by entries checked (a group's
        size is its chain's head, so the total is known before the work starts)."""
        call = self.app.call_from_thread
        report = VerifyReport()
        codes = {g.code for g in self.groups if g.id in group_ids}
        with book.read() as session:
            sizes = {s.code: s.entries for s in book_summary(session).groups}
            total = sum(sizes.get(code, 0) for code in codes) or 1
            for group_id in group_ids:
                done = report.entries

                def moved(n: int, done: int = done) -> None:
                    call(self._verify_progress, done + n, total)

                one = verify_book(session, group_id, on_progress=moved)
                report.groups += one.groups
                report.entries += one.entries
                report.postings += one.postings
                report.problems.extend(one.problems)
                call(self._verify_progress, report.entries, total)
            verified = Verified(report, verify_audit(session))

        def keep(session: Session) -> None:
            broken = {p.group_code for p in report.problems}
            for g in self.groups:
                if g.id in group_ids:
                    ok = g.code not in broken and verified.trail_break is None
                    log_reading(session, "verify", g.id, "ok" if ok else "problems found")

        book.write(keep)
        return verified

    def _verify_failed(self, message: str) -> None:
        self._verifying = False
        if self.is_attached:
            self.query_one("#verify-progress", ProgressBar).display = False
            result = self.query_one("#verify-result", Static)
            result.update(message)
            result.add_class("error")

    def _verify_progress(self, done: int, total: int) -> None:
        if self.is_attached:
            self.query_one("#verify-progress", ProgressBar).update(total=total, progress=done)

    def _verified(self, verified: Verified) -> None:
        self._verifying = False
        if not self.is_attached:
            return
        result = self.query_one("#verify-result", Static)
        result.update(self.verify_text(verified))
        result.set_class(verified.ok, "ok")
        result.set_class(not verified.ok, "error")
        self.show_trail()  # the verification is the newest event now

    @staticmethod
    def verify_text(verified: Verified) -> str:
        r = verified.report
        lines: list[str] = []
        if r.ok:
            ok = t(VERIFIED_OK)
            lines.append(
                ok.format(groups=r.groups, entries=f"{r.entries:,}", postings=f"{r.postings:,}")
            )
        else:
            lines.append(t("PROBLEMS FOUND: the books do not match their hash chains."))
            for p in r.first_breaks():
                lines.append(f"{p.group_code}: {t('first break')} — {p.message}")
            lines += ["", t("Every problem found:")]
            lines += [f"{p.group_code}: {p.message}" for p in r.problems[:MOST_PROBLEMS]]
            if len(r.problems) > MOST_PROBLEMS:
                more = len(r.problems) - MOST_PROBLEMS
                lines.append(t("… and {count} more.").format(count=f"{more:,}"))
        if verified.trail_break is not None:
            lines.append(t(TRAIL_BROKEN).format(seq=verified.trail_break))
        return "\n".join(lines)

    # --- the audit trail ---------------------------------------------------------------------

    def action_older(self) -> None:
        page = self._page
        self.query_one("#tabs", TabbedContent).active = "trail-tab"
        if page is None or not page.has_older:
            self.notify(t("This is the oldest page of the trail."))
            return
        self._before.append(page.records[-1].seq)
        self.show_trail()

    def action_newer(self) -> None:
        self.query_one("#tabs", TabbedContent).active = "trail-tab"
        if len(self._before) == 1:
            self.notify(t("This is the newest page of the trail."))
            return
        self._before.pop()
        self.show_trail()

    def show_trail(self) -> None:
        with self.book.read() as session:
            page = trail_page(session, self.group_id, before=self._before[-1])
        self._page = page
        table = self.query_one("#trail", DataTable)
        table.clear()
        for r in page.records:
            table.add_row(
                str(r.seq),
                r.at.strftime("%Y-%m-%d %H:%M"),
                r.actor,
                r.action,
                r.outcome,
                r.detail,
                key=str(r.seq),
            )
        if not page.records:
            note = t("Nothing has been recorded for this group yet.")
        else:
            note = t("Events {first}–{last} of {total}, newest first.").format(
                first=f"{page.newer + 1:,}",
                last=f"{page.newer + len(page.records):,}",
                total=f"{page.total:,}",
            )
            note += " " + t("N: older events · P: newer events.")
        self.query_one("#trail-page", Static).update(note)

    # --- arrears -----------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.show_trail()
        self.query_one("#arrears-note", Static).update(t("Reading the loans…"))
        self._load_arrears(self.book, [g.code for g in self.groups], self.sansam.today)

    @work(thread=True, exclusive=True, group="arrears")
    def _load_arrears(self, book: Book, codes: list[str], today: dt.date) -> None:
        """In a thread: every loan of the groups is read to find its days overdue."""
        try:
            with book.read() as session:
                loans = loans_at_date(session, as_of=today, group_codes=codes)
        except LedgerError as exc:
            self.app.call_from_thread(self._arrears_failed, str(exc))
            return
        late = [loan for loan in loans if loan.days_overdue > 0]
        self.app.call_from_thread(self._show_arrears, late, today)

    def _arrears_failed(self, message: str) -> None:
        if self.is_attached:
            self.query_one("#arrears-note", Static).update(message)

    def _show_arrears(self, late: list[LoanAtDate], today: dt.date) -> None:
        if not self.is_attached:
            return
        currency = {g.code: g.currency for g in self.groups}
        table = self.query_one("#arrears", DataTable)
        table.clear()
        for loan in late[:MOST_ARREARS]:
            c = currency[loan.group_code]
            table.add_row(
                loan.group_code,
                f"#{loan.loan_number}",
                loan.member_code,
                str(loan.days_overdue),
                loan.bucket,
                amount_text(loan.principal_outstanding, c),
                amount_text(loan.principal_in_arrears, c),
                c,
                "yes" if loan.rescheduled else "",
                key=f"{loan.group_code}#{loan.loan_number}",
            )
        groups = len(self.groups)
        note = t(ARREARS_NONE) if not late else t(ARREARS_SOME)
        if len(late) > MOST_ARREARS:
            note += " " + t("The {most} most overdue are listed.")
        counts = {"count": f"{len(late):,}", "most": f"{MOST_ARREARS:,}", "groups": groups}
        self.query_one("#arrears-note", Static).update(note.format(day=today.isoformat(), **counts))
