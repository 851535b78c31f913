"""The fixed set of published tables (not ad-hoc queries: a free choice of cuts would allow differencing).

Each table counts, per commissioner district, with one aggregate query over the case records; council
areas and the ward are the sums of their districts, so every level adds up exactly. A *flow* table counts
what happened in the period (a fiscal year is the sum of its months); a *stock* table counts what stood on
the period's last day (a fiscal year's stock table is March's). A flow table's months are published by
ward, its fiscal year by every area (`TableSpec.levels_for`). A new table — the per-service figures,
partner reports by signal and outcome — is one more `TableSpec` in `TABLES` (and a `Link` when it shares a
population with another).
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Case as When_
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce

from cases.models import Case, Consent, District, DistrictAssignment, Referral, Resident, Task, Visit, Ward
from cases.models.choices import HouseholdType, OrganizationKind, Role
from cases.models.consent import Category, Decision
from cases.models.escalations import TaskKind
from cases.models.referrals import ReferralStatus
from cases.models.visits import Channel, Outcome, WarningSign
from plan_statistics.disclosure import Link
from plan_statistics.periods import Period

Counts = dict[int, list[list[int]]]  # district id → rows × cols
Samples = dict[int, list[float]]  # district id → the durations a median is taken over

AGE_BANDS = (("under_65", "65歳未満"), ("65_74", "65〜74歳"), ("75_84", "75〜84歳"), ("85_over", "85歳以上"))
ACK_BANDS = (("within_15m", "15分以内"), ("15m_1h", "15分〜1時間"), ("1h_4h", "1〜4時間"), ("4h_24h", "4〜24時間"),
             ("over_24h", "24時間超"), ("not_acknowledged", "未確認"))
ACK_LIMITS_MINUTES = (15, 60, 240, 1440)
LEVELS = (("none", "なし"), ("1", "1段階"), ("2", "2段階"), ("3_more", "3段階以上"))
KINDS = tuple(OrganizationKind.choices)
STATES = tuple((code, label) for code, label in ReferralStatus.choices if code != ReferralStatus.DRAFT)
ACCEPTED = {ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS, ReferralStatus.ON_HOLD, ReferralStatus.COMPLETED,
            ReferralStatus.FAILED}
COVERAGE = (("consented", "同意あり"), ("not_consented", "同意なし"))
FILL = (("filled", "委員のいる地区"), ("vacant", "欠員の地区"))
COUNT = (("count", "件数"),)


@dataclass(frozen=True)
class Statistic:
    """A median and a 90th percentile over durations, published only over k or more of them, rounded."""

    label: str
    unit: str  # "minutes" | "hours"
    rounding: int  # to a multiple of this many units


@dataclass(frozen=True)
class TableSpec:
    code: str
    title: str
    rows: tuple[tuple[str, str], ...]
    cols: tuple[tuple[str, str], ...]
    flow: bool
    count: Callable[[Ward, Period], Counts]
    personal: bool = True
    levels: tuple[str, ...] = ("ward", "council", "district")
    statistic: Statistic | None = None
    samples: Callable[[Ward, Period], Samples] | None = None

    def levels_for(self, period: Period) -> tuple[str, ...]:
        """A flow table's months are published for the ward only, its fiscal year for every area: so the
        year = Σ months identity binds only the ward, which is always published, and no unpublished area of
        a month can be had as the year minus the other eleven. A stock table is one date: every area."""
        return ("ward",) if self.flow and not period.is_year else self.levels


def _grid(rows: int, cols: int) -> list[list[int]]:
    return [[0] * cols for _ in range(rows)]


def _tally(found: Counts, district_id: int, shape: tuple[int, int], r: int, c: int, n: int = 1) -> None:
    grid = found.get(district_id)
    if grid is None:
        grid = found[district_id] = _grid(*shape)
    grid[r][c] += n


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _in_ward(prefix: str, ward: Ward) -> Q:
    return Q(**{f"{prefix}district__council_area__ward": ward})


def watched_residents(ward: Ward, period: Period) -> Resident:
    """Residents watched on the period's last day: registered by then with a case open at its end."""
    open_case = Case.objects.filter(resident=OuterRef("pk"), opened_at__lt=period.end).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=period.end))
    return Resident.objects.filter(_in_ward("", ward), created_at__lt=period.end).filter(Exists(open_case))


def _count_watched(ward: Ward, period: Period) -> Counts:
    day = period.last_day
    band = When_(
        When(date_of_birth__gt=_years_before(day, 65), then=Value(0)),
        When(date_of_birth__gt=_years_before(day, 75), then=Value(1)),
        When(date_of_birth__gt=_years_before(day, 85), then=Value(2)),
        default=Value(3), output_field=IntegerField())
    households = [code for code, _ in HouseholdType.choices]
    found: Counts = {}
    for district_id, household, age, n in watched_residents(ward, period).annotate(band=band).values_list(
            "district_id", "household_type", "band").annotate(n=Count("id")).order_by():
        _tally(found, district_id, (len(households), len(AGE_BANDS)), households.index(household), age, n)
    return found


