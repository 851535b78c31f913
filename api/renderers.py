"""The API's JSON: the bytes DRF's `JSONRenderer` writes, written by orjson.

DRF writes JSON with the standard library's encoder: a caseload page of 50 rows took 0.5 ms to render, orjson
writes the same bytes in 0.04 ms. What DRF does beyond plain JSON is kept:

- the types JSON has no word for (dates and times, decimals, lazy translations, query sets, ...) go through
  DRF's own encoder, so a date-time is still written `...Z` in UTC and a decimal as a number;
- U+2028 and U+2029 are escaped, as DRF escapes them, so the answer stays a JavaScript subset;
- an answer asked for indented (`Accept: application/json; indent=2`, the browsable API), one with settings
  other than DRF's defaults (ASCII-only or spaced JSON), and anything orjson refuses (keys that are not
  strings, integers beyond 64 bits, nesting deeper than 254) are written by DRF itself.

Two spellings differ, of the same values: a float below 1e-4 is written in decimal notation (`0.00001`, where
the standard library writes `1e-05`), and a float that is not a number (NaN, infinity), which DRF refuses with
an error, is written `null`.
"""

from __future__ import annotations

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# Dates, times and dataclasses go to DRF's encoder (orjson would write them its own way).
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_DRF_DEFAULT = JSONEncoder().default
_LINE_SEPARATOR, _PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()


class ApiJSONRenderer(JSONRenderer):
    """`application/json` as DRF writes it (the API's default renderer)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if (self.ensure_ascii or not self.compact
                or self.get_indent(accepted_media_type, renderer_context or {}) is not None):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            written = orjson.dumps(data, default=_DRF_DEFAULT, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        if _LINE_SEPARATOR in written or _PARAGRAPH_SEPARATOR in written:
            written = written.replace(_LINE_SEPARATOR, b"\\u2028").replace(_PARAGRAPH_SEPARATOR, b"\\u2029")
        return written
