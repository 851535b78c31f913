"""The city's directory: seven wards, their council areas, districts, organisations and staff.

Sizing follows a Kawasaki-like city (1.5 million people, ~100,000
watched residents), scaled linearly with the number of residents: one
commissioner and one district per ~77 residents, one care centre and one
council area per ~2,040, four ward sections and a council of social welfare per
ward, NPOs, neighbourhood associations, partner businesses, and the workers and
supervisors who staff them. Town names are real; postal codes share the ward's
real three-digit prefix and are otherwise synthetic.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password

from cases.models import CouncilArea, District, DistrictAssignment, Membership, Organization, User, Ward
from cases.models.choices import Field, OrganizationKind, Role

TOKYO = ZoneInfo("Asia/Tokyo")
K = OrganizationKind
CODE_PREFIX = "city-"
RESIDENTS_PER_COMMISSIONER = 77
RESIDENTS_PER_CARE_CENTRE = 2040
TERM_START = datetime.datetime(2025, 12, 1, tzinfo=TOKYO)
TERM_END = datetime.datetime(2028, 12, 1, tzinfo=TOKYO)

# code, name, postal prefix, population (10,000s, weights the split), towns
WARDS: tuple[tuple[str, str, str, int, tuple[str, ...]], ...] = (
    ("kawasaki", "川崎区", "210", 23, ("大師町", "渡田", "小田", "浅田", "桜本", "藤崎", "川中島", "中島")),
    ("saiwai", "幸区", "212", 17, ("小倉", "南加瀬", "北加瀬", "鹿島田", "古市場", "戸手", "下平間", "東古市場")),
    ("nakahara", "中原区", "211", 26, ("木月", "井田", "上小田中", "下小田中", "新城", "宮内", "上丸子", "今井南町")),
    ("takatsu", "高津区", "213", 23, ("溝口", "久本", "末長", "千年", "新作", "子母口", "梶ケ谷", "久地")),
    ("miyamae", "宮前区", "216", 23, ("宮崎", "有馬", "鷺沼", "土橋", "犬蔵", "野川", "平", "菅生")),
    ("tama", "多摩区", "214", 22, ("登戸", "宿河原", "中野島", "菅", "生田", "枡形", "南生田", "東生田")),
    ("asao", "麻生区", "215", 18, ("百合丘", "高石", "細山", "王禅寺", "金程", "上麻生", "岡上", "片平")),
)
SECTIONS = (("高齢・障害課", [Field.ELDERLY, Field.DISABILITY]), ("児童家庭課", [Field.CHILD]),
            ("保護課", [Field.LIVELIHOOD]), ("地域支援課", [Field.COMMUNITY]))
NPO_KINDS = (("いきいきサロン", [Field.ELDERLY, Field.COMMUNITY]), ("こども食堂ネット", [Field.CHILD, Field.FOOD]),
             ("多文化共生サポート", [Field.FOREIGN_RESIDENTS]), ("にじいろ", [Field.LGBT]),
             ("フードバンク", [Field.FOOD, Field.LIVELIHOOD]))
PARTNER_KINDS = ("みまもり新聞販売所", "生活協同組合 宅配センター", "水道メーター点検", "ガス保安センター",
                 "郵便配達センター")


class Progress(Protocol):
    def phase(self, name: str, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


@dataclass(frozen=True)
class Sizing:
    residents: int
    commissioners: int
    care_centres: int
    npos: int
    associations: int
    partners: int
    workers_per_office: int
    supervisors_per_office: int


def scale_sizing(*, residents: int) -> Sizing:
    """How big the city is for `residents` watched residents (at least one of everything per ward)."""
    wards = len(WARDS)
    care_centres = max(wards, round(residents / RESIDENTS_PER_CARE_CENTRE))
    return Sizing(
        residents=residents,
        commissioners=max(care_centres, round(residents / RESIDENTS_PER_COMMISSIONER)),
        care_centres=care_centres,
        npos=max(wards, round(residents / 2500)),
        associations=max(wards, round(residents / 1000)),
        partners=max(3, round(residents / 10000)),
        workers_per_office=max(1, min(8, round(residents / 12500))),
        supervisors_per_office=1 if residents < 50000 else 2,
    )


def _allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` (≥ len(weights)) by `weights` with the largest remainder, at least one each."""
    spare = total - len(weights)
    shares = [spare * w / sum(weights) for w in weights]
    counts = [int(s) for s in shares]
    for i in sorted(range(len(weights)), key=lambda i: counts[i] - shares[i])[: spare - sum(counts)]:
        counts[i] += 1
    return [c + 1 for c in counts]


