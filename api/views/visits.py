"""Visits: record one (retry-safe by client_id), upload a day's batch, list and read."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.filters import IdFilter, SafeFilterSet
from api.idempotency import IdempotentPosts
from api.pagination import StableCursorPagination
from api.problems import problem_for
from api.serializers.visits import (
    VisitBatchResultSerializer,
    VisitBatchSerializer,
    VisitCreateSerializer,
    VisitSerializer,
)
from cases import services
from cases.models import Visit
from cases.models.visits import Outcome
from cases.selectors import case_get_for_user, visit_get_for_user, visits_visible_to


class VisitFilter(SafeFilterSet):
    case = IdFilter(field_name="case_id")
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta(SafeFilterSet.Meta):
        model = Visit
        fields = ["case", "outcome", "occurred_after", "occurred_before"]


class VisitPagination(StableCursorPagination):
    ordering = ("-occurred_at", "-id")


@extend_schema_view(
    list=extend_schema(summary="Visits of the cases I can see, newest first"),
    retrieve=extend_schema(summary="One visit (404 when missing or not visible)"),
)
class VisitViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = VisitSerializer
    filterset_class = VisitFilter
    pagination_class = VisitPagination
    replay_reruns = frozenset({"batch"})  # each item is idempotent on its own (recorder + client_id)

    def get_queryset(self):
        return visits_visible_to(user=self.request.user)

    def retrieve(self, request, pk=None):
        return Response(VisitSerializer(visit_get_for_user(user=request.user, visit_id=int(pk))).data)

    def _resolve_case(self, case_id: int):
        return case_get_for_user(user=self.request.user, case_id=case_id, field="case")

    @extend_schema(
        summary="Record a visit; a retry with the same client_id returns the stored visit (200)",
        request=VisitCreateSerializer,
        responses={201: VisitSerializer, 200: VisitSerializer},
    )
    def create(self, request):
        serializer = VisitCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        case = self._resolve_case(fields.pop("case"))
        recorded = services.visit_record(actor=request.user, case=case, **fields)
        code = status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK
        return Response(VisitSerializer(recorded.visit).data, status=code)

    @extend_schema(
        summary="Upload a day's offline visits; each item is stored or refused on its own",
        request=VisitBatchSerializer,
        responses={200: VisitBatchResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="batch")
    def batch(self, request):
        serializer = VisitBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def validate(item):
            item_serializer = VisitCreateSerializer(data=item)
            item_serializer.is_valid(raise_exception=True)
            return dict(item_serializer.validated_data)

        results = services.visits_record_batch(
            actor=request.user, items=serializer.validated_data["items"],
            resolve_case=self._resolve_case, validate=validate,
        )
        body = {
            "results": [
                {
                    "index": r.index,
                    "client_id": r.client_id,
                    "status": r.status,
                    "visit": VisitSerializer(r.visit).data if r.visit else None,
                    "problem": problem_for(r.error).body if r.error else None,
                }
                for r in results
            ]
        }
        return Response(body, status=status.HTTP_200_OK)



