"""Sansam against hledger, ledger-cli, beancount and raw sqlite3, on the same data.

Run from the repository root::

    .venv/bin/python bench/peers_bench.py                         # builds 10k, 100k, 1M books
    .venv/bin/python bench/peers_bench.py --from bench/out/work/1m  # a book ledger_bench kept
    .venv/bin/python bench/peers_bench.py --quick                  # a smoke run

The two questions every ledger answers: the trial balance (every account's balance) and
one member's history (every movement of her savings account with the running balance).

How it is made fair:

- One book per size, built as ``bench/ledger_bench.py`` builds it (or the one it kept with
  ``--workdir``). The book is exported with Sansam's own commands, ``sansam journal
  export --format ledger`` (read by hledger and ledger-cli), ``--format beancount`` and
  the CSV, so every tool reads exactly the same entries. The raw sqlite3 floor is that
  CSV loaded into one plain table (``ledger_bench.load_raw``).
- Each peer runs as its users run it, a command that reads its whole journal and answers:
  ``hledger -f FILE bal``, ``hledger -f FILE reg ACCOUNT``, ``ledger -f FILE bal``,
  ``ledger -f FILE reg ACCOUNT``, ``bean-query FILE "SELECT account, sum(position) GROUP
  BY account"`` and a register query for the account. Beancount keeps a pickle of a
  loaded journal next to it; the main figures disable it (``BEANCOUNT_DISABLE_LOAD_CACHE``)
  so it re-reads its journal like the others, and one more row shows it warm.
- Wall time is the process's, from start to exit, with its output written to a file;
  peak memory is the process's own ``ru_maxrss`` from ``wait4``. A run that passes
  ``--timeout`` is killed and recorded as a timeout.
- Sansam answers from its book: in a warm process (the app or a long-lived command: the
  median of several reads, each in its own read session) and as a cold process that
  imports the ledger package, opens the book and asks once. raw sqlite3 is timed the same
  two ways, with the query alone and as a process.
- Every tool's last running balance of the member's account is checked against Sansam's,
  so a tool that read the file differently would show.

Figures go to ``bench/out/peers_bench.json`` and the "Against the peers" block of
``docs/PERFORMANCE.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ledger_bench as lb

SECTION = "## Against the peers"
TIMEOUT_S = 600.0
HOW_TO_INSTALL = {
    "hledger": "apt-get install -y hledger",
    "ledger": "apt-get install -y ledger",
    "beancount": "pip install beancount beanquery (bean-query is in beanquery)",
}
# The account whose history is asked for, as the plain-text exports name it.
_LAST_AMOUNT = re.compile(r"(-?[\d,]+(?:\.\d+)?)\s+KHR\s*$")


# --- the tools --------------------------------------------------------------------------------


def bean_query() -> str | None:
    local = Path(sys.executable).parent / "bean-query"
    return str(local) if local.exists() else shutil.which("bean-query")


def tool_versions() -> dict[str, str | None]:
    def first_line(command: list[str]) -> str | None:
        if shutil.which(command[0]) is None:
            return None
        out = subprocess.run(command, capture_output=True, text=True).stdout.strip()
        return out.splitlines()[0] if out else None

    versions = {
        "hledger": first_line(["hledger", "--version"]),
        "ledger": first_line(["ledger", "--version"]),
        "beancount": None,
    }
    if bean_query():
        from importlib import metadata

        try:
            versions["beancount"] = (
                f"beancount {metadata.version('beancount')}, "
                f"beanquery {metadata.version('beanquery')}"
            )
        except metadata.PackageNotFoundError:
            versions["beancount"] = None
    return versions


def peer_commands(
    tool: str, ledger_file: Path, bean_file: Path, account: str
) -> dict[str, list[str]] | None:
    """The two questions as the tool's users ask them; None when it is not installed."""
    if tool == "hledger" and shutil.which("hledger"):
        return {
            "tb": ["hledger", "-f", str(ledger_file), "bal"],
            "history": ["hledger", "-f", str(ledger_file), "reg", f"^{account}$"],
        }
    if tool == "ledger" and shutil.which("ledger"):
        return {
            "tb": ["ledger", "-f", str(ledger_file), "bal"],
            "history": ["ledger", "-f", str(ledger_file), "reg", f"^{account}$"],
        }
    query = bean_query()
    if tool == "beancount" and query:
        return {
            "tb": [query, str(bean_file), "SELECT account, sum(position) GROUP BY account"],
            "history": [
                query,
                str(bean_file),
                f"SELECT date, narration, position, balance WHERE account = '{account}'",
            ],
        }
    return None


