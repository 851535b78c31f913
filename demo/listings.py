"""The demo ward's directory of services and community activities, in believable numbers for Tama Ward:
a salon or two in every district, children's cafeterias once or twice a month, weekly care-prevention
exercise groups, dementia cafés, mobile shops and the consultation counters (the care centres, the ward
sections, the council of social welfare, foreign-resident and LGBT support), each with its schedule.

Listings run by our own organisations are linked to them (their members keep them true); the
neighbourhood groups that run most salons are directory organisations of their own. A few listings are
old enough to be flagged "not recently verified", and two wait for the ward section's approval.
"""

from __future__ import annotations

import datetime
import random

from dateutil.relativedelta import relativedelta

from cases.models import Organization
from demo.ward import (
    AREAS,
    CHILD_SECTION,
    COMMUNITY_SECTION,
    ELDERLY_SECTION,
    FOOD_NPO,
    FOREIGN_NPO,
    LGBT_NPO,
    SALON_NPO,
    WELFARE_SECTION,
    World,
)
from service_directory.models import Approval, DirectoryOrganization, Service
from service_directory.services import ListingImport, listings_import

T = datetime.time
WEEKDAYS = "MO,TU,WE,TH,FR"
SALON_NAMES = ("ふれあいサロン", "いきいきサロン", "お茶のみサロン", "おしゃべりサロン")
SALON_KANA = {"ふれあいサロン": "ふれあいさろん", "いきいきサロン": "いきいきさろん",
              "お茶のみサロン": "おちゃのみさろん", "おしゃべりサロン": "おしゃべりさろん"}
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA")


def _weekly(byday: str, opens: T, closes: T, **extra) -> dict:
    return {"freq": "WEEKLY", "byday": byday, "opens_at": opens, "closes_at": closes,
            "dtstart": datetime.date(2025, 4, 1), **extra}


def _monthly(byday: str, opens: T, closes: T) -> dict:
    return {"freq": "MONTHLY", "byday": byday, "opens_at": opens, "closes_at": closes,
            "dtstart": datetime.date(2025, 4, 1)}


def _place(world: World, code: str, name: str, number: int) -> dict:
    spec = world.specs[code]
    chome = spec.chomes[0] if spec.chomes else None
    address = f"{spec.town}{chome}丁目{number}番1号" if chome else f"{spec.town}{number}番地"
    return {"name": name, "address_1": address, "postal_code": spec.postal_code, "district": world.districts[code],
            "accessibility_description": "段差なし" if number % 3 else "2階（エレベーターなし）"}


def _entry(world: World, name: str, *, organization: Organization | None = None, kana: str = "",
           description: str = "") -> DirectoryOrganization:
    entry, _ = DirectoryOrganization.objects.get_or_create(
        name=name, ward=world.ward,
        defaults={"organization": organization, "name_kana": kana, "description": description or name})
    return entry


