"""The canonical form of an entry and its SHA-256 hash.

Each group's journal is a chain: an entry's hash covers its own content, its postings and
the previous entry's hash. The content a client asked for (date, description, reversal,
postings) is hashed once as the *request hash*, which also serves idempotency; the entry
hash then covers that digest with the entry's place in the chain, so the postings are
serialised once per entry, not twice. The form is JSON with sorted keys and no spaces, over values
that are identical on every engine and every machine (UUIDs rather than row ids, integer
minor units, ISO dates), so a bundle verified on a village PC verifies at the district
office too. Version 1 of the form is fixed; a change needs a new version number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable

FORM_VERSION = 1


def digest(payload: object) -> str:
    """SHA-256 of a canonical JSON form: the same payload always hashes the same."""
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
    author: str,
    idempotency_key: str,
    created_at: dt.datetime,
    prev_hash: str,
    request: str,
) -> str:
    """The chain link: who, when, where in the chain, and the request's digest."""
    return digest(
        {
            "v": FORM_VERSION,
            "group": group_uuid,
            "seq": seq,
            "uuid": uuid,
            "author": author,
            "key": idempotency_key,
            "created": timestamp_text(created_at),
            "prev": prev_hash,
            "request": request,
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

    ``postings`` are (account uuid, commodity, minor amount) in line order.

    Who sent it and when do not count: a second press of Enter by the same treasurer a
    second later is the same request.
    """
    return digest(
        {
            "date": entry_date.isoformat(),
            "memo": memo,
            "reverses": reverses_uuid,
            "postings": [list(p) for p in postings],
        }
    )
