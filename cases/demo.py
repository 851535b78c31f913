"""The demo ward: a believable Tama Ward (川崎市多摩区) to try the API by hand.

`demo_seed` builds six council areas (地区民児協) with their commissioner
districts, the care centres, ward sections, NPOs and partners of the ward,
about 300 synthetic residents and their cases, and the named demo accounts
listed in `DEMO_ACCOUNTS` with fixed passwords and API tokens. Everything is
keyed on natural keys (ward code, district code, organisation name, username),
so a second run refreshes the directory, the accounts and their tokens and
leaves the residents alone. The names, addresses and phone numbers come from a
seeded Faker and are synthetic; the town names and postal codes are real.

Synthetic data must never reach a production database: both seeding commands
ask `seeding_refusal` first.
"""

from __future__ import annotations

import datetime
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from faker import Faker

from api.tokens import token_install
from cases.kana import kana_normalize
from cases.models import (
    Case,
    CaseTeamMember,
    CouncilArea,
    District,
    DistrictAssignment,
    Membership,
    Organization,
    Resident,
    User,
    Ward,
)
from cases.models.choices import (
    CaseStatus,
    Field,
    HouseholdType,
    Language,
    OrganizationKind,
    RiskLevel,
    Role,
    SpecialCare,
)
from permissions.grants import grants_sync_residents, memberships_sync_user

TOKYO = ZoneInfo("Asia/Tokyo")
SEED = 20261127
RESIDENTS = 300
DEMO_PASSWORD = "mimamori-demo-2026"
WARD_CODE = "tama"
# Commissioners are appointed en masse every 1 December for three years.
TERM_START = datetime.datetime(2025, 12, 1, tzinfo=TOKYO)
TERM_END = datetime.datetime(2028, 12, 1, tzinfo=TOKYO)
STAFF_SINCE = datetime.datetime(2024, 4, 1, tzinfo=TOKYO)


def seeding_refusal() -> str | None:
    """Why synthetic data may not be written here (production settings), or None when it may."""
    module = settings.SETTINGS_MODULE or os.environ.get("DJANGO_SETTINGS_MODULE", "")
    if module.endswith(".production") or (not settings.DEBUG and "test" not in module):
        return (
            f"Refusing to seed synthetic data under settings {module or '(unknown)'!r}: "
            "run it against a development or scratch database (DJANGO_SETTINGS_MODULE=backend.settings.dev)."
        )
    return None


# --- The ward's geography ----------------------------------------------------


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
STAFFED = {K.CARE_CENTRE: (3, 1), K.WARD_SECTION: (3, 1), K.NPO: (1, 0), K.SOCIAL_WELFARE_COUNCIL: (1, 0),
           K.NEIGHBOURHOOD_ASSOCIATION: (1, 0)}  # kind → (workers, supervisors)


def council_name(area: AreaSpec) -> str:
    return f"{area.name}地区民生委員児童委員協議会"


# --- The named demo accounts -------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    organization: str
    token: str
    district: str | None = None


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
                "mmr_demo9cd90264_hpc9N4yXnT8yrc0cA85ar-pbOFJDnhTpkwbi5F45kTI"),
)
TANAKA = {"name_kanji": "田中 一郎", "name_kana": "タナカ イチロウ", "age": 82, "district": "tama-nb01"}


@dataclass
class DemoReport:
    created_residents: int = 0
    created_cases: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def demo_seed(*, today: datetime.date | None = None) -> DemoReport:
    """Build (or refresh) the demo ward. Residents and cases are created only while the ward has none."""
    today = today or timezone.localdate()
    report = DemoReport()
    with transaction.atomic():
        ward, _ = Ward.objects.update_or_create(code=WARD_CODE, defaults={"name": "多摩区"})
        world = _directory(ward)
        _staff(world)
        if not Resident.objects.filter(district__council_area__ward=ward).exists():
            _Population(world, today=today).build(report)
        for user in User.objects.filter(memberships__organization__ward=ward).distinct():
            memberships_sync_user(user=user)
        resident_ids = list(Resident.objects.filter(district__council_area__ward=ward).values_list("id", flat=True))
        grants_sync_residents(resident_ids=resident_ids)
    report.counts = {
        "districts": District.objects.filter(council_area__ward=ward).count(),
        "organizations": Organization.objects.filter(ward=ward).count(),
        "users": User.objects.filter(memberships__organization__ward=ward).distinct().count(),
        "residents": len(resident_ids),
        "cases": Case.objects.filter(resident__district__council_area__ward=ward).count(),
    }
    return report


