"""Every persona × every route of the core API: exactly what the policy allows, and 404 for the rest.

The expectation is written out as tables (below) from the rules in
permissions/policy/, not computed by the policy, so a reader can check one
against the other:

- Mr Tanaka lives in district A (registered by the commissioner council); his
  case is led by care centre 1, team [care centre 1]. District A's group
  (commissioner_a) and care centre 1's group (care_worker, care_supervisor) see
  both. The lead organisation changes the case; commissioner_a sees it but may
  not change it. The district, the registrar and the lead of an open case may
  correct the resident.
- Ms Suzuki lives in district B; her case is led by the commissioner council,
  which acts only through its districts' groups: commissioner_b alone sees her
  and changes both (district change right on a council-led case).
- Nobody else sees either. expired_commissioner's term ended yesterday: every
  member route answers 403 no_active_membership, /me/tokens included; only /me answers.

A hidden record answers exactly like a missing one (404, same problem body but
for `instance` and `request_id`), so nobody learns that it exists.
The last tests walk the URLconf, so a route added without an authorisation
check fails them without anyone remembering to list it here.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient
from rest_framework.views import APIView

from api.tokens import token_issue
from cases.models import Case, Resident
from service_directory.models import DirectoryOrganization
from service_directory.services import ListingImport, listings_import
from tests.helpers import API, PERSONAS, fixture_update

MISSING_ID = 987_654_321
PROBLEM = "application/problem+json"
EXPIRED = "403 no_active_membership"
NOBODY: frozenset[str] = frozenset()
BOTH = frozenset({"tanaka", "suzuki"})

# persona → residents (and their cases) the persona sees. EXPIRED: no active membership at all.
SEES: dict[str, frozenset[str] | str] = {
    "commissioner_a": frozenset({"tanaka"}),
    "commissioner_b": frozenset({"suzuki"}),
    "care_worker": frozenset({"tanaka"}),
    "care_supervisor": frozenset({"tanaka"}),
    "care_outsider": NOBODY,
    "ward_caseworker": NOBODY,
    "ward_supervisor": NOBODY,
    "npo_worker": NOBODY,
    "partner": NOBODY,
    "privacy_officer": NOBODY,
    "expired_commissioner": EXPIRED,
}
# persona → residents whose record the persona may correct (district, registrar, lead of an open case).
CORRECTS_RESIDENT = {
    "commissioner_a": {"tanaka"},
    "commissioner_b": {"suzuki"},
    "care_worker": {"tanaka"},
    "care_supervisor": {"tanaka"},
}
# persona → cases the persona may change (lead organisation; the district too when a council leads).
CHANGES_CASE = {
    "commissioner_b": {"suzuki"},
    "care_worker": {"tanaka"},
    "care_supervisor": {"tanaka"},
}
# case → its lead worker (for ?mine=).
LEAD_WORKER = {"tanaka": "care_worker", "suzuki": "commissioner_b"}
# persona → (POST /residents in district A, in district B).
REGISTERS = {
    "commissioner_a": ("201", "403 district_not_assigned"),
    "commissioner_b": ("403 district_not_assigned", "201"),
    "care_worker": ("201", "201"),
    "care_supervisor": ("201", "201"),
    "care_outsider": ("201", "201"),
    "ward_caseworker": ("201", "201"),
    "ward_supervisor": ("201", "201"),
    "npo_worker": ("201", "201"),
    "partner": ("403 no_casework_role", "403 no_casework_role"),
    "privacy_officer": ("403 no_casework_role", "403 no_casework_role"),
    "expired_commissioner": (EXPIRED, EXPIRED),
}

# ?filter → residents matching it (before visibility). See `matrix_world` for the distinguishing facts.
RESIDENT_FILTERS = {
    "name_kana=たなか": ({"name_kana": "たなか"}, {"tanaka"}),
    "name_kana=ｽｽﾞｷ": ({"name_kana": "ｽｽﾞｷ"}, {"suzuki"}),
    "name_kana=ヤマダ": ({"name_kana": "ヤマダ"}, NOBODY),
    "date_of_birth=1944-05-03": ({"date_of_birth": "1944-05-03"}, {"tanaka"}),
    "district=A": (lambda w: {"district": w.district_a.id}, {"tanaka"}),
    "district=B": (lambda w: {"district": w.district_b.id}, {"suzuki"}),
    "postal_code=214-0014": ({"postal_code": "214-0014"}, BOTH),
    "postal_code=2140015": ({"postal_code": "2140015"}, NOBODY),
}
CASE_FILTERS = {
    "status=open": ({"status": "open"}, {"suzuki"}),
    "status=monitoring": ({"status": "monitoring"}, {"tanaka"}),
    "status=closed": ({"status": "closed"}, NOBODY),
    "risk_level=high": ({"risk_level": "high"}, {"suzuki"}),
    "risk_level=medium": ({"risk_level": "medium"}, {"tanaka"}),
    "overdue=true": ({"overdue": "true"}, {"suzuki"}),
    "overdue=false": ({"overdue": "false"}, {"tanaka"}),
    "mine=true": ({"mine": "true"}, "led by me"),
    "mine=false": ({"mine": "false"}, "not led by me"),
    "resident=tanaka": (lambda w: {"resident": w.tanaka.id}, {"tanaka"}),
    "resident=suzuki": (lambda w: {"resident": w.suzuki.id}, {"suzuki"}),
}


def test_the_tables_name_every_persona():
    assert set(SEES) == set(PERSONAS) == set(REGISTERS)
    assert set(CORRECTS_RESIDENT) | set(CHANGES_CASE) <= {p for p, seen in SEES.items() if seen != EXPIRED}


@pytest.fixture
def matrix_world(world):
    """The conftest world, with facts that tell the two residents and cases apart in every filter."""
    today = timezone.localdate()
    fixture_update(Resident.objects.filter(pk=world.suzuki.pk), date_of_birth=datetime.date(1950, 1, 1))
    fixture_update(Case.objects.filter(pk=world.tanaka_case.pk), status="monitoring", risk_level="medium",
                   next_visit_due=today + datetime.timedelta(days=10))
    fixture_update(Case.objects.filter(pk=world.suzuki_case.pk), status="open", risk_level="high",
                   next_visit_due=today - datetime.timedelta(days=3))
    return world


def outcome(response) -> str:
    """'200', '201', '404 not_found', '403 not_permitted' ..."""
    if response.status_code < 400:
        return str(response.status_code)
    assert response["Content-Type"] == PROBLEM, response["Content-Type"]
    return f"{response.status_code} {response.json()['code']}"


def without_request_details(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("instance", "request_id")}


def assert_hidden_like_missing(hidden, missing) -> None:
    assert outcome(hidden) == outcome(missing) == "404 not_found"
    assert without_request_details(hidden.json()) == without_request_details(missing.json())
    assert hidden["Content-Type"] == missing["Content-Type"]
    assert not hidden.has_header("ETag")


def _params(spec, world) -> dict:
    return spec(world) if callable(spec) else spec


def _expected_list(persona: str, matches) -> frozenset[str] | str:
    seen = SEES[persona]
    if seen == EXPIRED:
        return EXPIRED
    if matches == "led by me":
        matches = {name for name, lead in LEAD_WORKER.items() if lead == persona}
    elif matches == "not led by me":
        matches = {name for name, lead in LEAD_WORKER.items() if lead != persona}
    return frozenset(seen & set(matches))


def _observed_list(response, names_by_id: dict[int, str]) -> frozenset[str] | str:
    if response.status_code != 200:
        return outcome(response)
    return frozenset(names_by_id.get(item["id"], f"unknown:{item['id']}") for item in response.json()["results"])


@pytest.mark.parametrize("persona", PERSONAS)
def test_reads(persona, matrix_world, client_for):
    """Every read route for one persona, compared as a whole against the tables."""
    world = matrix_world
    client = client_for(persona)
    seen = SEES[persona]
    member = "200" if seen != EXPIRED else EXPIRED
    residents = {"tanaka": world.tanaka, "suzuki": world.suzuki}
    cases = {"tanaka": world.tanaka_case, "suzuki": world.suzuki_case}
    resident_names = {r.id: name for name, r in residents.items()}
    case_names = {c.id: name for name, c in cases.items()}

    expected: dict[str, object] = {
        "GET /me": "200",
        "GET /me/tokens": member,
        "GET /organizations": member,
        "GET /organizations/{id}": member,
        "GET /organizations/{missing}": member if seen == EXPIRED else "404 not_found",
        "GET /districts": member,
        "GET /districts/{id}": member,
        "GET /districts/{missing}": member if seen == EXPIRED else "404 not_found",
        "GET /residents": _expected_list(persona, BOTH),
        "GET /cases": _expected_list(persona, BOTH),
    }
    observed: dict[str, object] = {
        "GET /me": outcome(client.get(f"{API}/me")),
        "GET /me/tokens": outcome(client.get(f"{API}/me/tokens")),
        "GET /organizations": outcome(client.get(f"{API}/organizations")),
        "GET /organizations/{id}": outcome(client.get(f"{API}/organizations/{world.care_centre.id}")),
        "GET /organizations/{missing}": outcome(client.get(f"{API}/organizations/{MISSING_ID}")),
        "GET /districts": outcome(client.get(f"{API}/districts")),
        "GET /districts/{id}": outcome(client.get(f"{API}/districts/{world.district_a.id}")),
        "GET /districts/{missing}": outcome(client.get(f"{API}/districts/{MISSING_ID}")),
        "GET /residents": _observed_list(client.get(f"{API}/residents"), resident_names),
        "GET /cases": _observed_list(client.get(f"{API}/cases"), case_names),
    }
    for label, (spec, matches) in RESIDENT_FILTERS.items():
        expected[f"GET /residents?{label}"] = _expected_list(persona, matches)
        response = client.get(f"{API}/residents", _params(spec, world))
        observed[f"GET /residents?{label}"] = _observed_list(response, resident_names)
    for label, (spec, matches) in CASE_FILTERS.items():
        expected[f"GET /cases?{label}"] = _expected_list(persona, matches)
        observed[f"GET /cases?{label}"] = _observed_list(client.get(f"{API}/cases", _params(spec, world)), case_names)

    missing_resident = client.get(f"{API}/residents/{MISSING_ID}")
    missing_case = client.get(f"{API}/cases/{MISSING_ID}")
    for name in ("tanaka", "suzuki"):
        for kind, record, missing in (("residents", residents[name], missing_resident),
                                      ("cases", cases[name], missing_case)):
            response = client.get(f"{API}/{kind}/{record.id}")
            label = f"GET /{kind}/{{{name}}}"
            if seen == EXPIRED:
                expected[label] = EXPIRED
            elif name in seen:
                expected[label] = "200"
                assert response.json()["id"] == record.id
                assert response["ETag"] == f'"v{record.version}"'
            else:
                expected[label] = "404 not_found"
                assert_hidden_like_missing(response, missing)
            observed[label] = outcome(response)
        # The FHIR export is for organisations' API clients only: a person's token, even one that sees him, is
        # refused (clients: test_fhir_export_by_each_organisations_client below).
        label = f"GET /fhir/residents/{{{name}}}"
        expected[label] = EXPIRED if seen == EXPIRED else "403 client_required"
        observed[label] = outcome(client.get(f"{API}/fhir/residents/{residents[name].id}"))

    assert observed == expected


# Which resident each organisation's API client (scope fhir.read) may export: the same rules as its workers.
FHIR_EXPORTS = {"care_centre": {"tanaka"}, "care_centre_2": set(), "ward_section": set(), "npo": set()}


@pytest.mark.parametrize("organization", sorted(FHIR_EXPORTS))
def test_fhir_export_by_each_organisations_client(organization, world):
    from cases.models.choices import Role
    from integrations.services import client_register
    from tests.factories import MembershipFactory, UserFactory

    admin = UserFactory(username=f"{organization}_fhir_admin")
    MembershipFactory(user=admin, organization=getattr(world, organization), role=Role.ORG_ADMIN)
    _, key = client_register(actor=admin, name="fhir", scopes=["fhir.read"], purposes=["watch_over"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    missing = client.get(f"{API}/fhir/residents/{MISSING_ID}")
    for name in ("tanaka", "suzuki"):
        response = client.get(f"{API}/fhir/residents/{getattr(world, name).id}")
        if name in FHIR_EXPORTS[organization]:
            assert response.status_code == 200 and response["Content-Type"].startswith("application/fhir+json")
            assert response.json()["entry"][0]["resource"]["id"] == str(getattr(world, name).id)
        else:
            assert_hidden_like_missing(response, missing)


def _patch(client, path: str, record, body: dict):
    return client.patch(path, body, format="json", HTTP_IF_MATCH=f'"v{record.version}"')


def _write_expectation(persona: str, name: str, allowed: dict[str, set[str]]) -> str:
    seen = SEES[persona]
    if seen == EXPIRED:
        return EXPIRED
    if name in allowed.get(persona, set()):
        return "200"
    return "403 not_permitted" if name in seen else "404 not_found"


def _resident_body(district_id: int) -> dict:
    return {
        "name_kanji": "山田 花子", "name_kana": "ヤマダ ハナコ", "date_of_birth": "1940-04-01",
        "postal_code": "214-0014", "town": "登戸", "chome": 1, "block_number": "2-15",
        "district": district_id, "household_type": "lives_alone",
    }


def check_me_and_tokens(persona, world, client) -> None:
    """/me lists only active memberships; /me/tokens only the caller's own tokens, and only to a member."""
    other = "care_worker" if persona != "care_worker" else "commissioner_a"
    theirs, _ = token_issue(user=world.users[other], name="someone else's")
    me = client.get(f"{API}/me").json()
    assert me["username"] == persona
    assert len(me["memberships"]) == (0 if SEES[persona] == EXPIRED else 1)
    if SEES[persona] == EXPIRED:
        assert outcome(client.get(f"{API}/me/tokens")) == EXPIRED
        assert outcome(client.delete(f"{API}/me/tokens/{theirs.id}")) == EXPIRED
        return
    tokens = client.get(f"{API}/me/tokens").json()["results"]
    assert [t["name"] for t in tokens] == ["test"]
    assert theirs.id not in {t["id"] for t in tokens}
    assert outcome(client.delete(f"{API}/me/tokens/{theirs.id}")) == "404 not_found"


