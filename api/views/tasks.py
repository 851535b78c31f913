"""Tasks: mine, my organisation's queue, one task; request a check or visit; acknowledge, complete, cancel."""

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.filters import OverdueFilter, SafeFilterSet
from api.idempotency import IdempotentPosts
from api.pagination import StableCursorPagination
from api.serializers.tasks import (
    TaskCancelSerializer,
    TaskCompleteSerializer,
    TaskCreateSerializer,
    TaskDetailSerializer,
    TaskSerializer,
    tasks_represent,
)
from cases import services
from cases.models import Task
from cases.models.choices import Urgency
from cases.models.escalations import TaskKind
from cases.models.tasks import TaskStatus
from cases.selectors import (
    case_get_for_user,
    resident_ids_visible_to,
    task_get_for_user,
    tasks_mine,
    tasks_queue,
)


class TaskFilter(SafeFilterSet):
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices)
    kind = django_filters.ChoiceFilter(choices=TaskKind.choices)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    overdue = OverdueFilter(help_text="Open and past its due time.")

    class Meta(SafeFilterSet.Meta):
        model = Task
        fields = ["status", "kind", "urgency", "overdue"]


class TaskPagination(StableCursorPagination):
    ordering = ("due_at", "id")


@extend_schema_view(retrieve=extend_schema(summary="One task (404 unless it is mine, my organisation's or "
                                                   "escalated to my organisation)",
                                           responses={200: TaskDetailSerializer}))
class TaskViewSet(IdempotentPosts, viewsets.GenericViewSet):
    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    pagination_class = TaskPagination

    def get_queryset(self):
        return tasks_mine(user=self.request.user)

    def _readable_resident_ids(self, resident_ids) -> set[int]:
        return resident_ids_visible_to(user=self.request.user, resident_ids=[i for i in resident_ids if i])

    def _detail(self, task_id: int) -> dict:
        task = task_get_for_user(user=self.request.user, task_id=task_id)
        context = {"request": self.request, "readable_resident_ids": self._readable_resident_ids([task.resident_id])}
        return TaskDetailSerializer(task, context=context).data

    def _page(self, rows):
        # The page is written from rows of one query (plus the residents' check of a second), never per-row
        # serializers.
        page = self.paginate_queryset(self.filter_queryset(rows))
        return self.get_paginated_response(tasks_represent(
            page, readable_resident_ids=self._readable_resident_ids(row["resident_id"] for row in page),
            now=timezone.now()))

    def retrieve(self, request, pk=None):
        return Response(self._detail(int(pk)))

    @extend_schema(summary="Tasks assigned to me by name, soonest due first",
                   responses={200: TaskSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def mine(self, request):
        return self._page(tasks_mine(user=request.user, rows=True))

    @extend_schema(summary="My organisation's queue (assigned to it or escalated to it), soonest due first",
                   responses={200: TaskSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def queue(self, request):
        return self._page(tasks_queue(user=request.user, rows=True))

    @extend_schema(summary="Ask for a safety check or a follow-up visit on a case I see (refused with "
                           "do_not_contact for a household that must not be contacted)",
                   request=TaskCreateSerializer, responses={201: TaskDetailSerializer})
    def create(self, request):
        serializer = TaskCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        case = case_get_for_user(user=request.user, case_id=data.pop("case"), field="case")
        task = services.task_request(
            actor=request.user, case=case, kind=data["kind"], organization=data["assignee_organization"],
            user=data.get("assignee_user"), due_at=data["due_at"], urgency=data["urgency"],
        )
        return Response(self._detail(task.id), status=status.HTTP_201_CREATED,
                        headers={"Location": f"{request.path}/{task.id}"})

    @extend_schema(summary="Acknowledge: I take it on (escalation stops)", request=None,
                   responses={200: TaskDetailSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        services.task_acknowledge(actor=request.user, task_id=int(pk))
        return Response(self._detail(int(pk)))

    @extend_schema(summary="Complete, saying what was done", request=TaskCompleteSerializer,
                   responses={200: TaskDetailSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        serializer = TaskCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.task_complete(actor=request.user, task_id=int(pk), **serializer.validated_data)
        return Response(self._detail(int(pk)))

    @extend_schema(summary="Cancel, saying why (a member of the assignee organisation)", request=TaskCancelSerializer,
                   responses={200: TaskDetailSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        serializer = TaskCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.task_cancel(actor=request.user, task_id=int(pk), **serializer.validated_data)
        return Response(self._detail(int(pk)))