def directory_build(*, world: World, today: datetime.date) -> int:
    """Create the demo ward's listings once (nothing when it has some); returns how many were made."""
    if Service.objects.filter(organization__ward=world.ward).exists():
        return 0
    rng = random.Random(14)
    orgs = world.orgs
    made = 0

    def add(entry: DirectoryOrganization, listings: list[ListingImport]) -> None:
        nonlocal made
        made += len(listings_import(organization=entry, listings=listings, updated_by=entry.name))

    # Salons: one or two in every district, mostly run by its neighbourhood groups, some by the salon NPO.
    salon_npo = _entry(world, SALON_NPO, organization=orgs[SALON_NPO], kana="えぬぴーおーほうじん いきいきさろんたま",
                       description="多摩区内でサロンと通いの場を運営しています。")
    for index, (code, spec) in enumerate(sorted(world.specs.items())):
        for n in range(1 + index % 2):
            name = SALON_NAMES[(index + n) % len(SALON_NAMES)]
            host = salon_npo if (index + n) % 3 == 0 else _entry(
                world, f"{spec.name} {name}運営委員会", description=f"{spec.name}の住民による{name}の運営委員会です。")
            assured = today - relativedelta(months=7) if (index + n) % 11 == 5 else today - datetime.timedelta(
                days=rng.randint(5, 150))
            add(host, [ListingImport(
                name=f"{name}（{spec.name}）", name_kana=SALON_KANA[name], name_en="Community salon",
                description="お茶を飲みながらおしゃべりや体操を楽しむ集まりです。どなたでも参加できます。",
                taxonomy_codes=["EL-SALON", "CA-WATCH"], fees_description="参加費100円（お茶代）",
                eligibility_description="おおむね65歳以上の方", minimum_age=60,
                schedules=[_monthly(f"{1 + n * 2}{DAYS[(index + n) % 5]}", T(13, 30), T(15, 30))],
                location=_place(world, code, f"{spec.name}町内会館", 10 + n),
                area_district_ids=[world.districts[code].id],
                assured_date=assured)])
    # Children's cafeterias: twelve, once or twice a month.
    food = _entry(world, FOOD_NPO, organization=orgs[FOOD_NPO], kana="えぬぴーおーほうじん たまこどもしょくどうねっと",
                  description="区内の子ども食堂とフードパントリーをつないでいます。")
    codes = sorted(world.specs)
    add(food, [ListingImport(
        name=f"{world.specs[code].town}こども食堂", name_kana=f"{world.specs[code].town}こどもしょくどう",
        name_en="Children's cafeteria", description="子どもも大人も一緒に夕ごはんを食べる地域の食堂です。",
        taxonomy_codes=["CF-FOOD"], fees_description="子ども無料、大人300円",
        languages=["ja", "en"] if i % 4 == 0 else ["ja"],
        schedules=[_monthly(day, T(17), T(19)) for day in (("2SA",) if i % 2 else ("1SA", "3SA"))],
        location=_place(world, code, f"{world.specs[code].town}こども文化センター", 20 + i),
        area_district_ids=[world.districts[code].id]) for i, code in enumerate(codes[::2][:12])])
    add(food, [ListingImport(
        name="フードパントリー多摩", name_kana="ふーどぱんとりーたま",
        description="食料品を無料でお渡しします（予約制）。",
        taxonomy_codes=["DL-FOOD"], ward_wide=True, schedules=[_monthly("4SA", T(10), T(12))],
        application_process="電話で予約してください。", phone="044-900-3101")])
    # Care-prevention exercise groups: twenty, weekly, run by the social welfare council with the care centres.
    swc_org = orgs["多摩区社会福祉協議会"]
    swc = _entry(world, swc_org.name, organization=swc_org, kana="たまくしゃかいふくしきょうぎかい",
                 description="地域福祉活動とボランティア活動を支えています。")
    add(swc, [ListingImport(
        name=f"いきいき百歳体操（{world.specs[code].name}）", name_kana="いきいきひゃくさいたいそう",
        name_en="Care-prevention exercise group", description="椅子に座ってできる筋力づくりの体操です。介護予防に。",
        taxonomy_codes=["EL-PREV", "CA-EXERCISE"], fees_description="無料", minimum_age=65,
        schedules=[_weekly(DAYS[i % 5], T(10), T(11))],
        location=_place(world, code, f"{world.specs[code].name}老人いこいの家", 30 + i),
        area_district_ids=[world.districts[code].id]) for i, code in enumerate(codes[1::1][:20])])
    add(swc, [ListingImport(
        name="多摩区ボランティアセンター", name_kana="たまくぼらんてぃあせんたー",
        description="ボランティアの相談と紹介。",
        taxonomy_codes=["CA-VOLUNTEER"], ward_wide=True, schedules=[_weekly(WEEKDAYS, T(9), T(17))],
        phone="044-900-3102")])
    # Consultation counters: the care centres and the ward sections, weekdays.
    for area in AREAS:
        centre = orgs[area.care_centre]
        if Service.objects.filter(organization__organization=centre).exists():
            continue
        add(_entry(world, centre.name, organization=centre, description="高齢者の総合相談窓口です。"), [ListingImport(
            name=f"{centre.name} 総合相談", name_kana="ちいきほうかつしえんせんたー そうごうそうだん",
            description="介護、健康、暮らしの心配ごとの相談を受け付けます。", taxonomy_codes=["EL-CONSULT"],
            schedules=[_weekly(WEEKDAYS, T(8, 30), T(17, 15))], phone="044-900-3200",
            area_district_ids=[world.districts[d.code].id for d in area.districts],
            contact_title="総合相談担当")])
    sections = ((ELDERLY_SECTION, "高齢・障害の相談窓口", ["EL-CONSULT", "DS-CONSULT"]),
                (CHILD_SECTION, "子育て相談窓口", ["CF-CONSULT"]),
                (WELFARE_SECTION, "くらしと仕事の相談窓口", ["DL-MONEY"]),
                (COMMUNITY_SECTION, "地域の防災・避難支援の相談", ["DR-EVAC"]))
    for org_name, service_name, codes_ in sections:
        add(_entry(world, org_name, organization=orgs[org_name]), [ListingImport(
            name=service_name, description=f"{org_name}の{service_name}です。", taxonomy_codes=codes_, ward_wide=True,
            schedules=[_weekly(WEEKDAYS, T(8, 30), T(17, 15))], phone="044-935-3300", contact_title="相談担当")])
    # Foreign-resident and LGBT support, dementia cafés, mobile shops.
    add(_entry(world, FOREIGN_NPO, organization=orgs[FOREIGN_NPO]), [ListingImport(
        name="外国人住民のための生活相談", name_en="Living advice for foreign residents",
        description="ことばや手続き、子育ての相談に多言語で応じます。",
        description_en="Advice on language, paperwork and childcare in several languages.",
        taxonomy_codes=["DL-FOREIGN"], ward_wide=True, languages=["ja", "en", "zh", "vi", "tl"],
        schedules=[_weekly("WE,SA", T(13), T(16))], interpretation_services="英語・中国語・ベトナム語・タガログ語")])
    add(_entry(world, LGBT_NPO, organization=orgs[LGBT_NPO]), [ListingImport(
        name="にじいろカフェ", name_kana="にじいろかふぇ", description="LGBTの方と家族のための相談と居場所です。",
        taxonomy_codes=["DL-LGBT"], ward_wide=True, schedules=[_monthly("3SU", T(14), T(17))])])
    add(_entry(world, "多摩区認知症カフェ連絡会", description="区内の認知症カフェの連絡会です。"), [ListingImport(
        name=f"オレンジカフェ{world.specs[code].town}", name_kana="おれんじかふぇ",
        description="認知症の方と家族の交流の場。",
        taxonomy_codes=["EL-DEMENTIA"], schedules=[_monthly(f"{1 + i % 4}FR", T(13, 30), T(15, 30))],
        location=_place(world, code, f"{world.specs[code].town}地区会館", 40 + i),
        area_district_ids=[world.districts[code].id]) for i, code in enumerate(codes[::4][:6])])
    add(_entry(world, "多摩区移動販売協議会", description="買い物が不便な地域に移動販売車が回ります。"), [ListingImport(
        name=f"移動販売（{world.specs[code].name}）", name_kana="いどうはんばい",
        description="生鮮食品と日用品の移動販売です。",
        taxonomy_codes=["DL-SHOP"], schedules=[_weekly(DAYS[i % 5], T(10, 30), T(11, 30))],
        area_district_ids=[world.districts[code].id]) for i, code in enumerate(codes[3::5][:4])])
    # Two new listings waiting for the ward section's approval.
    add(salon_npo, [ListingImport(name="まちかど体操クラブ", description="新しく始める体操の会です。",
                                  taxonomy_codes=["CA-EXERCISE"], approval=Approval.PENDING),
                    ListingImport(name="防災カフェ", description="防災の話をしながらお茶を飲む会です。",
                                  taxonomy_codes=["DR-DRILL"], approval=Approval.PENDING)])
    return made