def _visits(ward: Ward, period: Period):
    return Visit.objects.filter(_in_ward("case__resident__", ward), occurred_at__gte=period.start,
                                occurred_at__lt=period.end)


def _count_visits(ward: Ward, period: Period) -> Counts:
    channels, outcomes = [c for c, _ in Channel.choices], [o for o, _ in Outcome.choices]
    found: Counts = {}
    for district_id, channel, outcome, n in _visits(ward, period).values_list(
            "case__resident__district_id", "channel", "outcome").annotate(n=Count("id")).order_by():
        _tally(found, district_id, (len(channels), len(outcomes)), channels.index(channel), outcomes.index(outcome), n)
    return found


def _count_signs(ward: Ward, period: Period) -> Counts:
    """Warning signs found, by the channel of the visit that found them (a visit may find several)."""
    signs, channels = [s for s, _ in WarningSign.choices], [c for c, _ in Channel.choices]
    found: Counts = {}
    for district_id, channel, seen in _visits(ward, period).exclude(warning_signs=[]).values_list(
            "case__resident__district_id", "channel", "warning_signs").iterator(chunk_size=5000):
        for sign in set(seen or []) & set(signs):
            _tally(found, district_id, (len(signs), len(channels)), signs.index(sign), channels.index(channel))
    return found


def _safety_checks(ward: Ward, period: Period):
    place = Q(resident__isnull=False, **{"resident__district__council_area__ward": ward}) | Q(
        resident__isnull=True, **{"case__resident__district__council_area__ward": ward})
    return Task.objects.filter(place, kind=TaskKind.SAFETY_CHECK, created_at__gte=period.start,
                               created_at__lt=period.end).annotate(
        place_id=Coalesce("resident__district_id", "case__resident__district_id"))


def _minutes(opened: datetime.datetime, acknowledged: datetime.datetime | None) -> float | None:
    return None if acknowledged is None else max(0.0, (acknowledged - opened).total_seconds() / 60)


def _count_acknowledged(ward: Ward, period: Period) -> Counts:
    found: Counts = {}
    for district_id, opened, acknowledged in _safety_checks(ward, period).values_list(
            "place_id", "created_at", "acknowledged_at"):
        minutes = _minutes(opened, acknowledged)
        band = len(ACK_BANDS) - 1 if minutes is None else next(
            (i for i, limit in enumerate(ACK_LIMITS_MINUTES) if minutes <= limit), len(ACK_LIMITS_MINUTES))
        _tally(found, district_id, (len(ACK_BANDS), 1), band, 0)
    return found


def _samples_acknowledged(ward: Ward, period: Period) -> Samples:
    found: Samples = defaultdict(list)
    for district_id, opened, acknowledged in _safety_checks(ward, period).filter(
            acknowledged_at__isnull=False).values_list("place_id", "created_at", "acknowledged_at"):
        found[district_id].append(_minutes(opened, acknowledged))
    return found


def _count_escalations(ward: Ward, period: Period) -> Counts:
    found: Counts = {}
    for district_id, level in _safety_checks(ward, period).values_list("place_id", "escalation_level"):
        _tally(found, district_id, (len(LEVELS), 1), min(level, len(LEVELS) - 1), 0)
    return found


def _referrals(ward: Ward, period: Period):
    return Referral.objects.filter(_in_ward("case__resident__", ward), requested_at__gte=period.start,
                                   requested_at__lt=period.end)


def _count_flow(ward: Ward, period: Period) -> Counts:
    kinds = [k for k, _ in KINDS]
    found: Counts = {}
    for district_id, sender, receiver, n in _referrals(ward, period).values_list(
            "case__resident__district_id", "sender_organization__kind", "receiver_organization__kind").annotate(
            n=Count("id")).order_by():
        _tally(found, district_id, (len(kinds), len(kinds)), kinds.index(sender), kinds.index(receiver), n)
    return found


def _count_outcomes(ward: Ward, period: Period) -> Counts:
    kinds, states = [k for k, _ in KINDS], [s for s, _ in STATES]
    found: Counts = {}
    for district_id, status, receiver, n in _referrals(ward, period).exclude(status=ReferralStatus.DRAFT).values_list(
            "case__resident__district_id", "status", "receiver_organization__kind").annotate(n=Count("id")).order_by():
        _tally(found, district_id, (len(states), len(kinds)), states.index(status), kinds.index(receiver), n)
    return found


