"""Cases: open, my caseload (filters: status, risk, overdue, mine), read, update."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from api.conditional import etag_for, expected_version
from api.filters import CaseFilter
from api.idempotency import IdempotentPosts
from api.pagination import StableCursorPagination
from api.serializers.cases import CaseSerializer, CaseUpdateSerializer, caseload_represent
from cases import services
from cases.selectors import (
    case_get_for_user,
    case_row_get_for_user,
    case_teams,
    caseload_rows,
    cases_visible_to,
    resident_get_for_user,
    today,
)


class CaseloadPagination(StableCursorPagination):
    ordering = ("due_order", "id")


@extend_schema_view(
    list=extend_schema(summary="My caseload: cases visible to me, soonest visit due first"),
    retrieve=extend_schema(summary="One case (404 when missing or not visible)"),
    create=extend_schema(summary="Open a case about a resident I can see"),
    partial_update=extend_schema(summary="Update a case (If-Match required)", request=CaseUpdateSerializer),
)
class CaseViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    pagination_class = CaseloadPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return cases_visible_to(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": today()}

    def list(self, request):
        # The page is found by its keys, then written from the rows of one query plus the teams of another,
        # never per-row serializers.
        keys = self.paginate_queryset(self.filter_queryset(cases_visible_to(user=request.user, keys=True)))
        page = caseload_rows(keys=keys)
        teams = case_teams(case_ids=[row["id"] for row in page])
        return self.get_paginated_response(caseload_represent(page, teams=teams, today=today()))

    def _answer(self, case_id: int, **headers) -> Response:
        """One case as the caller may see it now, written from its row like a caseload page (the same bytes
        as `CaseSerializer`), with its version as the ETag."""
        row = case_row_get_for_user(user=self.request.user, case_id=case_id)
        body = caseload_represent([row], teams=case_teams(case_ids=[row["id"]]), today=today())[0]
        return Response(body, headers={"ETag": etag_for(row["version"]), **headers})

    def retrieve(self, request, pk=None):
        return self._answer(int(pk))

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        resident = resident_get_for_user(user=request.user, resident_id=data.pop("resident"), field="resident")
        case = services.case_open(
            actor=request.user,
            resident=resident,
            team=data.pop("team_organizations", None),
            **data,
        )
        response = self._answer(case.pk, Location=f"{request.path}/{case.pk}")
        response.status_code = status.HTTP_201_CREATED
        return response

    def partial_update(self, request, pk=None):
        case = case_get_for_user(user=request.user, case_id=int(pk))
        version = expected_version(request, case)
        serializer = CaseUpdateSerializer(case, data=request.data, partial=True, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        services.case_update(
            actor=request.user, case=case, expected_version=version, team=data.pop("team_organizations", None), **data
        )
        return self._answer(case.pk)