@dataclass
class _World:
    ward: Ward
    districts: dict[str, District]
    specs: dict[str, DistrictSpec]
    area_of: dict[str, AreaSpec]
    orgs: dict[str, Organization]
    commissioners: dict[str, list[User]] = field(default_factory=dict)
    workers: dict[str, list[User]] = field(default_factory=dict)


def _directory(ward: Ward) -> _World:
    world = _World(ward=ward, districts={}, specs={}, area_of={}, orgs={})
    for _, name, kind, fields in ORGANIZATIONS:
        world.orgs[name] = _organization(ward, name, kind, fields)
    for area in AREAS:
        council_area, _ = CouncilArea.objects.update_or_create(
            code=area.code, defaults={"ward": ward, "name": f"{area.name}地区"}
        )
        world.orgs[council_name(area)] = _organization(
            ward, council_name(area), K.COMMISSIONER_COUNCIL, [F.ELDERLY, F.CHILD, F.COMMUNITY]
        )
        for spec in area.districts:
            district = District.objects.filter(code=spec.code).first() or District(code=spec.code)
            district.council_area, district.name = council_area, spec.name
            district.save()
            world.districts[spec.code], world.specs[spec.code], world.area_of[spec.code] = district, spec, area
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
    user.save()
    return user


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


def _staff(world: _World) -> None:
    """Two commissioners per district, workers and a supervisor per professional body, the named accounts."""
    fake = Faker("ja_JP")
    fake.seed_instance(SEED + 1)
    named = {account.username: account for account in DEMO_ACCOUNTS}
    for account in DEMO_ACCOUNTS:
        user = _account(account.username, account.display_name, password=DEMO_PASSWORD)
        districts = [world.districts[account.district]] if account.district else []
        _member(user, world.orgs[account.organization], account.role, districts=districts)
        token_install(user=user, name="demo", plaintext=account.token)
        if account.role == Role.COMMISSIONER:
            world.commissioners.setdefault(account.district, []).append(user)
        elif account.role == Role.WORKER:
            world.workers.setdefault(account.organization, []).append(user)

    for code, district in world.districts.items():
        council = world.orgs[council_name(world.area_of[code])]
        have = world.commissioners.setdefault(code, [])
        for n in range(len(have) + 1, 3):
            user = _account(f"commissioner-{code.removeprefix('tama-')}-{n}", fake.name())
            _member(user, council, Role.COMMISSIONER, districts=[district])
            have.append(user)

    for slug, name, kind, _ in ORGANIZATIONS:
        workers, supervisors = STAFFED.get(kind, (0, 0))
        org = world.orgs[name]
        have = world.workers.setdefault(name, [])
        for n in range(len(have) + 1, workers + 1):
            user = _account(f"{slug}-worker-{n}", fake.name())
            _member(user, org, Role.WORKER)
            have.append(user)
        named_supervisors = sum(1 for a in named.values() if a.organization == name and a.role == Role.SUPERVISOR)
        for n in range(named_supervisors + 1, supervisors + 1):
            _member(_account(f"{slug}-supervisor-{n}", fake.name()), org, Role.SUPERVISOR)


# --- Residents and their cases -----------------------------------------------