def _samples_accept(ward: Ward, period: Period) -> Samples:
    found: Samples = defaultdict(list)
    for district_id, requested, answered in _referrals(ward, period).filter(
            answered_at__isnull=False, status__in=ACCEPTED).values_list(
            "case__resident__district_id", "requested_at", "answered_at"):
        found[district_id].append(max(0.0, (answered - requested).total_seconds() / 3600))
    return found


def _count_consent(ward: Ward, period: Period) -> Counts:
    """For each category: watched residents with a consent (granted, in its period, not withdrawn on the
    day) that covers it, for any recipient and purpose, and those without."""
    end = period.end
    watched = dict(watched_residents(ward, period).values_list("id", "district_id"))
    covered: dict[int, set[str]] = defaultdict(set)
    consents = Consent.objects.filter(
        resident__in=watched_residents(ward, period), decision=Decision.GRANTED, valid_from__lt=end,
        taken_at__lt=end).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=end)).filter(
        Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=end))
    for resident_id, categories in consents.values_list("resident_id", "categories").iterator(chunk_size=5000):
        covered[resident_id].update(categories or [])
    codes = [c for c, _ in Category.choices]
    found: Counts = {}
    for resident_id, district_id in watched.items():
        for r, category in enumerate(codes):
            _tally(found, district_id, (len(codes), 2), r, 0 if category in covered[resident_id] else 1)
    return found


def _count_fill(ward: Ward, period: Period) -> Counts:
    """Commissioner districts with and without a commissioner on the period's last day."""
    end = period.end
    serving = DistrictAssignment.objects.filter(
        district=OuterRef("pk"), membership__role=Role.COMMISSIONER, membership__valid_from__lt=end).filter(
        Q(membership__valid_until__isnull=True) | Q(membership__valid_until__gte=end))
    found: Counts = {}
    for district_id, filled in District.objects.filter(council_area__ward=ward).annotate(
            filled=Exists(serving)).values_list("id", "filled"):
        _tally(found, district_id, (len(FILL), 1), 0 if filled else 1, 0)
    return found


TABLES: tuple[TableSpec, ...] = (
    TableSpec("watched_residents", "見守り対象者数（世帯状況×年齢）", tuple(HouseholdType.choices), AGE_BANDS,
              flow=False, count=_count_watched),
    TableSpec("visits", "訪問・連絡の件数（方法×結果）", tuple(Channel.choices), tuple(Outcome.choices),
              flow=True, count=_count_visits),
    TableSpec("warning_signs", "把握された異変の兆候（兆候×方法）", tuple(WarningSign.choices), tuple(Channel.choices),
              flow=True, count=_count_signs),
    TableSpec("safety_check_acknowledgement", "安否確認の件数（受付までの時間）", ACK_BANDS, COUNT, flow=True,
              count=_count_acknowledged, statistic=Statistic("受付までの時間", "minutes", 5),
              samples=_samples_acknowledged),
    TableSpec("safety_check_escalations", "安否確認の件数（エスカレーション段階）", LEVELS, COUNT, flow=True,
              count=_count_escalations),
    TableSpec("referral_flow", "つなぎの件数（依頼元×依頼先の種別）", KINDS, KINDS, flow=True, count=_count_flow),
    TableSpec("referral_outcomes", "つなぎの件数（現在の状態×依頼先の種別）", STATES, KINDS, flow=True,
              count=_count_outcomes, statistic=Statistic("受理までの時間", "hours", 1), samples=_samples_accept),
    TableSpec("consent_coverage", "同意の状況（情報の区分別・見守り対象者）", tuple(Category.choices), COVERAGE,
              flow=False, count=_count_consent),
    TableSpec("commissioner_fill", "民生委員の充足（担当地区数）", FILL, COUNT, flow=False, count=_count_fill,
              personal=False, levels=("ward", "council")),
)
TABLE_CODES = tuple(spec.code for spec in TABLES)
BY_CODE = {spec.code: spec for spec in TABLES}

# Tables over one population share figures; the audit holds them equal (disclosure.Link).
LINKS: tuple[Link, ...] = (
    Link("safety_check_acknowledgement", "safety_check_escalations", ((("t",), ("t",)),)),
    Link("referral_flow", "referral_outcomes", tuple((("k", c), ("k", c)) for c in range(len(KINDS)))
         + ((("t",), ("t",)),)),
    *(Link("consent_coverage", "watched_residents", ((("r", r), ("t",)),)) for r in range(len(Category.choices))),
)


def statistic_of(values: list[float], *, statistic: Statistic, k: int) -> dict | None:
    """Median and 90th percentile (nearest rank), rounded; None under k values."""
    if len(values) < k:
        return None
    ordered = sorted(values)

    def rank(q: float) -> float:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    def rounded(value: float) -> int:
        return int(round(value / statistic.rounding) * statistic.rounding)

    return {"label": statistic.label, "unit": statistic.unit, "median": rounded(rank(0.5)), "p90": rounded(rank(0.9))}
