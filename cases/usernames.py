"""What one account name is: the same person types it in any width and any case.

People type their user name on phones and office PCs with a Japanese input method, which easily
gives full-width letters (ｓａｔｏ) or capitals (Sato). Every spelling that reads the same is the same
account: stored names, log-in look-ups and the login throttle's counters all use the key below.
"""

from __future__ import annotations

import unicodedata


def username_normalize(name: str) -> str:
    """NFKC, case-folded, NFKC again (Unicode's NFKC_Casefold in effect), without surrounding spaces:
    ｓａｔｏ, SATO, Sato and " sato" are sato.

    Folding can leave text that NFKC would change again, hence the second pass; the result is stable
    (normalising it again returns it unchanged)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold()).strip()
