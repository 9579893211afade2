"""Signing in on the command line for real: the administrator from init, users, roles,
refusals and the audit trail, as the people at a shared commune PC meet them."""

from __future__ import annotations

import json

import pytest

from tui.cli import main

ADMIN_PASSWORD = "kampot-pepper-2026"
DARA_PIN = "482915"
CHAN_PASSWORD = "lotus.pond.77"
GROUP_ARGS = (
    "--name",
    "Puok savings",
    "--province",
    "Siem Reap",
    "--district",
    "Puok",
    "--commune",
    "Puok",
)


@pytest.fixture
def sansam(book_url, capsys, monkeypatch):
    """Run ``sansam`` as ``user`` (with ``secret``), returning (exit code, out, err)."""

    def run(*args: str, user: str | None = None, secret: str | None = None):
        monkeypatch.delenv("SANSAM_USER", raising=False)
        monkeypatch.delenv("SANSAM_PASSWORD", raising=False)
        if user:
            monkeypatch.setenv("SANSAM_USER", user)
        if secret:
            monkeypatch.setenv("SANSAM_PASSWORD", secret)
        code = main([*args, "--db", book_url])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def as_admin(sansam, *args: str):
    return sansam(*args, user="sophea", secret=ADMIN_PASSWORD)


@pytest.fixture
def office(sansam, monkeypatch):
    """A book with its administrator, two groups, treasurer Dara (PIN) of PK-01 and chair
    Chan of PK-01."""
    code, out, err = sansam(
        "init", "--admin", "sophea", "--admin-name", "Sophea Chum", secret=ADMIN_PASSWORD
    )
    assert code == 0, err
    assert "Created the administrator sophea" in out
    for group in ("PK-01", "PK-02"):
        code, _, err = as_admin(
            sansam, "group", "create", group, "--cycle-start", "2026-01-05", *GROUP_ARGS
        )
        assert code == 0, err
    for user, name, secret, pin, role in (
        ("dara", "Dara Sok", DARA_PIN, True, "treasurer"),
        ("chan", "Chan Srey", CHAN_PASSWORD, False, "chair"),
    ):
        monkeypatch.setenv("SANSAM_NEW_PASSWORD", secret)
        code, out, err = as_admin(
            sansam, "user", "add", user, "--name", name, *(["--pin"] if pin else [])
        )
        assert code == 0, err
        code, out, err = as_admin(sansam, "user", "grant", user, "--group", "PK-01", "--role", role)
        assert code == 0 and f"{user} is now {role} of PK-01" in out
    monkeypatch.delenv("SANSAM_NEW_PASSWORD")
    return sansam


def test_init_makes_the_administrator_once_and_there_are_no_default_users(sansam):
    code, _, err = sansam("group", "list")
    assert code == 2 and "no users yet: run `sansam init`" in err
    code, out, _ = sansam("init", "--admin", "sophea", secret="short")
    assert code == 2 and "at least 10 characters" in _
    code, out, err = sansam("init", "--admin", "sophea", secret=ADMIN_PASSWORD)
    assert code == 0 and "Created the administrator sophea" in out
    code, out, _ = sansam("init")
    assert code == 0 and "administrator" not in out


def test_a_command_without_a_user_says_how_to_sign_in(office):
    code, _, err = office("group", "list")
    assert code == 2
    assert "give --user NAME and set SANSAM_PASSWORD" in err


def test_a_treasurer_sees_and_records_only_in_her_group(office):
    code, out, err = office("group", "list", user="dara", secret=DARA_PIN)
    assert code == 0, err
    assert "PK-01" in out and "PK-02" not in out
    code, out, err = office("group", "show", "PK-02", user="dara", secret=DARA_PIN)
    assert code == 2
    assert "Dara Sok (dara) may not read the books of group PK-02" in err
    code, out, err = office(
        "meeting", "open", "--group", "PK-02", "2026-01-05", user="dara", secret=DARA_PIN
    )
    assert code == 2 and "may not read the books of group PK-02" in err
    code, out, err = office(
        "meeting", "open", "--group", "PK-01", "2026-01-05", user="dara", secret=DARA_PIN
    )
    assert code == 0, err
    # The chair of PK-01 reads its trail: the meeting Dara opened, and her refusals.
    code, out, err = office(
        "audit", "--group", "PK-01", "--json", user="chan", secret=CHAN_PASSWORD
    )
    assert code == 0, err
    events = json.loads(out)
    assert any(
        e["user"] == "dara" and e["action"] == "record" and "opened the meeting" in e["detail"]
        for e in events
    )
    code, out, err = office("audit", "--json", user="sophea", secret=ADMIN_PASSWORD)
    denied = [e for e in json.loads(out) if e["outcome"] == "denied"]
    assert [(e["user"], e["group"]) for e in denied] == [("dara", "PK-02"), ("dara", "PK-02")]
    # A treasurer does not read the audit trail; a chair cannot record cash.
    code, _, err = office("audit", "--group", "PK-01", user="dara", secret=DARA_PIN)
    assert code == 2 and "may not read the audit trail of group PK-01" in err


def test_the_chair_cannot_record_and_the_treasurer_cannot_approve(office):
    code, _, err = office(
        "meeting", "open", "--group", "PK-01", "2026-01-05", user="chan",
        secret=CHAN_PASSWORD,
    )  # fmt: skip
    assert code == 2 and "Chan Srey (chan) may not record in the books of group PK-01" in err
    code, _, err = office(
        "user", "grant", "dara", "--group", "PK-02", "--role", "chair", user="dara",
        secret=DARA_PIN,
    )  # fmt: skip
    assert code == 2 and "may not manage users of this book" in err


