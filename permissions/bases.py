"""The legal bases other than consent, and the oversight each one carries: one table.

Every grant on one of these bases is asked for by a supervisor of a body that
may ask for it, about a resident of that body's own ward, for no longer than
the basis allows. Break-glass (APPI27-1-2) opens at once, because a life may
depend on it; the others wait for an approver who is not the requester. Every
grant gets a review task, which somebody other than the requester can always
act on: another supervisor of the organisation, or the ward's privacy officer.
A support meeting's share (SWA106-6) is made inside a meeting of several
organisations that acknowledged confidentiality; it lasts until the meeting
ends and is reviewed then.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cases.models import LegalBasis
from cases.models.choices import OrganizationKind
from permissions.actors import PROFESSIONAL_KINDS


@dataclass(frozen=True)
class BasisRule:
    requested_by: frozenset[str]  # organisation kinds whose supervisors may ask for it
    opens_at_once: bool  # else it waits for an approver other than the requester
    max_duration: datetime.timedelta
    review_after: datetime.timedelta | None  # after opening; None: when the grant ends


BASES: dict[str, BasisRule] = {
    # Protecting life, body or property when consent is hard to get: the resident found collapsed.
    LegalBasis.VITAL_INTERESTS: BasisRule(
        requested_by=PROFESSIONAL_KINDS, opens_at_once=True,
        max_duration=datetime.timedelta(hours=72), review_after=datetime.timedelta(days=1)),
    # Required by law (e.g. a child guidance centre's request).
    LegalBasis.REQUIRED_BY_LAW: BasisRule(
        requested_by=PROFESSIONAL_KINDS, opens_at_once=False,
        max_duration=datetime.timedelta(days=30), review_after=None),
    # Cooperating with a public body's legal task: asked for by the public body itself.
    LegalBasis.PUBLIC_BODY: BasisRule(
        requested_by=frozenset({OrganizationKind.WARD_SECTION}), opens_at_once=False,
        max_duration=datetime.timedelta(days=30), review_after=None),
    # A support meeting under the Social Welfare Act: shared by a member that holds the resident in its
    # own right, within what it sees itself, with the other members, until the meeting ends.
    LegalBasis.SUPPORT_MEETING: BasisRule(
        requested_by=PROFESSIONAL_KINDS, opens_at_once=True,
        max_duration=datetime.timedelta(days=30), review_after=None),
    # A declared disaster (Disaster Countermeasures Basic Act Art. 49-11-3): the evacuation-support list of the
    # event's districts goes to its named supporter organisations without consent, the list's fields only. Declared
    # by a supervisor of the ward section (opens at once: lives depend on it), one grant per supporter organisation
    # and resident; it ends when the event closes (at the latest after max_duration) and is reviewed then.
    LegalBasis.DISASTER: BasisRule(
        requested_by=frozenset({OrganizationKind.WARD_SECTION}), opens_at_once=True,
        max_duration=datetime.timedelta(days=14), review_after=None),
}
# Requested through POST /legal-basis-grants; a support meeting's share goes through the meeting, a disaster's
# through the declaration of its event.
REQUESTABLE = frozenset(BASES) - {LegalBasis.SUPPORT_MEETING, LegalBasis.DISASTER}


def basis_rule(basis: str) -> BasisRule:
    return BASES[basis]
