"""The demo ward's directory: its geography, organisations, staff and the named demo accounts.

Town names and postal codes are real (川崎市多摩区); people's names are synthetic.
Every row is found again by a natural key (ward code, area and district code,
organisation name, username), so building twice refreshes instead of duplicating.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Permission
from faker import Faker

from api.tokens import token_install
from cases.models import CouncilArea, District, DistrictAssignment, Membership, Organization, User, Ward
from cases.models.choices import Field, OrganizationKind, Role

TOKYO = ZoneInfo("Asia/Tokyo")
SEED = 20261127
DEMO_PASSWORD = "mimamori-demo-2026"
WARD_CODE = "tama"
# Commissioners are appointed en masse every 1 December for three years.
TERM_START = datetime.datetime(2025, 12, 1, tzinfo=TOKYO)
TERM_END = datetime.datetime(2028, 12, 1, tzinfo=TOKYO)
STAFF_SINCE = datetime.datetime(2024, 4, 1, tzinfo=TOKYO)


@dataclass(frozen=True)
class DistrictSpec:
    code: str
    name: str
    town: str
    postal_code: str
    chomes: tuple[int, ...]


@dataclass(frozen=True)
class AreaSpec:
    code: str
    name: str
    care_centre: str
    districts: tuple[DistrictSpec, ...]


def _d(code: str, name: str, town: str, postal_code: str, *chomes: int) -> DistrictSpec:
    return DistrictSpec(f"tama-{code}", name, town, postal_code, chomes)


CARE_NOBORITO = "登戸地域包括支援センター"
AREAS: tuple[AreaSpec, ...] = (
    AreaSpec("tama-noborito", "登戸", CARE_NOBORITO, (
        _d("nb01", "登戸1丁目", "登戸", "2140014", 1),
        _d("nb02", "登戸2丁目", "登戸", "2140014", 2),
        _d("nb03", "登戸3丁目", "登戸", "2140014", 3),
        _d("nb04", "登戸4丁目", "登戸", "2140014", 4),
    )),
    AreaSpec("tama-inada", "稲田", CARE_NOBORITO, (
        _d("in01", "宿河原1丁目", "宿河原", "2140021", 1),
        _d("in02", "宿河原2丁目", "宿河原", "2140021", 2),
        _d("in03", "宿河原5丁目", "宿河原", "2140021", 5),
        _d("in04", "堰2丁目", "堰", "2140022", 2),
        _d("in05", "長尾3丁目", "長尾", "2140023", 3),
    )),
    AreaSpec("tama-nakanoshima", "中野島", "中野島地域包括支援センター", (
        _d("nk01", "中野島1丁目", "中野島", "2140012", 1),
        _d("nk03", "中野島3丁目", "中野島", "2140012", 3),
        _d("nk05", "中野島5丁目", "中野島", "2140012", 5),
        _d("nk06", "布田", "布田", "2140011"),
    )),
    AreaSpec("tama-suge", "菅", "菅地域包括支援センター", (
        _d("sg01", "菅1丁目", "菅", "2140001", 1),
        _d("sg03", "菅3丁目", "菅", "2140001", 3),
        _d("sg04", "菅北浦", "菅北浦", "2140004", 1, 2, 3, 4, 5),
    )),
    AreaSpec("tama-ikuta", "生田", "生田地域包括支援センター", (
        _d("ik05", "生田5丁目", "生田", "2140038", 5),
        _d("ik07", "生田7丁目", "生田", "2140038", 7),
        _d("ik11", "枡形2丁目", "枡形", "2140034", 2),
        _d("ik12", "枡形6丁目", "枡形", "2140034", 6),
        _d("ik21", "西生田", "西生田", "2140037", 1, 2, 3, 4, 5),
    )),
    AreaSpec("tama-minamiikuta", "南生田", "南生田地域包括支援センター", (
        _d("mi04", "南生田4丁目", "南生田", "2140036", 4),
        _d("mi07", "南生田7丁目", "南生田", "2140036", 7),
        _d("mi11", "東生田2丁目", "東生田", "2140031", 2),
        _d("mi12", "東生田", "東生田", "2140031", 1, 3, 4),
    )),
)

SECTION = "多摩区役所 地域みまもり支援センター"
ELDERLY_SECTION = f"{SECTION} 高齢・障害課"
CHILD_SECTION = f"{SECTION} 児童家庭課"
WELFARE_SECTION = f"{SECTION} 保護課"
COMMUNITY_SECTION = f"{SECTION} 地域支援課"
SALON_NPO = "NPO法人 いきいきサロン多摩"
FOOD_NPO = "NPO法人 多摩こども食堂ネット"
FOREIGN_NPO = "NPO法人 多文化共生サポートたま"
LGBT_NPO = "NPO法人 にじいろ多摩"
NEWSPAPER = "多摩みまもり新聞販売所"

K = OrganizationKind
F = Field
# (username slug, name, kind, fields served)
ORGANIZATIONS: tuple[tuple[str, str, str, list[str]], ...] = (
    ("care-noborito", CARE_NOBORITO, K.CARE_CENTRE, [F.ELDERLY]),
    ("care-nakanoshima", "中野島地域包括支援センター", K.CARE_CENTRE, [F.ELDERLY]),
    ("care-suge", "菅地域包括支援センター", K.CARE_CENTRE, [F.ELDERLY]),
    ("care-ikuta", "生田地域包括支援センター", K.CARE_CENTRE, [F.ELDERLY]),
    ("care-minamiikuta", "南生田地域包括支援センター", K.CARE_CENTRE, [F.ELDERLY]),
    ("ward-elderly", ELDERLY_SECTION, K.WARD_SECTION, [F.ELDERLY, F.DISABILITY]),
    ("ward-child", CHILD_SECTION, K.WARD_SECTION, [F.CHILD]),
    ("ward-welfare", WELFARE_SECTION, K.WARD_SECTION, [F.LIVELIHOOD]),
    ("ward-community", COMMUNITY_SECTION, K.WARD_SECTION, [F.COMMUNITY]),
    ("swc", "多摩区社会福祉協議会", K.SOCIAL_WELFARE_COUNCIL, [F.COMMUNITY, F.ELDERLY, F.CHILD]),
    ("npo-salon", SALON_NPO, K.NPO, [F.ELDERLY, F.COMMUNITY]),
    ("npo-food", FOOD_NPO, K.NPO, [F.CHILD, F.FOOD]),
    ("npo-tabunka", FOREIGN_NPO, K.NPO, [F.FOREIGN_RESIDENTS]),
    ("npo-niji", LGBT_NPO, K.NPO, [F.LGBT]),
    ("na-noborito", "登戸町会", K.NEIGHBOURHOOD_ASSOCIATION, [F.COMMUNITY]),
    ("na-sugekitaura", "菅北浦自治会", K.NEIGHBOURHOOD_ASSOCIATION, [F.COMMUNITY]),
    ("partner-news", NEWSPAPER, K.PARTNER_BUSINESS, []),
    ("partner-coop", "多摩生活協同組合 宅配センター", K.PARTNER_BUSINESS, []),
    ("partner-meter", "多摩水道メーター点検", K.PARTNER_BUSINESS, []),
)
# kind → (workers, supervisors) besides the named accounts
STAFFED = {K.CARE_CENTRE: (3, 1), K.WARD_SECTION: (3, 2), K.NPO: (1, 0), K.SOCIAL_WELFARE_COUNCIL: (1, 0),
           K.NEIGHBOURHOOD_ASSOCIATION: (1, 0)}


def council_name(area: AreaSpec) -> str:
    return f"{area.name}地区民生委員児童委員協議会"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    organization: str
    token: str
    district: str | None = None
    staff: bool = False  # may log in to /admin/ and edit the escalation policies (ADMIN_PERMISSIONS), nothing else


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("sato", "佐藤 和子", Role.COMMISSIONER, council_name(AREAS[0]),
                "mmr_demo28151983_vnVZOBYCtmjJd9y9ouqdbLjbJzVCty-y7gBQLAGaQa4", district="tama-nb01"),
    DemoAccount("takahashi", "高橋 誠", Role.COMMISSIONER, council_name(AREAS[2]),
                "mmr_demo6a77541f_fXYXVZteu3QzBwKiodu1pRrBdWD3R_zKsO40Cublkh4", district="tama-nk03"),
    DemoAccount("care_worker", "山本 由美", Role.WORKER, CARE_NOBORITO,
                "mmr_demo7bdfa8b8_NJ5w0VT-K6RHxJbRyXVQwu56i7G-4GE6_EG_29yLbD4"),
    DemoAccount("care_supervisor", "中村 浩", Role.SUPERVISOR, CARE_NOBORITO,
                "mmr_demo70305259_l1onH6rRtrXa9C0szjXK9cCC_XBualDG0mpquYyoQ7Y"),
    DemoAccount("ward_caseworker", "小林 美穂", Role.WORKER, ELDERLY_SECTION,
                "mmr_demo2d020a08_dTdgoUmbO88Rt22bbkyBqNx9HaeC_saxrV44Rrasl-Q"),
    DemoAccount("ward_supervisor", "加藤 修", Role.SUPERVISOR, ELDERLY_SECTION,
                "mmr_demod44b89e4_nCxYaEl-5J7AUrshvxCgks89TW1mHFHXVdUpbLA74Ls"),
    DemoAccount("npo_worker", "吉田 さゆり", Role.WORKER, SALON_NPO,
                "mmr_demo89688378_a1t7z07Of-qIhWH1BJSvCiMRJmWmenHucSdT3qAKfVg"),
    DemoAccount("partner", "多摩みまもり新聞販売所（連携）", Role.INTEGRATION, NEWSPAPER,
                "mmr_demofd5be136_w8xQqd-x9ELLQEinpwMIN4u--3FCr7AF0TX3UF0YqRs"),
    DemoAccount("privacy_officer", "山田 真一", Role.PRIVACY_OFFICER, COMMUNITY_SECTION,
                "mmr_demo9595eb9b_Hnzx0HLDfkJ6-h_jEFADPha6dgdgy_vmmk8TcohMCDk"),
    DemoAccount("org_admin", "佐々木 恵", Role.ORG_ADMIN, COMMUNITY_SECTION,
                "mmr_demo9cd90264_hpc9N4yXnT8yrc0cA85ar-pbOFJDnhTpkwbi5F45kTI", staff=True),
)


# The admin permissions of a staff demo account: the escalation policies and their steps, and reading the
# organisations a step may target. Model permissions for the admin only; who sees a resident is never here.
ADMIN_PERMISSIONS = (
    "cases.view_escalationpolicy", "cases.add_escalationpolicy", "cases.change_escalationpolicy",
    "cases.delete_escalationpolicy", "cases.view_escalationstep", "cases.add_escalationstep",
    "cases.change_escalationstep", "cases.delete_escalationstep", "cases.view_organization",
)


@dataclass
class World:
    """The demo ward's directory, looked up by district code and organisation name."""

    ward: Ward
    districts: dict[str, District] = field(default_factory=dict)
    specs: dict[str, DistrictSpec] = field(default_factory=dict)
    area_of: dict[str, AreaSpec] = field(default_factory=dict)
    orgs: dict[str, Organization] = field(default_factory=dict)
    commissioners: dict[str, list[User]] = field(default_factory=dict)
    workers: dict[str, list[User]] = field(default_factory=dict)
    accounts: dict[str, User] = field(default_factory=dict)

    def council_of(self, code: str) -> Organization:
        return self.orgs[council_name(self.area_of[code])]