def patch_residents(persona, world, client, expected, observed) -> None:
    for name in ("tanaka", "suzuki"):
        resident = Resident.objects.get(pk=getattr(world, name).pk)
        response = _patch(client, f"{API}/residents/{resident.id}", resident, {"phone": "044-111-2222"})
        label = f"PATCH /residents/{{{name}}}"
        expected[label], observed[label] = _write_expectation(persona, name, CORRECTS_RESIDENT), outcome(response)
        after = Resident.objects.get(pk=resident.pk)
        if response.status_code == 200:
            assert (after.version, after.phone) == (resident.version + 1, "044-111-2222")
            assert response["ETag"] == f'"v{after.version}"'
        else:
            assert (after.version, after.phone, after.updated_at) == (
                resident.version, resident.phone, resident.updated_at)


def patch_cases(persona, world, client, expected, observed) -> None:
    for name in ("tanaka", "suzuki"):
        case = Case.objects.get(pk=getattr(world, f"{name}_case").pk)
        response = _patch(client, f"{API}/cases/{case.id}", case, {"risk_level": "urgent"})
        label = f"PATCH /cases/{{{name}}}"
        expected[label], observed[label] = _write_expectation(persona, name, CHANGES_CASE), outcome(response)
        after = Case.objects.get(pk=case.pk)
        if response.status_code == 200:
            assert (after.version, after.risk_level) == (case.version + 1, "urgent")
        else:
            assert (after.version, after.risk_level, after.updated_at) == (
                case.version, case.risk_level, case.updated_at)


