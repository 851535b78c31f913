"""Window algebra: when a grant holds, as (from, until, basis) triples.

A window is half-open, [from, until), and names its basis ("district", "consent:12",
"APPI27-1-2:7", …). Open ends are the sentinels `ALWAYS_FROM` / `FOREVER` of
`permissions.models`, so windows compare and deduplicate as plain tuples. Nothing
here reads the clock: the same sources give the same windows whenever they are computed,
so a check never disagrees with a sync because time moved.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from cases.models import Consent, LegalBasisGrant, Organization
from cases.models.consent import Decision, GrantStatus
from permissions.models import ALWAYS_FROM, FOREVER

# (from, until, basis): every grant names why it exists.
Window = tuple[datetime.datetime, datetime.datetime, str]

__all__ = ["ALWAYS_FROM", "FOREVER", "Window", "always", "consent_windows", "grant_window", "merge", "renamed"]


def always(basis: str) -> list[Window]:
    """The one window that never opens late nor closes."""
    return [(ALWAYS_FROM, FOREVER, basis)]


def merge(windows: Iterable[Window]) -> list[Window]:
    """Join touching or overlapping windows of the same basis (sorted by basis, then start)."""
    result: list[Window] = []
    for start, end, basis in sorted(windows, key=lambda w: (w[2], w[0], w[1])):
        if result and result[-1][2] == basis and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end), basis)
        else:
            result.append((start, end, basis))
    return result


def renamed(windows: Iterable[Window], basis: str) -> list[Window]:
    """The same instants under one other basis (a referral passing on what consent or a legal basis covers)."""
    return merge((start, end, basis) for start, end, _ in windows)


def consent_period(consent: Consent) -> tuple[datetime.datetime, datetime.datetime] | None:
    """When a consent (or refusal) speaks at all: its validity, cut at its withdrawal; None if empty."""
    start = consent.valid_from
    end = consent.valid_until or FOREVER
    if consent.withdrawn_at is not None:
        end = min(end, consent.withdrawn_at)
    return (start, end) if end > start else None


def consent_windows(
    consents: list[Consent], *, organization: Organization, category: str, purpose: str
) -> list[Window]:
    """When `organization` may receive `category` for `purpose`: latest decision wins at every instant.

    `consents` carry `recipient_org_ids` (a set), as the fact loader leaves them.
    """
    relevant = []
    for consent in consents:
        names_org = organization.id in consent.recipient_org_ids or organization.kind in consent.recipient_kinds
        if names_org and category in consent.categories and purpose in consent.purposes:
            period = consent_period(consent)
            if period:
                relevant.append((consent, period))
    if not relevant:
        return []
    bounds = sorted({t for _, (start, end) in relevant for t in (start, end)})
    granted: list[Window] = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        covering = [(c.taken_at, c.id, c) for c, (s, e) in relevant if s <= start < e]
        if covering:
            latest = max(covering, key=lambda item: item[:2])[2]
            if latest.decision == Decision.GRANTED:
                granted.append((start, end, f"consent:{latest.id}"))
    return merge(granted)


def grant_window(grant: LegalBasisGrant) -> Window | None:
    """A legal-basis grant's period as a window whose basis names the legal ground and the grant.

    Never approved (still pending, or revoked while pending): no window. Revocation and the end of
    a support meeting cut it short.
    """
    if grant.status == GrantStatus.PENDING or grant.approved_by_id is None:
        return None
    end = grant.ends_at
    if grant.revoked_at is not None:
        end = min(end, grant.revoked_at)
    if grant.meeting_id:
        end = min(end, grant.meeting.ends_at)
    return (grant.starts_at, end, f"{grant.basis}:{grant.id}") if end > grant.starts_at else None
