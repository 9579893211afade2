"""Signing in on the command line: who runs each command, and who countersigns.

Every command that reads or writes a group's books signs its user in first:

- the user name comes from ``--user NAME``, else ``SANSAM_USER``, else a prompt;
- the password or PIN from ``SANSAM_PASSWORD`` (for scripts), else a hidden prompt.

A wrong secret is counted like any sign-in (the account locks from the 5th failure in a
row) and kept in the audit trail. A chair who countersigns a rice loan at the
treasurer's PC types her own PIN (``--approver NAME``; ``SANSAM_APPROVER_PASSWORD`` for
scripts). There is no default user and no default password anywhere.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from ledger.db import Book
from ledger.errors import LedgerError
from ledger.permissions import Actor
from ledger.users import (
    MIN_PASSWORD,
    MIN_PIN,
    SignInRefused,
    check_secret,
    create_user,
    sign_in,
)

USER_ENV, SECRET_ENV, APPROVER_SECRET_ENV = (
    "SANSAM_USER",
    "SANSAM_PASSWORD",
    "SANSAM_APPROVER_PASSWORD",
)


TRIES = 3  # password prompts per command; every wrong one counts towards the lock


class SignInNeeded(LedgerError):
    """The command needs a user and cannot ask for one (no terminal)."""


def _interactive() -> bool:
    return sys.stdin.isatty()


def ask(prompt: str, *, hidden: bool) -> str:
    if not _interactive():
        raise SignInNeeded(
            f"Sign in: give --user NAME and set {SECRET_ENV} (or run this in a terminal, "
            "which asks for them)."
        )
    return getpass.getpass(prompt) if hidden else input(prompt)


def signed_in(book: Book, args: argparse.Namespace) -> Book:
    """The book with the command's user signed in (asks for what is missing)."""
    username = getattr(args, "user", None) or os.environ.get(USER_ENV) or ""
    if not username:
        username = ask("User name: ", hidden=False)
    secret = os.environ.get(SECRET_ENV)
    if secret:
        return book.as_user(book.write(lambda s: sign_in(s, username, secret)))
    for attempt in range(1, TRIES + 1):  # at a terminal: a mistyped password is asked again
        typed = ask(f"Password or PIN for {username}: ", hidden=True)
        try:
            return book.as_user(book.write(lambda s, t=typed: sign_in(s, username, t)))
        except SignInRefused as exc:
            if attempt == TRIES or "locked" in str(exc):
                raise
            print(f"{exc} Try again.", file=sys.stderr)
    raise AssertionError("unreachable")


def countersign(book: Book, username: str) -> Actor:
    """A second person's own sign-in for one decision (the chair approving at the
    treasurer's screen). Refused, counted and audited like any sign-in."""
    secret = os.environ.get(APPROVER_SECRET_ENV) or ask(
        f"{username}, type your password or PIN to approve: ", hidden=True
    )
    return book.write(lambda s: sign_in(s, username, secret))


def create_administrator(book: Book, args: argparse.Namespace) -> Actor:
    """The book's first user, its administrator: from ``--admin``/``--admin-name`` and
    ``SANSAM_PASSWORD`` for scripts, else asked at the terminal (password typed twice)."""
    username = args.admin or ask("Administrator's user name (e.g. sophea): ", hidden=False)
    name = args.admin_name or (
        ask("Administrator's name as people know it: ", hidden=False)
        if _interactive()
        else username
    )
    secret = os.environ.get(SECRET_ENV) or ask_new_secret()
    return book.write(
        lambda s: create_user(s, username, name, secret, is_admin=True, created_by=None)
    )


def ask_new_secret(kind: str = "password") -> str:
    """Ask for a new password (or PIN) until it is good enough and typed the same twice."""
    word = "PIN" if kind == "pin" else "password"
    rule = f"at least {MIN_PIN} digits" if kind == "pin" else f"at least {MIN_PASSWORD} characters"
    while True:
        secret = ask(f"{word[0].upper()}{word[1:]} ({rule}): ", hidden=True)
        try:
            check_secret(secret, kind)
        except LedgerError as exc:
            print(f"{exc} Please choose another.", file=sys.stderr)
            continue
        if ask(f"The same {word} again: ", hidden=True) == secret:
            return secret
        print(f"The two {word}s differ; please type it again.", file=sys.stderr)