def open_cases(persona, world, client, expected, observed) -> None:
    """POST /cases opens on a resident the persona sees; on any other: 404 on `resident`, like a missing one."""
    seen = SEES[persona]
    missing = client.post(f"{API}/cases", {"resident": MISSING_ID, "concern": "見守り"}, format="json")
    for name in ("tanaka", "suzuki"):
        before = Case.objects.count()
        response = client.post(f"{API}/cases", {"resident": getattr(world, name).id, "concern": "見守り"},
                               format="json")
        label = f"POST /cases resident={name}"
        expected[label] = EXPIRED if seen == EXPIRED else ("201" if name in seen else "404 not_found")
        observed[label] = outcome(response)
        if response.status_code == 201:
            assert Case.objects.count() == before + 1
            assert client.get(response["Location"]).json()["id"] == response.json()["id"]
        else:
            assert Case.objects.count() == before
        if expected[label] == "404 not_found":
            body = response.json()
            assert body["errors"] == [{"field": "resident", "code": "not_found", "message": body["title"]}]
            assert without_request_details(body) == without_request_details(missing.json())


def register_residents(persona, world, client, expected, observed) -> None:
    for district, wanted in zip((world.district_a, world.district_b), REGISTERS[persona], strict=True):
        before = Resident.objects.count()
        response = client.post(f"{API}/residents", _resident_body(district.id), format="json")
        label = f"POST /residents district={district.code}"
        expected[label], observed[label] = wanted, outcome(response)
        if response.status_code == 201:
            assert Resident.objects.count() == before + 1
            # The registrant (its organisation, or a commissioner's district) sees what it registered.
            assert client.get(response["Location"]).status_code == 200
        else:
            assert Resident.objects.count() == before
        if observed[label] == "403 district_not_assigned":
            assert response.json()["errors"][0]["field"] == "district"