FOREIGN_NAMES: tuple[tuple[str, str, str], ...] = (
    ("王 秀英", "ワン シウイン", Language.ZH),
    ("李 建国", "リー ジエングオ", Language.ZH),
    ("陳 美玲", "チェン メイリン", Language.ZH),
    ("NGUYEN VAN NAM", "グエン ヴァン ナム", Language.VI),
    ("TRAN THI LAN", "チャン ティ ラン", Language.VI),
    ("SANTOS MARIA", "サントス マリア", Language.TL),
    ("REYES ANA", "レイエス アナ", Language.TL),
    ("SMITH JOHN", "スミス ジョン", Language.EN),
    ("張 偉", "チャン ウェイ", Language.ZH),
    ("劉 芳", "リウ ファン", Language.ZH),
    ("PHAM MINH TUAN", "ファム ミン トゥアン", Language.VI),
    ("LE THI HOA", "レ ティ ホア", Language.VI),
    ("CRUZ JOSE", "クルス ホセ", Language.TL),
    ("GARCIA ROSA", "ガルシア ロサ", Language.TL),
    ("BROWN EMILY", "ブラウン エミリー", Language.EN),
    ("WILSON DAVID", "ウィルソン デイビッド", Language.EN),
)
BUILDINGS = ("コーポ{town}", "{town}ハイツ", "メゾン{town}", "パークハイム{town}", "市営{town}住宅 {n}号棟",
             "{town}グリーンマンション", "サンライズ{town}")
ELDERLY_CARE = ((SpecialCare.DEMENTIA, 0.12), (SpecialCare.ISOLATION, 0.15), (SpecialCare.EVACUATION_SUPPORT, 0.2),
                (SpecialCare.DISABILITY_PHYSICAL, 0.08), (SpecialCare.BEDRIDDEN, 0.03), (SpecialCare.HOARDING, 0.03))
ELDERLY_CONCERNS = ("独居・見守り", "認知症の疑い・服薬管理", "閉じこもり・社会的孤立", "退院後の見守り",
                    "老老介護・介護負担", "ごみ屋敷・セルフネグレクト", "熱中症予防の見守り", "災害時避難支援の確認")
CHILD_CONCERNS = ("ひとり親・生活困窮", "子どもの不登校・見守り", "子育て不安・孤立", "食支援（こども食堂）")


@dataclass
class _Person:
    name_kanji: str
    name_kana: str
    age: int
    language: str = Language.JA
    special_care: list[str] = field(default_factory=list)
    do_not_contact: bool = False
    profile: str = "elderly"


def _surname(person: _Person) -> tuple[str, str]:
    return person.name_kanji.split(" ")[0], person.name_kana.split(" ")[0]


