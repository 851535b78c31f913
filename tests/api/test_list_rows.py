"""The caseload, the note lists, the referral lists (inbox, sent) and the task lists (mine, queue) are written
from rows of values, not per-row serializers; their answers must not change.

On the seeded demo ward, every demo account's caseload, notes (with and without each filter), referral lists and
task lists are read page by page through the API and compared, byte for byte as rendered, with what
`CaseSerializer`, `NoteSerializer`, `ReferralSerializer` and `TaskSerializer` write for the same records in the
same order; and both ways note the same reads for the access log.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from api.serializers.cases import CaseSerializer
from api.serializers.notes import NoteSerializer
from api.serializers.referrals import ReferralSerializer
from audit.access_log import access_log_context
from audit.models import AccessLogEntry
from cases.models import Case, User
from cases.selectors import cases_visible_to, notes_visible_to, today
from demo.seed import DEMO_ACCOUNTS

FILTERS = [{}, {"status": "open"}, {"overdue": "true"}, {"overdue": "false"}, {"mine": "true"}]


def _pages(client: APIClient, params: dict, path: str = "/api/v1/cases") -> list[dict]:
    rows, url, query = [], path, {**params, "page_size": 7}
    while url:
        response = client.get(url, query)
        assert response.status_code == 200, response.content
        body = response.json()
        rows.extend(body["results"])
        url, query = body["next"], None
    return rows


def _readers(**headers):
    """Each demo account's user, with an API client that sends its token."""
    for account in DEMO_ACCOUNTS:
        client = APIClient(**headers)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.token}")
        yield User.objects.get(username=account.username), client


def _expected(user: User, params: dict) -> list[dict]:
    cases = cases_visible_to(user=user)
    day = today()
    if params.get("status"):
        cases = cases.filter(status=params["status"])
    if params.get("overdue") == "true":
        cases = cases.filter(next_visit_due__lt=day)
    if params.get("overdue") == "false":
        cases = cases.exclude(next_visit_due__lt=day)
    if params.get("mine") == "true":
        cases = cases.filter(lead_worker=user)
    return list(CaseSerializer(list(cases), many=True, context={"today": day}).data)


@pytest.mark.django_db
def test_the_caseload_answers_byte_for_byte_what_the_serializer_writes():
    call_command("seed_demo", stdout=io.StringIO())
    compared = 0
    for user, client in _readers():
        if client.get("/api/v1/cases").status_code != 200:
            continue  # an account without cases to read (no active membership in a casework body)
        for params in FILTERS:
            got, expected = _pages(client, params), _expected(user, params)
            assert JSONRenderer().render(got) == JSONRenderer().render(expected), (user.username, params)
            compared += len(got)
    assert compared > 50  # the demo ward's caseloads, not an empty comparison
    assert Case.objects.filter(team_members__isnull=False).distinct().count() > 10


@pytest.mark.django_db
def test_a_case_read_answers_byte_for_byte_what_the_serializer_writes():
    call_command("seed_demo", stdout=io.StringIO())
    compared = 0
    for user, client in _readers():
        if client.get("/api/v1/cases").status_code != 200:
            continue
        for case in cases_visible_to(user=user)[:15]:
            response = client.get(f"/api/v1/cases/{case.id}")
            expected = CaseSerializer(case, context={"today": today()}).data
            assert response.content == JSONRenderer().render(expected), (user.username, case.id)
            assert response["ETag"] == f'"v{case.version}"'
            compared += 1
    assert compared > 20


NOTE_FILTERS = [{}, {"category": "health"}, {"category": "basic"}]


@pytest.mark.django_db
def test_the_notes_answer_byte_for_byte_what_the_serializer_writes():
    call_command("seed_demo", stdout=io.StringIO())
    compared = 0
    for user, client in _readers():
        if client.get("/api/v1/notes").status_code != 200:
            continue
        for params in NOTE_FILTERS:
            got = _pages(client, params, "/api/v1/notes")
            notes = notes_visible_to(user=user)
            if params.get("category"):
                notes = notes.filter(category=params["category"])
            expected = list(NoteSerializer(list(notes), many=True).data)
            assert JSONRenderer().render(got) == JSONRenderer().render(expected), (user.username, params)
            compared += len(got)
    assert compared >= 5  # the demo ward's few notes, read by several accounts: not an empty comparison


def _entries(since: int) -> list[tuple]:
    return sorted(
        (e.kind, e.resident_id, tuple(e.object_ids), tuple(e.categories), tuple(e.bases), e.outside_caseload)
        for e in AccessLogEntry.objects.filter(id__gt=since)
    )


