"""The app's settings a user or an NGO's installer can change, read without Textual (the
command line reads them before deciding to start the app)."""

from __future__ import annotations

import os

from ledger.errors import LedgerError

IDLE_ENV = "SANSAM_IDLE_MINUTES"
DEFAULT_IDLE_MINUTES = 10.0


def idle_minutes() -> float:
    """Minutes without a key or a click before the app locks (``SANSAM_IDLE_MINUTES``;
    a shared PC in an office may want 2, a treasurer's own laptop 30)."""
    text = os.environ.get(IDLE_ENV, "").strip()
    if not text:
        return DEFAULT_IDLE_MINUTES
    try:
        minutes = float(text)
    except ValueError:
        minutes = -1
    if not 0.5 <= minutes <= 240:
        raise LedgerError(
            f"{IDLE_ENV}={text!r}: give the minutes before the app locks, 0.5 to 240."
        )
    return minutes
