"""The public directory (/api/hsds/): HSDS 3.0 answers, search by kana or kanji, district and postal
code, language, open now or on a day, page-number paging, what is not public, and writes refused."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from cases.errors import RuleViolation
from service_directory.schedules import TOKYO
from service_directory.selectors import ServiceSearch, services_search
from service_directory.services import listing_capacity_set
from tests.helpers import PREFIX, public_routes
from tests.service_directory import hsds_schema

pytestmark = pytest.mark.django_db


def validate(document: dict, schema: dict, published: str | None = None) -> None:
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(document)
    official = hsds_schema.published(published) if published else None
    if official is not None:
        Draft202012Validator(official, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(document)


def get(path: str, **params):
    response = APIClient().get(path, params)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    return response.json()


def names(page: dict) -> set[str]:
    return {service["name"] for service in page["contents"]}




def test_every_public_answer_validates_against_the_hsds_schemas(directory):
    validate(get(PREFIX), hsds_schema.API_INFO)
    services = get(f"{PREFIX}services", per_page=100)
    validate(services, hsds_schema.page(hsds_schema.SERVICE))
    assert services["total_items"] == 4
    for service in services["contents"]:
        validate(service, hsds_schema.SERVICE, "service")
        validate(get(f"{PREFIX}services/{service['id']}"), hsds_schema.SERVICE, "service")
    organizations = get(f"{PREFIX}organizations")
    validate(organizations, hsds_schema.page(hsds_schema.ORGANIZATION))
    for organization in organizations["contents"]:
        validate(get(f"{PREFIX}organizations/{organization['id']}"), hsds_schema.ORGANIZATION, "organization")
    terms = get(f"{PREFIX}taxonomy_terms", per_page=100)
    validate(terms, hsds_schema.page(hsds_schema.TAXONOMY_TERM))
    assert {"EL", "CF", "DS", "DL", "DR", "CA"} <= {term["code"] for term in terms["contents"]}
    for term in terms["contents"][:3]:
        validate(get(f"{PREFIX}taxonomy_terms/{term['id']}"), hsds_schema.TAXONOMY_TERM, "taxonomy_term")


def test_an_unknown_capacity_names_the_rule(directory, world):
    with pytest.raises(RuleViolation) as refused:
        listing_capacity_set(user=world.users["npo_worker"], listing_id=directory.salon.id, status="maybe", note="")
    assert (refused.value.code, refused.value.field) == ("capacity_status_invalid", "status")


def test_a_service_shows_its_schedule_place_terms_and_capacity(directory, world):
    listing_capacity_set(user=world.users["npo_worker"], listing_id=directory.salon.id, status="waitlist",
                         note="次回は空きあり")
    salon = get(f"{PREFIX}services/{directory.salon.uuid}")
    assert salon["organization"]["name"] == "NPO法人 たまサロン"
    assert salon["schedules"][0] | {"id": None} == {
        "id": None, "service_id": str(directory.salon.uuid), "freq": "WEEKLY", "interval": 1, "byday": "TU",
        "dtstart": "2025-01-07", "opens_at": "10:00", "closes_at": "12:00", "timezone": 9}
    address = salon["service_at_locations"][0]["location"]["addresses"][0]
    assert (address["postal_code"], address["address_1"]) == ("2140014", "登戸2丁目10番1号")
    assert salon["attributes"][0]["taxonomy_term"]["code"] == "EL-SALON"
    assert (salon["capacity_status"], salon["capacity_note"]) == ("waitlist", "次回は空きあり")
    assert salon["not_recently_verified"] is False
    assert [entry["field_name"] for entry in salon["metadata"]][-1] == "capacity_status"


@pytest.mark.parametrize("text", ["さろん", "サロン", "ｻﾛﾝ", "ｻ ﾛﾝ"])
def test_kana_in_any_form_finds_the_same_salons(directory, text):
    assert names(get(f"{PREFIX}services", search=text)) == {"いきいきサロン登戸"}


def test_kanji_and_reading_search(directory):
    assert names(get(f"{PREFIX}services", search="子ども食堂")) == {"たま子ども食堂"}
    assert names(get(f"{PREFIX}services", search="こどもしょくどう")) == {"たま子ども食堂"}
    assert names(get(f"{PREFIX}services", search="CHILDREN'S")) == {"たま子ども食堂"}


def test_district_and_postal_code_find_what_is_near_a_resident(directory, world):
    near_a = names(get(f"{PREFIX}services", district=world.district_a.code))
    assert near_a == {"いきいきサロン登戸", "高齢者総合相談窓口", "健康体操教室"}
    near_b = names(get(f"{PREFIX}services", postcode="214-0021"))
    assert near_b == {"たま子ども食堂", "高齢者総合相談窓口", "健康体操教室"}
    assert names(get(f"{PREFIX}services", postcode="〒２１４００２１")) == names(
        get(f"{PREFIX}services", postcode="2140021"))


def test_taxonomy_term_and_its_children(directory):
    elderly = names(get(f"{PREFIX}services", taxonomy_code="EL"))
    assert elderly == {"いきいきサロン登戸", "高齢者総合相談窓口", "健康体操教室"}
    term = directory.cafeteria.attributes.get().taxonomy_term
    assert names(get(f"{PREFIX}services", taxonomy_term_id=str(term.uuid))) == {"たま子ども食堂"}


def test_language(directory):
    assert names(get(f"{PREFIX}services", language="en")) == {"たま子ども食堂"}


def test_open_now_follows_the_recurrence_rule(directory):
    def open_at(moment):
        return {s.name for s in services_search(search=ServiceSearch(open_at=moment))}

    tuesday_11 = datetime.datetime(2026, 12, 8, 11, 0, tzinfo=TOKYO)
    assert open_at(tuesday_11) >= {"いきいきサロン登戸", "高齢者総合相談窓口"}
    assert "いきいきサロン登戸" not in open_at(tuesday_11.replace(hour=13))
    second_saturday = datetime.datetime(2026, 12, 12, 18, 0, tzinfo=TOKYO)
    assert open_at(second_saturday) == {"たま子ども食堂"}
    assert open_at(second_saturday + datetime.timedelta(days=7)) == set()


def test_open_on_a_day(directory):
    assert names(get(f"{PREFIX}services", open_on="2026-12-12")) == {"たま子ども食堂"}


def test_page_number_paging_as_hsds_has_it(directory):
    first = get(f"{PREFIX}services", per_page=3)
    second = get(f"{PREFIX}services", per_page=3, page=2)
    assert (first["total_items"], first["total_pages"], first["size"], first["first_page"], first["last_page"]) == (
        4, 2, 3, True, False)
    assert (second["page_number"], second["size"], second["last_page"]) == (2, 1, True)
    assert not names(first) & names(second)
    assert get(f"{PREFIX}services", search="存在しない")["empty"] is True


@pytest.mark.parametrize("params", [{"page": "0"}, {"per_page": "101"}, {"postcode": "abc"},
                                    {"taxonomy_term_id": "x"}, {"open_on": "2026-13-01"}, {"search": ""}])
def test_bad_query_is_a_problem_naming_the_parameter(directory, params):
    response = APIClient().get(f"{PREFIX}services", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == next(iter(params))


def test_what_is_not_public_is_missing(directory):
    listed = names(get(f"{PREFIX}services", per_page=100))
    for hidden in (directory.pending, directory.defunct, directory.unlisted):
        assert hidden.name not in listed
        assert APIClient().get(f"{PREFIX}services/{hidden.uuid}").status_code == 404
    assert get(f"{PREFIX}services/{directory.stale.uuid}")["not_recently_verified"] is True


def test_every_public_route_refuses_writes():
    routes = public_routes()
    assert len(routes) == 7
    for route in routes:
        path = route.replace("<uuid:service_id>", "00000000-0000-4000-8000-000000000000").replace(
            "<uuid:organization_id>", "00000000-0000-4000-8000-000000000000").replace(
            "<uuid:term_id>", "00000000-0000-4000-8000-000000000000")
        for method in ("post", "put", "patch", "delete"):
            response = getattr(APIClient(), method)(path, {}, format="json")
            assert response.status_code == 405, (method, path, response.status_code)


def test_answers_are_cached_until_the_directory_changes(directory, world, django_assert_max_num_queries,
                                                        django_capture_on_commit_callbacks):
    with override_settings(DIRECTORY_CACHE_SECONDS=60):
        before = get(f"{PREFIX}services/{directory.salon.uuid}")
        with django_assert_max_num_queries(0):
            assert get(f"{PREFIX}services/{directory.salon.uuid}") == before
        with django_capture_on_commit_callbacks(execute=True):
            listing_capacity_set(user=world.users["npo_worker"], listing_id=directory.salon.id, status="full",
                                 note="")
        assert get(f"{PREFIX}services/{directory.salon.uuid}")["capacity_status"] == "full"


def test_anonymous_callers_are_rate_limited(directory):
    from django.core.cache import cache

    cache.clear()
    with override_settings(DIRECTORY_ANON_THROTTLE_RATE="3/minute"):
        statuses = [APIClient().get(PREFIX).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
