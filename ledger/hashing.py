"""The canonical form of an entry and its SHA-256 hash.

Each group's journal is a chain: an entry's hash covers its own content, its postings and
the previous entry's hash. The form is JSON with sorted keys and no spaces, over values
that are identical on every engine and every machine (UUIDs rather than row ids, integer
minor units, ISO dates), so a bundle verified on a village PC verifies at the district
office too. Version 1 of the form is fixed; a change needs a new version number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import NamedTuple

FORM_VERSION = 1


class HashedPosting(NamedTuple):
    line_no: int
    account_uuid: str
    commodity: str
    amount: int


def _digest(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def timestamp_text(moment: dt.datetime) -> str:
    """Naive-UTC timestamp as stored, to the microsecond."""
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds")


def entry_hash(
    *,
    group_uuid: str,
    seq: int,
    uuid: str,
    entry_date: dt.date,
    memo: str,
    author: str,
    idempotency_key: str,
    reverses_uuid: str | None,
    created_at: dt.datetime,
    prev_hash: str,
    postings: Sequence[HashedPosting],
) -> str:
    return _digest(
        {
            "v": FORM_VERSION,
            "group": group_uuid,
            "seq": seq,
            "uuid": uuid,
            "date": entry_date.isoformat(),
            "memo": memo,
            "author": author,
            "key": idempotency_key,
            "reverses": reverses_uuid,
            "created": timestamp_text(created_at),
            "prev": prev_hash,
            "postings": [list(p) for p in postings],
        }
    )


def request_hash(
    *,
    entry_date: dt.date,
    memo: str,
    reverses_uuid: str | None,
    postings: Iterable[tuple[str, str, int]],
) -> str:
    """What makes two requests "the same" for idempotency: date, memo, lines, reversal.

    Who sent it and when do not count: a second press of Enter by the same treasurer a
    second later is the same request.
    """
    return _digest(
        {
            "date": entry_date.isoformat(),
            "memo": memo,
            "reverses": reverses_uuid,
            "postings": [list(p) for p in postings],
        }
    )
