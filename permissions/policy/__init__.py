"""The access policy: which grants every record should carry, derived from the sources of truth.

Three modules, one idea each:

- `facts.py` — fact loading: what the rules need to know about residents, in a fixed number of
  queries (all of a resident's records, or one new visit's);
- `windows.py` — window algebra: when a grant holds, as (from, until, basis), consent's
  latest-decision-wins periods and a legal basis's period;
- `rules.py` — the rules themselves (who sees what, on which basis), applied to the facts.

`permissions/grants.py` writes what the rules derive and `permissions/access.py` reads it.
The names other folders use are exported here.
"""

from permissions.policy.rules import (
    OWN_RIGHT_BASES,
    THIRD_PARTY_PREFIXES,
    VISIT_CATEGORY,
    ExpectedGrants,
    Grant,
    NewVisitGrants,
    expected_entries_for_residents,
    expected_for_new_visit,
    expected_for_residents,
    referral_categories_covered,
    shareable_windows,
)
from permissions.policy.windows import ALWAYS_FROM, FOREVER, Window, consent_windows

__all__ = [
    "ALWAYS_FROM", "FOREVER", "OWN_RIGHT_BASES", "THIRD_PARTY_PREFIXES", "VISIT_CATEGORY", "ExpectedGrants", "Grant",
    "NewVisitGrants", "Window", "consent_windows", "expected_entries_for_residents", "expected_for_new_visit",
    "expected_for_residents", "referral_categories_covered", "shareable_windows",
]