def test_five_wrong_pins_lock_the_account(office):
    for _ in range(4):
        code, _, err = office("group", "list", user="dara", secret="999111")
        assert code == 2 and "The user name or the password/PIN is wrong." in err
    code, _, err = office("group", "list", user="dara", secret="999111")
    assert code == 2
    code, _, err = office("group", "list", user="dara", secret=DARA_PIN)
    assert code == 2 and "locked for 1 more minute(s)" in err
    code, out, _ = office("user", "list", "--json", user="sophea", secret=ADMIN_PASSWORD)
    dara = next(u for u in json.loads(out) if u["username"] == "dara")
    assert dara["locked_until"] is not None
    assert dara["roles"] == [{"group": "PK-01", "role": "treasurer"}]
    code, out, _ = office("audit", "--json", user="sophea", secret=ADMIN_PASSWORD)
    failed = [e for e in json.loads(out) if e["action"] == "sign_in" and e["outcome"] == "failed"]
    assert len(failed) == 6 and {e["user"] for e in failed} == {"dara"}


def test_verify_and_export_are_kept_in_the_trail(office, tmp_path):
    code, out, err = office("verify", "--group", "PK-01", user="chan", secret=CHAN_PASSWORD)
    assert code == 0, err
    export = tmp_path / "pk01.csv"
    code, out, err = office(
        "journal", "export", str(export), "--group", "PK-01", user="chan", secret=CHAN_PASSWORD
    )
    assert code == 0, err
    code, out, _ = office("audit", "--group", "PK-01", "--json", user="chan", secret=CHAN_PASSWORD)
    actions = [(e["user"], e["action"]) for e in json.loads(out)]
    assert ("chan", "verify") in actions and ("chan", "export") in actions


def test_a_loan_above_the_threshold_is_approved_by_the_coordinator(office, monkeypatch, tmp_path):
    monkeypatch.setenv("SANSAM_NEW_PASSWORD", "mekong.delta.9")
    as_admin(office, "user", "add", "vanna", "--name", "Vanna Kim")
    code, _, err = as_admin(
        office, "user", "grant", "vanna", "--group", "PK-01", "--role", "coordinator"
    )
    assert code == 0, err
    chan = {"user": "chan", "secret": CHAN_PASSWORD}
    vanna = {"user": "vanna", "secret": "mekong.delta.9"}
    dara = {"user": "dara", "secret": DARA_PIN}
    code, _, err = office("group", "threshold", "PK-01", "1,000,000", **chan)
    assert code == 2 and "may not set the loan approval threshold of group PK-01" in err
    code, _, err = office("group", "threshold", "PK-01", "-5", **vanna)
    assert code == 2 and "threshold" in err
    code, out, err = office("group", "threshold", "PK-01", "1,000,000", **vanna)
    assert code == 0, err
    assert "PK-01: Loans above 1,000,000 KHR are approved by a coordinator." in out
    members = tmp_path / "members.csv"
    members.write_text("code,name_latin,sex,joined_on\nM01,Sok Dara,F,2026-01-05\n")
    assert office("member", "import", str(members), "--group", "PK-01", **dara)[0] == 0
    code, _, err = office(
        "product", "create", "M6", "--group", "PK-01", "--name", "Six months", "--rate", "1.5",
        "--term", "6", "--frequency", "monthly", **chan,
    )  # fmt: skip
    assert code == 0, err
    for amount in ("1,000,000", "1,500,000"):
        code, _, err = office(
            "loan", "apply", "--group", "PK-01", "--member", "M01", "--product", "M6",
            "--amount", amount, "--purpose", "Cow", "--on", "2026-01-05", **dara,
        )  # fmt: skip
        assert code == 0, err
    code, out, err = office("loan", "approve", "1", "--group", "PK-01", **chan)
    assert code == 0 and "approved by chan as chair" in out
    code, _, err = office("loan", "approve", "2", "--group", "PK-01", **chan)
    assert code == 2
    assert "Loan #2 is for 1,500,000 KHR, above group PK-01's threshold of 1,000,000 KHR" in err
    code, out, err = office("loan", "approve", "2", "--group", "PK-01", **vanna)
    assert code == 0 and "approved by vanna as coordinator" in out, err
    code, out, _ = office("group", "show", "PK-01", "--json", **vanna)
    assert json.loads(out)["group"]["coordinator_approval_above"] == "1000000"


# Only a book in a file is backed up by Sansam; a server database is backed up with the
# server's own tools, so this test has no PostgreSQL case (rather than a skipped one).
@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_a_command_that_only_reads_leaves_no_backup_behind(office, sansam, book_url):
    """Every command signs in, and the sign-in is audited; only a command that changed
    the records backs the book up when it ends (at a million entries the copy takes
    seconds, which a coordinator would wait for after every report)."""
    from ledger.backup import book_file, list_backups

    path = book_file(book_url)
    assert path is not None

    def newest() -> int:
        return max((b.stat().st_mtime_ns for b in list_backups(path)), default=0)

    before = newest()
    for args in (("balances",), ("verify",), ("group", "list"), ("summary",)):
        code, _out, err = as_admin(sansam, *args)
        assert code == 0, err
    code, _out, _err = sansam("balances", user="sophea", secret="not-the-password")
    assert code != 0
    assert newest() == before
    code, out, err = as_admin(sansam, "audit", "--json")
    assert code == 0, err
    assert sum(1 for event in json.loads(out) if event["action"] == "sign_in") >= 4

    code, _out, err = as_admin(
        sansam, "group", "create", "PK-03", "--cycle-start", "2026-01-05", *GROUP_ARGS
    )
    assert code == 0, err
    assert newest() > before
