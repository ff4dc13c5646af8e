"""The one rule for single-line text from outside (order numbers, SKUs, tracking numbers,
names, address lines): no control characters. Such text ends up in e-mail headers, Slack
messages, log lines and CSV cells, where a line break, NUL or escape sequence changes what
the receiver reads, and PostgreSQL cannot store NUL at all."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# Unicode category Cc: C0 (U+0000-U+001F, with TAB, CR, LF, NUL), DEL and C1 (U+0080-U+009F).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def reject_control_characters(value: str) -> str:
    found = CONTROL_CHARACTERS.search(value)
    if found:
        raise ValueError(
            f"must not contain control characters (found U+{ord(found.group()):04X}); "
            "remove line breaks, tabs and other invisible characters"
        )
    return value


SingleLine = Annotated[str, AfterValidator(reject_control_characters)]
"""A pydantic string type that refuses control characters (the error names the field)."""


def one_line(value: str) -> str:
    """`value` with each control character replaced by a space: for text we must show in a
    single-line place (an e-mail Subject) whatever older data holds."""
    return CONTROL_CHARACTERS.sub(" ", value)
