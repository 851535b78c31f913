"""What an organisation's API client may call: route groups, each a set of (method, route name).

A client's scopes name groups from this catalogue; a request to any other route answers 403
`client_scope_denied` before the view runs (deny by default: a route added later is in no group until
someone puts it in one). Within its scopes the client acts as a worker of its organisation, so the
policy still decides per record: a scope never lets a client see more than its organisation sees.
"""

from __future__ import annotations

SCOPES: dict[str, frozenset[tuple[str, str]]] = {
    # The referral inbox and each referral the organisation is party to.
    "referrals.read": frozenset({
        ("GET", "referral-list"), ("GET", "referral-inbox"), ("GET", "referral-sent"), ("GET", "referral-detail"),
    }),
    # Working the referrals it received: the receiver's transitions.
    "referrals.work": frozenset({
        ("POST", f"referral-{verb}") for verb in ("accept", "reject", "start", "hold", "resume", "complete", "fail")
    }),
    "tasks.read": frozenset({("GET", "task-queue"), ("GET", "task-mine"), ("GET", "task-detail")}),
    "tasks.work": frozenset({("POST", "task-acknowledge"), ("POST", "task-complete")}),
    "residents.read": frozenset({
        ("GET", "resident-list"), ("GET", "resident-detail"), ("GET", "case-list"), ("GET", "case-detail"),
    }),
    "visits.write": frozenset({("POST", "visit-list"), ("POST", "visit-batch"), ("GET", "visit-detail")}),
    # The organisation's event feed: types and ids only.
    "events.read": frozenset({("GET", "event-list")}),
    # A resident's record as FHIR R4B (integrations/fhir.py): what the organisation may see of them, read-only.
    "fhir.read": frozenset({("GET", "fhir-resident")}),
}

# Scopes that read or write residents' records: only for organisations that hold records.
RECORD_SCOPES = frozenset({"referrals.read", "referrals.work", "tasks.read", "tasks.work", "residents.read",
                           "visits.write", "fhir.read"})


def scope_allows(*, scopes: list[str], method: str, route_name: str | None) -> bool:
    """Whether one of `scopes` covers this route (HEAD and OPTIONS count as GET)."""
    if route_name is None:
        return False
    method = "GET" if method in {"HEAD", "OPTIONS"} else method
    return any((method, route_name) in SCOPES.get(scope, frozenset()) for scope in scopes)
