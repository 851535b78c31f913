"""The one rule for unsafe text, in a request body and in a query string alike.

Refused: lone surrogates (they cannot be stored), control characters other than tab, line feed and
carriage return (no record holds them), and markup's `<` and `>` (a record is plain text: what could be
a tag is refused on the way in, never escaped on the way out). SQL-looking text is stored verbatim: every
query is parameterised. `StrictSerializer` applies it to every string of a body, `SafeFilterForm` to every
parameter; tests/api/test_text_rule.py checks that each writable text field answers it.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

UNSAFE_TEXT = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f<>]")
UNSAFE_TEXT_MESSAGE = _("Contains characters that are not allowed.")
UNSAFE_TEXT_CODE = "invalid_characters"


def text_unsafe(value: str) -> bool:
    return UNSAFE_TEXT.search(value) is not None
