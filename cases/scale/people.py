"""The city's residents: households, one current case each (some closed, some with an earlier closed
case), case teams, consents, notes, years of visits, and the grants derived from them.

Visits follow the national rate of ~160 per commissioner per year in each of
the last `years` years: for every year the rate per case-year is calibrated on
the cases open in it, so each year holds about commissioners × 160 visits
however many cases were open then. An open case's last visit was at most about
one cadence ago and its next visit falls due one cadence after it.
"""

from __future__ import annotations

import datetime
import json
import random
import time
import uuid
from dataclasses import dataclass
from itertools import accumulate

from django.db import connection, reset_queries
from django.utils import timezone
from faker.providers.person.ja_JP import Provider as JaNames

from cases.addresses import resident_address_keys
from cases.kana import kana_normalize
from cases.models import Case, CaseTeamMember, Consent, District, Note, Organization, Resident, Visit
from cases.models.audited import seed_create
from cases.models.choices import CaseStatus, HouseholdType, RiskLevel, SpecialCare
from cases.models.consent import Category, Decision, Grantor, Method, Purpose
from cases.models.visits import Channel, Outcome, WarningSign
from cases.scale.city import WARDS, Area, City, K, Progress, Sizing
from permissions.grants import BATCH as GRANTS_BATCH
from permissions.grants import grants_sync_residents

VISITS_PER_COMMISSIONER_YEAR = 160
CONCERNS = ("独居・見守り", "認知症の疑い・服薬管理", "閉じこもり・社会的孤立", "退院後の見守り", "老老介護・介護負担",
            "ごみ屋敷・セルフネグレクト", "熱中症予防の見守り", "災害時避難支援の確認", "生活困窮",
            "ひとり親・子育て不安")
VISIT_NOTES = ("お元気そう。変わりなし。", "食欲あり、顔色も良い。", "膝の痛みを訴える。", "サロンに参加予定とのこと。",
               "室内が散らかり始めている。", "物忘れが増えたと家族から。", "", "", "")
CARE = (SpecialCare.DEMENTIA, SpecialCare.ISOLATION, SpecialCare.EVACUATION_SUPPORT, SpecialCare.DISABILITY_PHYSICAL,
        SpecialCare.BEDRIDDEN, SpecialCare.HOARDING)
CADENCE = {RiskLevel.LOW: 90, RiskLevel.MEDIUM: 60, RiskLevel.HIGH: 30, RiskLevel.URGENT: 14}
SIGNS = (WarningSign.MAIL_PILING, WarningSign.NEWSPAPERS_PILING, WarningSign.LIGHTS_DAY_AND_NIGHT,
         WarningSign.METER_NOT_MOVING, WarningSign.CONFUSION)
CHANNELS = (Channel.HOME_VISIT, Channel.PHONE, Channel.SALON, Channel.VIA_NEIGHBOUR)
OUTCOMES = (Outcome.MET, Outcome.ABSENT, Outcome.NO_ANSWER, Outcome.REFUSED, Outcome.HOSPITALISED)
VISIT_COLUMNS = ("case_id", "recorded_by_id", "organization_id", "client_id", "occurred_at", "uploaded_at", "channel",
                 "outcome", "warning_signs", "note")
YEAR = 365 * 86400
NOTES = {
    Category.BASIC: ("緊急連絡先：長女（市外在住）。", "要介護1の認定あり。", "かかりつけ医は近所の内科。"),
    Category.LIVING_SITUATION: ("日中は一人で過ごすことが多い。", "買い物はヘルパーと週1回。",
                                "ごみ出しができていない様子。", "近所の方が時々様子を見ている。"),
    Category.HEALTH: ("血圧の薬を服用中。", "膝の痛みで外出が減っている。", "物忘れが目立つようになった。",
                      "退院後、体力が落ちている。"),
    Category.FAMILY: ("長男とは疎遠。", "娘が月に一度訪問している。", "配偶者を昨年亡くした。"),
    Category.FINANCES: ("年金収入のみ。", "公共料金の滞納がある。", "生活保護の相談歴あり。"),
}
# Case notes per year the case is open, by risk: most cases gather a note now and then, an urgent
# one several a month (a ten-year urgent case has a few dozen). ~2.9 per case on average.
NOTES_PER_YEAR = {RiskLevel.LOW: 0.15, RiskLevel.MEDIUM: 0.25, RiskLevel.HIGH: 0.6, RiskLevel.URGENT: 4.0}
NOTE_WEIGHTS = {Category.BASIC: 15, Category.LIVING_SITUATION: 35, Category.HEALTH: 30, Category.FAMILY: 12,
                Category.FINANCES: 8}