def world_build(*, ward: Ward) -> World:
    """The areas, districts and organisations, then the staff and the named accounts with their tokens."""
    world = World(ward=ward)
    for _, name, kind, fields in ORGANIZATIONS:
        world.orgs[name] = _organization(ward, name, kind, fields)
    for area in AREAS:
        council = _organization(ward, council_name(area), K.COMMISSIONER_COUNCIL, [F.ELDERLY, F.CHILD, F.COMMUNITY])
        world.orgs[council.name] = council
        council_area, _ = CouncilArea.objects.update_or_create(
            code=area.code, defaults={"ward": ward, "name": f"{area.name}地区", "council": council}
        )
        for spec in area.districts:
            district = District.objects.filter(code=spec.code).first() or District(code=spec.code)
            district.council_area, district.name = council_area, spec.name
            district.save()
            world.districts[spec.code], world.specs[spec.code], world.area_of[spec.code] = district, spec, area
    _staff(world)
    return world


def _organization(ward: Ward, name: str, kind: str, fields: list[str]) -> Organization:
    org = Organization.objects.filter(ward=ward, name=name).first() or Organization(ward=ward, name=name)
    org.kind, org.fields = kind, [str(f) for f in fields]
    org.save()
    return org


def _account(username: str, display_name: str, *, password: str | None = None) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={"display_name": display_name})
    if password is not None:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.display_name = display_name
    user.email = f"{username}@example.jp"  # reserved domain: the demo's notification mails go nowhere real
    user.save()
    return user


