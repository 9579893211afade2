"""One command for every benchmark: the figures in bench/out/*.json and docs/PERFORMANCE.md.

Run from the repository root (``make bench`` runs the first)::

    .venv/bin/python bench/run_all.py            # everything, 10k/100k/1M: 80 minutes or so
    .venv/bin/python bench/run_all.py --quick    # a smoke run of a few minutes
    .venv/bin/python bench/run_all.py --only meeting,statements

The benchmarks run one after the other, each in its own process (a benchmark and its
children never compete with another benchmark for the two cores):

1. ``ledger_bench.py``: import, trial balance, member history and statement data, the
   portfolio, verify; at 10k, 100k and 1M entries. It keeps the books in
   ``bench/out/work/`` for the next two.
2. ``peers_bench.py``: hledger, ledger-cli, beancount and raw sqlite3 on those books.
3. ``meeting_bench.py``: a 30-member meeting, on a small book and a copy of the 100k one.
4. ``statements_bench.py``: printed statements per second (1,000 members).
5. ``closing_bench.py``: share-out, rice bank and period statements on the demo.
6. ``app_bench.py``: app start to a group's dashboard on a big book.
7. ``proof_bench.py``: the crash and load proofs at full size (SQLite, and PostgreSQL when
   ``SANSAM_TEST_POSTGRES_URL`` names one); it writes its own "Crash and load" section.

The first three write their own blocks of ``docs/PERFORMANCE.md``; this script writes the
blocks of the last three from their JSON, and the summary of the issue's targets at the
top, each with the command, the machine and the load average while it ran. ``--quick``
writes ``bench/out/*-quick.json`` and ``bench/out/PERFORMANCE-quick.md`` instead, so a
smoke run never replaces the published figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ledger_bench as lb

BENCH = lb.ROOT / "bench"
STEPS = ("ledger", "peers", "meeting", "statements", "closing", "app", "proof")
SUMMARY = "## Summary: the issue's targets"
STATEMENTS = "## Printed statements"
CLOSING = "## End of cycle: share-out, rice bank and statements"
APP = "## The app: start to dashboard"
CRASH = "## Crash and load"
STATEMENTS_TARGET = 50.0
MEETING_TARGET_MS = 200.0
PEER_NAMES = {"ledger": "ledger-cli", "hledger": "hledger", "beancount": "beancount"}


def plan(quick: bool, work: Path, timeout: float) -> dict[str, list[str]]:
    """The command of each benchmark, at full size or as a smoke run."""
    py = [sys.executable]
    if quick:
        first = f"{lb.QUICK_SIZES[0][0]}x{lb.QUICK_SIZES[0][1]}x{lb.QUICK_SIZES[0][2]}"
        return {
            "ledger": [*py, "bench/ledger_bench.py", "--quick", "--workdir", str(work)],
            "peers": [
                *py,
                "bench/peers_bench.py",
                "--quick",
                "--from",
                str(work),
                "--timeout",
                str(min(timeout, 120)),
            ],
            "meeting": [
                *py,
                "bench/meeting_bench.py",
                "--quick",
                "--big",
                str(work / first / "book.sqlite"),
            ],
            "statements": [*py, "bench/statements_bench.py", "--members", "50", "--weeks", "4"],
            "closing": [*py, "bench/closing_bench.py"],
            "app": [*py, "bench/app_bench.py", "--quick", "--runs", "2"],
            "proof": [
                *py,
                "bench/proof_bench.py",
                "--kills",
                "5",
                "--load-seconds",
                "5",
                "--out",
                str(lb.OUT_DIR / "PERFORMANCE-quick.md"),
                "--json",
                str(json_of("proof", True)),
            ],
        }
    return {
        "ledger": [
            *py,
            "bench/ledger_bench.py",
            "--sizes",
            lb.DEFAULT_SIZES,
            "--workdir",
            str(work),
        ],
        "peers": [
            *py,
            "bench/peers_bench.py",
            "--sizes",
            lb.DEFAULT_SIZES,
            "--from",
            str(work),
            "--timeout",
            str(timeout),
        ],
        "meeting": [*py, "bench/meeting_bench.py", "--big", str(work / "100k" / "book.sqlite")],
        "statements": [*py, "bench/statements_bench.py", "--members", "1000", "--weeks", "13"],
        "closing": [*py, "bench/closing_bench.py"],
        "app": [*py, "bench/app_bench.py"],
        "proof": [*py, "bench/proof_bench.py"],
    }


def json_of(step: str, quick: bool) -> Path:
    """Where each benchmark leaves its figures (the last three choose their own names;
    a quick run's are moved aside so they never pass for the full ones)."""
    out = lb.OUT_DIR
    return {
        "ledger": out / f"ledger_bench{'-quick' if quick else ''}.json",
        "peers": out / f"peers_bench{'-quick' if quick else ''}.json",
        "meeting": out / f"meeting_bench{'-quick' if quick else ''}.json",
        "statements": out / f"statements_bench{'-quick' if quick else ''}.json",
        "closing": out / f"closing_bench{'-quick' if quick else ''}.json",
        "app": out / ("app_bench_quick.json" if quick else "app_bench.json"),
        "proof": out / f"proof_bench{'-quick' if quick else ''}.json",
    }[step]


def shown_command(command: list[str]) -> str:
    return shlex.join(
        [".venv/bin/python", *(lb.shown(Path(c)) if "/" in c else c for c in command[1:])]
    )


def run_step(step: str, command: list[str], quick: bool, logs: Path) -> dict[str, Any]:
    """One benchmark in its own process: wall time, its own peak RSS, the load meanwhile."""
    # statements_bench and closing_bench always write the same file; a quick run keeps the
    # full run's aside and moves its own to *-quick.json.
    fixed = {
        "statements": lb.OUT_DIR / "statements_bench.json",
        "closing": lb.OUT_DIR / "closing_bench.json",
    }.get(step)
    kept = None
    if quick and fixed is not None and fixed.exists():
        kept = fixed.with_suffix(".json.kept")
        fixed.replace(kept)
    started = dt.datetime.now().isoformat(timespec="seconds")
    lb.log(f"== {step}: {shown_command(command)}")
    with lb.LoadSampler() as load:
        run = lb.measure_process(command, stdout=logs / f"{step}.log")
    if quick and fixed is not None:
        if fixed.exists():
            fixed.replace(json_of(step, quick))
        if kept is not None:
            kept.replace(fixed)
    lb.log(f"== {step}: exit {run.returncode} after {run.wall_s:,.0f} s")
    return {
        "command": shown_command(command),
        "started": started,
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "wall_s": run.wall_s,
        "max_rss_kib": run.max_rss_kib,
        "returncode": run.returncode,
        "load": load.summary(),
    }


# --- sections for the benchmarks that do not write the document themselves ---------------------


def _header(step: dict[str, Any], machine: dict[str, Any], json_path: Path) -> list[str]:
    return [
        f"Generated by `bench/run_all.py` from `{lb.shown(json_path)}`; rerun it to refresh "
        "this block.",
        "",
        f"Command: `{step['command']}`  ",
        f"Run: {step['started']} to {step['finished']} ({step['wall_s']:,.0f} s, the "
        f"process's peak RSS {lb._mib(step['max_rss_kib'])}).",
        "",
        f"**Machine.** {lb.machine_sentence(machine)} {lb.load_sentence(step['load'])}",
        "",
    ]


def statements_block(
    step: dict[str, Any], machine: dict[str, Any], r: dict[str, Any], path: Path
) -> str:
    per_pdf, per_file = r["one_pdf"]["per_s"], r["one_file_each"]["per_s"]
    alone = r.get("one_pdf_one_process")  # absent from runs before the worker processes
    by = f", {r['workers']} worker processes" if alone else ""
    peak = max(
        r["peak_rss_mib"], r.get("worker_peak_rss_mib", 0), (alone or {}).get("peak_rss_mib", 0)
    )
    lines = [
        *_header(step, machine, path),
        f"**Data.** One group of {r['members']:,} members who met weekly for {r['weeks']} "
        f"weeks: savings, a share and the social fund at every meeting, "
        f"{r['movements_per_statement']:g} movements per member; each statement is "
        "2 A4 pages in Khmer with English, with its QR code. The book is built through the "
        f"services (member and meeting-sheet imports) in {r['book_build_s']:,.0f} s.",
        "",
        "| Measure | Figure | Target | Met? |",
        "|---|---|---|---|",
        f"| Statement data (`member_statements`), {r['members']:,} members | "
        f"{r['statement_data_per_s']:,.0f} statements/s | | |",
        f"| One PDF of all {r['one_pdf']['statements']:,} statements "
        f"({r['one_pdf']['pages'] or 0:,} pages, {r['one_pdf']['mib']} MiB){by} | "
        f"{per_pdf:,.0f} statements/s ({r['one_pdf']['seconds']:,.0f} s) | "
        f"{STATEMENTS_TARGET:.0f}/s | {'yes' if per_pdf >= STATEMENTS_TARGET else '**no**'} |",
        f"| One PDF per member, {r['one_file_each']['files']:,} files{by} | "
        f"{per_file:,.0f} statements/s | {STATEMENTS_TARGET:.0f}/s | "
        f"{'yes' if per_file >= STATEMENTS_TARGET else '**no**'} |",
    ]
    if alone:
        lines.append(
            "| The same one PDF drawn in one process (as on a one-core machine) | "
            f"{alone['per_s']:,.0f} statements/s ({alone['seconds']:,.0f} s), "
            f"peak {alone['peak_rss_mib']:,} MiB | | |"
        )
    worker_peak = r.get("worker_peak_rss_mib")
    lines += [
        f"| Peak memory (RSS) | {r['peak_rss_mib']:,} MiB"
        + (f" the batches' process; each worker at most {worker_peak:,} MiB" if worker_peak else "")
        + f" | < 300 MB | {'yes' if peak * 2**20 < 300e6 else '**no**'} |",
        "",
    ]
    return "\n".join(lines)


def closing_block(
    step: dict[str, Any], machine: dict[str, Any], r: dict[str, Any], path: Path
) -> str:
    lines = [
        *_header(step, machine, path),
        "**Data.** The demo federation (a year of meetings) loaded into a fresh SQLite book; "
        f"the weekly group SR-PUOK-01 holds {r['entries_in_puok']:,} entries. Median of 7 "
        "runs after one warm-up.",
        "",
        "| Question (one group) | Median |",
        "| --- | --- |",
        *(
            f"| {label[0].upper()}{label[1:]} | {ms:,.1f} ms |"
            for label, ms in r["median_ms"].items()
        ),
        "| Share-out post, 14 members (their entries, the closing entry, the cycle and "
        f"period close) | {r['share-out post, 14 members, ms']:,.1f} ms |",
        "",
    ]
    return "\n".join(lines)


def app_block(step: dict[str, Any], machine: dict[str, Any], r: dict[str, Any], path: Path) -> str:
    big, demo = r["books"]["big"], r["books"]["demo"]
    cols = ("big_book_demo_group", "big_book_imported_group", "demo_only_book")
    labels = (
        ("import_ms", "Python imports (app, ledger, Textual)"),
        ("sign_in_screen_ms", "Sign-in screen on screen (from process start)"),
        ("groups_listed_ms", "Sign in and list the groups"),
        ("dashboard_ms", "Open the dashboard (figures, PAR30, arrears, warnings)"),
        ("start_to_dashboard_ms", "**Process start to dashboard**"),
    )
    lines = [
        *_header(step, machine, path),
        f"**Data.** A big book (the ledger benchmark's synthetic journal, imported, plus the "
        f"demo federation): **{big['entries']:,} entries**; and one holding the demo "
        f"federation only ({demo['entries']:,} entries). Each run is a fresh process (a cold "
        "start): it imports the app, drives it headless with Textual's pilot through the "
        "real sign-in screen (argon2 included), lists the user's groups and opens a group's "
        f"dashboard. Median of {r['runs']} runs.",
        "",
        "| Step (median ms) | Big book, demo group | Big book, imported group | Demo-only book |",
        "| --- | --- | --- | --- |",
    ]
    for key, label in labels:
        cells = [f"{r[c][key]:,.0f}" for c in cols]
        if key == "start_to_dashboard_ms":
            cells = [f"**{c}**" for c in cells]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append(
        "| Peak memory (RSS) | "
        + " | ".join(f"{r[c]['peak_rss_mib']:,.0f} MiB" for c in cols)
        + " |"
    )
    lines.append("")
    return "\n".join(lines)


def write_section(
    doc: Path,
    step: str,
    result: dict[str, Any],
    machine: dict[str, Any],
    figures: dict[str, Any],
    path: Path,
) -> None:
    """The block of a benchmark that does not write the document itself."""
    render = {
        "statements": (STATEMENTS, statements_block),
        "closing": (CLOSING, closing_block),
        "app": (APP, app_block),
    }.get(step)
    if render is not None:
        heading, block = render
        lb.write_block(
            doc, heading, f"bench/run_all.py {step}", block(result, machine, figures, path)
        )


# --- the summary --------------------------------------------------------------------------------


def _load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def summary_block(quick: bool, steps: dict[str, Any], doc: Path) -> str:
    """Each target of the issue: the figure, met or not, and where it is explained."""
    ledger, peers = _load(json_of("ledger", quick)), _load(json_of("peers", quick))
    meeting, statements = _load(json_of("meeting", quick)), _load(json_of("statements", quick))
    app = _load(json_of("app", quick))
    rows: list[tuple[str, str, str, str]] = []

    def yes(ok: bool) -> str:
        return "yes" if ok else "**no**"

    memory: list[tuple[float, str]] = []
    if ledger:
        big = ledger["sizes"][-1]
        reads = big["reads"]
        label = f"{big['label']} ({big['book']['journal_entries']:,} entries)"
        verdict = (peers or {}).get("verdict", {})
        same_size = bool(peers) and peers["sizes"][-1]["label"] == big["label"]
        for key, vkey, what in (
            ("trial_balance_book", "tb", "Trial balance, whole book"),
            ("account_history", "history", "Member history"),
        ):
            ms = reads[key]["median_ms"]
            v = verdict.get(vkey) if same_size else None
            if v is None:
                beat, note = None, "peers not measured at this size"
            else:
                fastest = v["fastest_peer"]
                fastest_s = v["fastest_peer_s"]
                beat = v["faster_than_all"]
                note = (
                    f"fastest peer: {PEER_NAMES.get(fastest, fastest)} {fastest_s:,.2f} s"
                    if fastest_s
                    else "no peer answered"
                ) + (
                    f"; not installed: {', '.join(v['peers_missing'])}"
                    if v["peers_missing"]
                    else ""
                )
            ok = ms < lb.QUERY_TARGET_MS and bool(beat)
            why = (
                f" (it reads the cached balance of every account: "
                f"{reads['trial_balance_book']['rows']:,} at this size)"
                if vkey == "tb"
                else ""
            )
            rows.append(
                (
                    f"{what} < 100 ms at {label}, faster than every peer",
                    f"{ms:,.1f} ms ({note})",
                    yes(ok),
                    f"[Ledger core](#ledger-core){why}, [Against the peers](#against-the-peers)",
                )
            )
        statement = reads["member_statement"]["median_ms"]
        rows.append(
            (
                f"A member's statement data (a year) < 100 ms at {label}",
                f"{statement:,.1f} ms; one group's portfolio "
                f"{reads['portfolio_group']['median_ms']:,.1f} ms, every group's "
                f"{reads['portfolio_book']['median_ms'] / 1000:,.1f} s",
                yes(statement < lb.QUERY_TARGET_MS),
                "[Ledger core](#ledger-core) (the issue's member-history target, applied to "
                "the statement; the portfolio has no target)",
            )
        )
        ratio = big["import"]["seconds"] / big["raw"]["seconds"]
        rows.append(
            (
                "Import within 5× of raw sqlite3",
                f"{ratio:.1f}× ({big['import']['seconds']:,.0f} s against "
                f"{big['raw']['seconds']:,.1f} s at {big['label']})",
                yes(ratio <= lb.IMPORT_RATIO_TARGET),
                "[Where the import time goes](#where-the-import-time-goes): SQLite alone, "
                "with the rules the book enforces per row (triggers), takes about 9× the raw "
                "insert",
            )
        )
        for s in ledger["sizes"]:
            for part in ("import", "reads", "verify_book", "replay", "loans"):
                memory.append((s[part]["max_rss_kib"] / 1024, f"ledger {s['label']} {part}"))
    if meeting:
        b = meeting["books"]
        small_ms = b["small"]["app"]["median_ms"]["total_ms"]
        big_ms = b["big"]["app"]["median_ms"]["total_ms"]
        rows.append(
            (
                "A 30-member meeting posted end to end < 200 ms",
                f"{big_ms:,.0f} ms on the {meeting['big_label']} book, {small_ms:,.0f} ms on a "
                "small one (median, as the app saves it)",
                yes(max(small_ms, big_ms) < MEETING_TARGET_MS),
                "[A 30-member meeting](#a-30-member-meeting): about 350 SQL statements "
                "(480 before 64b6a55), most of the time SQLAlchemy's per-statement work and "
                "31 durable commits",
            )
        )
        for name in ("small", "big"):
            for variant in ("app", "one"):
                memory.append((b[name][variant]["max_rss_kib"] / 1024, f"meeting {name} {variant}"))
    if statements:
        per = min(statements["one_pdf"]["per_s"], statements["one_file_each"]["per_s"])
        rows.append(
            (
                "50 printed statements per second",
                f"{statements['one_pdf']['per_s']:,.0f}/s in one PDF, "
                f"{statements['one_file_each']['per_s']:,.0f}/s one file each "
                f"({statements['members']:,} members)",
                yes(per >= STATEMENTS_TARGET),
                "[Printed statements](#printed-statements): the data is 2 queries a "
                "statement; ReportLab draws a long batch in one worker process per core",
            )
        )
        memory.append((statements["peak_rss_mib"], "statements"))
        memory.append((statements.get("worker_peak_rss_mib", 0), "a statements worker"))
        alone = statements.get("one_pdf_one_process", {}).get("peak_rss_mib", 0)
        memory.append((alone, "statements in one process"))
    if app:
        memory.append(
            (max(app[c]["peak_rss_mib"] for c in ("big_book_demo_group", "demo_only_book")), "app")
        )
    if peers:
        for s in peers["sizes"]:
            memory.append((s["sansam"]["max_rss_kib"] / 1024, f"peers {s['label']} Sansam"))
    for name in ("closing",):
        if name in steps:
            memory.append((steps[name]["max_rss_kib"] / 1024, name))
    if memory:
        peak, where = max(memory)
        rows.append(
            (
                "Under 300 MB peak memory (every Sansam process measured)",
                f"{peak * 2**20 / 1e6:,.0f} MB at most ({where})",
                yes(peak * 2**20 < 300e6),
                "each section's peak RSS",
            )
        )
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    lines = [
        "Generated by `bench/run_all.py` from the figures below; rerun it to refresh this block.",
        "",
        "| Target (issue #10) | Figure | Met? | Where it is explained |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
        "",
        "Every figure was taken on a 2-core machine that other work shares (other "
        "developers' test suites); each section gives the load average during its run.",
    ]
    if CRASH in text:
        lines += [
            "",
            "Crash safety and load (several writers on one book) are in "
            "[Crash and load](#crash-and-load).",
        ]
    lines.append("")
    return "\n".join(lines)


# The benchmarks whose saved figures the summary's rows are made from.
SUMMARY_SOURCES = ("ledger", "peers", "meeting", "statements", "app")


def write_summary(doc: Path, quick: bool, steps: dict[str, Any]) -> None:
    """Rewrite the summary table, but only from a full set of saved figures.

    ``bench/out`` stays on the machine that ran the benchmarks, so a partial run on another
    machine (``--only statements``) would otherwise drop every row it has no figures for
    and understate the peak memory. Its own section is still rewritten; the summary then
    waits for the missing figures."""
    missing = [step for step in SUMMARY_SOURCES if _load(json_of(step, quick)) is None]
    if missing:
        lb.log(
            f"summary left as it was: no saved figures for {', '.join(missing)} in "
            f"{lb.shown(lb.OUT_DIR)}; run them (or put their JSON there and --render)"
        )
        return
    lb.write_block(
        doc, SUMMARY, "bench/run_all.py summary", summary_block(quick, steps, doc), first=True
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few minutes")
    parser.add_argument("--only", help=f"some of {','.join(STEPS)}")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per peer command")
    parser.add_argument("--keep", action="store_true", help="keep bench/out/work*/ afterwards")
    parser.add_argument(
        "--render",
        action="store_true",
        help="run nothing: write the summary and the last three benchmarks' blocks again from "
        "the saved figures",
    )
    args = parser.parse_args(argv)
    chosen = STEPS if not args.only else tuple(s.strip() for s in args.only.split(","))
    unknown = [s for s in chosen if s not in STEPS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(STEPS)}")
    lb.OUT_DIR.mkdir(parents=True, exist_ok=True)
    # Relative to the root (where every benchmark runs), so the commands read as typed.
    work = (lb.OUT_DIR / ("work-quick" if args.quick else "work")).relative_to(lb.ROOT)
    logs = lb.OUT_DIR / "logs"
    logs.mkdir(exist_ok=True)
    doc = lb.OUT_DIR / "PERFORMANCE-quick.md" if args.quick else lb.DEFAULT_DOC
    if args.quick:  # the smoke run edits a copy, so the published figures stay as they are
        shutil.copyfile(lb.DEFAULT_DOC, doc)
    commands = plan(args.quick, work, args.timeout)
    if "peers" in chosen and "ledger" not in chosen and not (lb.ROOT / work).exists():
        lb.log("peers: no books kept by a ledger run; peers_bench builds its own")
        commands["peers"] = [c for c in commands["peers"] if c not in ("--from", str(work))]
    if "meeting" in chosen and "ledger" not in chosen and not (lb.ROOT / work).exists():
        commands["meeting"] = commands["meeting"][:-2]

    record_path = lb.OUT_DIR / f"run_all{'-quick' if args.quick else ''}.json"
    record = _load(record_path) or {}
    steps: dict[str, Any] = record.get("steps", {})
    if args.render:
        machine = record.get("machine") or lb.machine_facts()
        for step in ("statements", "closing", "app"):
            figures = _load(json_of(step, args.quick))
            if step in steps and figures is not None:
                write_section(doc, step, steps[step], machine, figures, json_of(step, args.quick))
        write_summary(doc, args.quick, steps)
        print(f"Wrote {lb.shown(doc)} from the saved figures.")
        return 0
    machine = lb.machine_facts()
    failed = []
    for step in chosen:
        if step == "proof" and not (BENCH / "proof_bench.py").exists():
            lb.log("proof: bench/proof_bench.py is not there; skipped")
            continue
        result = run_step(step, commands[step], args.quick, logs)
        steps[step] = result
        if result["returncode"] != 0:
            failed.append(step)
            continue
        path = json_of(step, args.quick)
        figures = _load(path)
        if figures is None:
            continue
        write_section(doc, step, result, machine, figures, path)
    record = {"machine": machine, "steps": steps, "quick": args.quick}
    record_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    write_summary(doc, args.quick, steps)
    if not args.keep:
        shutil.rmtree(lb.ROOT / work, ignore_errors=True)
    print(summary_block(args.quick, steps, doc))
    print(f"Wrote {lb.shown(doc)} and {lb.shown(record_path)}; logs in {lb.shown(logs)}.")
    if failed:
        print(f"Failed: {', '.join(failed)} (see their logs).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
