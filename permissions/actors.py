"""Who is acting: a user's active memberships, resolved once per request, and the role and kind sets.

Every decision about *acting* (permissions/guards.py) and every scoped read
(permissions/access.py) starts from an `Actor`: one query finds the user's
active memberships with their organisations and districts, and within a request
the answer is kept (`groups_remembered`), so a term that ended a second ago
already counts and nobody asks twice. A personal token's look-up reads the
same columns in its own query (`standing_columns`, api/tokens.py), so a
request authenticated by token costs one round trip for who is asking.

The sets below are the only names for these groups of roles and kinds.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, FilteredRelation, Q
from django.utils import timezone

from cases.errors import NotPermitted, RuleViolation
from cases.models import Membership, Organization, User
from cases.models.choices import OrganizationKind, Role

# Roles that act through their organisation's group (workers and supervisors). Commissioners act
# through their districts' groups; org admins, privacy officers and integrations read no case records.
ORGANIZATION_ROLES = frozenset({Role.WORKER, Role.SUPERVISOR})
# Roles that do casework: record visits and notes, open cases, take consent, receive referrals.
CASEWORK_ROLES = ORGANIZATION_ROLES | {Role.COMMISSIONER}
# Organisations that hold residents' records (and so register, refer and receive referrals). Partner
# businesses and neighbourhood associations never hold records.
RECORD_KEEPING_KINDS = frozenset({
    OrganizationKind.COMMISSIONER_COUNCIL,
    OrganizationKind.CARE_CENTRE,
    OrganizationKind.WARD_SECTION,
    OrganizationKind.SOCIAL_WELFARE_COUNCIL,
    OrganizationKind.NPO,
})
# Organisations that report warning signs under a watch-over agreement (見守り協定), and the roles that may
# send a report for them: they hold no records and see none.
REPORTING_KINDS = frozenset({OrganizationKind.PARTNER_BUSINESS})
REPORTING_ROLES = frozenset({Role.INTEGRATION, Role.WORKER, Role.SUPERVISOR})
# Professional bodies that may open access without consent (a legal basis) and convene support meetings.
PROFESSIONAL_KINDS = frozenset({OrganizationKind.WARD_SECTION, OrganizationKind.CARE_CENTRE})
# Evacuation supporters (避難支援等関係者) a disaster event or an individual plan may name: the bodies that help
# people evacuate. The ward section keeps the list itself; partner businesses never receive it.
EVACUATION_SUPPORTER_KINDS = frozenset({
    OrganizationKind.COMMISSIONER_COUNCIL,
    OrganizationKind.CARE_CENTRE,
    OrganizationKind.SOCIAL_WELFARE_COUNCIL,
    OrganizationKind.NPO,
    OrganizationKind.NEIGHBOURHOOD_ASSOCIATION,
})
# Who keeps an organisation's listings in the public directory true (edit, re-verify, capacity): its
# workers, supervisors and org admins. New listings are approved by a supervisor of the ward section.
LISTING_ROLES = frozenset({Role.WORKER, Role.SUPERVISOR, Role.ORG_ADMIN})
LISTING_APPROVER_KINDS = frozenset({OrganizationKind.WARD_SECTION})
LISTING_APPROVER_ROLES = frozenset({Role.SUPERVISOR})


@dataclass(frozen=True)
class Standing:
    """One active membership: the organisation a user acts for, in which role, and where."""

    membership_id: int
    organization_id: int
    organization_kind: str
    organization_group_id: int
    ward_id: int
    role: str
    district_ids: frozenset[int]
    district_group_ids: frozenset[int]

    @property
    def casework(self) -> bool:
        return self.role in CASEWORK_ROLES and self.organization_kind in RECORD_KEEPING_KINDS

    @property
    def group_ids(self) -> frozenset[int]:
        """The groups this standing reads through (its organisation's, or a commissioner's districts')."""
        if self.role in ORGANIZATION_ROLES:
            return frozenset({self.organization_group_id})
        if self.role == Role.COMMISSIONER:
            return self.district_group_ids
        return frozenset()


@dataclass(frozen=True)
class Actor:
    """A user with the memberships active right now (empty when they hold none)."""

    user: User
    standings: tuple[Standing, ...]

    @property
    def member(self) -> bool:
        return bool(self.standings)

    @property
    def group_ids(self) -> list[int]:
        return sorted({group for standing in self.standings for group in standing.group_ids})

    def with_roles(self, roles: Iterable[str], *, kinds: Iterable[str] | None = None,
                   organization_id: int | None = None) -> list[Standing]:
        roles, kinds = set(roles), set(kinds) if kinds is not None else None
        return [s for s in self.standings if s.role in roles and (kinds is None or s.organization_kind in kinds)
                and (organization_id is None or s.organization_id == organization_id)]

    def casework(self, *, organization_id: int | None = None) -> Standing:
        """The casework standing the actor works through; which organisation must be said when they have several."""
        standings = [s for s in self.standings if s.casework
                     and (organization_id is None or s.organization_id == organization_id)]
        if not standings:
            raise NotPermitted("no_casework_role")
        if len({s.organization_id for s in standings}) > 1:
            raise RuleViolation("organization_required", field="organization")
        return standings[0]

    def acts_for(self, *, organization_id: int, district_id: int | None = None) -> bool:
        """A worker or supervisor of the organisation, or its commissioner for `district_id`."""
        return any(
            s.organization_id == organization_id
            and (s.role in ORGANIZATION_ROLES or (s.role == Role.COMMISSIONER and district_id in s.district_ids))
            for s in self.standings
        )

    @property
    def reporting_organization_ids(self) -> set[int]:
        """Partner businesses the actor reports for."""
        return {s.organization_id for s in self.with_roles(REPORTING_ROLES, kinds=REPORTING_KINDS)}

    def supervises(self, *, organization_id: int) -> bool:
        return bool(self.with_roles([Role.SUPERVISOR], organization_id=organization_id))

    def administers(self, *, organization_id: int) -> bool:
        """An org admin of the organisation right now (manages its members and its API clients)."""
        return bool(self.with_roles([Role.ORG_ADMIN], organization_id=organization_id))

    @property
    def administered_organization_ids(self) -> set[int]:
        return {s.organization_id for s in self.standings if s.role == Role.ORG_ADMIN}

    @property
    def queue_organization_ids(self) -> set[int]:
        """Organisations whose task queue the actor works (workers and supervisors)."""
        return {s.organization_id for s in self.standings if s.role in ORGANIZATION_ROLES}

    @property
    def commissioner_district_ids(self) -> set[int]:
        return {d for s in self.standings if s.role == Role.COMMISSIONER for d in s.district_ids}

    @property
    def commissioner_council_ids(self) -> set[int]:
        return {s.organization_id for s in self.standings if s.role == Role.COMMISSIONER}

    @property
    def privacy_officer_ward_ids(self) -> set[int]:
        return {s.ward_id for s in self.standings if s.role == Role.PRIVACY_OFFICER}


# A standing's columns, from a membership row: `_load` reads them from Membership; a token's look-up
# reads the same names through `standing_columns` in the one query that also finds the token and its user.
_STANDING_PATHS = ("id", "role", "organization_id", "organization__kind", "organization__group_id",
                   "organization__ward_id", "district_assignments__district_id",
                   "district_assignments__district__group_id")


def standing_columns(path: str, *, at=None) -> tuple[dict[str, FilteredRelation], dict[str, object], list[str]]:
    """What a query over `path` (a relation to the user's memberships, e.g. "user__memberships") needs to
    return the user's active standings on its own rows: the filtered relation (a LEFT JOIN whose condition
    is the membership's term, so a user with none still has their row), the columns and the ordering.

    The term is checked at `at` (now), so an ended term counts on the very next request.
    """
    at = at or timezone.now()
    relation = FilteredRelation(path, condition=Q(**{f"{path}__valid_from__lte": at}) & (
        Q(**{f"{path}__valid_until__isnull": True}) | Q(**{f"{path}__valid_until__gt": at})))
    columns = {f"standing_{i}": F(f"active_membership__{name}") for i, name in enumerate(_STANDING_PATHS)}
    return {"active_membership": relation}, columns, ["active_membership__id",
                                                      "active_membership__district_assignments__district_id"]


def standing_join_sql(user_column: str) -> tuple[str, str, str]:
    """The same standings as `standing_columns`, as SQL for a hand-written query over a row that names a user
    in `user_column` (e.g. `t.user_id`): the select list (`_STANDING_PATHS` order), the LEFT JOINs (two
    parameters: the moment, twice) and the ordering. For the per-request look-ups whose ORM compilation
    cost more than the database's answer (api/tokens.py)."""
    from cases.models import District, DistrictAssignment

    q = connection.ops.quote_name
    membership, organization = q(Membership._meta.db_table), q(Organization._meta.db_table)
    assignment, district = q(DistrictAssignment._meta.db_table), q(District._meta.db_table)
    columns = "sm.id, sm.role, sm.organization_id, so.kind, so.group_id, so.ward_id, sda.district_id, sd.group_id"
    joins = (f" LEFT JOIN {membership} sm ON sm.user_id = {user_column} AND sm.valid_from <= %s"
             f" AND (sm.valid_until IS NULL OR sm.valid_until > %s)"
             f" LEFT JOIN {organization} so ON so.id = sm.organization_id"
             f" LEFT JOIN {assignment} sda ON sda.membership_id = sm.id"
             f" LEFT JOIN {district} sd ON sd.id = sda.district_id")
    return columns, joins, "sm.id, sda.district_id"


def standing_values(row) -> tuple:
    """The standing columns `standing_columns` annotated on one row, in `_STANDING_PATHS` order."""
    return tuple(getattr(row, f"standing_{i}") for i in range(len(_STANDING_PATHS)))


def actor_from_rows(user: User, rows) -> Actor:
    """An actor from membership rows (`_STANDING_PATHS` order; rows whose membership id is None are skipped:
    the left join of a user with no active membership)."""
    found: dict[int, dict] = {}
    for membership_id, role, org_id, kind, group_id, ward_id, district_id, district_group_id in rows:
        if membership_id is None:
            continue
        entry = found.setdefault(membership_id, {
            "membership_id": membership_id, "role": role, "organization_id": org_id, "organization_kind": kind,
            "organization_group_id": group_id, "ward_id": ward_id, "district_ids": set(), "district_group_ids": set(),
        })
        if district_id is not None:
            entry["district_ids"].add(district_id)
            entry["district_group_ids"].add(district_group_id)
    standings = tuple(
        Standing(**{**entry, "district_ids": frozenset(entry["district_ids"]),
                    "district_group_ids": frozenset(entry["district_group_ids"])})
        for entry in found.values()
    )
    return Actor(user=user, standings=standings)


def _load(user: User, at=None) -> Actor:
    return actor_from_rows(user, Membership.objects.active(at).filter(user=user).order_by("id").values_list(
        *_STANDING_PATHS))


# Within one request (opened by audit.middleware): each user's actor, resolved once. The route's
# membership check resolves it first (api/access.py), and every guard and scoped read reuses it.
_resolved: contextvars.ContextVar[dict | None] = contextvars.ContextVar("actors_resolved", default=None)


@contextlib.contextmanager
def actors_remembered() -> Iterator[None]:
    token = _resolved.set({})
    try:
        yield
    finally:
        _resolved.reset(token)


def actor_for(*, user: User, at=None) -> Actor:
    """The user's active memberships right now (or at `at`): one query, kept for the rest of the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Actor(user=user, standings=())
    if at is not None:
        return _load(user, at)
    resolved = _resolved.get()
    if resolved is not None and user.pk in resolved:
        return resolved[user.pk]
    actor = _load(user)
    if resolved is not None:
        resolved[user.pk] = actor
    return actor


def actor_remember(actor: Actor) -> Actor:
    """Keep an actor resolved elsewhere (a token's look-up read the memberships with the token) for the rest
    of this request; outside a request nothing is kept and the next `actor_for` asks the database."""
    resolved = _resolved.get()
    if resolved is not None:
        resolved[actor.user.pk] = actor
    return actor


def actor_assume_organization(*, user: User, organization_id: int,
                              organization: Organization | None = None) -> Actor:
    """For the rest of this request, `user` (an organisation's API client, a machine) acts as a worker of
    the organisation: it reads and acts through the organisation's group, and the policy still decides per
    record. Only inside a request (the route's client authentication calls it); elsewhere the user holds no
    membership and so sees nothing. A worker's standing, never a supervisor's or an admin's."""
    resolved = _resolved.get()
    if resolved is None:
        raise RuntimeError("an organisation's client acts only inside a request")
    if organization is not None and organization.pk == organization_id:  # read with the client's key
        org = (organization.kind, organization.group_id, organization.ward_id)
    else:
        org = Organization.objects.filter(pk=organization_id).values_list("kind", "group_id", "ward_id").first()
    if org is None:
        actor = Actor(user=user, standings=())
    else:
        kind, group_id, ward_id = org
        actor = Actor(user=user, standings=(Standing(
            membership_id=0, organization_id=organization_id, organization_kind=kind, organization_group_id=group_id,
            ward_id=ward_id, role=Role.WORKER, district_ids=frozenset(), district_group_ids=frozenset()),))
    resolved[user.pk] = actor
    return actor


def actor_forget(*, user: User) -> None:
    """Drop the kept answer (after this request changed the user's memberships)."""
    resolved = _resolved.get()
    if resolved is not None:
        resolved.pop(user.pk, None)


def actor_remembered(*, user: User) -> Actor | None:
    """The actor this request already resolved for the user, if any (None outside a request)."""
    return (_resolved.get() or {}).get(getattr(user, "pk", None))


def members_of(organization, *, roles: Iterable[str] = ORGANIZATION_ROLES) -> list[User]:
    """Users who work in `organization` right now with one of `roles` (whom its queue notifies)."""
    if organization is None:
        return []
    memberships = Membership.objects.active().filter(organization=organization, role__in=list(roles))
    return list(User.objects.filter(is_active=True, memberships__in=memberships).distinct().order_by("id"))


def org_admins_of(*, organization_id: int) -> list[User]:
    """The org admins of an organisation right now (told when one of its webhook endpoints is disabled)."""
    memberships = Membership.objects.active().filter(role=Role.ORG_ADMIN, organization_id=organization_id)
    return list(User.objects.filter(is_active=True, memberships__in=memberships).distinct().order_by("id"))


def privacy_officers_of(*, ward_id: int) -> list[User]:
    """The privacy officers of a ward right now (they oversee legal-basis grants and escalation access)."""
    memberships = Membership.objects.active().filter(role=Role.PRIVACY_OFFICER, organization__ward_id=ward_id)
    return list(User.objects.filter(is_active=True, memberships__in=memberships).distinct().order_by("id"))
