"""Kana normalisation for name search.

Residents are searched by the reading of their name. People type it in
hiragana or katakana, full or half width, with or without a space between
family and given name; all of these must find the same person. The stored
search key is full-width katakana with no spaces.
"""

import re
import unicodedata

_HIRAGANA_START, _HIRAGANA_END = 0x3041, 0x3096
_TO_KATAKANA = 0x60
_SPACES = re.compile(r"[\s\u3000・･]+")
# Katakana letters, the voiced/semi-voiced marks and the prolonged sound mark.
_KATAKANA = re.compile(r"^[\u30A1-\u30FA\u30FC\u30FD\u30FE]+$")


def kana_normalize(text: str) -> str:
    """Return the search key for a kana reading: NFKC, hiragana → katakana, no spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(
        chr(ord(ch) + _TO_KATAKANA) if _HIRAGANA_START <= ord(ch) <= _HIRAGANA_END else ch for ch in text
    )
    return _SPACES.sub("", text)


def is_kana(text: str) -> bool:
    """True when the text is a kana reading (after normalisation) and nothing else."""
    key = kana_normalize(text)
    return bool(key) and bool(_KATAKANA.match(key))
