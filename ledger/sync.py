"""Moving a group's books between books: signed bundles, taken all or nothing.

A village PC keeps a group's books offline; the district office keeps a central copy of
many groups. ``export_bundle`` writes the group's journal from a chain position (with the
members and accounts the entries name) as a gzip-compressed JSON file, signed with the
exporting book's key (``ledger.book_identity``). ``import_bundle`` on another book:

1. checks the signature, and that the signer is the group's home (the first bundle of a
   new group makes its signer the home, trust on first use);
2. checks the bundle's own chain: every entry's content must match its hashes and each
   must link to the one before, so an amount changed or an entry dropped is named;
3. compares it with the chain this book already holds: entries it has must be the very
   same (else the chains *diverge*, and the first diverging entry is named), and the
   bundle must reach back to this book's last entry (no gap);
4. then, and only then, writes what is new, through ``ledger.posting.replicate_entries``.

Importing the same bundle twice, or an older one after a newer one, changes nothing.

A bundle carries the general journal with its members and accounts, and the group's
records beyond it (``ledger.sync_records``: meetings and their sheets, loans with their
schedules and events, borrowings, rice, share-outs, period closes, and the home's audit
events), so the central book's balances, portfolio, arrears, rice position and
statements equal the village's. Records are applied only from a bundle newer than the
last one applied, so an older bundle never rolls them back.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.book_identity import (
    book_key,
    fingerprint,
    home_key,
    signature_holds,
)
from ledger.errors import LedgerError, SyncRejected
from ledger.hashing import timestamp_text
from ledger.models import (
    GENESIS_HASH,
    Account,
    Group,
    GroupHome,
    JournalEntry,
    Member,
    PeriodClose,
    Posting,
)
from ledger.permissions import allow, current_actor, log_reading
from ledger.posting import ReplicatedEntry, replicate_entries
from ledger.queries import chain_head
from ledger.sync_records import (
    apply_records,
    copy_audit_events,
    export_records,
    insert_period_close,
    plain,
)

FORMAT = "sansam-sync/1"
MAX_BUNDLE_BYTES = 1 << 30  # 1 GiB of JSON: far above any group's books; stops a zip bomb
GROUP_FIELDS = (
    "uuid",
    "code",
    "name",
    "kind",
    "currency",
    "meeting_frequency",
    "meeting_day",
    "province_code",
    "district_code",
    "commune_code",
    "village_code",
    "coordinator_approval_above",
)
GROUP_CHANGEABLE = GROUP_FIELDS[2:]
MEMBER_FIELDS = (
    "uuid",
    "code",
    "name_latin",
    "name_khmer",
    "sex",
    "phone",
    "household",
    "id_poor",
    "id_poor_number",
    "role",
    "joined_on",
    "exited_on",
)
ACCOUNT_FIELDS = ("uuid", "name", "commodity", "type", "role", "no_negative")


@dataclass(frozen=True, slots=True)
class BundleSummary:
    group_code: str
    from_seq: int
    to_seq: int
    entries: int
    signer: str  # the signing key's fingerprint


@dataclass(frozen=True, slots=True)
class ImportSummary:
    group_code: str
    new_entries: int
    already_held: int
    head_seq: int
    new_group: bool
    signer: str
    records: int = 0  # meetings, loans, rice… rows added, brought up to date or removed
    audit_events: int = 0  # the home's audit events copied into this book's trail
    stale: bool = False  # older than the last bundle applied: its records were not taken


# --- writing a bundle ---------------------------------------------------------------------


def export_bundle(
    session: Session, group_id: int, path: str | Path, *, since: int = 1
) -> BundleSummary:
    """Write the group's entries from ``since`` on (and everything they name) to ``path``."""
    if since < 1:
        raise SyncRejected("--since is an entry number, 1 or more.")
    group = session.get(Group, group_id)
    if group is None:
        raise SyncRejected(f"There is no group with id {group_id}.")
    key = book_key(session)
    head, _ = chain_head(session, group_id)
    if since > head + 1:
        raise SyncRejected(
            f"Group {group.code} has entries up to #{head}; --since {since} is past them."
        )
    log_reading(session, "export", group_id, f"sync bundle of entries #{since}-#{head}")
    prev_hash = GENESIS_HASH
    if since > 1:
        prev_hash = session.execute(
            select(JournalEntry.hash).where(
                JournalEntry.group_id == group_id, JournalEntry.seq == since - 1
            )
        ).scalar_one()
    member_rows = _rows(session, Member, group_id)
    account_rows = _rows(session, Account, group_id)
    members = [{f: plain(getattr(m, f)) for f in MEMBER_FIELDS} for m in member_rows]
    member_uuids = {m.id: m.uuid for m in member_rows}
    accounts = [
        {
            **{f: getattr(a, f) for f in ACCOUNT_FIELDS},
            "member": None if a.member_id is None else member_uuids[a.member_id],
        }
        for a in account_rows
    ]
    payload = {
        "format": FORMAT,
        "book": {"uuid": key.book_uuid, "public_key": key.public_key},
        "home": home_key(session, group_id),
        "exported_at": timestamp_text(dt.datetime.now(dt.UTC)),
        "group": {f: plain(getattr(group, f)) for f in GROUP_FIELDS},
        "members": members,
        "accounts": accounts,
        "records": export_records(
            session,
            group_id,
            {m.id: m.uuid for m in member_rows},
            {a.id: a.uuid for a in account_rows},
        ),
        "from_seq": since,
        "to_seq": head,
        "prev_hash": prev_hash,
        "entries": list(_entries(session, group_id, since)),
    }
    data = canonical(payload)
    document = {"payload": payload, "signature": key.sign(data)}
    _write_atomically(Path(path), gzip.compress(canonical(document), mtime=0))
    return BundleSummary(group.code, since, head, head - since + 1, key.fingerprint)


