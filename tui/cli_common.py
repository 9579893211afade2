"""What the command modules share: opening the book, reading dates and amounts, JSON."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from ledger.csvfile import parse_date
from ledger.errors import InvalidDate, InvalidEntry, LedgerError
from ledger.money import parse_amount

Opener = Callable[[argparse.Namespace], Any]


def group_option() -> argparse.ArgumentParser:
    """The ``--group CODE`` option every group command takes (a parent parser)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--group", metavar="CODE", required=True, help="the group's code")
    return parser


def bind(open_book: Opener) -> Callable[[Any], Callable[[argparse.Namespace], int]]:
    """Turn ``cmd(args, open_book)`` functions into argparse handlers (``open_book``
    opens the book with the user signed in)."""

    def handler(fn: Any) -> Callable[[argparse.Namespace], int]:
        return lambda args: fn(args, open_book)

    return handler


def date_arg(text: str) -> dt.date:
    """A date option, checked as imports check dates (YYYY-MM-DD, on the calendar)."""
    try:
        return parse_date(text)
    except InvalidDate as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def amount_arg(text: str, currency: str, label: str) -> int:
    """An amount typed on the command line, in minor units; the error names the option."""
    try:
        return parse_amount(text, currency)
    except LedgerError as exc:
        raise InvalidEntry(f"{label}: {exc}") from None


def percent_arg(text: str, label: str) -> Decimal:
    """A percentage typed as "1.5" or "1.5%", as a fraction (0.015)."""
    try:
        value = Decimal(text.strip().rstrip("%").strip())
    except InvalidOperation:
        raise InvalidEntry(f"{label}: {text!r} is not a percentage such as 1.5.") from None
    if not value.is_finite() or value < 0:
        raise InvalidEntry(f"{label}: {text!r} is not a percentage such as 1.5.")
    return value / 100


def print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))
