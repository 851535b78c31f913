"""Every read route × persona × consent state × note category agrees with the policy's rules.

The expectation is a table written from the rules in permissions/policy/rules.py, not
computed by the policy: a change to the derivation that shows something the
rules forbid (or hides something they allow) fails here, on the route that
leaks it.

Mr Tanaka (district A) has one note of each category, written by commissioner
Sato (commissioner_a) — the health note amended once — and one visit by her.
His case is led by care centre 1 with the NPO that runs his salon on the team.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone

from cases import services
from cases.models import Consent, Note, Visit
from cases.models.consent import Category, Decision, Grantor, Method, Purpose
from cases.models.visits import Channel, Outcome
from permissions.grants import grants_check, grants_rebuild
from permissions.models import NoteGroupObjectPermission
from tests.helpers import API

CATEGORIES = tuple(Category.values)
RESIDENT_NAME = "田中 一郎"
VISIT_MARK = "MARK-visit#"


def note_mark(category: str, version: int = 1) -> str:
    """A marker that appears in exactly one note body (never a prefix of another)."""
    return f"MARK-{category}-v{version}#"


@dataclass(frozen=True)
class View:
    """What one persona may see of Mr Tanaka."""

    resident: bool = False
    case: bool = False
    notes: frozenset[str] = frozenset()
    visit: bool = False
    register: bool = False  # his consent register: only those who hold him in their own right


NOTHING = View()
FORBIDDEN = "forbidden"  # no active membership at all: every route answers 403
EVERYTHING = View(True, True, frozenset(CATEGORIES), True, register=True)  # his district
# The care centre leads his case.
TANAKA_CONSENTED = View(True, True, frozenset({"basic", "living_situation", "health"}), True, register=True)
HEALTH_REFUSED = View(True, True, frozenset({"basic", "living_situation"}), True, register=True)
# The NPO receives under consent: it never sees the register (proxies, evidence, other recipients).
NPO_BASIC = View(True, True, frozenset({"basic"}), False)
NPO_ONE_HOUR = View(True, True, frozenset({"basic", "living_situation", "health"}), True)

# Commissioner Sato's district sees what commissioners wrote; everybody below sees nothing of him, always.
BLIND = {
    "commissioner_b": NOTHING,
    "care_outsider": NOTHING,
    "ward_caseworker": NOTHING,
    "ward_supervisor": NOTHING,
    "partner": NOTHING,
    "privacy_officer": NOTHING,
    "expired_commissioner": FORBIDDEN,
}


def _row(*, care: View, npo: View) -> dict:
    return {"commissioner_a": EVERYTHING, "care_worker": care, "care_supervisor": care, "npo_worker": npo, **BLIND}


STATES = ["a_world_consent", "b_npo_basic", "c_npo_withdrawn", "d_care_health_refused", "e_npo_one_hour",
          "e_npo_expired"]
EXPECTED: dict[str, dict[str, View | str]] = {
    # (a) Mr Tanaka's oral consent: the care centre sees basic, living situation and health (and the visit);
    # the NPO nothing.
    "a_world_consent": _row(care=TANAKA_CONSENTED, npo=NOTHING),
    # (b) + a consent naming the NPO for basic only: it sees him, his case and the basic note, not the visit.
    "b_npo_basic": _row(care=TANAKA_CONSENTED, npo=NPO_BASIC),
    # (c) His daughter, his legal guardian, withdraws the NPO's consent.
    "c_npo_withdrawn": _row(care=TANAKA_CONSENTED, npo=NOTHING),
    # (d) A later refusal for the care centre for health: the latest decision wins.
    "d_care_health_refused": _row(care=HEALTH_REFUSED, npo=NOTHING),
    # (e) A one-hour consent for the NPO (and one that already ran out, for finances) ...
    "e_npo_one_hour": _row(care=HEALTH_REFUSED, npo=NPO_ONE_HOUR),
    # ... two hours later, with no worker run in between.
    "e_npo_expired": _row(care=HEALTH_REFUSED, npo=NOTHING),
}
# Outside Mr Tanaka: commissioner_b's own district has Mrs Suzuki and her case.
OTHERS = {"commissioner_b": ("suzuki", "suzuki_case")}


@dataclass
class Records:
    notes: dict[str, Note]  # current version of each category
    old_health: Note
    visit: Visit

    def all_notes(self) -> list[Note]:
        return [*self.notes.values(), self.old_health]


def tanaka_records(world) -> Records:
    """One note of each category by commissioner Sato (health amended once), a visit, the NPO on the team."""
    users = world.users
    case = world.tanaka_case
    case.refresh_from_db()
    services.case_update(actor=users["care_worker"], case=case, expected_version=case.version, team=[world.npo])
    notes = {}
    for category in CATEGORIES:
        notes[category] = services.note_write(
            actor=users["commissioner_a"], resident=world.tanaka, category=category,
            body=f"{category} {note_mark(category)}", case=None if category == "basic" else case,
        )
    old_health = notes["health"]
    notes["health"] = services.note_amend(actor=users["commissioner_a"], note=old_health,
                                          body=f"health {note_mark('health', 2)}")
    visit = services.visit_record(
        actor=users["commissioner_a"], case=case, client_id="5d0c4f3e-0a52-4c8e-9a53-0d1f7c1e2b01",
        occurred_at=timezone.now() - datetime.timedelta(minutes=35), channel=Channel.HOME_VISIT,
        outcome=Outcome.NO_ANSWER, warning_signs=["newspapers_piling"], note=f"応答なし {VISIT_MARK}",
    ).visit
    return Records(notes=notes, old_health=old_health, visit=visit)


def consent_for(world, *, actor: str, organization, categories, decision=Decision.GRANTED, **kwargs) -> Consent:
    return services.consent_record(
        actor=world.users[actor], resident=world.tanaka, decision=decision, grantor=Grantor.SELF,
        recipient_organizations=[organization], categories=list(categories), purposes=[Purpose.WATCH_OVER],
        method=Method.ORAL, **kwargs,
    )


def advance(world, state: str, traveller) -> None:
    """Make the one change that leads from the previous state to `state`, ten minutes after the last."""
    traveller.shift(datetime.timedelta(minutes=10))
    now = timezone.now()
    if state == "b_npo_basic":
        consent_for(world, actor="care_worker", organization=world.npo, categories=["basic"])
    elif state == "c_npo_withdrawn":
        npo_basic = Consent.objects.get(resident=world.tanaka, recipient_organizations=world.npo)
        services.consent_withdraw(actor=world.users["care_worker"], resident=world.tanaka, consent_id=npo_basic.id,
                                  grantor=Grantor.LEGAL_GUARDIAN, note="長女（成年後見人）より撤回の申出")
    elif state == "d_care_health_refused":
        consent_for(world, actor="commissioner_a", organization=world.care_centre, categories=["health"],
                    decision=Decision.REFUSED)
    elif state == "e_npo_one_hour":
        consent_for(world, actor="care_worker", organization=world.npo,
                    categories=["basic", "living_situation", "health"], valid_until=now + datetime.timedelta(hours=1))
        consent_for(world, actor="care_worker", organization=world.npo, categories=["finances"],
                    valid_from=now - datetime.timedelta(days=10), valid_until=now - datetime.timedelta(days=1))
    elif state == "e_npo_expired":
        traveller.shift(datetime.timedelta(hours=2))  # nothing else happens: no sync, no worker


class RouteChecker:
    """GETs every read route as one persona and lists every disagreement with the expected view."""

    def __init__(self, client, world, records: Records, persona: str):
        self.client, self.world, self.records, self.persona = client, world, records, persona
        self.problems: list[str] = []
        self.bodies: list[str] = []

    def get(self, url: str):
        response = self.client.get(API + url)
        self.bodies.append(response.content.decode())
        return response

    def expect_list(self, url: str, wanted: set[int]) -> None:
        response = self.get(url)
        if response.status_code != 200:
            self.problems.append(f"GET {url}: {response.status_code}")
            return
        body = response.json()
        if set(body) != {"next", "previous", "results"}:
            self.problems.append(f"GET {url}: envelope {sorted(body)} (a count would leak what is hidden)")
        got = [item["id"] for item in body["results"]]
        if len(got) != len(set(got)) or set(got) != wanted:
            self.problems.append(f"GET {url}: {sorted(got)} instead of {sorted(wanted)}")

    def expect_detail(self, url: str, visible: bool, object_id: int | None = None):
        response = self.get(url)
        if response.status_code != (200 if visible else 404):
            self.problems.append(f"GET {url}: {response.status_code}, expected {200 if visible else 404}")
            return None
        if visible and object_id is not None and response.json()["id"] != object_id:
            self.problems.append(f"GET {url}: answered object {response.json()['id']}")
        if not visible and response.json()["code"] != "not_found":
            self.problems.append(f"GET {url}: code {response.json()['code']}")
        return response.json() if visible else None

    def check_lists(self, view: View) -> list[str]:
        """The unfiltered lists and the resident: filters and details only narrow these same scoped rows."""
        world, records = self.world, self.records
        others = OTHERS.get(self.persona)
        self.expect_list("/residents", ({world.tanaka.id} if view.resident else set())
                         | ({getattr(world, others[0]).id} if others else set()))
        self.expect_list("/cases", ({world.tanaka_case.id} if view.case else set())
                         | ({getattr(world, others[1]).id} if others else set()))
        self.expect_list("/notes", {records.notes[c].id for c in view.notes})
        self.expect_list("/visits", {records.visit.id} if view.visit else set())
        self.expect_detail(f"/residents/{world.tanaka.id}", view.resident, world.tanaka.id)
        return self.problems

    def check(self, view: View) -> list[str]:
        world, records = self.world, self.records
        tanaka, case = world.tanaka, world.tanaka_case
        other_residents, other_cases = set(), set()
        for resident_attr, case_attr in [OTHERS[self.persona]] if self.persona in OTHERS else []:
            other_residents.add(getattr(world, resident_attr).id)
            other_cases.add(getattr(world, case_attr).id)
        resident_ids = {tanaka.id} if view.resident else set()
        case_ids = {case.id} if view.case else set()
        note_ids = {records.notes[c].id for c in view.notes}
        visit_ids = {records.visit.id} if view.visit else set()

        # Residents: list, searched by kana, filtered by district, detail, consents.
        self.expect_list("/residents", resident_ids | other_residents)
        self.expect_list("/residents?name_kana=たなか", resident_ids)
        self.expect_list(f"/residents?district={world.district_a.id}", resident_ids)
        self.expect_detail(f"/residents/{tanaka.id}", view.resident, tanaka.id)
        consents = self.expect_detail(f"/residents/{tanaka.id}/consents", view.register)
        if consents is not None:
            wanted = set(Consent.objects.filter(resident=tanaka).values_list("id", flat=True))
            if {c["id"] for c in consents["results"]} != wanted:
                self.problems.append("GET consents: not every consent of the resident")

        # Cases: caseload, filtered by status and resident, detail (whose embedded resident is his).
        self.expect_list("/cases", case_ids | other_cases)
        self.expect_list("/cases?status=open", case_ids | other_cases)
        self.expect_list(f"/cases?resident={tanaka.id}", case_ids)
        detail = self.expect_detail(f"/cases/{case.id}", view.case, case.id)
        if detail is not None and detail["resident_detail"]["id"] != tanaka.id:
            self.problems.append("GET case: embeds another resident")

        # Notes: current versions only, filtered by resident, case and each category; details and histories.
        self.expect_list("/notes", note_ids)
        self.expect_list(f"/notes?resident={tanaka.id}", note_ids)
        self.expect_list(f"/notes?case={case.id}", note_ids - {records.notes["basic"].id})
        for category in CATEGORIES:
            wanted = {records.notes[category].id} if category in view.notes else set()
            self.expect_list(f"/notes?category={category}", wanted)
        for note in records.all_notes():
            visible = note.category in view.notes
            body = self.expect_detail(f"/notes/{note.id}", visible, note.id)
            if body is not None and body["category"] != note.category:
                self.problems.append(f"GET note {note.id}: category {body['category']}")
            history = self.get(f"/notes/{note.id}/history")
            if history.status_code != (200 if visible else 404):
                self.problems.append(f"GET history {note.id}: {history.status_code}")
            elif visible:
                chain = [records.old_health.id, records.notes["health"].id] if note.category == "health" else [note.id]
                versions = [v["id"] for v in history.json()["results"]]
                if versions != chain:
                    self.problems.append(f"GET history {note.id}: {versions}")

        # Visits: list, by case, detail.
        self.expect_list("/visits", visit_ids)
        self.expect_list(f"/visits?case={case.id}", visit_ids)
        self.expect_detail(f"/visits/{records.visit.id}", view.visit, records.visit.id)

        # Nothing hidden appears anywhere, embedded or not.
        text = "\n".join(self.bodies)
        hidden = [] if view.resident else [RESIDENT_NAME]
        hidden += [note_mark(c) for c in CATEGORIES if c not in view.notes]
        hidden += [] if "health" in view.notes else [note_mark("health", 2)]
        hidden += [] if view.visit else [VISIT_MARK]
        self.problems += [f"{mark!r} leaked in a response" for mark in hidden if mark in text]
        return self.problems

    def check_forbidden(self, *, every_route: bool) -> list[str]:
        urls = ["/residents", f"/residents/{self.world.tanaka.id}", "/cases", f"/cases/{self.world.tanaka_case.id}",
                "/notes", *(f"/notes/{n.id}" for n in self.records.all_notes()), "/visits",
                f"/visits/{self.records.visit.id}", f"/residents/{self.world.tanaka.id}/consents"]
        for url in urls if every_route else urls[:2]:
            response = self.get(url)
            if response.status_code != 403 or response.json()["code"] != "no_active_membership":
                self.problems.append(f"GET {url}: {response.status_code}")
        return self.problems


def test_the_table_names_every_persona_in_every_state():
    from tests.helpers import PERSONAS

    for state in STATES:
        assert set(EXPECTED[state]) == set(PERSONAS), state


def test_every_read_route_shows_exactly_what_the_rules_allow_in_every_state(world, client_for):
    """The states follow one another (a → e), as they would in Mr Tanaka's record.

    Every persona sweeps every route in state (a), and again in each state where its row of the table
    changes. The others sweep the unfiltered lists and the resident, which is where any new visibility
    would show: filters and details only narrow the same policy-scoped rows.
    """
    clients = {persona: client_for(persona) for persona in EXPECTED[STATES[0]]}
    problems: dict[tuple[str, str], list[str]] = {}
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=1), tick=False) as traveller:
        records = tanaka_records(world)
        previous: dict = {}
        for state in STATES:
            advance(world, state, traveller)
            for persona, view in EXPECTED[state].items():
                checker = RouteChecker(clients[persona], world, records, persona)
                every_route = previous.get(persona) != view
                if view == FORBIDDEN:
                    found = checker.check_forbidden(every_route=every_route)
                else:
                    found = checker.check(view) if every_route else checker.check_lists(view)
                if found:
                    problems[(state, persona)] = found
            if disagreements := grants_check():
                problems[(state, "grants_check")] = disagreements
            previous = EXPECTED[state]
    assert problems == {}


def test_the_care_centre_sees_satos_health_note_not_her_finance_note(world, client_for):
    records = tanaka_records(world)
    health, finances = records.notes["health"], records.notes["finances"]
    assert health.author == world.users["commissioner_a"]

    care = client_for("care_worker")
    assert care.get(f"{API}/notes/{health.id}").json()["body"] == f"health {note_mark('health', 2)}"
    assert care.get(f"{API}/notes/{finances.id}").status_code == 404
    assert care.get(f"{API}/notes?category=finances").json()["results"] == []

    npo = client_for("npo_worker")
    for note in (health, finances):
        assert npo.get(f"{API}/notes/{note.id}").status_code == 404
    assert npo.get(f"{API}/notes").json()["results"] == []


def test_a_planted_note_grant_is_reported_and_a_rebuild_takes_its_access_away(world, client_for):
    records = tanaka_records(world)
    finances = records.notes["finances"]
    npo_group = world.npo.group_id
    assert grants_check() == []

    NoteGroupObjectPermission.objects.create(
        content_object=finances, group_id=npo_group, permission=Permission.objects.get(codename="view_note")
    )
    NoteGroupObjectPermission.objects.filter(content_object=records.notes["health"],
                                             group_id=world.care_centre.group_id).delete()
    problems = grants_check()
    assert len(problems) == 2, problems
    assert any(p.startswith(f"note {finances.id}: extra view_note for group {npo_group} ") for p in problems)
    assert any(p.startswith(f"note {records.notes['health'].id}: missing view_note for group "
                            f"{world.care_centre.group_id} ") for p in problems)
    # The planted row is exactly the kind of error the check exists for: it does leak.
    assert client_for("npo_worker").get(f"{API}/notes/{finances.id}").status_code == 200

    grants_rebuild()
    assert grants_check() == []
    assert client_for("npo_worker").get(f"{API}/notes/{finances.id}").status_code == 404
    assert client_for("care_worker").get(f"{API}/notes/{records.notes['health'].id}").status_code == 200
