"""The demo ward's residents: households, their cases, consents, a few months of visits, Mr Tanaka's notes.

About 300 synthetic residents, spread evenly over the districts: mostly people
over 65 living alone or as elderly couples sharing an address, some
single-parent households, a few residents with foreign roots who need an
interpreter, and three households at risk of domestic violence that must never
be contacted. Mr Tanaka, whose missed visit and oral consent the demo follows,
is always the first one.
Kanji names and their kana readings are drawn as pairs, so the reading matches.
"""

from __future__ import annotations

import datetime
import random
import uuid
from dataclasses import dataclass, field

from django.utils import timezone
from faker import Faker

from cases.addresses import resident_address_keys
from cases.kana import kana_normalize
from cases.models import Case, CaseTeamMember, Consent, Note, Organization, Resident, User, Visit
from cases.models.audited import seed_create
from cases.models.choices import CaseStatus, HouseholdType, Language, RiskLevel, SpecialCare
from cases.models.consent import Category, Decision, Grantor, Method, Purpose
from cases.models.visits import Channel, Outcome, WarningSign
from demo.ward import (
    CARE_NOBORITO,
    CHILD_SECTION,
    ELDERLY_SECTION,
    FOOD_NPO,
    FOREIGN_NPO,
    LGBT_NPO,
    SALON_NPO,
    SEED,
    TOKYO,
    WELFARE_SECTION,
    K,
    World,
)

RESIDENTS = 300
TANAKA = {"name_kanji": "田中 一郎", "name_kana": "タナカ イチロウ", "age": 82, "district": "tama-nb01"}
# Mr Tanaka agreed orally, recorded by Sato on 1 April.
TANAKA_CONSENT_AT = datetime.datetime(2026, 4, 1, 10, 30, tzinfo=TOKYO)
TANAKA_NOTES = (
    (Category.HEALTH, "膝の痛みが続いており、整形外科に月1回通院。服薬は自己管理できている。"),
    (Category.LIVING_SITUATION, "新聞を購読し、毎朝ごみ出しをしている。近所付き合いは少ない。"),
    (Category.FINANCES, "年金収入のみ。公共料金の支払いが遅れがちで、本人も不安を口にしている。"),
)