@pytest.mark.django_db
def test_the_rows_are_access_logged_as_the_serialized_cases_were():
    call_command("seed_demo", stdout=io.StringIO())
    for username in ("sato", "care_worker"):
        account = next(a for a in DEMO_ACCOUNTS if a.username == username)
        user = User.objects.get(username=username)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {account.token}")
        start = AccessLogEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        shown = client.get("/api/v1/cases", {"page_size": 200}).json()["results"]
        assert shown, username
        by_rows = _entries(start)
        middle = AccessLogEntry.objects.order_by("-id").values_list("id", flat=True).first()
        with access_log_context(route="GET case-list", user=user):
            cases = list(cases_visible_to(user=user)[:200])
            CaseSerializer(cases, many=True, context={"today": today()}).data  # noqa: B018 (it notes the reads)
        assert by_rows == _entries(middle), username
        assert {row["id"] for row in shown} == {i for entry in by_rows for i in entry[2]}

        start = AccessLogEntry.objects.order_by("-id").values_list("id", flat=True).first()
        shown = client.get("/api/v1/notes", {"page_size": 200}).json()["results"]
        assert shown, username
        by_rows = _entries(start)
        middle = AccessLogEntry.objects.order_by("-id").values_list("id", flat=True).first()
        with access_log_context(route="GET note-list", user=user):
            NoteSerializer(list(notes_visible_to(user=user)[:200]), many=True).data  # noqa: B018
        assert by_rows == _entries(middle), username


def _referrals_expected(user: User, path: str) -> list[dict]:
    from cases.selectors import case_ids_visible_to, organizations_acted_for, referrals_inbox_for, referrals_sent_by

    referrals = list((referrals_inbox_for if path.endswith("inbox") else referrals_sent_by)(user=user))
    context = {"readable_case_ids": case_ids_visible_to(user=user, case_ids=[r.case_id for r in referrals]),
               "my_organization_ids": organizations_acted_for(user=user)}
    return list(ReferralSerializer(referrals, many=True, context=context).data)


@pytest.mark.django_db
def test_the_referral_lists_answer_byte_for_byte_what_the_serializer_writes():
    call_command("seed_demo", stdout=io.StringIO())
    compared = 0
    for user, client in _readers():
        for path in ("/api/v1/referrals/inbox", "/api/v1/referrals/sent"):
            if client.get(path).status_code != 200:
                continue
            got = _pages(client, {}, path)
            assert JSONRenderer().render(got) == JSONRenderer().render(_referrals_expected(user, path)), (
                user.username, path)
            compared += len(got)
    assert compared >= 5  # the demo ward's referrals, read by both parties: not an empty comparison


@pytest.mark.django_db
def test_the_referral_rows_are_access_logged_as_the_serialized_referrals_were():
    from cases.selectors import referrals_inbox_for

    call_command("seed_demo", stdout=io.StringIO())
    checked = 0
    for user, client in _readers():
        start = AccessLogEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        response = client.get("/api/v1/referrals/inbox", {"page_size": 200})
        if response.status_code != 200 or not response.json()["results"]:
            continue
        by_rows = _entries(start)
        middle = AccessLogEntry.objects.order_by("-id").values_list("id", flat=True).first()
        with access_log_context(route="GET referral-inbox", user=user):
            _referrals_expected(user, "/api/v1/referrals/inbox")
        assert by_rows == _entries(middle), user.username
        assert {row["id"] for row in response.json()["results"]} == set(
            referrals_inbox_for(user=user).values_list("id", flat=True)[:200])
        checked += 1
    assert checked >= 1


