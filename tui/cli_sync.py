"""``sansam sync``: carry a group's books between a village PC and the central book.

sansam sync key                                  this book's public key
sansam sync export --group CODE [--since N] FILE  a signed bundle of the group
sansam sync import FILE                          take what is new in a bundle
sansam sync move-home --group CODE --to KEY|this [--force]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ledger.book_identity import book_key, fingerprint, home_key
from ledger.groups import find_group
from ledger.sync import export_bundle, import_bundle, move_home
from tui.cli_common import Opener, bind, group_option


def register(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    *,
    db: argparse.ArgumentParser,
    as_json: argparse.ArgumentParser,
    open_book: Opener,
) -> None:
    handler = bind(open_book)
    group_opt = group_option()
    sync = commands.add_parser(
        "sync", help="move a group's books between books (USB stick or network)"
    )
    cmds = sync.add_subparsers(title="sync commands", metavar="COMMAND")
    cmds.required = True

    key = cmds.add_parser("key", parents=[db, as_json], help="this book's public key")
    key.set_defaults(handler=handler(cmd_key))

    exp = cmds.add_parser(
        "export", parents=[db, group_opt], help="write a signed bundle of a group's books"
    )
    exp.add_argument("file", type=Path)
    exp.add_argument(
        "--since",
        type=int,
        default=1,
        metavar="N",
        help="the first entry to include (default 1: the whole chain)",
    )
    exp.set_defaults(handler=handler(cmd_export))

    imp = cmds.add_parser("import", parents=[db], help="take what is new in a bundle")
    imp.add_argument("file", type=Path)
    imp.set_defaults(handler=handler(cmd_import))

    move = cmds.add_parser(
        "move-home", parents=[db, group_opt], help="hand a group's books to another book"
    )
    move.add_argument(
        "--to", required=True, metavar="KEY", help="the new home's public key, or 'this'"
    )
    move.add_argument(
        "--force",
        action="store_true",
        help="take the home to this book although it is not the home (the old PC is lost)",
    )
    move.set_defaults(handler=handler(cmd_move_home))


def cmd_key(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book:
        key = book.write(book_key)
    if args.json:
        print(json.dumps({"public_key": key.public_key, "fingerprint": key.fingerprint}))
    else:
        print(f"This book's public key: {key.public_key}")
        print(f"Fingerprint (read it out to compare): {key.fingerprint}")
    return 0


def cmd_export(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book:
        summary = book.write(
            lambda s: export_bundle(s, find_group(s, args.group).id, args.file, since=args.since)
        )
    print(
        f"Wrote {summary.entries:,} entries of {summary.group_code} "
        f"(#{summary.from_seq}-#{summary.to_seq}) to {args.file}, signed by book "
        f"{summary.signer}."
    )
    return 0


def cmd_import(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book:
        summary = book.write(lambda s: import_bundle(s, args.file))
    if summary.new_entries == summary.records == summary.audit_events == 0:
        why = (
            "this book already took this bundle or a newer one"
            if summary.stale
            else "the bundle holds nothing this book lacks"
        )
        print(f"Nothing new for {summary.group_code}: {why} (entries up to #{summary.head_seq}).")
        return 0
    new = " (a group new to this book)" if summary.new_group else ""
    print(
        f"Imported {summary.new_entries:,} new entries of {summary.group_code}{new} from "
        f"book {summary.signer}; the book now holds up to #{summary.head_seq}. "
        f"{summary.records:,} records (meetings, loans, rice…) and {summary.audit_events:,} "
        "audit events were taken with them."
    )
    if summary.new_group:  # nobody holds a role in it here yet, the administrator neither
        print(
            "To read it here, give its coordinators a role: sansam user grant NAME "
            f"--role coordinator --group {summary.group_code}"
        )
    return 0


def cmd_move_home(args: argparse.Namespace, open_book: Opener) -> int:
    def work(s):  # type: ignore[no-untyped-def]
        group = find_group(s, args.group)
        target = book_key(s).public_key if args.to.strip().lower() == "this" else args.to
        before = fingerprint(home_key(s, group.id))
        return before, move_home(s, group.id, target, force=args.force)

    with open_book(args) as book:
        before, after = book.write(work)
    print(f"Group {args.group}'s home moved from book {before} to book {after}.")
    return 0