# The directory's listings on the members' side: the NPO's salon, the ward section's counter and care
# centre 2's class. Each organisation's workers and supervisors see its own; the ward section's supervisor
# approves listings and sees the ward's; commissioners, partners and privacy officers keep none.
LISTINGS_SEEN: dict[str, frozenset[str] | str] = {
    "commissioner_a": frozenset(), "commissioner_b": frozenset(), "care_worker": frozenset(),
    "care_supervisor": frozenset(), "care_outsider": frozenset({"class"}), "ward_caseworker": frozenset({"counter"}),
    "ward_supervisor": frozenset({"salon", "counter", "class"}), "npo_worker": frozenset({"salon"}),
    "partner": frozenset(), "privacy_officer": frozenset(), "expired_commissioner": EXPIRED,
}
assert set(LISTINGS_SEEN) == set(PERSONAS)


@pytest.mark.parametrize("persona", PERSONAS)
def test_listing_reads(persona, world, client_for):
    listings = {}
    for name, organization in (("salon", world.npo), ("counter", world.ward_section), ("class", world.care_centre_2)):
        entry = DirectoryOrganization.objects.create(organization=organization, ward=organization.ward,
                                                     name=organization.name, description=organization.name)
        listing, = listings_import(organization=entry, updated_by=entry.name, listings=[
            ListingImport(name=name, description=name, taxonomy_codes=["EL-SALON"])])
        listings[listing.id] = name
    client = client_for(persona)
    seen = LISTINGS_SEEN[persona]
    salon = next(i for i, name in listings.items() if name == "salon")
    expected = {"list": seen, "salon": "200" if seen != EXPIRED and "salon" in seen else (
        EXPIRED if seen == EXPIRED else "404 not_found")}
    response = client.get(f"{API}/directory/listings")
    observed = {
        "list": outcome(response) if response.status_code != 200 else frozenset(
            listings[item["id"]] for item in response.json()["results"]),
        "salon": outcome(client.get(f"{API}/directory/listings/{salon}")),
    }
    assert observed == expected
    if expected["salon"] == "404 not_found":
        assert_hidden_like_missing(client.get(f"{API}/directory/listings/{salon}"),
                                   client.get(f"{API}/directory/listings/{MISSING_ID}"))


