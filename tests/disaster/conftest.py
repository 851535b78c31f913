"""Disaster mode's world: the suite's personas, with the ward's evacuation-support list.

Mr Tanaka (district A) and Ms Suzuki (district B) live alone and are over 75, so the ward's criteria list them;
Mr Yamada (district A) too. Only Mr Tanaka consented to peacetime sharing (purpose disaster_evacuation, basic
data) with the commissioner council and the NPO. The council is district A's and B's council of record.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

import pytest
from django.utils import timezone

from cases.models import Consent, DisasterEvent, EvacuationListEntry, Resident
from cases.models.consent import Decision, Grantor, Method
from cases.services.disaster import disaster_campaign_step, disaster_event_declare, evacuation_list_refresh
from tests.factories import ResidentFactory


@dataclass
class Listed:
    world: object
    tanaka: EvacuationListEntry
    suzuki: EvacuationListEntry
    yamada: EvacuationListEntry
    consent: Consent


@pytest.fixture
def listed(world) -> Listed:
    return make_listed(world)


def make_listed(world) -> Listed:
    """The list of the suite's world (also used by the access-log and who-may-act tables)."""
    area = world.district_a.council_area
    area.council = world.council
    area.save()
    Resident.objects.filter(pk__in=[world.tanaka.id, world.suzuki.id]).update(
        date_of_birth=datetime.date(1940, 4, 1), household_type="lives_alone")
    yamada = ResidentFactory(name_kanji="山田 太郎", name_kana="ヤマダ タロウ", district=world.district_a,
                             registered_by=world.council, date_of_birth=datetime.date(1938, 1, 2),
                             household_type="with_family", special_care=["bedridden"])
    consent = Consent.objects.create(
        resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=["basic"],
        purposes=["disaster_evacuation"], valid_from=timezone.now() - datetime.timedelta(days=30),
        method=Method.WRITTEN, evidence="避難支援同意書 12", taken_by=world.users["ward_caseworker"],
        taken_by_organization=world.ward_section)
    consent.recipient_organizations.set([world.council, world.npo])
    report = evacuation_list_refresh(actor=world.users["ward_caseworker"])
    assert (report.listed, report.removed) == (3, 0)
    entries = {e.resident_id: e for e in EvacuationListEntry.objects.all()}
    return Listed(world, entries[world.tanaka.id], entries[world.suzuki.id], entries[yamada.id], consent)


def declare(listed: Listed, *, exercise: bool = False, client_id: uuid.UUID | None = None,
            run: bool = True) -> DisasterEvent:
    """Declare over districts A and B with the council and the NPO as supporters, and run the campaign as one
    worker would (chunk after chunk until it says it is done)."""
    world = listed.world
    event, _ = disaster_event_declare(
        actor=world.users["ward_supervisor"], client_id=client_id or uuid.uuid4(), kind="earthquake",
        district_ids=[world.district_a.id, world.district_b.id],
        supporter_organization_ids=[world.council.id, world.npo.id], exercise=exercise)
    while run and disaster_campaign_step(event_id=event.id):
        pass
    event.refresh_from_db()
    return event
