"""A small directory beside the persona world: the NPO's salon (district A), a children's cafeteria
(district B), the ward's consultation counter (ward-wide), and listings that must not be public."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from service_directory.models import Approval, DirectoryOrganization, Service
from service_directory.services import ListingImport, listings_import

T = datetime.time


@dataclass
class Directory:
    npo: DirectoryOrganization
    ward: DirectoryOrganization
    salon: Service
    cafeteria: Service
    counter: Service
    stale: Service  # flagged: not re-verified for 7 months
    pending: Service
    defunct: Service
    unlisted: Service  # not re-verified for 10 months


@pytest.fixture
def directory(world) -> Directory:
    today = timezone.localdate()
    npo = DirectoryOrganization.objects.create(
        organization=world.npo, ward=world.npo.ward, name=world.npo.name, name_kana="えぬぴーおーほうじん たまさろん",
        description="地域の居場所づくりを進めるNPO法人です。", email="info@tama-salon.example.jp")
    ward = DirectoryOrganization.objects.create(
        organization=world.ward_section, ward=world.ward_section.ward, name=world.ward_section.name,
        description="多摩区役所の高齢・障害の窓口です。")
    salon, cafeteria = listings_import(organization=npo, updated_by=npo.name, listings=[
        ListingImport(
            name="いきいきサロン登戸", name_kana="いきいきさろんのぼりと", name_en="Ikiiki salon Noborito",
            description="お茶を飲みながらおしゃべりする集まりです。", taxonomy_codes=["EL-SALON"],
            fees_description="参加費100円（お茶代）", eligibility_description="おおむね65歳以上の方",
            minimum_age=60,
            schedules=[{"freq": "WEEKLY", "byday": "TU", "opens_at": T(10), "closes_at": T(12),
                        "dtstart": datetime.date(2025, 1, 7)}],
            location={"name": "登戸町内会館", "address_1": "登戸2丁目10番1号", "postal_code": "2140014",
                      "district": world.district_a, "accessibility_description": "段差なし・車いす可"},
            area_district_ids=[world.district_a.id], phone="044-911-1111", contact_title="サロン受付"),
        ListingImport(
            name="たま子ども食堂", name_kana="たまこどもしょくどう", name_en="Tama children's cafeteria",
            description="子どもも大人も一緒に夕ごはんを食べる場所です。", taxonomy_codes=["CF-FOOD"],
            languages=["ja", "en"], maximum_age=18,
            schedules=[{"freq": "MONTHLY", "byday": "2SA", "opens_at": T(17), "closes_at": T(19),
                        "dtstart": datetime.date(2025, 1, 1)}],
            location={"name": "宿河原こども文化センター", "address_1": "宿河原3丁目5番1号", "postal_code": "2140021",
                      "district": world.district_b},
            area_district_ids=[world.district_b.id]),
    ])
    counter, stale, pending, defunct, unlisted = listings_import(organization=ward, updated_by=ward.name, listings=[
        ListingImport(
            name="高齢者総合相談窓口", name_kana="こうれいしゃそうごうそうだんまどぐち",
            description="介護や暮らしの心配ごとの相談を受け付けます。", taxonomy_codes=["EL-CONSULT"], ward_wide=True,
            schedules=[{"freq": "WEEKLY", "byday": "MO,TU,WE,TH,FR", "opens_at": T(8, 30), "closes_at": T(17)}],
            phone="044-935-3266", contact_title="高齢・障害課 相談担当"),
        ListingImport(name="健康体操教室", name_kana="けんこうたいそうきょうしつ", description="介護予防の体操です。",
                      taxonomy_codes=["EL-PREV"], ward_wide=True, assured_date=today - relativedelta(months=7)),
        ListingImport(name="認知症カフェ（申請中）", description="申請中の新しいカフェです。",
                      taxonomy_codes=["EL-DEMENTIA"], approval=Approval.PENDING),
        ListingImport(name="旧サロン", description="終了しました。", taxonomy_codes=["EL-SALON"], status="defunct"),
        ListingImport(name="古いサロン", description="長く確認されていません。", taxonomy_codes=["EL-SALON"],
                      assured_date=today - relativedelta(months=10)),
    ])
    return Directory(npo, ward, salon, cafeteria, counter, stale, pending, defunct, unlisted)