@dataclass
class _CasePlan:
    opened_at: datetime.datetime
    closed_at: datetime.datetime | None
    status: str
    risk: str


class People:
    """Residents in contiguous blocks per district, written in chunks of `batch` rows, each chunk complete
    with its cases, consents, visits and grants before the next begins."""

    def __init__(self, city: City, *, sizing: Sizing, seed: int, years: int, batch: int, rng: random.Random,
                 building_words: list[str], progress: Progress | None) -> None:
        self.city, self.sizing, self.years, self.batch, self.progress = city, sizing, years, batch, progress
        self.rng, self.building_words = rng, building_words
        self.case_rng = random.Random(seed * 7919 + 1)
        self.visit_rng = random.Random(seed * 7919 + 2)
        self.note_rng = random.Random(seed * 7919 + 3)
        self.last_names = list(JaNames.last_name_pairs)
        self.last_weights = list(accumulate(JaNames.last_name_pairs.values()))
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.years_ago = [(self.now - datetime.timedelta(days=365 * (years - y)),
                           self.now - datetime.timedelta(days=365 * (years - y - 1))) for y in range(years)]
        self.visit_rates = [0.0] * years  # per case-year, for each year of history

    def build(self, *, seconds: dict[str, float]) -> None:
        """Write everything; `seconds` gets the time spent on the data ("people") and on the grants.

        Grants are derived chunk by chunk through `grants_sync_residents`, the
        same writer and derivation as `grants_rebuild`, so that the sync reports
        (a line for every grant row written) never pile up in memory.
        """
        seconds.setdefault("people", 0.0)
        seconds.setdefault("grants", 0.0)
        total = self.sizing.residents
        districts = [(area, *entry) for area in self.city.areas for entry in area.districts]
        plans = [self._plan_cases() for _ in range(total)]
        case_years = [0.0] * self.years
        for resident_plans in plans:
            for plan in resident_plans:
                for year, overlap in self._overlaps(plan):
                    case_years[year] += overlap
        per_year = VISITS_PER_COMMISSIONER_YEAR * self.sizing.commissioners
        self.visit_rates = [per_year / open_years if open_years else 0.0 for open_years in case_years]
        if self.progress:
            self.progress.phase("residents", total)
        for start in range(0, total, self.batch):
            started = time.monotonic()
            stop = min(start + self.batch, total)
            chunk: list[tuple[Resident, Area, list[_CasePlan]]] = []
            while start + len(chunk) < stop:
                index = start + len(chunk)
                area, district, town, chome, postal = districts[index * len(districts) // total]
                size = min(2 if self.rng.random() < 0.15 else 1, stop - index)
                for resident in self._household(district=district, town=town, chome=chome, postal=postal,
                                                council=area.council, ward=WARDS[area.ward][1], size=size):
                    chunk.append((resident, area, plans[start + len(chunk)]))
            seed_create(Resident, [resident for resident, _, _ in chunk], batch_size=self.batch)
            self._cases(chunk)
            seconds["people"] += time.monotonic() - started
            started = time.monotonic()
            ids = [resident.id for resident, _, _ in chunk]
            for offset in range(0, len(ids), GRANTS_BATCH):
                grants_sync_residents(resident_ids=ids[offset: offset + GRANTS_BATCH])
            seconds["grants"] += time.monotonic() - started
            reset_queries()  # under DEBUG, the query log would keep every chunk's SQL
            if self.progress:
                self.progress.advance(stop - start)

    # --- Residents ---------------------------------------------------------------

    def _name(self, *, female: bool, surname: tuple[str, str] | None = None) -> tuple[str, str]:
        last = surname or self.rng.choices(self.last_names, cum_weights=self.last_weights)[0][:2]
        first = self.rng.choice(JaNames.first_name_female_pairs if female else JaNames.first_name_male_pairs)
        return f"{last[0]} {first[0]}", f"{last[1]} {first[1]}"

    def _household(self, *, district: District, town: str, chome: int, postal: str, council: Organization,
                   ward: str, size: int) -> list[Resident]:
        """One person living alone (or with family), or an elderly couple sharing an address and a surname."""
        rng = self.rng
        block = f"{rng.randint(1, 30)}-{rng.randint(1, 30)}"
        building = room = ""
        if rng.random() < 0.4:
            building = f"{rng.choice(self.building_words)}{town}"
            room = f"{rng.randint(1, 8)}{rng.randint(1, 15):02d}"
        phone = f"044-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}" if rng.random() < 0.9 else ""
        if size == 2:
            household = HouseholdType.ELDERLY_COUPLE
        else:
            household = rng.choices([HouseholdType.LIVES_ALONE, HouseholdType.WITH_FAMILY, HouseholdType.SINGLE_PARENT,
                                     HouseholdType.ELDERLY_HOUSEHOLD], weights=[70, 18, 6, 6])[0]
        young = household == HouseholdType.SINGLE_PARENT
        residents: list[Resident] = []
        surname = None
        for member in range(size):
            female = member == 1 if size == 2 else rng.random() < 0.6
            kanji, kana = self._name(female=female, surname=surname)
            surname = (kanji.split(" ")[0], kana.split(" ")[0])
            age = rng.randint(25, 50) if young else int(rng.triangular(65, 101, 80))
            do_not_contact = young and rng.random() < 0.05
            residents.append(Resident(
                name_kanji=kanji, name_kana=kana, name_kana_key=kana_normalize(kana),
                date_of_birth=self.today - datetime.timedelta(days=age * 365 + rng.randint(0, 364)),
                postal_code=postal, municipality=f"川崎市{ward}", town=town, chome=chome, block_number=block,
                building=building, room=room, district=district, household_type=household,
                **resident_address_keys(municipality=f"川崎市{ward}", town=town, chome=chome, block_number=block,
                                        building=building, room=room),
                phone="" if do_not_contact else phone,
                special_care=[SpecialCare.DV_RISK.value] if do_not_contact else [
                    str(care) for care in CARE if rng.random() < 0.08],
                do_not_contact=do_not_contact, registered_by=council, created_at=self.now, updated_at=self.now,
            ))
        return residents

    # --- Cases ---------------------------------------------------------------------

    def _plan_cases(self) -> list[_CasePlan]:
        """The resident's current case and, for some, an earlier closed one (oldest first).

        Half the current cases are older than the visit history, the rest opened during it.
        """
        rng = self.case_rng
        history = max(self.years, 2) * 365
        opened = self.now - datetime.timedelta(days=rng.uniform(30, history) if rng.random() < 0.5 else
                                               rng.uniform(history, history + 5 * 365))
        status = rng.choices([CaseStatus.OPEN, CaseStatus.MONITORING, CaseStatus.ON_HOLD, CaseStatus.CLOSED],
                             weights=[45, 40, 8, 7])[0]
        risk = rng.choices(list(RiskLevel), weights=[30, 45, 20, 5])[0]
        closed = opened + (self.now - opened) * rng.uniform(0.3, 0.95) if status == CaseStatus.CLOSED else None
        plans = [_CasePlan(opened, closed, status, risk)]
        if rng.random() < 0.15:
            earlier_closed = opened - datetime.timedelta(days=rng.uniform(1, 200))
            earlier_opened = earlier_closed - datetime.timedelta(days=rng.uniform(90, 900))
            plans.insert(0, _CasePlan(earlier_opened, earlier_closed, CaseStatus.CLOSED,
                                      rng.choice([RiskLevel.LOW, RiskLevel.MEDIUM])))
        return plans

    def _overlaps(self, plan: _CasePlan) -> list[tuple[int, float]]:
        """(year of history, case-years open in it) for each year the case was open in."""
        end = plan.closed_at or self.now
        result = []
        for year, (start_of_year, end_of_year) in enumerate(self.years_ago):
            overlap = (min(end, end_of_year) - max(plan.opened_at, start_of_year)).total_seconds()
            if overlap > 0:
                result.append((year, overlap / YEAR))
        return result

    def _cases(self, chunk: list[tuple[Resident, Area, list[_CasePlan]]]) -> None:
        """Lead: the area's care centre or its commissioner council; team: the lead and up to two more."""
        rng = self.case_rng
        cases: list[Case] = []
        teams: list[list[Organization]] = []
        areas: list[Area] = []
        visits: list[list[tuple]] = []
        for resident, area, plans in chunk:
            orgs = self.city.ward_orgs[area.ward]
            for plan in plans:
                lead = area.care_centre if rng.random() < 0.6 else area.council
                team = [lead]
                if lead is area.council and rng.random() < 0.4:
                    team.append(area.care_centre)
                if rng.random() < 0.15:
                    team.append(orgs[K.WARD_SECTION][0])
                if rng.random() < 0.08:
                    team.append(rng.choice(orgs[K.NPO]))
                if rng.random() < 0.05:
                    team.append(orgs[K.SOCIAL_WELFARE_COUNCIL][0])
                team = team[:3]
                lead_worker = (self.city.commissioner_of[resident.district_id] if lead is area.council
                               else rng.choice(self.city.workers[lead.id]))
                cadence = CADENCE[plan.risk]
                cases.append(Case(
                    resident=resident, concern=rng.choice(CONCERNS), status=plan.status, risk_level=plan.risk,
                    lead_organization=lead, lead_worker=lead_worker, visit_cadence_days=cadence,
                    next_visit_due=None if plan.closed_at else self.today + datetime.timedelta(
                        days=rng.randint(-(cadence // 5) - 2, cadence)),
                    opened_at=plan.opened_at, closed_at=plan.closed_at, updated_at=self.now,
                ))
                teams.append(team)
                areas.append(area)
                visits.append(self._visits(cases[-1], plan=plan, area=area))
        seed_create(Case, cases, batch_size=self.batch)
        CaseTeamMember.objects.bulk_create(
            [CaseTeamMember(case=case, organization=org, added_at=case.opened_at)
             for case, team in zip(cases, teams, strict=True) for org in team],
            batch_size=self.batch,
        )
        self._consents(cases, teams)
        self._notes(cases, areas)
        _insert_visits([(case.id, *row) for case, rows in zip(cases, visits, strict=True) for row in rows],
                       batch=self.batch)

    def _consents(self, cases: list[Case], teams: list[list[Organization]]) -> None:
        """Most residents agreed that their case team and their commissioners may share for watch-over;
        a few refused one organisation; consent taken for a case ends when it closes."""
        rng = self.case_rng
        rows: list[tuple[Consent, list[Organization]]] = []
        for case, team in zip(cases, teams, strict=True):
            if case.resident.do_not_contact or rng.random() < 0.12:
                continue
            refused = rng.random() < 0.03
            categories = [Category.BASIC, Category.LIVING_SITUATION]
            if rng.random() < 0.6:
                categories.append(Category.HEALTH)
            rows.append((Consent(
                resident=case.resident, decision=Decision.REFUSED if refused else Decision.GRANTED,
                grantor=Grantor.SELF, recipient_kinds=[] if refused else [K.COMMISSIONER_COUNCIL],
                categories=categories, purposes=[Purpose.WATCH_OVER], valid_from=case.opened_at,
                valid_until=case.closed_at, method=rng.choice([Method.ORAL, Method.WRITTEN]),
                taken_by=case.lead_worker, taken_by_organization=case.lead_organization, taken_at=case.opened_at,
            ), team[-1:] if refused else team))
        seed_create(Consent, [consent for consent, _ in rows], batch_size=self.batch)
        through = Consent.recipient_organizations.through
        through.objects.bulk_create(
            [through(consent_id=consent.id, organization_id=org.id) for consent, orgs in rows for org in orgs],
            batch_size=self.batch,
        )

    def _notes(self, cases: list[Case], areas: list[Area]) -> None:
        """Notes by the case's lead worker or the district's commissioner while it was open, more for riskier cases."""
        rng = self.note_rng
        categories, weights = list(NOTE_WEIGHTS), list(NOTE_WEIGHTS.values())
        notes = []
        for case, area in zip(cases, areas, strict=True):
            if case.resident.do_not_contact:
                continue
            span = ((case.closed_at or self.now) - case.opened_at).total_seconds()
            expected = NOTES_PER_YEAR[case.risk_level] * span / YEAR
            for _ in range(int(expected) + (rng.random() < expected - int(expected))):
                category = rng.choices(categories, weights=weights)[0]
                by_commissioner = case.lead_organization is area.council or rng.random() < 0.4
                commissioner = self.city.commissioner_of[case.resident.district_id]
                notes.append(Note(
                    resident=case.resident, case=case, category=category, body=rng.choice(NOTES[category]),
                    author=commissioner if by_commissioner else case.lead_worker,
                    author_organization=area.council if by_commissioner else case.lead_organization,
                    created_at=case.opened_at + datetime.timedelta(seconds=rng.uniform(0, span)),
                ))
        seed_create(Note, notes, batch_size=self.batch)

    # --- Visits --------------------------------------------------------------------

    def _visits(self, case: Case, *, plan: _CasePlan, area: Area) -> list[tuple]:
        """This case's visits, as VISIT_COLUMNS after case_id; moves an open case's next visit due.

        Commissioners make most visits; the lead care centre's worker some.
        Nobody visits or calls a do-not-contact household.
        """
        if self.years == 0 or case.resident.do_not_contact:
            return []
        rng = self.visit_rng
        moments = []
        for year, overlap in self._overlaps(plan):
            expected = self.visit_rates[year] * overlap
            start = max(plan.opened_at, self.years_ago[year][0])
            for _ in range(int(expected) + (rng.random() < expected - int(expected))):
                moments.append(start + datetime.timedelta(seconds=rng.uniform(0, overlap * YEAR)))
        if not moments:
            return []
        moments.sort()
        if plan.closed_at is None:
            recent = self.now - datetime.timedelta(days=rng.uniform(0.1, case.visit_cadence_days * 1.25))
            moments[-1] = max(recent, plan.opened_at)
            moments.sort()
        commissioner = self.city.commissioner_of[case.resident.district_id].id
        worker_org = case.lead_organization if case.lead_organization.kind != K.COMMISSIONER_COUNCIL else None
        rows = []
        for moment in moments:
            by_worker = worker_org is not None and rng.random() < 0.15
            outcome = rng.choices(OUTCOMES, weights=[82, 9, 4, 2, 3])[0]
            signs = sorted(set(rng.choices(SIGNS, k=rng.randint(1, 2)))) if (
                outcome in (Outcome.ABSENT, Outcome.NO_ANSWER) and rng.random() < 0.3) else []
            delay = rng.uniform(60, 7200) if rng.random() < 0.95 else rng.uniform(7200, 3 * 86400)
            rows.append((
                case.lead_worker.id if by_worker else commissioner,
                worker_org.id if by_worker else area.council.id,
                uuid.UUID(int=rng.getrandbits(128), version=4),
                moment,
                min(moment + datetime.timedelta(seconds=delay), self.now),
                str(rng.choices(CHANNELS, weights=[70, 20, 5, 5])[0]),
                str(outcome),
                [str(sign) for sign in signs],
                rng.choice(VISIT_NOTES) if outcome == Outcome.MET else "",
            ))
        if plan.closed_at is None:
            last = timezone.localtime(moments[-1]).date()
            case.next_visit_due = last + datetime.timedelta(days=case.visit_cadence_days)
        return rows


def _insert_visits(rows: list[tuple], *, batch: int) -> None:
    """Insert visit rows (VISIT_COLUMNS): COPY on PostgreSQL for the biggest table by far, bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        seed_create(Visit, [Visit(**dict(zip(VISIT_COLUMNS, row, strict=True))) for row in rows],
                                  batch_size=batch)
        return
    columns = ", ".join(f'"{column}"' for column in VISIT_COLUMNS)
    with connection.cursor() as cursor, cursor.cursor.copy(
        f'COPY "{Visit._meta.db_table}" ({columns}) FROM STDIN'
    ) as copy:
        for row in rows:
            copy.write_row((*row[:8], json.dumps(row[8]), row[9]))