def _admin_access(user: User, *, staff: bool) -> None:
    user.is_staff = staff
    user.save(update_fields=["is_staff"])
    wanted = []
    for name in ADMIN_PERMISSIONS if staff else ():
        app_label, codename = name.split(".")
        wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    user.user_permissions.set(wanted)


def _member(user: User, org: Organization, role: str, *, districts: Sequence[District] = ()) -> None:
    commissioner = role == Role.COMMISSIONER
    membership, _ = Membership.objects.update_or_create(
        user=user,
        organization=org,
        role=role,
        defaults={
            "valid_from": TERM_START if commissioner else STAFF_SINCE,
            "valid_until": TERM_END if commissioner else None,
        },
    )
    for district in districts:
        DistrictAssignment.objects.get_or_create(membership=membership, district=district)


def _staff(world: World) -> None:
    """The named accounts, two commissioners per district, workers and a supervisor per professional body."""
    fake = Faker("ja_JP")
    fake.seed_instance(SEED + 1)
    for account in DEMO_ACCOUNTS:
        user = _account(account.username, account.display_name, password=DEMO_PASSWORD)
        districts = [world.districts[account.district]] if account.district else []
        _member(user, world.orgs[account.organization], account.role, districts=districts)
        token_install(user=user, name="demo", plaintext=account.token)
        _admin_access(user, staff=account.staff)
        world.accounts[account.username] = user
        if account.role == Role.COMMISSIONER:
            world.commissioners.setdefault(account.district, []).append(user)
        elif account.role == Role.WORKER:
            world.workers.setdefault(account.organization, []).append(user)

    for code, district in world.districts.items():
        have = world.commissioners.setdefault(code, [])
        for n in range(len(have) + 1, 3):
            user = _account(f"commissioner-{code.removeprefix('tama-')}-{n}", fake.name())
            _member(user, world.council_of(code), Role.COMMISSIONER, districts=[district])
            have.append(user)

    for slug, name, kind, _ in ORGANIZATIONS:
        workers, supervisors = STAFFED.get(kind, (0, 0))
        have = world.workers.setdefault(name, [])
        for n in range(len(have) + 1, workers + 1):
            user = _account(f"{slug}-worker-{n}", fake.name())
            _member(user, world.orgs[name], Role.WORKER)
            have.append(user)
        named = sum(1 for a in DEMO_ACCOUNTS if a.organization == name and a.role == Role.SUPERVISOR)
        for n in range(named + 1, supervisors + 1):
            _member(_account(f"{slug}-supervisor-{n}", fake.name()), world.orgs[name], Role.SUPERVISOR)
