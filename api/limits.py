"""What one request may hold: its body's size, its JSON's depth and number of values.

The body limit is chosen around the largest valid request, a visit batch of
`cases.services.visits.BATCH_LIMIT` (100) visits with 4,000-character notes: even
written with every character escaped as a surrogate pair (`\\ud83d\\ude00`, 12 bytes,
what `json.dumps` writes for emoji and rare kanji) such a batch is 4,833,511 bytes, so
5 MiB accepts every batch a JSON encoder can write for valid data, while a phone
that sends more learns it at once (413, not a retry loop). At 200 visits the same
batch would be 9.7 MB; a smaller batch also retries faster on a poor connection.
The limits on depth and values refuse bodies that would exhaust the parser (a
thousand nested arrays are a RecursionError in Python's json) before it runs; the
deepest valid body (a batch item's warning signs) is 4 levels.
"""

from __future__ import annotations

import re

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_JSON_DEPTH = 20
MAX_JSON_VALUES = 10_000

# A JSON string literal (escapes included), written as an unrolled loop so that
# megabytes of text are skipped in C without backtracking.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def json_shape_problem(data: bytes) -> str | None:
    """The problem code when `data` nests deeper or holds more values than allowed, else None.

    Brackets and commas are counted outside string literals only; each value but the first
    in an array or object follows a comma, and each array or object is a value too, so the
    count is an upper bound of the number of values. Invalid JSON is left to the parser.
    """
    skeleton = _STRING.sub(b'""', data)
    values = 1 + skeleton.count(b",") + skeleton.count(b"[") + skeleton.count(b"{")
    if values > MAX_JSON_VALUES:
        return "body_too_many_values"
    depth = 0
    for bracket in _BRACKETS.finditer(skeleton):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return "body_too_deep"
        else:
            depth -= 1
    return None
