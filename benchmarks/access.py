"""Benchmark: the first page of a list, through the policy, against guardian's shortcut and the floor.

For each reader (a sparse commissioner, a dense care-centre worker, a dense
ward caseworker) and each list (the caseload; one case's notes) it times, in
one run and interleaved:

- ours:     the selector the API uses (`cases_visible_to`, `notes_visible_to`), first 50 rows, as a
            request runs it: after the route's membership check, which every route runs and which
            also finds the reader's groups (`permissions.access.acting_groups`, one query, timed
            on its own as "check");
- guardian: the same page from guardian's `get_objects_for_user` on the same
            direct-foreign-key tables (global and superuser permissions off);
- floor:    fetching the same 50 rows by primary key, with the same related rows
            (`case_rows()`, `note_rows()`: what the API serialises), unscoped.

It prints medians, the ratios ours/floor, (check + ours)/floor and guardian/ours, and
whether guardian's page holds the same rows as ours (the floor's must, or it stops). Run it on a
`seed_scale` database: `make bench-access` (DATABASE_URL must be PostgreSQL).
"""

from __future__ import annotations

import argparse
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.dev")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402
from guardian.shortcuts import get_objects_for_user  # noqa: E402

from benchmarks.timing import medians_ms  # noqa: E402
from cases.models import Case, Membership, Note, Resident, User  # noqa: E402
from cases.models.choices import OrganizationKind, Role  # noqa: E402
from cases.selectors import case_rows, cases_visible_to, note_rows, notes_visible_to  # noqa: E402
from permissions.access import acting_groups, groups_remembered  # noqa: E402
from permissions.actors import actor_for  # noqa: E402
from permissions.models import CaseGroupObjectPermission  # noqa: E402

PAGE = 50


def _reader(kind: str) -> User | None:
    """The reader whose group holds the most (or, for commissioners, a typical number of) case grants."""
    if kind == "commissioner":
        membership = Membership.objects.active().filter(role=Role.COMMISSIONER).order_by("id").first()
        return membership.user if membership else None
    org_kind = OrganizationKind.CARE_CENTRE if kind == "care_worker" else OrganizationKind.WARD_SECTION
    busiest = (
        CaseGroupObjectPermission.objects.filter(group__organization__kind=org_kind,
                                                 permission__codename="view_case")
        .values("group__organization").annotate(n=Count("id")).order_by("-n").first()
    )
    if busiest is None:
        return None
    membership = Membership.objects.active().filter(
        organization_id=busiest["group__organization"], role=Role.WORKER
    ).first()
    return membership.user if membership else None


def _case_lists(user: User):
    ours = lambda: list(cases_visible_to(user=user)[:PAGE])  # noqa: E731
    ids = [c.id for c in ours()]

    def guardian():
        qs = get_objects_for_user(
            user, "cases.view_case", klass=case_rows(), use_groups=True, with_superuser=False,
            accept_global_perms=False,
        )
        return list(qs.order_by("due_order", "id")[:PAGE])

    def floor():
        return list(case_rows().filter(pk__in=ids).order_by("due_order", "id"))

    assert [c.id for c in floor()] == ids
    return ours, guardian, floor, len(ids), cases_visible_to(user=user).count(), [c.id for c in guardian()] == ids


def _note_lists(user: User):
    case = (
        notes_visible_to(user=user).values("case_id").annotate(n=Count("id")).order_by("-n").first()
    )
    if case is None:
        return None
    case_id = case["case_id"]
    ours = lambda: list(notes_visible_to(user=user).filter(case_id=case_id)[:PAGE])  # noqa: E731
    ids = [n.id for n in ours()]

    def guardian():
        qs = get_objects_for_user(
            user, "cases.view_note", klass=note_rows(), use_groups=True, with_superuser=False,
            accept_global_perms=False,
        )
        return list(qs.filter(case_id=case_id, superseded_by__isnull=True).order_by("-created_at", "-id")[:PAGE])

    def floor():
        return list(note_rows().filter(pk__in=ids).order_by("-created_at", "-id"))

    assert [n.id for n in floor()] == ids
    return (ours, guardian, floor, len(ids), notes_visible_to(user=user).filter(case_id=case_id).count(),
            [n.id for n in guardian()] == ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("run the benchmark on PostgreSQL (DATABASE_URL=postgres://...)")
    settings.DEBUG = False  # the dev settings' query log would weigh on every side
    print(f"data: {Resident.objects.count():,} residents, {Case.objects.count():,} cases, "
          f"{Note.objects.count():,} notes; page size {PAGE}; median of {args.repeat}")
    print(f"{'reader':<16}{'list':<9}{'visible':>8}{'page':>5}{'check':>7}{'ours ms':>9}{'guardian':>10}"
          f"{'floor':>7}{'ours/floor':>12}{'+check':>8}{'guardian/ours':>15}  same page")
    worst_floor, worst_with_check, worst_guardian = 0.0, 0.0, float("inf")
    for kind in ("commissioner", "care_worker", "ward_caseworker"):
        user = _reader(kind)
        if user is None:
            print(f"{kind:<16}(no such reader in this data set)")
            continue
        resolve = {"check": lambda user=user: actor_for(user=user, at=timezone.now())}
        check = medians_ms(resolve, args.repeat, warm=1)["check"]
        for label, build in (("caseload", _case_lists), ("notes", _note_lists)):
            with groups_remembered():
                acting_groups(user=user)  # the route's membership check, as in every request
                built = build(user)
                if built is None:
                    print(f"{kind:<16}{label:<9}(nothing visible)")
                    continue
                ours, guardian, floor, page, visible, same = built
                times = medians_ms({"ours": ours, "guardian": guardian, "floor": floor}, args.repeat, warm=1)
            t_ours, t_guardian, t_floor = times["ours"], times["guardian"], times["floor"]
            worst_floor = max(worst_floor, t_ours / t_floor)
            worst_with_check = max(worst_with_check, (check + t_ours) / t_floor)
            worst_guardian = min(worst_guardian, t_guardian / t_ours)
            print(f"{kind:<16}{label:<9}{visible:>8,}{page:>5}{check:>7.2f}{t_ours:>9.2f}{t_guardian:>10.2f}"
                  f"{t_floor:>7.2f}{t_ours / t_floor:>12.2f}{(check + t_ours) / t_floor:>8.2f}"
                  f"{t_guardian / t_ours:>15.1f}  {'yes' if same else 'NO (guardian ignores the windows)'}")
    print(f"worst ours/floor: {worst_floor:.2f}x (aim ≤ 2), with the membership check: {worst_with_check:.2f}x; "
          f"least guardian/ours: {worst_guardian:.1f}x (aim ≥ 5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