@dataclass
class Area:
    """A council area: its commissioner council, its care centre and its districts."""

    council: Organization
    care_centre: Organization
    ward: int
    districts: list[tuple[District, str, int, str]] = field(default_factory=list)  # district, town, chome, postal


@dataclass
class City:
    """What the people step needs to know about the directory."""

    areas: list[Area] = field(default_factory=list)
    ward_orgs: list[dict[str, list[Organization]]] = field(default_factory=list)  # per ward, by kind
    commissioner_of: dict[int, User] = field(default_factory=dict)  # district id → commissioner
    workers: dict[int, list[User]] = field(default_factory=dict)  # organisation id → workers


def city_build(*, sizing: Sizing, rng: random.Random, staff_names: list[str], batch: int,
               progress: Progress | None) -> City:
    """Create the wards, areas, districts and organisations (one by one: a few thousand rows, each with its
    group), then every user, membership and district assignment in bulk."""
    city = City()
    weights = [w[3] for w in WARDS]
    centres = _allocate(sizing.care_centres, weights)
    commissioners = _allocate(sizing.commissioners, weights)
    npos = _allocate(sizing.npos, weights)
    associations = _allocate(sizing.associations, weights)
    wards: list[Ward] = []
    if progress:
        progress.phase("directory", len(WARDS))
    for w, (code, name, postal, _, towns) in enumerate(WARDS):
        ward = Ward.objects.create(code=f"{CODE_PREFIX}{code}", name=name)
        wards.append(ward)
        orgs: dict[str, list[Organization]] = {}

        def org(kind: str, org_name: str, fields: list[str], ward=ward, orgs=orgs) -> Organization:
            created = Organization.objects.create(kind=kind, name=org_name, ward=ward, fields=[str(f) for f in fields])
            orgs.setdefault(kind, []).append(created)
            return created

        for section, fields in SECTIONS:
            org(K.WARD_SECTION, f"{name}役所 地域みまもり支援センター {section}", fields)
        org(K.SOCIAL_WELFARE_COUNCIL, f"{name}社会福祉協議会", [Field.COMMUNITY, Field.ELDERLY, Field.CHILD])
        stem = name.removesuffix("区")
        for n in range(npos[w]):
            label, fields = NPO_KINDS[n % len(NPO_KINDS)]
            suffix = f" {n // len(NPO_KINDS) + 1}" if n >= len(NPO_KINDS) else ""
            org(K.NPO, f"NPO法人 {stem}{label}{suffix}", fields)
        for n in range(associations[w]):
            org(K.NEIGHBOURHOOD_ASSOCIATION, f"{towns[n % len(towns)]}第{n // len(towns) + 1}町内会", [Field.COMMUNITY])
        per_area = _allocate(commissioners[w], [1] * centres[w])
        for a in range(centres[w]):
            town = towns[a % len(towns)]
            council = org(K.COMMISSIONER_COUNCIL, f"{name}{town}第{a + 1}地区民生委員児童委員協議会",
                          [Field.ELDERLY, Field.CHILD, Field.COMMUNITY])
            centre = org(K.CARE_CENTRE, f"{town}第{a + 1}地域包括支援センター", [Field.ELDERLY])
            council_area = CouncilArea.objects.create(
                ward=ward, code=f"{CODE_PREFIX}a{len(city.areas) + 1:04d}", name=f"{town}第{a + 1}地区", council=council
            )
            area = Area(council=council, care_centre=centre, ward=w)
            for d in range(per_area[a]):
                town_index = (a + d) % len(towns)
                chome = d // len(towns) % 6 + 1
                district = District.objects.create(
                    council_area=council_area,
                    code=f"{CODE_PREFIX}d{sum(len(x.districts) for x in city.areas) + d + 1:05d}",
                    name=f"{towns[town_index]}{chome}丁目 第{d + 1}区",
                )
                area.districts.append((district, towns[town_index], chome, f"{postal}{town_index + 1:04d}"))
            city.areas.append(area)
        city.ward_orgs.append(orgs)
        if progress:
            progress.advance(1)
    for n in range(sizing.partners):
        ward = wards[n % len(wards)]
        suffix = f" {n // len(WARDS) + 1}" if n >= len(WARDS) else ""
        Organization.objects.create(kind=K.PARTNER_BUSINESS, ward=ward, name=(
            f"{ward.name.removesuffix('区')}{PARTNER_KINDS[n % len(PARTNER_KINDS)]}{suffix}"))
    _staff(city, sizing=sizing, rng=rng, staff_names=staff_names, batch=batch)
    return city