@pytest.mark.parametrize("persona", PERSONAS)
def test_writes(persona, world, client_for):
    """Every write route for one persona, compared as a whole against the tables; a refused write changes nothing."""
    client = client_for(persona)
    check_me_and_tokens(persona, world, client)
    expected: dict[str, str] = {}
    observed: dict[str, str] = {}
    patch_residents(persona, world, client, expected, observed)
    patch_cases(persona, world, client, expected, observed)
    open_cases(persona, world, client, expected, observed)
    register_residents(persona, world, client, expected, observed)
    assert observed == expected


def test_commissioner_sees_but_may_not_change_a_case_led_by_the_care_centre(world, client_for):
    """The one 'sees but may not change' cell, spelled out."""
    client = client_for("commissioner_a")
    case = world.tanaka_case
    assert client.get(f"{API}/cases/{case.id}").status_code == 200
    response = _patch(client, f"{API}/cases/{case.id}", case, {"status": "closed"})
    assert outcome(response) == "403 not_permitted"
    case.refresh_from_db()
    assert case.status == "open"


# --- Authentication and authorisation on every route ------------------------------------------------

def core_routes(world) -> list[tuple[str, str]]:
    """The routes this file covers, with real ids (an anonymous request must learn nothing about them)."""
    return [
        ("GET", "/me"), ("GET", "/me/tokens"), ("POST", "/me/tokens"), ("DELETE", "/me/tokens/1"),
        ("GET", "/organizations"), ("GET", f"/organizations/{world.care_centre.id}"),
        ("GET", "/districts"), ("GET", f"/districts/{world.district_a.id}"),
        ("GET", "/residents"), ("GET", "/residents?name_kana=たなか&date_of_birth=1944-05-03"),
        ("GET", f"/residents?district={world.district_a.id}&postal_code=2140014"),
        ("GET", f"/residents/{world.tanaka.id}"), ("PATCH", f"/residents/{world.tanaka.id}"), ("POST", "/residents"),
        ("GET", "/cases"), ("GET", f"/cases?status=open&risk_level=medium&overdue=false&mine=true"
                                   f"&resident={world.tanaka.id}"),
        ("GET", f"/cases/{world.tanaka_case.id}"), ("PATCH", f"/cases/{world.tanaka_case.id}"), ("POST", "/cases"),
    ]