FOREIGN_NAMES: tuple[tuple[str, str, str], ...] = (
    ("王 秀英", "ワン シウイン", Language.ZH),
    ("李 建国", "リー ジエングオ", Language.ZH),
    ("陳 美玲", "チェン メイリン", Language.ZH),
    ("張 偉", "チャン ウェイ", Language.ZH),
    ("劉 芳", "リウ ファン", Language.ZH),
    ("NGUYEN VAN NAM", "グエン ヴァン ナム", Language.VI),
    ("TRAN THI LAN", "チャン ティ ラン", Language.VI),
    ("PHAM MINH TUAN", "ファム ミン トゥアン", Language.VI),
    ("LE THI HOA", "レ ティ ホア", Language.VI),
    ("SANTOS MARIA", "サントス マリア", Language.TL),
    ("REYES ANA", "レイエス アナ", Language.TL),
    ("CRUZ JOSE", "クルス ホセ", Language.TL),
    ("GARCIA ROSA", "ガルシア ロサ", Language.TL),
    ("SMITH JOHN", "スミス ジョン", Language.EN),
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
VISIT_NOTES = ("お元気そう。変わりなし。", "食欲あり、顔色も良い。", "膝の痛みを訴える。", "サロンに参加予定とのこと。",
               "室内が散らかり始めている。", "物忘れが増えたと家族から。", "")


@dataclass
class _Person:
    name_kanji: str
    name_kana: str
    age: int
    language: str = Language.JA
    special_care: list[str] = field(default_factory=list)
    do_not_contact: bool = False
    profile: str = "elderly"


@dataclass
class Population:
    residents: int = 0
    cases: int = 0
    consents: int = 0
    visits: int = 0
    notes: int = 0


def _surname(person: _Person) -> tuple[str, str]:
    return person.name_kanji.split(" ")[0], person.name_kana.split(" ")[0]


def _surname_of(resident: Resident) -> str:
    return resident.name_kanji.split(" ")[0]


def population_build(*, world: World, today: datetime.date) -> Population:
    """Create the residents and everything about them, deterministically (fixed seeds), in bulk."""
    return _Builder(world, today=today).build()


class _Builder:
    def __init__(self, world: World, *, today: datetime.date) -> None:
        self.world, self.today = world, today
        self.now = timezone.now()
        self.rng = random.Random(SEED)
        self.fake = Faker("ja_JP")
        self.fake.seed_instance(SEED)
        self.dv_left = 3
        self.foreign_names = list(FOREIGN_NAMES)
        self.rng.shuffle(self.foreign_names)
        self.team_of: dict[int, list[Organization]] = {}

    def build(self) -> Population:
        codes = list(self.world.districts)
        tanaka = _Person(TANAKA["name_kanji"], TANAKA["name_kana"], TANAKA["age"], special_care=["isolation"])
        residents = self._household(people=[tanaka], household_type=HouseholdType.LIVES_ALONE,
                                    code=TANAKA["district"])
        households = 0
        while len(residents) < RESIDENTS:
            people, household_type = self._people()
            residents += self._household(
                people=people[: RESIDENTS - len(residents)],
                household_type=household_type,
                code=codes[households % len(codes)],
            )
            households += 1
        seed_create(Resident, [resident for resident, _ in residents])
        cases = self._cases(residents)
        return Population(
            residents=len(residents),
            cases=len(cases),
            consents=self._consents(cases),
            visits=self._visits(cases),
            notes=self._tanaka_notes(residents[0][0]),
        )

    # --- People and households ---------------------------------------------

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
            wife = self._elder(female=True, low=68, high=93, surname=_surname(husband))
            return [husband, wife], HouseholdType.ELDERLY_COUPLE
        if kind == "parent_child":
            parent = self._elder(female=True, low=88, high=100)
            child = self._elder(female=rng.random() < 0.5, low=60, high=68, surname=_surname(parent))
            return [parent, child], HouseholdType.ELDERLY_HOUSEHOLD
        if kind == "with_family":
            return [self._elder(female=rng.random() < 0.6, low=75, high=96)], HouseholdType.WITH_FAMILY
        if kind in ("single_parent", "child"):
            kanji, kana = self._name(female=True)
            parent = _Person(kanji, kana, rng.randint(27, 45), profile="child")
            child_kanji, child_kana = self._name(female=rng.random() < 0.5, surname=_surname(parent))
            child = _Person(child_kanji, child_kana, rng.randint(3, 15), profile="child")
            if kind == "child":
                return [child], HouseholdType.CHILD_HOUSEHOLD
            if self.dv_left:
                self.dv_left -= 1
                parent.special_care = [SpecialCare.DV_RISK.value]
                parent.do_not_contact = child.do_not_contact = True
            return [parent, child], HouseholdType.SINGLE_PARENT
        kanji, kana, language = self.foreign_names.pop() if self.foreign_names else rng.choice(FOREIGN_NAMES)
        person = _Person(kanji, kana, rng.randint(40, 85), language=language, profile="foreign",
                         special_care=[SpecialCare.LANGUAGE_SUPPORT.value])
        return [person], rng.choice([HouseholdType.LIVES_ALONE, HouseholdType.WITH_FAMILY])

    def _household(
        self, *, people: list[_Person], household_type: str, code: str
    ) -> list[tuple[Resident, _Person]]:
        rng, spec = self.rng, self.world.specs[code]
        chome = rng.choice(spec.chomes) if spec.chomes else None
        block = f"{rng.randint(1, 25)}-{rng.randint(1, 30)}"
        building = room = ""
        if rng.random() < 0.45:
            building = rng.choice(BUILDINGS).format(town=spec.town, n=rng.randint(1, 6))
            room = f"{rng.randint(1, 5)}{rng.randint(1, 12):02d}"
        phone = self._phone(young=people[0].age < 60)
        residents = []
        for person in people:
            foreign = person.language != Language.JA
            resident = Resident(
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
                **resident_address_keys(municipality="川崎市多摩区", town=spec.town, chome=chome, block_number=block,
                                        building=building, room=room),
                district=self.world.districts[code],
                household_type=household_type,
                phone="" if person.do_not_contact else phone,
                preferred_language=person.language,
                interpreter_needed=foreign and rng.random() < 0.8,
                special_care=person.special_care,
                do_not_contact=person.do_not_contact,
                registered_by=self.world.council_of(code),
                created_at=self.now,
                updated_at=self.now,
            )
            residents.append((resident, person))
        return residents

    def _birth_date(self, age: int) -> datetime.date:
        """A birth date at which the person is `age` today."""
        day = 28 if (self.today.month, self.today.day) == (2, 29) else self.today.day
        birthday = self.today.replace(year=self.today.year - age, day=day)
        return birthday - datetime.timedelta(days=self.rng.randint(0, 364))

    def _phone(self, *, young: bool) -> str:
        rng = self.rng
        if rng.random() < 0.05:
            return ""
        if young or rng.random() < 0.15:
            return f"0{rng.choice([7, 8, 9])}0-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
        return f"044-9{rng.randint(0, 99):02d}-{rng.randint(0, 9999):04d}"

    # --- Cases ---------------------------------------------------------------

    def _cases(self, residents: list[tuple[Resident, _Person]]) -> list[Case]:
        """Cases for about 60% of the residents (always Mr Tanaka and the do-not-contact households)."""
        rng, orgs = self.rng, self.world.orgs
        cases, teams = [], []
        for index, (resident, person) in enumerate(residents):
            code = resident.district.code
            if index == 0:
                care = orgs[CARE_NOBORITO]
                cases.append(Case(
                    resident=resident, concern="独居・見守り（月1回訪問）", status=CaseStatus.OPEN,
                    risk_level=RiskLevel.MEDIUM, lead_organization=care,
                    lead_worker=self.world.accounts["care_worker"], visit_cadence_days=30,
                    next_visit_due=self.today, opened_at=TANAKA_CONSENT_AT, updated_at=self.now,
                ))
                teams.append([orgs[SALON_NPO]])
                continue
            if not (resident.do_not_contact or rng.random() < 0.62):
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
                opened_at=self.now - datetime.timedelta(days=rng.randint(20, 900)), updated_at=self.now,
            ))
            teams.append(team)
        seed_create(Case, cases)
        members = []
        for case, team in zip(cases, teams, strict=True):
            orgs = [case.lead_organization, *(org for org in team if org.id != case.lead_organization_id)]
            self.team_of[case.id] = orgs
            members += [CaseTeamMember(case=case, organization=org, added_at=case.opened_at) for org in orgs]
        CaseTeamMember.objects.bulk_create(members)
        return cases

    def _lead_and_team(
        self, *, resident: Resident, profile: str, code: str
    ) -> tuple[Organization, list[Organization], str]:
        rng, orgs = self.rng, self.world.orgs
        area = self.world.area_of[code]
        council, care = self.world.council_of(code), orgs[area.care_centre]
        if resident.do_not_contact:
            return orgs[CHILD_SECTION], [orgs[ELDERLY_SECTION]] if rng.random() < 0.3 else [], ""
        if profile == "child":
            lead = rng.choices([orgs[CHILD_SECTION], council, orgs[WELFARE_SECTION]], weights=[45, 40, 15])[0]
            team = [orgs[FOOD_NPO]] if rng.random() < 0.35 else []
            return lead, team, rng.choice(CHILD_CONCERNS)
        if profile == "foreign":
            return rng.choice([council, care]), [orgs[FOREIGN_NPO]], "外国籍住民・言語支援（通訳手配）"
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

    # --- Consent, visits, notes ----------------------------------------------

    def _taker(self, case: Case) -> tuple[User, Organization]:
        code = case.resident.district.code
        if case.lead_organization.kind == K.COMMISSIONER_COUNCIL or case.lead_worker is None:
            return self.world.commissioners[code][0], self.world.council_of(code)
        return case.lead_worker, case.lead_organization

    def _consents(self, cases: list[Case]) -> int:
        """Most residents with a case agreed that its team (and their commissioners) may share for watch-over.

        Mr Tanaka's two consents: the care centre may see basic,
        living-situation and health data; the salon NPO basic data only.
        """
        rng = self.rng
        rows: list[tuple[Consent, list[Organization]]] = []
        sato, council = self.world.accounts["sato"], self.world.council_of(TANAKA["district"])
        tanaka = cases[0]
        for recipient, categories in (
            (self.world.orgs[CARE_NOBORITO], [Category.BASIC, Category.HEALTH, Category.LIVING_SITUATION]),
            (self.world.orgs[SALON_NPO], [Category.BASIC]),
        ):
            rows.append((Consent(
                resident=tanaka.resident, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=categories,
                purposes=[Purpose.WATCH_OVER], valid_from=TANAKA_CONSENT_AT, method=Method.ORAL,
                taken_by=sato, taken_by_organization=council, taken_at=TANAKA_CONSENT_AT,
            ), [recipient]))
        for case in cases[1:]:
            if case.resident.do_not_contact or rng.random() < 0.1:
                continue
            refused = rng.random() < 0.05
            categories = [Category.BASIC, Category.LIVING_SITUATION]
            if rng.random() < 0.6:
                categories.append(Category.HEALTH)
            dementia = SpecialCare.DEMENTIA in case.resident.special_care
            proxy = f"{_surname_of(case.resident)} {self.fake.first_name_female()}（長女）" if dementia else ""
            taker, taker_org = self._taker(case)
            taken_at = case.opened_at + datetime.timedelta(days=rng.randint(0, 14))
            method = rng.choice([Method.ORAL, Method.WRITTEN])
            rows.append((Consent(
                resident=case.resident,
                decision=Decision.REFUSED if refused else Decision.GRANTED,
                grantor=Grantor.FAMILY if dementia else Grantor.SELF,
                proxy_name=proxy,
                recipient_kinds=[] if refused else [K.COMMISSIONER_COUNCIL],
                categories=categories,
                purposes=[Purpose.WATCH_OVER] if rng.random() < 0.7 else [Purpose.WATCH_OVER, Purpose.REFERRAL],
                valid_from=taken_at,
                method=method,
                evidence=f"同意書 No.{taken_at:%Y}-{len(rows):04d}" if method == Method.WRITTEN else "",
                taken_by=taker,
                taken_by_organization=taker_org,
                taken_at=taken_at,
            ), self.team_of[case.id][-1:] if refused else self.team_of[case.id]))
        seed_create(Consent, [consent for consent, _ in rows])
        through = Consent.recipient_organizations.through
        through.objects.bulk_create([
            through(consent_id=consent.id, organization_id=org.id) for consent, orgs in rows for org in orgs
        ])
        return len(rows)

    def _visits(self, cases: list[Case]) -> int:
        """Up to four past visits on each case's cadence, the last one cadence days before it is next due.

        Nobody visits or calls a do-not-contact household.
        """
        rng, visits = self.rng, []
        for index, case in enumerate(cases):
            if case.resident.do_not_contact or not case.visit_cadence_days:
                continue
            code = case.resident.district.code
            count = 4 if index == 0 else rng.randint(0, 4)
            for k in range(1, count + 1):
                day = case.next_visit_due - datetime.timedelta(days=case.visit_cadence_days * k)
                occurred_at = datetime.datetime.combine(day, datetime.time(rng.randint(9, 16), rng.randint(0, 59)),
                                                        tzinfo=TOKYO)
                if occurred_at < case.opened_at or occurred_at > self.now:
                    continue
                by_commissioner = index == 0 or case.lead_worker is None or rng.random() < 0.7
                if by_commissioner:
                    recorder = self.world.accounts["sato"] if index == 0 else rng.choice(
                        self.world.commissioners[code])
                    organization = self.world.council_of(code)
                else:
                    recorder, organization = case.lead_worker, case.lead_organization
                outcome = rng.choices([Outcome.MET, Outcome.ABSENT, Outcome.NO_ANSWER], weights=[85, 10, 5])[0]
                signs = [WarningSign.MAIL_PILING] if outcome != Outcome.MET and rng.random() < 0.3 else []
                visits.append(Visit(
                    case=case, recorded_by=recorder, organization=organization,
                    client_id=uuid.UUID(int=rng.getrandbits(128), version=4), occurred_at=occurred_at,
                    uploaded_at=occurred_at + datetime.timedelta(minutes=rng.randint(1, 90)),
                    channel=rng.choices([Channel.HOME_VISIT, Channel.PHONE, Channel.SALON], weights=[75, 20, 5])[0],
                    outcome=outcome, warning_signs=signs,
                    note=rng.choice(VISIT_NOTES) if outcome == Outcome.MET else "",
                ))
        seed_create(Visit, visits)
        return len(visits)

    def _tanaka_notes(self, tanaka: Resident) -> int:
        """Sato's notes about Mr Tanaka: the care centre may read health and living situation, not finances."""
        sato, council = self.world.accounts["sato"], self.world.council_of(TANAKA["district"])
        seed_create(Note, [
            Note(resident=tanaka, category=category, body=body, author=sato, author_organization=council,
                 created_at=TANAKA_CONSENT_AT + datetime.timedelta(days=30 * n))
            for n, (category, body) in enumerate(TANAKA_NOTES)
        ])
        return len(TANAKA_NOTES)
