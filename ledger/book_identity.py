"""This book's signing key, and which book is each group's home.

Every book has one Ed25519 key pair, made the first time it is needed (``sansam init``
makes it at once). Sync bundles are signed with it, so a book that receives one knows
which book wrote it and that nothing in it changed on the USB stick. The key lives in
the book itself: whoever can copy the book can sign as it, which is the same trust a
paper ledger's stamp carries. What it protects against is a bundle altered on the way,
or made by a PC that is not the group's home.

Only a group's home book posts for it. A group with no ``group_homes`` row is at home in
this book (every group a book created); a row names the home by its public key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import NotHome
from ledger.models import BookIdentity, Group, GroupHome


@dataclass(frozen=True, slots=True)
class BookKey:
    book_uuid: str
    public_key: str  # 64 hex digits (the raw 32-byte Ed25519 public key)
    private_key: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def sign(self, data: bytes) -> str:
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(self.private_key))
        return key.sign(data).hex()


def fingerprint(public_key: str) -> str:
    """A short name for a key that people can read out and compare: 4 groups of 4."""
    digest = hashlib.sha256(bytes.fromhex(public_key)).hexdigest()[:16].upper()
    return "-".join(digest[i : i + 4] for i in range(0, 16, 4))


def book_key(session: Session) -> BookKey:
    """This book's key pair, made (once) if the book has none yet."""
    row = session.get(BookIdentity, 1)
    if row is None:
        private = Ed25519PrivateKey.generate()
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        row = BookIdentity(
            id=1,
            book_uuid=str(uuid.uuid4()),
            public_key=public.hex(),
            private_key=private.private_bytes_raw().hex(),
            created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        )
        session.add(row)
        session.flush()
    return BookKey(row.book_uuid, row.public_key, row.private_key)


def signature_holds(public_key: str, data: bytes, signature: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(signature), data
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def home_key(session: Session, group_id: int) -> str:
    """The public key of the book that keeps the group's books."""
    row = session.get(GroupHome, group_id)
    return row.home_key if row is not None else book_key(session).public_key


def require_home(session: Session, group_id: int) -> None:
    """Refuse to post for a group kept by another book: two PCs writing one group's
    chain would split it in two."""
    row = session.get(GroupHome, group_id)
    if row is None or row.home_key == book_key(session).public_key:
        return
    code = session.execute(select(Group.code).where(Group.id == group_id)).scalar()
    raise NotHome(
        f"Group {code}'s books are kept by another book (key {fingerprint(row.home_key)}); "
        "this book holds a copy from its sync bundles. Record there, or have a "
        "coordinator move the group's home here first (sansam sync move-home)."
    )