def assert_unauthenticated(response, code: str = "not_authenticated") -> None:
    assert response.status_code == 401, (response.status_code, response.content[:300])
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    if response.content:  # HEAD answers without a body
        body = response.json()
        assert (body["status"], body["code"]) == (401, code)


def test_unauthenticated_requests_get_401_problem_on_every_core_route(world):
    anonymous = APIClient()
    for method, path in core_routes(world):
        response = anonymous.generic(method, f"{API}{path}", b"{}", content_type="application/json")
        assert_unauthenticated(response)
    assert Resident.objects.count() == 2 and Case.objects.count() == 2


def test_bad_or_revoked_tokens_get_401_on_every_core_route(world, client_for):
    revoked, plaintext = token_issue(user=world.users["care_worker"], name="old")
    revoked.revoked_at = timezone.now()
    revoked.save(update_fields=["revoked_at"])
    for credentials in (f"Bearer {plaintext}", "Bearer mmr_000000000000_" + "x" * 43, "Bearer garbage"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=credentials)
        for method, path in core_routes(world):
            response = client.generic(method, f"{API}{path}", b"{}", content_type="application/json")
            assert_unauthenticated(response, code="authentication_failed")


def _api_patterns(resolver=None, prefix: str = "", under: str = "api/v1/") -> list[tuple[str, object]]:
    """(concrete path, view callback) for every URL pattern under /api/v1/, found by walking the URLconf."""
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        piece = str(entry.pattern).lstrip("^").rstrip("$").replace("\\Z", "")
        piece = re.sub(r"\(\?P<\w+>[^)]*\)", "1", piece)  # regex groups: (?P<pk>\d+)
        piece = re.sub(r"<(?:\w+:)?\w+>", "1", piece)  # path converters: <int:pk>
        if isinstance(entry, URLResolver):
            found += _api_patterns(entry, prefix + piece, under)
        elif isinstance(entry, URLPattern) and (prefix + piece).startswith(under):
            found.append(("/" + prefix + piece, entry.callback))
    return found