def canonical(value: object) -> bytes:
    """The one byte form of a bundle that is signed and checked."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _rows(session: Session, model: type[Member] | type[Account], group_id: int) -> list[Any]:
    return list(
        session.execute(select(model).where(model.group_id == group_id).order_by(model.id))
        .scalars()
        .all()
    )


def _entries(session: Session, group_id: int, since: int) -> Iterable[dict[str, Any]]:
    accounts = dict(
        session.execute(select(Account.id, Account.uuid).where(Account.group_id == group_id)).all()
    )
    lines: dict[int, list[list[Any]]] = {}
    for p in session.execute(
        select(Posting.entry_seq, Posting.account_id, Posting.commodity, Posting.amount)
        .where(Posting.group_id == group_id, Posting.entry_seq >= since)
        .order_by(Posting.entry_seq, Posting.line_no)
    ):
        lines.setdefault(p.entry_seq, []).append([accounts[p.account_id], p.commodity, p.amount])
    for e in session.execute(
        select(JournalEntry)
        .where(JournalEntry.group_id == group_id, JournalEntry.seq >= since)
        .order_by(JournalEntry.seq)
    ).scalars():
        yield {
            "seq": e.seq,
            "uuid": e.uuid,
            "date": e.entry_date.isoformat(),
            "memo": e.memo,
            "author": e.author,
            "key": e.idempotency_key,
            "request_hash": e.request_hash,
            "reverses_seq": e.reverses_seq,
            "created_at": timestamp_text(e.created_at),
            "prev_hash": e.prev_hash,
            "hash": e.hash,
            "postings": lines.get(e.seq, []),
        }


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise SyncRejected(f"The bundle could not be written to {path}: {exc.strerror}.") from None


# --- taking a bundle ----------------------------------------------------------------------


def read_bundle(path: str | Path) -> dict[str, Any]:
    """The signed document in a bundle file, or a plain refusal."""
    try:
        with gzip.open(path, "rb") as handle:
            data = handle.read(MAX_BUNDLE_BYTES + 1)
    except FileNotFoundError:
        raise SyncRejected(f"There is no file {str(path)!r}.") from None
    except IsADirectoryError:
        raise SyncRejected(f"{str(path)!r} is a folder; choose the bundle file in it.") from None
    except (OSError, EOFError, zlib.error):
        raise SyncRejected(f"{Path(path).name} is not a Sansam sync bundle.") from None
    if len(data) > MAX_BUNDLE_BYTES:
        raise SyncRejected(f"{Path(path).name} is larger than any bundle Sansam writes.")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise SyncRejected(f"{Path(path).name} is not a Sansam sync bundle.") from None
    if not isinstance(document, dict) or not isinstance(document.get("payload"), dict):
        raise SyncRejected(f"{Path(path).name} is not a Sansam sync bundle.")
    if document["payload"].get("format") != FORMAT:
        raise SyncRejected(
            f"{Path(path).name} is a bundle of another format "
            f"({document['payload'].get('format')!r}); this Sansam reads {FORMAT}."
        )
    return document


def import_bundle(session: Session, path: str | Path) -> ImportSummary:
    """Take what is new in a bundle, after every check; refuse it whole otherwise."""
    document = read_bundle(path)
    payload: dict[str, Any] = document["payload"]
    try:
        return _import(session, payload, str(document.get("signature", "")))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SyncRejected(
            f"{Path(path).name} is damaged or incomplete ({type(exc).__name__}: {exc}); "
            "nothing was imported."
        ) from None


def _import(session: Session, payload: dict[str, Any], signature: str) -> ImportSummary:
    signer = str(payload["book"]["public_key"])
    if not signature_holds(signer, canonical(payload), signature):
        raise SyncRejected(
            "The bundle's signature does not match its contents: it was changed after it "
            "was written, or made by a program that is not Sansam. Nothing was imported."
        )
    own = book_key(session).public_key
    if signer == own:
        raise SyncRejected("This bundle was written by this very book; nothing to import.")
    g = payload["group"]
    group = session.execute(select(Group).where(Group.uuid == g["uuid"])).scalar_one_or_none()
    new_group = group is None
    if group is None:
        clash = session.execute(select(Group.uuid).where(Group.code == g["code"])).scalar()
        if clash is not None:
            raise SyncRejected(
                f"This book already has a different group with the code {g['code']}; "
                "nothing was imported."
            )
        actor = allow(session, "create_group", None, audit=_audit_text(payload))
    else:
        actor = allow(session, "read", group.id, audit=_audit_text(payload))
        home = session.get(GroupHome, group.id)
        if home is None or home.home_key == own:
            raise SyncRejected(
                f"This book is group {group.code}'s home: it records the group itself and "
                "takes no bundles for it. Nothing was imported."
            )
        if home.home_key != signer:
            raise SyncRejected(
                f"The bundle was made by book {fingerprint(signer)}, but group "
                f"{group.code}'s home is book {fingerprint(home.home_key)}. Nothing was "
                "imported; if the home moved, import a bundle from the new home."
            )
    entries = [_entry(e) for e in payload["entries"]]
    _check_own_chain(payload, entries)

    if group is None:
        group = Group(
            **{f: g[f] for f in GROUP_FIELDS},
            created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        )
        session.add(group)
        session.flush()
    held, _ = chain_head(session, group.id)
    _check_against_held(session, group.id, group.code, payload, entries, held)
    last = session.get(GroupHome, group.id)
    exported_at = dt.datetime.fromisoformat(payload["exported_at"])
    fresh = int(payload["to_seq"]) >= held and (
        last is None or last.synced_at is None or exported_at > last.synced_at
    )
    if fresh:
        for f in GROUP_CHANGEABLE:
            if getattr(group, f) != g[f]:
                setattr(group, f, g[f])
    members = _upsert_members(session, group.id, payload["members"], update=fresh)
    accounts = _upsert_accounts(session, group.id, payload["accounts"], members)
    records = payload.get("records", {})
    try:
        written = _replicate(session, group.id, entries, held, accounts, records)
    except LedgerError as exc:
        raise SyncRejected(f"{exc} Nothing was imported.") from None
    changed = 0
    if fresh and "records" in payload:
        changed = apply_records(session, group.id, records, members, accounts)
    copied, audit_through = copy_audit_events(
        session,
        group.id,
        records.get("audit_events", []),
        last.audit_through if last is not None else 0,
        fingerprint(signer),
    )
    _set_home(
        session,
        group.id,
        str(payload["home"]),
        actor.username,
        synced_at=exported_at if fresh else None,
        audit_through=audit_through,
    )
    return ImportSummary(
        group.code,
        written,
        len(entries) - written,
        max(held, payload["to_seq"]),
        new_group,
        fingerprint(signer),
        records=changed,
        audit_events=copied,
        stale=not fresh,
    )


def _replicate(
    session: Session,
    group_id: int,
    entries: list[ReplicatedEntry],
    held: int,
    accounts: dict[str, int],
    records: dict[str, Any],
) -> int:
    """Append the entries this book lacks, writing each period close the home made as
    soon as the chain reaches the head it was made at."""
    new = [e for e in entries if e.seq > held]
    known = set(
        session.execute(
            select(PeriodClose.closed_through).where(PeriodClose.group_id == group_id)
        ).scalars()
    )
    closes = [
        c
        for c in records.get("period_closes", [])
        if int(c["head_seq"]) >= held and dt.date.fromisoformat(c["closed_through"]) not in known
    ]
    reversed_uuids = _reversed_uuids(session, group_id, entries)
    written = 0
    for close in sorted(closes, key=lambda c: int(c["head_seq"])):
        batch = [e for e in new if e.seq <= int(close["head_seq"])]
        written += replicate_entries(session, group_id, batch, accounts, reversed_uuids)
        new = new[len(batch) :]
        insert_period_close(session, group_id, close, accounts)
    return written + replicate_entries(session, group_id, new, accounts, reversed_uuids)


def _audit_text(payload: dict[str, Any]) -> str:
    return (
        f"imported a sync bundle of {payload['group']['code']} (entries "
        f"#{payload['from_seq']}-#{payload['to_seq']}) from book "
        f"{fingerprint(payload['book']['public_key'])}"
    )


def _entry(e: dict[str, Any]) -> ReplicatedEntry:
    return ReplicatedEntry(
        seq=int(e["seq"]),
        uuid=str(e["uuid"]),
        entry_date=dt.date.fromisoformat(e["date"]),
        memo=str(e["memo"]),
        author=str(e["author"]),
        idempotency_key=str(e["key"]),
        request_hash=str(e["request_hash"]),
        reverses_seq=None if e["reverses_seq"] is None else int(e["reverses_seq"]),
        created_at=dt.datetime.fromisoformat(e["created_at"]),
        prev_hash=str(e["prev_hash"]),
        hash=str(e["hash"]),
        postings=tuple((str(a), str(c), int(m)) for a, c, m in e["postings"]),
    )


def _check_own_chain(payload: dict[str, Any], entries: list[ReplicatedEntry]) -> None:
    """The bundle must be one unbroken piece of chain, from ``from_seq`` to ``to_seq``."""
    expected_seq, expected_prev = int(payload["from_seq"]), str(payload["prev_hash"])
    for e in entries:
        if e.seq != expected_seq:
            raise SyncRejected(
                f"Entry #{expected_seq} is missing from the bundle (the next one is "
                f"#{e.seq}). Nothing was imported."
            )
        if e.prev_hash != expected_prev:
            raise SyncRejected(
                f"Entry #{e.seq} ({e.uuid}) does not link to the entry before it in the "
                "bundle. Nothing was imported."
            )
        expected_seq, expected_prev = e.seq + 1, e.hash
    if expected_seq - 1 != int(payload["to_seq"]):
        raise SyncRejected(
            f"The bundle says it holds entries up to #{payload['to_seq']} but ends at "
            f"#{expected_seq - 1}. Nothing was imported."
        )


def _check_against_held(
    session: Session,
    group_id: int,
    code: str,
    payload: dict[str, Any],
    entries: list[ReplicatedEntry],
    held: int,
) -> None:
    """Entries this book already holds must be the same ones; the bundle must start no
    later than just after the last entry held."""
    from_seq = int(payload["from_seq"])
    if from_seq > held + 1:
        raise SyncRejected(
            f"The bundle starts at entry #{from_seq}, but this book holds {code}'s entries "
            f"only up to #{held}: export again from the village with --since {held + 1}. "
            "Nothing was imported."
        )
    overlap = [(from_seq - 1, payload["prev_hash"], None)] if from_seq > 1 else []
    overlap += [(e.seq, e.hash, e.uuid) for e in entries if e.seq <= held]
    if not overlap:
        return
    seqs = [s for s, _h, _u in overlap]
    ours = dict(
        session.execute(
            select(JournalEntry.seq, JournalEntry.hash).where(
                JournalEntry.group_id == group_id,
                JournalEntry.seq >= min(seqs),
                JournalEntry.seq <= max(seqs),
            )
        ).all()
    )
    for seq, their_hash, their_uuid in overlap:
        if ours.get(seq) != their_hash:
            what = f"entry #{seq}" + (f" ({their_uuid})" if their_uuid else "")
            raise SyncRejected(
                f"The bundle's chain diverges from this book's at {what}: the two books "
                f"hold different entries there for {code}. Nothing was imported; the "
                "coordinator must find out which PC recorded what."
            )


def _upsert_members(
    session: Session, group_id: int, rows: list[dict[str, Any]], *, update: bool
) -> dict[str, int]:
    """Members by UUID, created, or brought up to date (a phone number changes at home)
    when the bundle is newer than the last one applied."""
    existing = {
        m.uuid: m
        for m in session.execute(select(Member).where(Member.group_id == group_id)).scalars()
    }
    for row in rows:
        values = {f: row[f] for f in MEMBER_FIELDS}
        for f in ("joined_on", "exited_on"):
            values[f] = None if values[f] is None else dt.date.fromisoformat(values[f])
        member = existing.get(values["uuid"])
        if member is None:
            elsewhere = session.execute(
                select(Member.group_id).where(Member.uuid == values["uuid"])
            ).scalar()
            if elsewhere is not None:
                raise SyncRejected(
                    f"Member {values['code']} belongs to another group in this book. "
                    "Nothing was imported."
                )
            member = Member(group_id=group_id, **values)
            session.add(member)
            existing[member.uuid] = member
        elif update:
            for f, v in values.items():
                if getattr(member, f) != v:
                    setattr(member, f, v)
    session.flush()  # the new members get their ids
    return {uuid: member.id for uuid, member in existing.items()}


def _upsert_accounts(
    session: Session, group_id: int, rows: list[dict[str, Any]], members: dict[str, int]
) -> dict[str, int]:
    """Accounts by UUID; one already held must be the same account."""
    existing = {
        a.uuid: a
        for a in session.execute(select(Account).where(Account.group_id == group_id)).scalars()
    }
    for row in rows:
        member_id = None if row["member"] is None else members[row["member"]]
        held = existing.get(row["uuid"])
        if held is None:
            session.add(
                Account(
                    group_id=group_id,
                    member_id=member_id,
                    balance=0,
                    last_seq=0,
                    **{f: row[f] for f in ACCOUNT_FIELDS},
                )
            )
        elif (held.commodity, held.type, held.member_id) != (
            row["commodity"],
            row["type"],
            member_id,
        ):
            raise SyncRejected(
                f"Account {row['name']} differs from this book's copy (commodity, type or "
                "member). Nothing was imported."
            )
    session.flush()
    return dict(
        session.execute(select(Account.uuid, Account.id).where(Account.group_id == group_id)).all()
    )


def _reversed_uuids(
    session: Session, group_id: int, entries: list[ReplicatedEntry]
) -> dict[int, str]:
    wanted = {e.reverses_seq for e in entries if e.reverses_seq is not None}
    found = {e.seq: e.uuid for e in entries if e.seq in wanted}
    missing = wanted - found.keys()
    if missing:
        found.update(
            session.execute(
                select(JournalEntry.seq, JournalEntry.uuid).where(
                    JournalEntry.group_id == group_id, JournalEntry.seq.in_(missing)
                )
            ).all()
        )
    return found


def _set_home(
    session: Session,
    group_id: int,
    home: str,
    username: str,
    *,
    synced_at: dt.datetime | None = None,
    audit_through: int | None = None,
) -> None:
    """Record the group's home; and what was last taken from it. When the home moves,
    what was taken from the old one no longer says anything about the new one."""
    row = session.get(GroupHome, group_id)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if row is None:
        row = GroupHome(group_id=group_id, home_key=home, since=now, moved_by=username)
        session.add(row)
    if synced_at is not None:
        row.synced_at = synced_at
    if audit_through is not None:
        row.audit_through = audit_through
    if row.home_key != home:
        row.home_key, row.since, row.moved_by = home, now, username
        row.synced_at, row.audit_through = None, 0
    session.flush()


# --- moving a group's home ----------------------------------------------------------------


def move_home(session: Session, group_id: int, to_key: str, *, force: bool = False) -> str:
    """Hand the group's books to another book (by its public key); this book stops
    posting for it. On a book that is not the home, only ``force`` takes the home here
    (the village PC was lost): later bundles from the old home are then refused."""
    to_key = to_key.strip().lower()
    if len(to_key) != 64 or any(c not in "0123456789abcdef" for c in to_key):
        raise SyncRejected(
            "Give the new home's public key, 64 hex digits as `sansam sync key` prints it."
        )
    own = book_key(session).public_key
    current = home_key(session, group_id)
    group = session.get(Group, group_id)
    assert group is not None
    if current == to_key:
        raise SyncRejected(f"Book {fingerprint(to_key)} is already group {group.code}'s home.")
    if current != own and not (force and to_key == own):
        raise SyncRejected(
            f"Group {group.code}'s home is book {fingerprint(current)}: move it there. "
            "Only if that PC is lost may a coordinator take the home here with --force."
        )
    how = "took" if current != own else "moved"
    allow(
        session,
        "audit",
        group_id,
        audit=f"{how} group {group.code}'s home from book {fingerprint(current)} to "
        f"{fingerprint(to_key)}"
        + (" (forced: the old home's later bundles are refused)" if force else ""),
    )
    _set_home(session, group_id, to_key, current_actor(session).username)
    return fingerprint(to_key)
