"""Notes: write, amend (a new version), read, history. Only categories the reader may see exist for them."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.filters import KeyFilter, SafeFilterSet
from api.idempotency import IdempotentPosts
from api.pagination import StableCursorPagination
from api.serializers.notes import NoteAmendSerializer, NoteCreateSerializer, NoteSerializer, notes_represent
from cases import services
from cases.models import Note
from cases.models.consent import Category
from cases.selectors import (
    case_get_for_user,
    note_get_for_user,
    note_history_for_user,
    notes_visible_to,
    resident_get_for_user,
)


class NoteFilter(SafeFilterSet):
    resident = KeyFilter(field_name="resident_id")
    case = KeyFilter(field_name="case_id")
    category = django_filters.ChoiceFilter(choices=Category.choices)

    class Meta(SafeFilterSet.Meta):
        model = Note
        fields = ["resident", "case", "category"]


class NotePagination(StableCursorPagination):
    ordering = ("-created_at", "-id")


class NoteHistoryPagination(StableCursorPagination):
    ordering = ("created_at", "id")


@extend_schema_view(
    list=extend_schema(summary="Current versions of the notes I may read, newest first"),
    retrieve=extend_schema(summary="One note version (404 when missing or not visible)"),
)
class NoteViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = NoteSerializer
    filterset_class = NoteFilter
    pagination_class = NotePagination

    def get_queryset(self):
        return notes_visible_to(user=self.request.user)

    def list(self, request):
        # The page is written from rows of one query, never per-row serializers.
        page = self.paginate_queryset(self.filter_queryset(notes_visible_to(user=request.user, rows=True)))
        return self.get_paginated_response(notes_represent(page))

    def retrieve(self, request, pk=None):
        return Response(NoteSerializer(note_get_for_user(user=request.user, note_id=int(pk))).data)

    @extend_schema(summary="Write a note about a resident I can see", request=NoteCreateSerializer,
                   responses={201: NoteSerializer})
    def create(self, request):
        serializer = NoteCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        resident = resident_get_for_user(user=request.user, resident_id=data.pop("resident"), field="resident")
        case_id = data.pop("case", None)
        case = None
        if case_id is not None:
            case = case_get_for_user(user=request.user, case_id=case_id, field="case")
        note = services.note_write(actor=request.user, resident=resident, case=case, **data)
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Amend a note: a new version that points at this one", request=NoteAmendSerializer,
                   responses={201: NoteSerializer})
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        note = note_get_for_user(user=request.user, note_id=int(pk))
        serializer = NoteAmendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        amended = services.note_amend(actor=request.user, note=note, **serializer.validated_data)
        return Response(NoteSerializer(note_get_for_user(user=request.user, note_id=amended.id)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(summary="Every version of this note, oldest first, a page at a time",
                   responses={200: NoteSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=NoteHistoryPagination, filterset_class=None)
    def history(self, request, pk=None):
        note = note_get_for_user(user=request.user, note_id=int(pk))
        page = self.paginate_queryset(note_history_for_user(user=request.user, note=note))
        return self.get_paginated_response(NoteSerializer(page, many=True).data)
