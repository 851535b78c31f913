"""Disaster mode: the evacuation-support list and plans, events, safety-check reports, progress and exports.

Each view validates shape and calls one service or selector. The list's entries are read through their own
grants (the ward section keeps them; supporters see them by consent, or while an event lasts by DCBA49-11-3);
an event's progress is counts only; its exports are access-logged as exports.
"""

import json

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response

from api.disaster_export import export_csv, export_pdf
from api.filters import IdFilter, SafeFilterSet
from api.idempotency import IdempotentPosts
from api.pagination import StableCursorPagination
from api.problems import problem_for
from api.serializers.disaster import (
    DisasterEventDeclareSerializer,
    DisasterEventSerializer,
    DisasterProgressSerializer,
    EvacuationEntryAddSerializer,
    EvacuationEntryRemoveSerializer,
    EvacuationEntrySerializer,
    EvacuationPlanSerializer,
    EvacuationPlanWriteSerializer,
    ExportQuerySerializer,
    RefreshResultSerializer,
    SafetyCheckBatchResultSerializer,
    SafetyCheckBatchSerializer,
    SafetyCheckReportCreateSerializer,
    SafetyCheckReportSerializer,
)
from audit.access_log import access_log_read, access_log_reads
from audit.models import Action
from cases import services
from cases.errors import NotFound
from cases.models import DisasterEvent, EvacuationListEntry, EvacuationPlan, Task
from cases.models.disaster import EntryStatus
from cases.models.escalations import TaskKind
from cases.selectors import (
    disaster_event_get_for_user,
    disaster_event_progress,
    disaster_events_visible_to,
    disaster_export_for,
    evacuation_entries_visible_to,
    evacuation_entry_get_for_user,
    evacuation_plans_for_user,
    tasks_visible_to,
)


class EntryFilter(SafeFilterSet):
    district = IdFilter(field_name="resident__district_id")
    status = django_filters.ChoiceFilter(choices=EntryStatus.choices)

    class Meta(SafeFilterSet.Meta):
        model = EvacuationListEntry
        fields = ["district", "status"]


class EntryPagination(StableCursorPagination):
    ordering = ("id",)


class PlanPagination(StableCursorPagination):
    ordering = ("created_at", "id")