def last_balance(output: Path) -> int | None:
    """The running balance on the last line of a register report, in riel."""
    lines = [line for line in output.read_text(encoding="utf-8", errors="replace").splitlines()]
    for line in reversed(lines):
        found = _LAST_AMOUNT.search(line)
        if found:
            return int(float(found.group(1).replace(",", "")))
    return None


def run_peer(
    command: list[str], *, repeat: int, timeout: float, env: dict[str, str], out: Path
) -> dict[str, Any]:
    """Wall time (median of ``repeat``) and peak RSS of a peer's command; stops repeating
    after a timeout or a failure."""
    walls, rss, timed_out, code = [], 0, False, 0
    for _ in range(repeat):
        run = lb.measure_process(command, env=env, timeout=timeout, stdout=out)
        rss = max(rss, run.max_rss_kib)
        if run.timed_out or run.returncode != 0:
            timed_out, code = run.timed_out, run.returncode
            break
        walls.append(run.wall_s)
    return {
        "command": shlex.join(command),
        "samples_s": walls,
        "median_s": statistics.median(walls) if walls else None,
        "max_rss_kib": rss,
        "timed_out": timed_out,
        "returncode": code,
        "timeout_s": timeout,
    }


# --- children: Sansam and sqlite3 answering ----------------------------------------------------


