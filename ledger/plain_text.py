"""The one rule for text a person types or imports: no control characters.

NUL, escape sequences, tabs and line breaks (Unicode category Cc, C0 and C1) have no
place in a name, memo, purpose or comment: they break printed statements and the
terminal, and an escape sequence can rewrite what a coordinator's screen shows. Every
place that takes such text checks it with this one pattern.
"""

from __future__ import annotations

import re

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def has_control(text: str) -> bool:
    return CONTROL.search(text) is not None
