"""The choices a reader makes for a printed document, without importing ReportLab (the
command line offers them on every start-up; the layout is loaded only to print)."""

from __future__ import annotations

from typing import Literal

Lang = Literal["en", "km", "both"]
LANGS: tuple[Lang, ...] = ("both", "km", "en")
PAGE_SIZE_NAMES = ("A4", "A5", "A4-landscape")