def _child_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="peers_bench.py _child")
    parser.add_argument("step", choices=("sansam", "sansam-once", "sqlite", "sqlite-once"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--what", choices=("tb", "history"), default="tb")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if args.step == "sansam":
        payload = _sansam(args.db, args.group, args.account, args.repeat)
    elif args.step == "sansam-once":
        payload = _sansam_once(args.db, args.group, args.account, args.what)
    elif args.step == "sqlite":
        payload = _sqlite(Path(args.db), args.group, args.account, args.repeat)
    else:
        payload = _sqlite_once(Path(args.db), args.group, args.account, args.what)
    print(json.dumps(payload))
    return 0


def _sansam(db_url: str, group_code: str, account: str, repeat: int) -> dict[str, Any]:
    from ledger.accounts import accounts_by_name
    from ledger.db import Book
    from ledger.groups import find_group
    from ledger.queries import account_history, trial_balance

    book = Book(db_url).as_user(lb.bench_actor())
    with book.read() as session:
        group_id = find_group(session, group_code).id
        account_id = accounts_by_name(session, group_id)[(account, "KHR")]
    facts: dict[str, Any] = {"exported_name": exported_name(group_code, account)}

    def tb() -> int:
        with book.read() as session:
            result = trial_balance(session)
        facts["accounts"] = len(result.rows)
        return len(result.rows)

    def history() -> int:
        with book.read() as session:
            rows = account_history(session, account_id)
        facts["history_rows"] = len(rows)
        facts["last_balance"] = rows[-1].running_minor if rows else 0
        return len(rows)

    payload = {
        "tb": lb._timed(repeat, tb).as_dict(),
        "history": lb._timed(repeat, history).as_dict(),
        **facts,
    }
    book.close()
    return payload


def _sansam_once(db_url: str, group_code: str, account: str, what: str) -> dict[str, Any]:
    """A cold command: import, open the book, answer once, print (the parent times it)."""
    from ledger.accounts import accounts_by_name
    from ledger.db import Book
    from ledger.groups import find_group
    from ledger.queries import account_history, trial_balance

    book = Book(db_url).as_user(lb.bench_actor())
    with book.read() as session:
        if what == "tb":
            rows = len(trial_balance(session).rows)
        else:
            group_id = find_group(session, group_code).id
            account_id = accounts_by_name(session, group_id)[(account, "KHR")]
            rows = len(account_history(session, account_id))
    book.close()
    return {"rows": rows}


RAW_TB = (
    "SELECT grp, account, commodity, sum(amount) FROM postings GROUP BY grp, account, commodity"
)
RAW_HISTORY = (
    "SELECT date, txn_id, description, amount, "
    "sum(amount) OVER (ORDER BY rowid) FROM postings WHERE grp = ? AND account = ? ORDER BY rowid"
)


def _sqlite(db_path: Path, group: str, account: str, repeat: int) -> dict[str, Any]:
    """The floor: the same questions in SQL on the plain table, then with an index."""
    conn = sqlite3.connect(db_path)

    def tb() -> int:
        return len(conn.execute(RAW_TB).fetchall())

    def history() -> int:
        return len(conn.execute(RAW_HISTORY, (group, account)).fetchall())

    payload: dict[str, Any] = {
        "tb": lb._timed(repeat, tb).as_dict(),
        "history": lb._timed(repeat, history).as_dict(),
    }
    rows = conn.execute(RAW_HISTORY, (group, account)).fetchall()
    payload["last_balance"] = rows[-1][-1] if rows else 0
    started = time.perf_counter()
    conn.execute("CREATE INDEX IF NOT EXISTS postings_account ON postings(grp, account)")
    conn.commit()
    payload["index_s"] = time.perf_counter() - started
    payload["history_indexed"] = lb._timed(repeat, history).as_dict()
    conn.execute("DROP INDEX postings_account")
    conn.commit()
    conn.close()
    return payload


def _sqlite_once(db_path: Path, group: str, account: str, what: str) -> dict[str, Any]:
    conn = sqlite3.connect(db_path)
    if what == "tb":
        rows = len(conn.execute(RAW_TB).fetchall())
    else:
        rows = len(conn.execute(RAW_HISTORY, (group, account)).fetchall())
    conn.close()
    return {"rows": rows}


def child(*args: str) -> lb.ChildRun:
    return lb.run_process([sys.executable, str(Path(__file__).resolve()), "_child", *args])


# --- one size ----------------------------------------------------------------------------------


def build_book(shape: lb.Shape, work: Path) -> None:
    """The book ledger_bench measures, without its measures: journal, groups and members,
    import, loans and meetings."""
    csv_path = work / "journal.csv"
    lb.log(f"[{shape.name}] building the book: {shape.groups} groups")
    lb.generate_journal(csv_path, shape)
    db_path = work / "book.sqlite"
    url = f"sqlite:///{db_path}"
    spec = json.dumps(asdict(shape))
    lb.init_book(db_path)
    lb.run_child("setup", "--db", url, "--shape", spec)
    lb.run_child("import", "--db", url, "--csv", str(csv_path))
    lb.run_child("loans", "--db", url, "--shape", spec)


def export(db_path: Path, fmt: str, target: Path) -> dict[str, Any]:
    target.unlink(missing_ok=True)
    command = [*lb.sansam_command(), "journal", "export", "--db", str(db_path)]
    command += ["--format", fmt, str(target)]
    run = lb.measure_process(command, env=lb.cli_env())
    if run.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed with exit code {run.returncode}.")
    return {
        "wall_s": run.wall_s,
        "max_rss_kib": run.max_rss_kib,
        "mb": round(target.stat().st_size / 1e6, 1),
        "said": run.stdout.strip(),
    }


def exported_name(group: str, account: str) -> str:
    """Sansam's name as the plain-text exports write it (ledger.journal_text). Asked in a
    child: this process stays small (see ``ledger_bench.measure_process``)."""
    from ledger.journal_text import ROOTS, group_component, name_component

    segments = account.split(":")
    root = segments[0]
    assert root in ROOTS.values(), account
    return ":".join([root, group_component(group), *(name_component(s) for s in segments[1:])])


def measure_size(
    shape: lb.Shape, work: Path, *, repeat: int, peer_repeat: int, timeout: float
) -> dict[str, Any]:
    db_path = work / "book.sqlite"
    if not db_path.exists():
        build_book(shape, work)
    url = f"sqlite:///{db_path}"
    group, account = shape.probe_group, shape.probe_account
    result: dict[str, Any] = {"label": shape.name, "shape": asdict(shape)}
    result["book"] = lb.book_facts(db_path)

    lb.log(f"[{shape.name}] exporting with `sansam journal export` (ledger, beancount, csv)")
    files = {"ledger": work / "book.ledger", "beancount": work / "book.beancount"}
    files["csv"] = work / "book.csv"
    result["exports"] = {fmt: export(db_path, fmt, path) for fmt, path in files.items()}
    for fmt, facts in result["exports"].items():
        lb.log(f"  {fmt}: {facts['wall_s']:.1f} s, {facts['mb']:,} MB")

    lb.log("  raw sqlite3: the exported CSV into one plain table")
    raw_path = work / "peers-raw.sqlite"
    raw_path.unlink(missing_ok=True)
    raw = lb.run_child("raw", "--db", str(raw_path), "--csv", str(files["csv"]))
    result["raw_load"] = {**raw.payload, "wall_s": raw.wall_s, "max_rss_kib": raw.max_rss_kib}

    lb.log("  Sansam: warm process, then one cold command per question")
    common = ["--group", group, "--account", account]
    warm = child("sansam", "--db", url, *common, "--repeat", str(repeat))
    result["sansam"] = {**warm.payload, "max_rss_kib": warm.max_rss_kib}
    plain = result["account"] = warm.payload["exported_name"]
    result["sansam_once"] = {}
    for what in ("tb", "history"):
        runs = [child("sansam-once", "--db", url, *common, "--what", what) for _ in range(3)]
        result["sansam_once"][what] = {
            "median_s": statistics.median(r.wall_s for r in runs),
            "max_rss_kib": max(r.max_rss_kib for r in runs),
        }

    lb.log("  raw sqlite3 queries")
    sql = child("sqlite", "--db", str(raw_path), *common, "--repeat", str(repeat))
    result["sqlite"] = {**sql.payload, "max_rss_kib": sql.max_rss_kib}
    result["sqlite_once"] = {}
    for what in ("tb", "history"):
        runs = [
            child("sqlite-once", "--db", str(raw_path), *common, "--what", what) for _ in range(3)
        ]
        result["sqlite_once"][what] = {
            "median_s": statistics.median(r.wall_s for r in runs),
            "max_rss_kib": max(r.max_rss_kib for r in runs),
        }

    expected = result["sansam"]["last_balance"]
    result["peers"] = {}
    cold_env = {**os.environ, "BEANCOUNT_DISABLE_LOAD_CACHE": "1"}
    for tool in ("hledger", "ledger", "beancount"):
        commands = peer_commands(tool, files["ledger"], files["beancount"], plain)
        if commands is None:
            lb.log(f"  {tool}: not installed ({HOW_TO_INSTALL[tool]}); skipped")
            result["peers"][tool] = {"missing": HOW_TO_INSTALL[tool]}
            continue
        figures: dict[str, Any] = {}
        for what, command in commands.items():
            lb.log(f"  {tool} {what}: {shlex.join(command)[:100]}")
            out = work / f"{tool}-{what}.out"
            figures[what] = run_peer(
                command, repeat=peer_repeat, timeout=timeout, env=cold_env, out=out
            )
            if what == "history" and figures[what]["median_s"] is not None:
                got = last_balance(out)
                figures[what]["last_balance"] = got
                figures[what]["agrees"] = got == expected
            shown = figures[what]["median_s"]
            lb.log(
                "    "
                + (
                    "timed out"
                    if figures[what]["timed_out"]
                    else f"{shown:.2f} s"
                    if shown
                    else "failed"
                )
                + f", peak RSS {figures[what]['max_rss_kib'] / 1024:,.0f} MiB"
            )
        if tool == "beancount":
            # Its pickle cache, as a second question of the day would find it.
            lb.log("  beancount with its load cache warm")
            out = work / "beancount-warm.out"
            cache = work / ".book.beancount.picklecache"
            cache.unlink(missing_ok=True)
            first = run_peer(
                commands["tb"], repeat=1, timeout=timeout, env=dict(os.environ), out=out
            )
            warm_run = (
                run_peer(
                    commands["tb"],
                    repeat=peer_repeat,
                    timeout=timeout,
                    env=dict(os.environ),
                    out=out,
                )
                if first["median_s"] is not None and cache.exists()
                else first
            )
            figures["tb_warm"] = {**warm_run, "cache_mb": _mb(cache)}
            if figures["tb_warm"]["cache_mb"] is None:
                figures["tb_warm"]["note"] = "no cache: beancount keeps none for loads under 1 s"
            cache.unlink(missing_ok=True)
        result["peers"][tool] = figures
    return result


def _mb(path: Path) -> float | None:
    return round(path.stat().st_size / 1e6, 1) if path.exists() else None


# --- the report --------------------------------------------------------------------------------


def _fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def _peer_cell(fig: dict[str, Any]) -> str:
    if fig.get("timed_out"):
        return f"timed out (> {fig['timeout_s']:,.0f} s)"
    if fig.get("median_s") is None:
        return f"failed (exit {fig.get('returncode')})"
    return _fmt_s(fig["median_s"])


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or not b:
        return "—"
    r = a / b
    if r >= 10:
        return f"{r:,.0f}×"
    return f"{r:.1f}×" if r >= 0.1 else f"{r:.2g}×"


def _floor(sansam: float | None, sqlite: float | None) -> str:
    """The other ratio the issue asks for: Sansam over the raw sqlite3 floor."""
    return f"Sansam ÷ sqlite3 = {_ratio(sansam, sqlite)}"


def size_table(r: dict[str, Any]) -> list[str]:
    s = r["sansam"]
    tb_s, hist_s = s["tb"]["median_ms"] / 1000, s["history"]["median_ms"] / 1000
    sql = r["sqlite"]
    rows = [
        "| Who answers | Trial balance | Ratio | Peak RSS | Member history | "
        "Ratio | Peak RSS | Same last balance? |",
        "|---|---|---|---|---|---|---|---|",
        f"| **Sansam**, warm process (median of {len(s['tb']['samples_ms'])}) | "
        f"**{_fmt_s(tb_s)}** | 1× | {lb._mib(s['max_rss_kib'])} | **{_fmt_s(hist_s)}** | 1× | "
        f"{lb._mib(s['max_rss_kib'])} | {s['last_balance']:,} (its own) |",
        f"| Sansam, one cold command (import, open, ask once) | "
        f"{_fmt_s(r['sansam_once']['tb']['median_s'])} | — | "
        f"{lb._mib(r['sansam_once']['tb']['max_rss_kib'])} | "
        f"{_fmt_s(r['sansam_once']['history']['median_s'])} | — | "
        f"{lb._mib(r['sansam_once']['history']['max_rss_kib'])} | |",
        f"| raw sqlite3, plain table, query only | {_fmt_s(sql['tb']['median_ms'] / 1000)} | "
        f"{_floor(tb_s, sql['tb']['median_ms'] / 1000)} | {lb._mib(sql['max_rss_kib'])} | "
        f"{_fmt_s(sql['history']['median_ms'] / 1000)} | "
        f"{_floor(hist_s, sql['history']['median_ms'] / 1000)} | | {sql['last_balance']:,} |",
        f"| raw sqlite3 with an index on (grp, account), query only | | | | "
        f"{_fmt_s(sql['history_indexed']['median_ms'] / 1000)} | "
        f"{_floor(hist_s, sql['history_indexed']['median_ms'] / 1000)} | | |",
        f"| raw sqlite3, one cold process | {_fmt_s(r['sqlite_once']['tb']['median_s'])} | "
        f"{_floor(r['sansam_once']['tb']['median_s'], r['sqlite_once']['tb']['median_s'])} "
        "(cold ÷ cold) | "
        f"{lb._mib(r['sqlite_once']['tb']['max_rss_kib'])} | "
        f"{_fmt_s(r['sqlite_once']['history']['median_s'])} | "
        f"{_floor(r['sansam_once']['history']['median_s'], r['sqlite_once']['history']['median_s'])}"  # noqa: E501
        " (cold ÷ cold) | "
        f"{lb._mib(r['sqlite_once']['history']['max_rss_kib'])} | |",
    ]
    names = {"hledger": "hledger", "ledger": "ledger-cli", "beancount": "beancount (bean-query)"}
    for tool, label in names.items():
        fig = r["peers"].get(tool, {})
        if "missing" in fig:
            rows.append(f"| {label} | not installed: `{fig['missing']}` | | | | | | |")
            continue
        tb, hist = fig["tb"], fig["history"]
        agrees = hist.get("agrees")
        check = (
            "—"
            if agrees is None
            else f"yes ({hist['last_balance']:,})"
            if agrees
            else f"**no** ({hist.get('last_balance')})"
        )
        rows.append(
            f"| {label} | {_peer_cell(tb)} | {_ratio(tb['median_s'], tb_s)} | "
            f"{lb._mib(tb['max_rss_kib'])} | {_peer_cell(hist)} | "
            f"{_ratio(hist['median_s'], hist_s)} | {lb._mib(hist['max_rss_kib'])} | {check} |"
        )
        if "tb_warm" in fig:
            warm = fig["tb_warm"]
            cache = (
                f"{warm['cache_mb']:,} MB cache" if warm.get("cache_mb") else warm.get("note", "")
            )
            rows.append(
                f"| beancount, its pickle load cache warm ({cache}) | "
                f"{_peer_cell(warm)} | {_ratio(warm['median_s'], tb_s)} | "
                f"{lb._mib(warm['max_rss_kib'])} | | | | |"
            )
    return rows


def sansam_beats_peers(r: dict[str, Any]) -> dict[str, Any]:
    """For the summary: is Sansam under 100 ms and faster than every installed peer?"""
    out: dict[str, Any] = {}
    for what in ("tb", "history"):
        ours = r["sansam"][what]["median_ms"]
        peers = {
            tool: fig[what]
            for tool, fig in r["peers"].items()
            if "missing" not in fig and what in fig
        }
        fastest = min(
            (
                (f["median_s"] if f["median_s"] is not None else float("inf"), tool)
                for tool, f in peers.items()
            ),
            default=(None, None),
        )
        out[what] = {
            "sansam_ms": ours,
            "fastest_peer": fastest[1],
            "fastest_peer_s": fastest[0] if fastest[0] != float("inf") else None,
            "faster_than_all": all(
                f["timed_out"] or (f["median_s"] is not None and f["median_s"] * 1000 > ours)
                for f in peers.values()
            ),
            "peers_missing": [t for t, f in r["peers"].items() if "missing" in f],
        }
    return out


def render_section(results: dict[str, Any], command: str, json_path: str) -> str:
    m, v = results["machine"], results["versions"]
    peers = ", ".join(
        f"{name} ({v[key] or 'not installed'})"
        for key, name in (
            ("hledger", "hledger"),
            ("ledger", "ledger-cli"),
            ("beancount", "beancount"),
        )
    )
    lines = [
        "Generated by `bench/peers_bench.py`; rerun it to refresh this block. Raw figures: "
        f"`{json_path}`.",
        "",
        f"Command: `{command}`  ",
        f"Run: {results['started']} to {results['finished']}.",
        "",
        f"**Machine.** {lb.machine_sentence(m)} Peers: {peers}. "
        f"{lb.load_sentence(results['load'])}",
        "",
        "**Data.** The books of the ledger benchmark above (same generator, same sizes), "
        "exported with `sansam journal export --format ledger|beancount|csv`: every tool "
        "reads the same entries, the journal plus the loans carried over and the meetings. "
        "The member is the probe member of the ledger benchmark (M07 of the middle group); "
        "the plain-text name of her savings account is given per size.",
        "",
        "**Method.** A peer's figure is its command's wall time, start to exit, output to a "
        "file (median of "
        f"{results['peer_repeat']} runs below 500k entries, one run above), and its own peak "
        "RSS (`wait4`). hledger and ledger-cli read the ledger export; beancount is "
        "`bean-query` on the beancount export with its load cache disabled "
        "(`BEANCOUNT_DISABLE_LOAD_CACHE=1`), so each command re-reads its whole journal, "
        f"as its users' commands do. Runs longer than {results['timeout_s']:,.0f} s are "
        "killed and shown as timed out. Sansam answers from its book; its warm figure is "
        "the one judged against the target and used in the ratios (the app and the "
        "coordinator's long-lived process ask it that way). The cold command includes "
        "starting Python and importing SQLAlchemy, about half a second, and is shown for "
        "comparison with the peers' own start-up. The ratio is the peer's time divided by "
        "Sansam's warm median (peer ÷ Sansam: how many times slower the peer is), and for "
        "raw sqlite3 Sansam's time divided by the floor's (Sansam ÷ sqlite3: how far Sansam "
        'is above the floor; below 1× Sansam is faster). "Same last balance" checks the '
        "last running balance of the member's account in each tool's register against "
        "Sansam's.",
        "",
    ]
    for r in results["sizes"]:
        b = r["book"]
        ex = r["exports"]
        lines += [
            f"### {r['label']}: {b['journal_entries']:,} entries, {b['postings']:,} postings, "
            f"{b['accounts']:,} accounts",
            "",
            f"Member account: `{r['account']}` ({r['sansam']['history_rows']:,} movements). "
            f"Exports: ledger {ex['ledger']['mb']:,} MB in {ex['ledger']['wall_s']:,.1f} s, "
            f"beancount {ex['beancount']['mb']:,} MB in {ex['beancount']['wall_s']:,.1f} s, "
            f"CSV {ex['csv']['mb']:,} MB in {ex['csv']['wall_s']:,.1f} s (process wall time "
            "of `sansam journal export`: start-up, sign-in, writing the file); the CSV "
            f"loads into the raw table in {r['raw_load']['seconds']:,.1f} s.",
            "",
            *size_table(r),
            "",
        ]
    big = results["sizes"][-1]
    verdict = sansam_beats_peers(big)
    said = []
    for what, label in (("tb", "trial balance"), ("history", "member history")):
        x = verdict[what]
        said.append(
            f"{label}: Sansam {x['sansam_ms']:,.1f} ms"
            + (
                f", the fastest peer {x['fastest_peer']} {_fmt_s(x['fastest_peer_s'])}"
                if x["fastest_peer"]
                else ""
            )
            + (" — faster than every peer" if x["faster_than_all"] else " — **not** the fastest")
        )
    lines += [f"At {big['label']}: " + "; ".join(said) + ".", ""]
    return "\n".join(lines)


# --- entry point -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_child"]:
        return _child_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=lb.DEFAULT_SIZES, help="as ledger_bench (%(default)s)")
    parser.add_argument(
        "--from",
        dest="workdir",
        type=Path,
        help="ledger_bench's --workdir: use the books it kept (DIR/<size>/book.sqlite)",
    )
    parser.add_argument("--quick", action="store_true", help="two tiny books: a smoke run")
    parser.add_argument("--repeat", type=int, default=5, help="samples of Sansam's and sqlite3's")
    parser.add_argument("--peer-repeat", type=int, default=3, help="runs of each peer command")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per peer run")
    parser.add_argument("--out", type=Path, help="Markdown file to update")
    parser.add_argument("--json", type=Path, help="where to write the raw figures")
    parser.add_argument(
        "--render", type=Path, help="only write the document's block again from this JSON"
    )
    args = parser.parse_args(argv)
    if args.quick:
        shapes = [lb.Shape(g, m, y, f"{g}x{m}x{y}") for g, m, y in lb.QUICK_SIZES]
    else:
        shapes = lb.parse_sizes(args.sizes)
    doc, json_path = lb.outputs(args, "peers_bench")
    if args.render:
        return lb.render_saved(args.render, doc, SECTION, "bench/peers_bench.py", render_section)

    missing = [t for t in ("hledger", "ledger") if shutil.which(t) is None]
    if bean_query() is None:
        missing.append("beancount")
    for tool in missing:
        print(
            f"{tool} is not installed; it is skipped (install it with: {HOW_TO_INSTALL[tool]}).",
            file=sys.stderr,
        )

    results: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": lb.machine_facts(),
        "versions": tool_versions(),
        "timeout_s": args.timeout,
        "peer_repeat": args.peer_repeat,
        "sizes": [],
    }
    with lb.LoadSampler() as load:
        for shape in shapes:
            if args.workdir is not None:
                work = args.workdir / shape.name
                work.mkdir(parents=True, exist_ok=True)
                temporary = False
            else:
                work = Path(tempfile.mkdtemp(prefix="peers-", dir=lb.OUT_DIR))
                temporary = True
            try:
                big = shape.groups * shape.members * shape.years * 3 * 52 > 500_000
                results["sizes"].append(
                    measure_size(
                        shape,
                        work,
                        repeat=args.repeat,
                        peer_repeat=1 if big else args.peer_repeat,
                        timeout=args.timeout,
                    )
                )
            finally:
                for name in ("book.ledger", "book.beancount", "book.csv", "peers-raw.sqlite"):
                    (work / name).unlink(missing_ok=True)
                if temporary:
                    shutil.rmtree(work, ignore_errors=True)
    results["load"] = load.summary()
    results["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    command = shlex.join([".venv/bin/python", "bench/peers_bench.py", *argv])
    results["command"] = command
    results["verdict"] = sansam_beats_peers(results["sizes"][-1])
    json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    body = render_section(results, command, lb.shown(json_path))
    lb.write_block(
        doc, SECTION, "bench/peers_bench.py", body, before=("## Where the import time goes",)
    )
    print(body)
    print(f"\nWrote {lb.shown(doc)} and {lb.shown(json_path)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
