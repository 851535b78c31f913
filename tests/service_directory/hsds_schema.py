"""The HSDS 3.0 JSON schemas the public answers must validate against, as JSON Schema (draft 2020-12).

Written out from the HSDS 3.0 schema reference (schema/compiled/service.json, organization.json,
taxonomy_term.json and the API reference's Page): every table's `required` fields, each field's type
(HSDS types are not nullable), its enums and formats (uuid, date, date-time, email, uri). Fields HSDS
does not name are allowed, as HSDS allows them (our profile's `name_kana`, capacity, ...).

`HSDS_SCHEMA_DIR` may point at a checkout of the published schemas (its `schema/compiled/` folder);
the tests then validate against those files too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

S = {"type": "string"}
UUID = {"type": "string", "format": "uuid"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
EMAIL = {"type": "string", "format": "email"}
URI = {"type": "string", "format": "uri"}
NUMBER = {"type": "number"}


def table(required: list[str], **properties) -> dict:
    return {"type": "object", "required": required, "properties": properties}


def many(item: dict) -> dict:
    return {"type": "array", "items": item}


METADATA = table(["id", "last_action_date", "last_action_type", "field_name", "previous_value",
                  "replacement_value", "updated_by"],
                 id=UUID, resource_id=UUID, resource_type=S, last_action_date=S, last_action_type=S,
                 field_name=S, previous_value=S, replacement_value=S, updated_by=S)
TAXONOMY = table(["id", "name", "description"], id=UUID, name=S, description=S, uri=URI, version=S,
                 metadata=many(METADATA))
TAXONOMY_TERM = table(["id", "name", "description"], id=UUID, code=S, name=S, description=S, parent_id=UUID,
                      taxonomy=S, taxonomy_detail=TAXONOMY, language=S, taxonomy_id=UUID, term_uri=URI,
                      metadata=many(METADATA))
ATTRIBUTE = table(["id"], id=UUID, link_id=UUID, taxonomy_term_id=UUID, link_type=S, link_entity=S, value=S,
                  taxonomy_term=TAXONOMY_TERM, metadata=many(METADATA))
LANGUAGE = table(["id"], id=UUID, service_id=UUID, location_id=UUID, phone_id=UUID, name=S, code=S, note=S)
PHONE = table(["id", "number"], id=UUID, location_id=UUID, service_id=UUID, organization_id=UUID, contact_id=UUID,
              service_at_location_id=UUID, number=S, extension=NUMBER, type=S, description=S,
              languages=many(LANGUAGE))
CONTACT = table(["id"], id=UUID, organization_id=UUID, service_id=UUID, service_at_location_id=UUID,
                location_id=UUID, name=S, title=S, department=S, email=EMAIL, phones=many(PHONE))
SCHEDULE = table(["id"], id=UUID, service_id=UUID, location_id=UUID, service_at_location_id=UUID, valid_from=S,
                 valid_to=S, dtstart=S, timezone=NUMBER, until=S, count=NUMBER,
                 wkst={"type": "string", "enum": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]},
                 freq={"type": "string", "enum": ["WEEKLY", "MONTHLY"]}, interval=NUMBER, byday=S, byweekno=S,
                 bymonthday=S, byyearday=S, description=S, opens_at=S, closes_at=S, schedule_link=URI,
                 attending_type=S, notes=S)
SERVICE_AREA = table(["id"], id=UUID, service_id=UUID, name=S, description=S, extent=S, extent_type=S, uri=S)
ADDRESS = table(["id", "address_1", "city", "state_province", "postal_code", "country", "address_type"],
                id=UUID, location_id=UUID, attention=S, address_1=S, address_2=S, city=S, region=S,
                state_province=S, postal_code=S, country=S,
                address_type={"type": "string", "enum": ["physical", "postal", "virtual"]})
ACCESSIBILITY = table(["id"], id=UUID, location_id=UUID, description=S, details=S, url=URI)
LOCATION = table(["id", "location_type"], id=UUID,
                 location_type={"type": "string", "enum": ["physical", "postal", "virtual"]}, url=URI,
                 organization_id=UUID, name=S, alternate_name=S, description=S, transportation=S,
                 latitude=NUMBER, longitude=NUMBER, languages=many(LANGUAGE), addresses=many(ADDRESS),
                 contacts=many(CONTACT), accessibility=many(ACCESSIBILITY), phones=many(PHONE),
                 schedules=many(SCHEDULE))
SERVICE_AT_LOCATION = table(["id"], id=UUID, service_id=UUID, location_id=UUID, description=S,
                            contacts=many(CONTACT), phones=many(PHONE), schedules=many(SCHEDULE), location=LOCATION)
ORGANIZATION = table(["id", "name", "description"], id=UUID, name=S, alternate_name=S, description=S, email=EMAIL,
                     website=URI, legal_status=S, logo=S, uri=URI, parent_organization_id=UUID,
                     year_incorporated=NUMBER, contacts=many(CONTACT), phones=many(PHONE),
                     locations=many(LOCATION))
SERVICE = table(["id", "name", "status"], id=UUID, organization_id=UUID, program_id=UUID, name=S, alternate_name=S,
                description=S, url=URI, email=EMAIL,
                status={"type": "string", "enum": ["active", "inactive", "defunct", "temporarily closed"]},
                interpretation_services=S, application_process=S, fees_description=S, accreditations=S,
                eligibility_description=S, minimum_age=NUMBER, maximum_age=NUMBER, assured_date=DATE,
                assurer_email=EMAIL, alert=S, last_modified=DATETIME, phones=many(PHONE), schedules=many(SCHEDULE),
                service_areas=many(SERVICE_AREA), service_at_locations=many(SERVICE_AT_LOCATION),
                languages=many(LANGUAGE), organization=ORGANIZATION, contacts=many(CONTACT),
                attributes=many(ATTRIBUTE), metadata=many(METADATA))


def page(contents: dict) -> dict:
    integer, boolean = {"type": "integer"}, {"type": "boolean"}
    return table(["total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty",
                  "contents"],
                 total_items=integer, total_pages=integer, page_number=integer, size=integer, first_page=boolean,
                 last_page=boolean, empty=boolean, contents=many(contents))


API_INFO = table(["version", "profile", "openapi_url"], version=S, profile=URI, openapi_url=URI)


def published(name: str) -> dict | None:
    """A published compiled schema (e.g. "service") when HSDS_SCHEMA_DIR names a checkout of them."""
    root = os.environ.get("HSDS_SCHEMA_DIR")
    if not root:
        return None
    path = Path(root) / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None
