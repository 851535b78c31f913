"""Residents' rights: the request ledger, cessation of use, and the disclosure (JSON, and a Japanese PDF).

Only a privacy officer of the resident's ward sees or acts on any of it; everyone else gets 404.
"""

import json

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import IdFilter, SafeFilterSet
from api.idempotency import IdempotentPosts
from api.pagination import StableCursorPagination
from api.serializers.rights import (
    CessationResultSerializer,
    DisclosureQuerySerializer,
    DisclosureSerializer,
    RightsRequestCloseSerializer,
    RightsRequestCreateSerializer,
    RightsRequestSerializer,
)
from audit import rights
from audit.disclosure import disclosure_build
from audit.models import RightsKind, RightsRequest, RightsStatus
from audit.pdf import disclosure_pdf
from audit.selectors import resident_for_privacy_officer, rights_request_get_for_user, rights_requests_for


class RightsRequestFilter(SafeFilterSet):
    resident = IdFilter(field_name="resident_id")
    status = django_filters.ChoiceFilter(choices=RightsStatus.choices)
    kind = django_filters.ChoiceFilter(choices=RightsKind.choices)

    class Meta(SafeFilterSet.Meta):
        model = RightsRequest
        fields = ["resident", "status", "kind"]


class RightsPagination(StableCursorPagination):
    ordering = ("-id",)


@extend_schema_view(
    list=extend_schema(summary="The ledger of disclosure, correction and cessation requests (privacy officer)"),
    retrieve=extend_schema(summary="One rights request"),
)
class RightsRequestViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    replay_readers = {"cessation": "_read_cessation"}
    serializer_class = RightsRequestSerializer
    pagination_class = RightsPagination
    filterset_class = RightsRequestFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RightsRequest.objects.none()
        return rights_requests_for(user=self.request.user)

    def retrieve(self, request, pk=None):
        return Response(RightsRequestSerializer(rights_request_get_for_user(user=request.user,
                                                                            request_id=int(pk))).data)

    @extend_schema(summary="Receive a request (after checking the requester's identity); due in 30 days",
                   request=RightsRequestCreateSerializer, responses={201: RightsRequestSerializer})
    def create(self, request):
        serializer = RightsRequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        resident = resident_for_privacy_officer(user=request.user, resident_id=data.pop("resident"), field="resident")
        created = rights.rights_request_receive(actor=request.user, resident=resident, **data)
        return Response(RightsRequestSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Record the answer and close the request", request=RightsRequestCloseSerializer,
                   responses={200: RightsRequestSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        found = rights_request_get_for_user(user=request.user, request_id=int(pk))
        serializer = RightsRequestCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        closed = rights.rights_request_close(actor=request.user, request=found, **serializer.validated_data)
        return Response(RightsRequestSerializer(closed).data)

    @extend_schema(summary="Cessation: withdraw every consent of the resident now and close the request",
                   request=None, responses={200: CessationResultSerializer})
    @action(detail=True, methods=["post"])
    def cessation(self, request, pk=None):
        found = rights_request_get_for_user(user=request.user, request_id=int(pk))
        closed, withdrawn, still = rights.rights_cessation_apply(actor=request.user, request=found)
        return Response(CessationResultSerializer({"request": closed, "withdrawn_consents": withdrawn,
                                                   "legal_basis_grants_still_active": still}).data)

    def _read_cessation(self, request, request_id: int) -> Response:
        found = rights_request_get_for_user(user=request.user, request_id=request_id)
        withdrawn, still = rights.rights_cessation_result(request=found)
        return Response(CessationResultSerializer({"request": found, "withdrawn_consents": withdrawn,
                                                   "legal_basis_grants_still_active": still}).data)


class DisclosurePdfRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code >= 400:  # a problem+json body, whatever was asked for
            return json.dumps(data, ensure_ascii=False).encode()
        return disclosure_pdf(data)


class DisclosureView(APIView):
    """The disclosure as JSON. The PDF is its own route (DisclosurePdfView), so each route answers one media type."""

    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request, force=False):
        if not force:  # before DRF reads ?format= (it would answer 404 for a format this route lacks)
            DisclosureQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        return super().perform_content_negotiation(request, force=force)

    def _build(self, request, resident_id: int) -> dict:
        return disclosure_build(user=request.user, resident_id=resident_id)

    @extend_schema(
        summary="Disclosure: everything held about a resident and where it went (JSON)",
        description="The same content as a Japanese PDF: `GET /api/v1/rights/disclosures/{resident_id}/pdf`. "
                    "Privacy officer of the resident's ward only; producing it is logged as an export.",
        responses={200: DisclosureSerializer},
        operation_id="rights_disclosure",
    )
    def get(self, request, resident_id: int):
        return Response(self._build(request, resident_id))


class DisclosurePdfView(DisclosureView):
    renderer_classes = [DisclosurePdfRenderer]
    # OPTIONS would describe the route in a dict that the PDF renderer cannot lay out: 405, as a problem.
    metadata_class = None

    @extend_schema(
        summary="Disclosure as a Japanese PDF (the font is embedded: it reads on any viewer)",
        description="The content of `GET /api/v1/rights/disclosures/{resident_id}`, laid out for the resident. "
                    "Privacy officer of the resident's ward only; producing it is logged as an export. "
                    "Errors answer application/problem+json.",
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF.")},
        operation_id="rights_disclosure_pdf",
    )
    def get(self, request, resident_id: int):
        return Response(self._build(request, resident_id), headers={
            "Content-Disposition": f'attachment; filename="disclosure-{resident_id}.pdf"'})