@extend_schema_view(
    list=extend_schema(summary="Entries of the evacuation-support list I may see (the list's fields only)"),
    retrieve=extend_schema(summary="One entry (404 when missing or not visible)"),
)
class EvacuationEntryViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = EvacuationEntrySerializer
    filterset_class = EntryFilter
    pagination_class = EntryPagination
    replay_readers = {"plans": "_read_plan"}
    replay_reruns = frozenset({"refresh"})  # the derivation is idempotent: a re-run adds nothing

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return EvacuationListEntry.objects.none()
        return evacuation_entries_visible_to(user=self.request.user)

    def retrieve(self, request, pk=None):
        return Response(EvacuationEntrySerializer(
            evacuation_entry_get_for_user(user=request.user, entry_id=int(pk))).data)

    @extend_schema(summary="Add a resident of my ward to the list by hand, saying why (ward section)",
                   request=EvacuationEntryAddSerializer, responses={201: EvacuationEntrySerializer})
    def create(self, request):
        serializer = EvacuationEntryAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        entry = services.evacuation_entry_add(actor=request.user, resident_id=data.pop("resident"), **data)
        return Response(EvacuationEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Derive my ward's list from the register by the ward's criteria (ward section)",
                   request=None, responses={200: RefreshResultSerializer})
    @action(detail=False, methods=["post"])
    def refresh(self, request):
        report = services.evacuation_list_refresh(actor=request.user)
        return Response(RefreshResultSerializer(report).data)

    @extend_schema(summary="Take an entry off the list by hand, saying why; a refresh does not put it back",
                   request=EvacuationEntryRemoveSerializer, responses={200: EvacuationEntrySerializer})
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        entry = evacuation_entry_get_for_user(user=request.user, entry_id=int(pk))
        serializer = EvacuationEntryRemoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        removed = services.evacuation_entry_remove(actor=request.user, entry=entry, **serializer.validated_data)
        return Response(EvacuationEntrySerializer(removed).data)

    @extend_schema(methods=["GET"], summary="Every version of the entry's individual evacuation plan, oldest first",
                   responses={200: EvacuationPlanSerializer(many=True)})
    @extend_schema(methods=["POST"], summary="Write the entry's plan: a new version superseding the current one",
                   request=EvacuationPlanWriteSerializer, responses={201: EvacuationPlanSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=PlanPagination, filterset_class=None)
    def plans(self, request, pk=None):
        entry = evacuation_entry_get_for_user(user=request.user, entry_id=int(pk))
        if request.method == "GET":
            page = self.paginate_queryset(evacuation_plans_for_user(user=request.user, entry=entry))
            return self.get_paginated_response(EvacuationPlanSerializer(page, many=True).data)
        serializer = EvacuationPlanWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        supersedes_id = data.pop("supersedes", None)
        supersedes = EvacuationPlan.objects.filter(pk=supersedes_id, entry=entry).first() if supersedes_id else None
        if supersedes_id and supersedes is None:
            raise NotFound(field="supersedes")
        plan = services.evacuation_plan_write(actor=request.user, entry=entry, supersedes=supersedes, **data)
        return Response(EvacuationPlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    def _read_plan(self, request, plan_id: int | None) -> Response:
        plan = EvacuationPlan.objects.filter(pk=plan_id).select_related("entry").first()
        if plan is None:
            raise NotFound()
        entry = evacuation_entry_get_for_user(user=request.user, entry_id=plan.entry_id)
        return Response(EvacuationPlanSerializer(evacuation_plans_for_user(user=request.user, entry=entry)
                                                 .get(pk=plan.pk)).data)


class _Binary(BaseRenderer):
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code >= 400:  # a problem+json body, whatever was asked for
            return json.dumps(data, ensure_ascii=False).encode()
        return data


class CsvRenderer(_Binary):
    media_type = "text/csv"
    format = "csv"


class PdfRenderer(_Binary):
    media_type = "application/pdf"
    format = "pdf"


class EventPagination(StableCursorPagination):
    ordering = ("-declared_at", "-id")


DISTRICT = OpenApiParameter("district", OpenApiTypes.INT, description="Only this district of the event.")


@extend_schema_view(
    list=extend_schema(summary="Disaster events of my ward's section, or naming my organisation as a supporter"),
    retrieve=extend_schema(summary="One disaster event (404 when missing or not mine)"),
)
class DisasterEventViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = DisasterEventSerializer
    pagination_class = EventPagination
    replay_reruns = frozenset({"safety_checks"})  # each report is idempotent by (recorder, client_id)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DisasterEvent.objects.none()
        return disaster_events_visible_to(user=self.request.user).prefetch_related(
            "districts", "supporter_organizations")

    def retrieve(self, request, pk=None):
        return Response(DisasterEventSerializer(disaster_event_get_for_user(user=request.user,
                                                                            event_id=int(pk))).data)

    @extend_schema(summary="Declare a disaster or an exercise over districts of my ward (ward section supervisor); "
                           "a retry with the same client_id answers its event (200)",
                   request=DisasterEventDeclareSerializer,
                   responses={201: DisasterEventSerializer, 200: DisasterEventSerializer})
    def create(self, request):
        serializer = DisasterEventDeclareSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        event, created = services.disaster_event_declare(
            actor=request.user, district_ids=data.pop("districts"),
            supporter_organization_ids=data.pop("supporter_organizations"), **data)
        return Response(DisasterEventSerializer(event).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(summary="Close the event: its sharing without consent ends now and every grant is reviewed",
                   request=None, responses={200: DisasterEventSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        event = disaster_event_get_for_user(user=request.user, event_id=int(pk))
        return Response(DisasterEventSerializer(services.disaster_event_close(actor=request.user, event=event)).data)

    @extend_schema(summary="Upload a phone's safety-check outcomes; each item is stored or refused on its own",
                   request=SafetyCheckBatchSerializer, responses={200: SafetyCheckBatchResultSerializer})
    @action(detail=True, methods=["post"], url_path="safety-checks")
    def safety_checks(self, request, pk=None):
        event = disaster_event_get_for_user(user=request.user, event_id=int(pk))
        serializer = SafetyCheckBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        visible = tasks_visible_to(user=request.user).filter(disaster_event=event, kind=TaskKind.DISASTER_CHECK)

        def resolve_task(resident_id: int) -> Task:
            task = visible.filter(resident_id=resident_id).first()
            if task is None:
                raise NotFound(field="resident")
            return task

        def validate(item):
            item_serializer = SafetyCheckReportCreateSerializer(data=item)
            item_serializer.is_valid(raise_exception=True)
            return dict(item_serializer.validated_data)

        results = services.safety_checks_record_batch(actor=request.user, event=event,
                                                      items=serializer.validated_data["items"],
                                                      resolve_task=resolve_task, validate=validate)
        return Response({"results": [
            {"index": r.index, "client_id": r.client_id, "status": r.status,
             "report": SafetyCheckReportSerializer(r.report).data if r.report else None,
             "problem": problem_for(r.error).body if r.error else None}
            for r in results]})

    @extend_schema(summary="Live progress by district: counts only, never names", filters=False,
                   responses={200: DisasterProgressSerializer})
    @action(detail=True, methods=["get"], pagination_class=None)
    def progress(self, request, pk=None):
        event = disaster_event_get_for_user(user=request.user, event_id=int(pk))
        districts = disaster_event_progress(user=request.user, event=event)
        return Response(DisasterProgressSerializer({"event": event.id, "mark": event.mark,
                                                    "checks_opened": event.checks_opened_at is not None,
                                                    "districts": districts}).data)

    def _export(self, request, pk, render, extension: str) -> Response:
        event = disaster_event_get_for_user(user=request.user, event_id=int(pk))
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        export = disaster_export_for(user=request.user, event=event, district_id=query.validated_data.get("district"))
        rows = export.rows
        for row in rows:
            access_log_read(row.entry)
        access_log_reads(kind="evacuation_export", action=Action.EXPORT, categories=["basic"],
                         resident_ids=[row.entry.resident_id for row in rows],
                         object_ids=[row.entry.id for row in rows], basis=f"disaster_event:{event.id}")
        content = render(rows, event=event, generated_at=export.generated_at, organization=export.organization)
        name = f"evacuation-list-event-{event.id}-{timezone.localtime(export.generated_at):%Y%m%d-%H%M}.{extension}"
        return Response(content, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @extend_schema(summary="The event's list with its safety checks as CSV (supporters' and the ward's staff)",
                   description="UTF-8 with a byte-order mark; the first lines name the event, the time and the "
                               "exercise mark. Logged as an export. Errors answer application/problem+json.",
                   parameters=[DISTRICT], filters=False,
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The CSV.")})
    @action(detail=True, methods=["get"], url_path="export/csv", renderer_classes=[CsvRenderer],
            pagination_class=None)
    def export_csv(self, request, pk=None):
        return self._export(request, pk, export_csv, "csv")

    @extend_schema(summary="The event's list with its safety checks as a printable Japanese PDF (font embedded)",
                   description="A4 landscape; every page names the event, the time and the exercise mark. Logged "
                               "as an export. Errors answer application/problem+json.",
                   parameters=[DISTRICT], filters=False,
                   responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF.")})
    @action(detail=True, methods=["get"], url_path="export/pdf", renderer_classes=[PdfRenderer],
            pagination_class=None)
    def export_pdf(self, request, pk=None):
        return self._export(request, pk, export_pdf, "pdf")