class _Population:
    """Households of synthetic residents spread evenly over the districts, then cases for about 60% of them."""

    def __init__(self, world: _World, *, today: datetime.date) -> None:
        self.world, self.today = world, today
        self.rng = random.Random(SEED)
        self.fake = Faker("ja_JP")
        self.fake.seed_instance(SEED)
        self.dv_left = 3
        self.foreign_names = list(FOREIGN_NAMES)
        self.rng.shuffle(self.foreign_names)

    def build(self, report: DemoReport) -> None:
        codes = list(self.world.districts)
        tanaka = _Person(TANAKA["name_kanji"], TANAKA["name_kana"], TANAKA["age"], special_care=["isolation"])
        residents = self._household(people=[tanaka], household_type=HouseholdType.LIVES_ALONE, code=TANAKA["district"])
        households = 0
        while len(residents) < RESIDENTS:
            people, household_type = self._people()
            residents += self._household(
                people=people[: RESIDENTS - len(residents)],
                household_type=household_type,
                code=codes[households % len(codes)],
            )
            households += 1
        Resident.objects.bulk_create([resident for resident, _ in residents])
        report.created_residents = len(residents)
        report.created_cases = self._cases(residents)

    def _name(self, *, female: bool, surname: tuple[str, str] | None = None) -> tuple[str, str]:
        last = surname or self.fake.last_name_pair()[:2]
        first = self.fake.first_name_female_pair() if female else self.fake.first_name_male_pair()
        return f"{last[0]} {first[0]}", f"{last[1]} {first[1]}"

    def _elder(self, *, female: bool, low: int = 65, high: int = 98, surname: tuple[str, str] | None = None) -> _Person:
        kanji, kana = self._name(female=female, surname=surname)
        care = [str(code) for code, p in ELDERLY_CARE if self.rng.random() < p]
        return _Person(kanji, kana, self.rng.randint(low, high), special_care=care)

    def _people(self) -> tuple[list[_Person], str]:
        rng = self.rng
        kind = rng.choices(["alone", "couple", "parent_child", "with_family", "single_parent", "child", "foreign"],
                           weights=[50, 18, 6, 8, 6, 3, 4])[0]
        if kind == "alone":
            return [self._elder(female=rng.random() < 0.65)], HouseholdType.LIVES_ALONE
        if kind == "couple":
            husband = self._elder(female=False, low=70, high=95)
            surname = _surname(husband)
            wife = self._elder(female=True, low=68, high=93, surname=surname)
            return [husband, wife], HouseholdType.ELDERLY_COUPLE
        if kind == "parent_child":
            parent = self._elder(female=True, low=88, high=100)
            surname = _surname(parent)
            return [parent, self._elder(female=rng.random() < 0.5, low=60, high=68, surname=surname)], \
                HouseholdType.ELDERLY_HOUSEHOLD
        if kind == "with_family":
            return [self._elder(female=rng.random() < 0.6, low=75, high=96)], HouseholdType.WITH_FAMILY
        if kind in ("single_parent", "child"):
            kanji, kana = self._name(female=True)
            parent = _Person(kanji, kana, rng.randint(27, 45), profile="child")
            surname = _surname(parent)
            child_kanji, child_kana = self._name(female=rng.random() < 0.5, surname=surname)
            child = _Person(child_kanji, child_kana, rng.randint(3, 15), profile="child")
            if kind == "child":
                return [child], HouseholdType.CHILD_HOUSEHOLD
            if self.dv_left:
                self.dv_left -= 1
                parent.special_care = [SpecialCare.DV_RISK.value]
                parent.do_not_contact = child.do_not_contact = True
            return [parent, child], HouseholdType.SINGLE_PARENT
        name_kanji, name_kana, language = self.foreign_names.pop() if self.foreign_names else rng.choice(FOREIGN_NAMES)
        person = _Person(name_kanji, name_kana, rng.randint(40, 85), language=language, profile="foreign",
                         special_care=[SpecialCare.LANGUAGE_SUPPORT.value])
        return [person], rng.choice([HouseholdType.LIVES_ALONE, HouseholdType.WITH_FAMILY])

    def _household(
        self, *, people: list[_Person], household_type: str, code: str
    ) -> list[tuple[Resident, _Person]]:
        rng, spec = self.rng, self.world.specs[code]
        district = self.world.districts[code]
        council = self.world.orgs[council_name(self.world.area_of[code])]
        chome = rng.choice(spec.chomes) if spec.chomes else None
        block = f"{rng.randint(1, 25)}-{rng.randint(1, 30)}"
        building = room = ""
        if rng.random() < 0.45:
            building = rng.choice(BUILDINGS).format(town=spec.town, n=rng.randint(1, 6))
            room = f"{rng.randint(1, 5)}{rng.randint(1, 12):02d}"
        phone = self._phone(young=people[0].age < 60)
        now = timezone.now()
        residents = []
        for person in people:
            foreign = person.language != Language.JA
            residents.append((Resident(
                name_kanji=person.name_kanji,
                name_kana=person.name_kana,
                name_kana_key=kana_normalize(person.name_kana),
                date_of_birth=self._birth_date(person.age),
                postal_code=spec.postal_code,
                town=spec.town,
                chome=chome,
                block_number=block,
                building=building,
                room=room,
                district=district,
                household_type=household_type,
                phone="" if person.do_not_contact else phone,
                preferred_language=person.language,
                interpreter_needed=foreign and rng.random() < 0.8,
                special_care=person.special_care,
                do_not_contact=person.do_not_contact,
                registered_by=council,
                created_at=now,
                updated_at=now,
            ), person))
        return residents

    def _birth_date(self, age: int) -> datetime.date:
        """A birth date at which the person is `age` today."""
        day = 28 if (self.today.month, self.today.day) == (2, 29) else self.today.day
        return self.today.replace(year=self.today.year - age, day=day) - datetime.timedelta(
            days=self.rng.randint(0, 364)
        )

    def _phone(self, *, young: bool) -> str:
        rng = self.rng
        if rng.random() < 0.05:
            return ""
        if young or rng.random() < 0.15:
            return f"0{rng.choice([7, 8, 9])}0-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
        return f"044-9{rng.randint(0, 99):02d}-{rng.randint(0, 9999):04d}"

    def _cases(self, residents: list[tuple[Resident, _Person]]) -> int:
        rng, orgs = self.rng, self.world.orgs
        now = timezone.now()
        cases, teams = [], []
        for index, (resident, person) in enumerate(residents):
            code = resident.district.code
            if index == 0:
                care = orgs[CARE_NOBORITO]
                cases.append(Case(
                    resident=resident, concern="独居・見守り（月1回訪問）", status=CaseStatus.OPEN,
                    risk_level=RiskLevel.MEDIUM, lead_organization=care,
                    lead_worker=User.objects.get(username="care_worker"), visit_cadence_days=30,
                    next_visit_due=self.today, opened_at=now - datetime.timedelta(days=240), updated_at=now,
                ))
                teams.append([care, orgs[SALON_NPO]])
                continue
            if not (resident.do_not_contact or rng.random() < 0.58):
                continue
            lead, team, concern = self._lead_and_team(resident=resident, profile=person.profile, code=code)
            risk = rng.choices(list(RiskLevel), weights=[30, 45, 20, 5])[0]
            if resident.do_not_contact:
                risk, concern = RiskLevel.HIGH, "DV避難中・接触禁止（訪問・電話不可）"
            cadence = {RiskLevel.LOW: 60, RiskLevel.MEDIUM: 30}.get(risk, 14)
            if lead.kind == K.COMMISSIONER_COUNCIL:
                lead_worker = rng.choice(self.world.commissioners[code])
            else:
                lead_worker = rng.choice(self.world.workers.get(lead.name) or [None])
            cases.append(Case(
                resident=resident, concern=concern, risk_level=risk, lead_organization=lead, lead_worker=lead_worker,
                status=rng.choices([CaseStatus.OPEN, CaseStatus.MONITORING, CaseStatus.ON_HOLD],
                                   weights=[55, 35, 10])[0],
                visit_cadence_days=cadence,
                next_visit_due=self.today + datetime.timedelta(days=rng.randint(-(cadence // 5) - 2, cadence)),
                opened_at=now - datetime.timedelta(days=rng.randint(20, 900)), updated_at=now,
            ))
            teams.append(team)
        Case.objects.bulk_create(cases)
        CaseTeamMember.objects.bulk_create([
            CaseTeamMember(case=case, organization=org, added_at=case.opened_at)
            for case, team in zip(cases, teams, strict=True)
            for org in {case.lead_organization_id: case.lead_organization, **{o.id: o for o in team}}.values()
        ])
        return len(cases)

    def _lead_and_team(
        self, *, resident: Resident, profile: str, code: str
    ) -> tuple[Organization, list[Organization], str]:
        rng, orgs = self.rng, self.world.orgs
        area = self.world.area_of[code]
        council, care = orgs[council_name(area)], orgs[area.care_centre]
        if resident.do_not_contact:
            return orgs[CHILD_SECTION], [orgs[ELDERLY_SECTION]] if rng.random() < 0.3 else [], ""
        if profile == "child":
            lead = rng.choices([orgs[CHILD_SECTION], council, orgs[WELFARE_SECTION]], weights=[45, 40, 15])[0]
            team = [orgs[FOOD_NPO]] if rng.random() < 0.35 else []
            return lead, team, rng.choice(CHILD_CONCERNS)
        if profile == "foreign":
            lead = rng.choice([council, care])
            return lead, [orgs[FOREIGN_NPO]], "外国籍住民・言語支援（通訳手配）"
        lead = rng.choices([care, council, orgs[ELDERLY_SECTION]], weights=[55, 35, 10])[0]
        team = []
        if lead != care and rng.random() < 0.35:
            team.append(care)
        if lead != orgs[ELDERLY_SECTION] and rng.random() < 0.15:
            team.append(orgs[ELDERLY_SECTION])
        if rng.random() < 0.12:
            team.append(orgs[SALON_NPO])
        if rng.random() < 0.03:
            team.append(orgs[LGBT_NPO])
        return lead, team, rng.choice(ELDERLY_CONCERNS)
