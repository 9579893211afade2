"""What the command modules share: opening the book, reading dates and amounts, JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from ledger.errors import InvalidEntry, LedgerError
from ledger.money import parse_amount

Opener = Callable[[argparse.Namespace], Any]
Author = Callable[[], str]


def date_arg(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written as YYYY-MM-DD") from None


def amount_arg(text: str, currency: str, label: str) -> int:
    """An amount typed on the command line, in minor units; the error names the option."""
    try:
        return parse_amount(text, currency)
    except LedgerError as exc:
        raise InvalidEntry(f"{label}: {exc}") from None


def print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))