API_PATTERNS = _api_patterns()
# Anonymous by design, and so outside the walk above: the public directory of services (HSDS 3.0; GET
# only, no personal data — tests/service_directory/test_public_api.py and test_public_personal_data.py),
# the log-in and log-out pages, the schema, and the last pattern (backend/urls.py), which answers any other path
# under /api/v1/ or /api/hsds/ with the not_found problem, whoever asks (tests/api/test_problems.py).
ANONYMOUS_BY_DESIGN = ("/api/hsds/", "/api/auth/", "/api/schema/", "/api/docs/", "/api/(?:v1|hsds)/")


def test_every_other_api_route_is_anonymous_by_design():
    """A route under /api/ but outside /api/v1/ must be declared here, or it fails."""
    others = {path for path, _ in _api_patterns(under="api/")} - {path for path, _ in API_PATTERNS}
    assert {"/api/hsds/", "/api/hsds/services", "/api/hsds/services/1"} <= others
    assert [path for path in sorted(others) if not path.startswith(ANONYMOUS_BY_DESIGN)] == []


def test_the_urlconf_walk_finds_the_api():
    paths = {path for path, _ in API_PATTERNS}
    assert {"/api/v1/me", "/api/v1/me/tokens", "/api/v1/residents", "/api/v1/residents/1", "/api/v1/cases",
            "/api/v1/cases/1", "/api/v1/organizations/1", "/api/v1/districts/1"} <= paths
    for path, callback in API_PATTERNS:
        assert resolve(path).func is callback, path


@pytest.mark.parametrize("path", sorted({path for path, _ in API_PATTERNS}))
def test_every_api_route_answers_401_to_anonymous_requests(path):
    """Generated from the URLconf: a new route that forgets authentication fails here.

    No database access is allowed here either: an anonymous request is refused before any query."""
    anonymous = APIClient()
    for method in ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"):
        response = anonymous.generic(method, path, b"{}", content_type="application/json")
        assert response.status_code == 401, f"{method} {path} answered {response.status_code} to an anonymous request"
        assert_unauthenticated(response)


@pytest.mark.parametrize("path,callback", API_PATTERNS, ids=[path for path, _ in API_PATTERNS])
def test_every_api_view_declares_permission_classes(path, callback):
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    assert view is not None and issubclass(view, APIView), f"{path} is not a DRF view"
    initkwargs = getattr(callback, "initkwargs", {}) or {}
    permission_classes = initkwargs.get("permission_classes", view.permission_classes)
    assert permission_classes, f"{path}: empty permission_classes"
    assert AllowAny not in permission_classes, f"{path}: AllowAny"
    for action in getattr(callback, "actions", {}).values():
        handler_kwargs = getattr(getattr(view, action, None), "kwargs", {}) or {}
        assert handler_kwargs.get("permission_classes", permission_classes), f"{path} {action}: no permission classes"
        assert AllowAny not in handler_kwargs.get("permission_classes", []), f"{path} {action}: AllowAny"