def _staff(city: City, *, sizing: Sizing, rng: random.Random, staff_names: list[str], batch: int) -> None:
    """Commissioners (one per district, for the current term) and the staff of every organisation."""
    users: list[User] = []
    memberships: list[tuple[Membership, District | None]] = []
    staff_since = datetime.datetime(2024, 4, 1, tzinfo=TOKYO)
    unusable = make_password(None)

    def user(username: str) -> User:
        users.append(User(username=f"{CODE_PREFIX}{username}", display_name=rng.choice(staff_names),
                          password=unusable))
        return users[-1]

    def member(account: User, org: Organization, role: str, district: District | None = None) -> None:
        start, end = (TERM_START, TERM_END) if role == Role.COMMISSIONER else (staff_since, None)
        memberships.append((Membership(user=account, organization=org, role=role, valid_from=start, valid_until=end),
                            district))

    for area in city.areas:
        for district, *_ in area.districts:
            account = user(f"c{len(city.commissioner_of) + 1:05d}")
            member(account, area.council, Role.COMMISSIONER, district)
            city.commissioner_of[district.id] = account
    staffing = {K.CARE_CENTRE: (sizing.workers_per_office, sizing.supervisors_per_office),
                K.WARD_SECTION: (sizing.workers_per_office, sizing.supervisors_per_office),
                K.NPO: (min(2, sizing.workers_per_office), 0),
                K.SOCIAL_WELFARE_COUNCIL: (min(2, sizing.workers_per_office), 0),
                K.NEIGHBOURHOOD_ASSOCIATION: (1, 0)}
    numbered = 0
    for w, orgs in enumerate(city.ward_orgs):
        for kind, members in orgs.items():
            workers, supervisors = staffing.get(kind, (0, 0))
            for org in members:
                numbered += 1
                for i in range(workers):
                    account = user(f"o{numbered:04d}-w{i + 1}")
                    member(account, org, Role.WORKER)
                    city.workers.setdefault(org.id, []).append(account)
                for i in range(supervisors):
                    member(user(f"o{numbered:04d}-s{i + 1}"), org, Role.SUPERVISOR)
                if kind == K.CARE_CENTRE:
                    member(user(f"o{numbered:04d}-admin"), org, Role.ORG_ADMIN)
        community = orgs[K.WARD_SECTION][-1]
        member(user(f"{WARDS[w][0]}-privacy"), community, Role.PRIVACY_OFFICER)
        member(user(f"{WARDS[w][0]}-admin"), community, Role.ORG_ADMIN)
    partners = Organization.objects.filter(kind=K.PARTNER_BUSINESS, ward__code__startswith=CODE_PREFIX).order_by("id")
    for n, org in enumerate(partners, start=1):
        member(user(f"partner{n:03d}"), org, Role.INTEGRATION)
    User.objects.bulk_create(users, batch_size=batch)
    Membership.objects.bulk_create([m for m, _ in memberships], batch_size=batch)
    DistrictAssignment.objects.bulk_create(
        [DistrictAssignment(membership=m, district=d) for m, d in memberships if d is not None], batch_size=batch
    )