@pytest.mark.parametrize("zone", [None, "UTC", "America/New_York"])
def test_a_page_writes_each_date_and_time_as_drf_does(zone):
    """`datetime_writer` looks the time zone up once per page; what it writes is DRF's text for every kind of
    value: UTC (as `Z`), other offsets, microseconds, a daylight-saving edge, a naive value and null."""
    import datetime
    import zoneinfo

    from django.utils import timezone
    from rest_framework import serializers

    from api.serializers.base import datetime_writer

    values = [
        datetime.datetime(2026, 12, 6, 4, 5, 6, 123456, tzinfo=datetime.UTC),
        datetime.datetime(2026, 1, 1, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo")),
        datetime.datetime(1999, 3, 1, 23, 59, 59, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
        datetime.datetime(2026, 3, 8, 7, 30, tzinfo=datetime.UTC),  # 02:30 does not exist in New York that day
        datetime.datetime(2026, 11, 1, 5, 30, tzinfo=datetime.UTC),  # 01:30 happens twice there
        datetime.datetime(2026, 5, 5, 1, 2, 3),
        None,
    ]
    drf = serializers.DateTimeField()
    with timezone.override(zoneinfo.ZoneInfo(zone)) if zone else timezone.override(timezone.get_default_timezone()):
        write = datetime_writer()
        for value in values:
            assert write(value) == (None if value is None else drf.to_representation(value)), value


TASK_FILTERS = [{}, {"status": "open"}, {"overdue": "true"}, {"overdue": "false"}]


def _tasks_expected(user: User, path: str, params: dict) -> list[dict]:
    from django.utils import timezone

    from api.serializers.tasks import TaskSerializer
    from cases.models import Task
    from cases.selectors import resident_ids_visible_to, tasks_mine, tasks_queue

    tasks = (tasks_mine if path.endswith("mine") else tasks_queue)(user=user)
    if params.get("status"):
        tasks = tasks.filter(status=params["status"])
    if params.get("overdue") == "true":
        tasks = tasks.filter(**Task.overdue_lookups(timezone.now()))
    if params.get("overdue") == "false":
        tasks = tasks.exclude(**Task.overdue_lookups(timezone.now()))
    tasks = list(tasks)
    readable = resident_ids_visible_to(user=user, resident_ids=[t.resident_id for t in tasks if t.resident_id])
    return list(TaskSerializer(tasks, many=True, context={"readable_resident_ids": readable}).data)


def _tasks_seeded() -> None:
    """The demo ward with its tasks in every state a row can show: one overdue, one acknowledged, one completed
    with an outcome (which a reader who does not see the resident must not get), one cancelled."""
    import datetime

    from django.utils import timezone

    from cases.models import Task

    call_command("seed_demo", stdout=io.StringIO())
    now = timezone.now()
    tasks = list(Task.objects.filter(status="open", resident__isnull=False).order_by("id")[:4])
    assert len(tasks) == 4, "the demo ward has open tasks about residents"
    worker = User.objects.filter(memberships__organization=tasks[1].assignee_organization).first()
    states = [
        {"due_at": now - datetime.timedelta(days=2)},
        {"status": "acknowledged", "acknowledged_at": now, "acknowledged_by": worker},
        {"status": "completed", "acknowledged_at": now, "acknowledged_by": worker, "closed_at": now,
         "closed_by": worker, "outcome": "訪問済み、異状なし"},
        {"status": "cancelled", "closed_at": now, "closed_by": worker, "outcome": "重複のため取消"},
    ]
    for task, state in zip(tasks, states, strict=True):
        for field, value in state.items():
            setattr(task, field, value)
        task.save()  # through the model, so its change entry is written


@pytest.mark.django_db
def test_the_task_lists_answer_byte_for_byte_what_the_serializer_writes():
    _tasks_seeded()
    compared, outcomes, overdue = 0, 0, 0
    for user, client in _readers():
        for path in ("/api/v1/tasks/mine", "/api/v1/tasks/queue"):
            if client.get(path).status_code != 200:
                continue
            for params in TASK_FILTERS:
                got = _pages(client, params, path)
                assert JSONRenderer().render(got) == JSONRenderer().render(
                    _tasks_expected(user, path, params)), (user.username, path, params)
                compared += len(got)
                outcomes += sum(1 for row in got if row["outcome"])
                overdue += sum(1 for row in got if row["overdue"])
    assert compared >= 10  # the demo ward's tasks, read by their assignees and queues: not an empty comparison
    assert outcomes >= 1 and overdue >= 1


@pytest.mark.django_db
def test_the_task_rows_are_access_logged_as_the_serialized_tasks_were():
    _tasks_seeded()
    checked = 0
    for user, client in _readers():
        for path in ("/api/v1/tasks/mine", "/api/v1/tasks/queue"):
            start = AccessLogEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
            response = client.get(path, {"page_size": 200})
            if response.status_code != 200 or not response.json()["results"]:
                continue
            by_rows = _entries(start)
            middle = AccessLogEntry.objects.order_by("-id").values_list("id", flat=True).first()
            with access_log_context(route="GET task-" + path.rsplit("/", 1)[1], user=user):
                _tasks_expected(user, path, {})
            assert by_rows == _entries(middle), (user.username, path)
            checked += 1
    assert checked >= 2


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_notifications_answer_byte_for_byte_what_the_serializer_writes(language):
    """Every demo account's notifications, page by page, in both languages: read and unread, every event the
    service sends and one it no longer knows (its generic title)."""
    from django.utils import timezone, translation

    from api.serializers.notifications import NotificationSerializer
    from notifications.messages import EVENTS
    from notifications.models import Notification
    from notifications.selectors import notifications_of

    call_command("seed_demo", stdout=io.StringIO())
    now = timezone.now()
    for number, account in enumerate(DEMO_ACCOUNTS):
        user = User.objects.get(username=account.username)
        for index, event in enumerate([*EVENTS, "an_event_no_longer_sent"]):
            Notification.objects.create(key=f"rows:{user.id}:{index}", user=user, event=event, subject_type="task",
                                        subject_id=number * 100 + index, link=f"/api/v1/tasks/{index}",
                                        read_at=now if index % 3 == 0 else None)
    compared = 0
    for user, client in _readers(HTTP_ACCEPT_LANGUAGE=language):
        if client.get("/api/v1/notifications").status_code != 200:
            continue
        for params in ({}, {"unread": "true"}, {"unread": "false"}):
            got = _pages(client, params, "/api/v1/notifications")
            notifications = notifications_of(user=user)
            if "unread" in params:
                notifications = notifications.filter(read_at__isnull=params["unread"] == "true")
            with translation.override(language):
                expected = list(NotificationSerializer(list(notifications), many=True).data)
            assert JSONRenderer().render(got) == JSONRenderer().render(expected), (user.username, params)
            compared += len(got)
    assert compared >= 50
