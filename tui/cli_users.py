"""Command-line commands for users and the audit trail.

``sansam user add|grant|list`` (administrators) and ``sansam audit`` (a group's trail for
its chair and coordinators; the whole book's for administrators).
"""

from __future__ import annotations

import argparse
import os

from ledger.audit_view import book_trail, group_trail
from ledger.groups import find_group
from ledger.permissions import ROLES
from ledger.users import create_user, grant_role, list_users
from tui.cli_auth import ask_new_secret
from tui.cli_common import Opener, bind, print_json

NEW_SECRET_ENV = "SANSAM_NEW_PASSWORD"


def register(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    *,
    db: argparse.ArgumentParser,
    as_json: argparse.ArgumentParser,
    open_book: Opener,
) -> None:
    """Add the commands to the ``sansam`` parser."""
    handler = bind(open_book)
    user = commands.add_parser("user", help="add users and give them roles (administrators)")
    ucmds = user.add_subparsers(title="user commands", metavar="COMMAND")
    ucmds.required = True
    add = ucmds.add_parser("add", parents=[db], help="add a user (asks for the password)")
    add.add_argument("username", metavar="USERNAME")
    add.add_argument("--name", required=True, help="the name people know them by")
    add.add_argument("--pin", action="store_true", help="a numeric PIN instead of a password")
    add.add_argument("--admin", action="store_true", help="make them an administrator")
    add.set_defaults(handler=handler(cmd_user_add))
    grant = ucmds.add_parser("grant", parents=[db], help="give a user a role in a group")
    grant.add_argument("username", metavar="USERNAME")
    grant.add_argument("--group", metavar="CODE", required=True)
    grant.add_argument("--role", choices=ROLES, required=True)
    grant.set_defaults(handler=handler(cmd_user_grant))
    lst = ucmds.add_parser("list", parents=[db, as_json], help="users and their roles")
    lst.set_defaults(handler=handler(cmd_user_list))

    audit = commands.add_parser(
        "audit", parents=[db, as_json], help="who did what, when: the audit trail"
    )
    audit.add_argument(
        "--group", metavar="CODE", help="one group's trail (else the whole book's, for admins)"
    )
    audit.add_argument("--limit", type=int, default=200, help="the newest N events (0: all)")
    audit.set_defaults(handler=handler(cmd_audit))


def cmd_user_add(args: argparse.Namespace, open_book: Opener) -> int:
    kind = "pin" if args.pin else "password"
    with open_book(args) as book:
        secret = os.environ.get(NEW_SECRET_ENV) or ask_new_secret(kind)
        added = book.write(
            lambda s: create_user(
                s,
                args.username,
                args.name,
                secret,
                kind=kind,
                is_admin=args.admin,
                created_by=book.actor,
            )
        )
    role = "an administrator" if added.is_admin else "no role yet (sansam user grant)"
    print(f"Added {added.username} ({added.display_name}), signing in with a {kind}: {role}.")
    return 0


def cmd_user_grant(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book:
        book.write(lambda s: grant_role(s, book.actor, args.username, args.group, args.role))
    print(f"{args.username} is now {args.role} of {args.group}.")
    return 0


def cmd_user_list(args: argparse.Namespace, open_book: Opener) -> int:
    with open_book(args) as book, book.read() as session:
        users = list_users(session, book.actor)
    if args.json:
        print_json(
            [
                {
                    "username": u.username,
                    "name": u.display_name,
                    "signs_in_with": u.secret_kind,
                    "administrator": u.is_admin,
                    "disabled": u.disabled,
                    "locked_until": u.locked_until.isoformat() if u.locked_until else None,
                    "roles": [{"group": g, "role": r} for g, r in u.roles],
                }
                for u in users
            ]
        )
        return 0
    for u in users:
        roles = ", ".join(f"{r} of {g}" for g, r in u.roles) or "no roles"
        flags = " [administrator]" if u.is_admin else ""
        flags += " [disabled]" if u.disabled else ""
        flags += f" [locked until {u.locked_until:%Y-%m-%d %H:%M} UTC]" if u.locked_until else ""
        print(f"{u.username:<20} {u.display_name[:30]:<30} {u.secret_kind:<8} {roles}{flags}")
    return 0


def cmd_audit(args: argparse.Namespace, open_book: Opener) -> int:
    limit = args.limit or None
    with open_book(args) as book, book.read() as session:
        if args.group:
            events = group_trail(session, find_group(session, args.group).id, limit=limit)
        else:
            events = book_trail(session, limit=limit)
    if args.json:
        print_json(
            [
                {
                    "seq": e.seq,
                    "at": e.at.isoformat() + "Z",
                    "user": e.actor,
                    "action": e.action,
                    "outcome": e.outcome,
                    "group": e.group_code,
                    "detail": e.detail,
                    "hash": e.hash,
                }
                for e in events
            ]
        )
        return 0
    if not events:
        print("No events recorded yet.")
    for e in events:
        where = e.group_code or "-"
        print(
            f"{e.seq:>6} {e.at:%Y-%m-%d %H:%M:%S} {e.actor[:16]:<16} {where:<12} "
            f"{e.action:<14} {e.outcome:<7} {e.detail}"
        )
    return 0
