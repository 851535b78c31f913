"""Residents' rights: the request ledger, cessation of use, and the disclosure (JSON or Japanese PDF).

Only a privacy officer of the resident's ward sees or acts on any of it; everyone else gets 404.
"""

import json

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import SafeFilterSet
from api.idempotency import idempotent
from api.pagination import StableCursorPagination
from api.serializers.rights import (
    CessationResultSerializer,
    DisclosureQuerySerializer,
    RightsRequestCloseSerializer,
    RightsRequestCreateSerializer,
    RightsRequestSerializer,
)
from audit import rights
from audit.disclosure import disclosure_build
from audit.models import RightsKind, RightsRequest, RightsStatus
from audit.pdf import disclosure_pdf
from audit.selectors import resident_for_privacy_officer, rights_request_get_for_user, rights_requests_for
from cases.errors import NotFound


class RightsRequestFilter(SafeFilterSet):
    resident = django_filters.NumberFilter(field_name="resident_id", min_value=1, max_value=2**62)
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
class RightsRequestViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = RightsRequestSerializer
    pagination_class = RightsPagination
    lookup_value_regex = r"\d+"
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
        def handler():
            serializer = RightsRequestCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            try:
                resident = resident_for_privacy_officer(user=request.user, resident_id=data.pop("resident"))
            except NotFound:
                raise NotFound(field="resident") from None
            created = rights.rights_request_receive(actor=request.user, resident=resident, **data)
            return Response(RightsRequestSerializer(created).data, status=status.HTTP_201_CREATED)

        return idempotent(request, handler)

    @extend_schema(summary="Record the answer and close the request", request=RightsRequestCloseSerializer,
                   responses={200: RightsRequestSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        def handler():
            found = rights_request_get_for_user(user=request.user, request_id=int(pk))
            serializer = RightsRequestCloseSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            closed = rights.rights_request_close(actor=request.user, request=found, **serializer.validated_data)
            return Response(RightsRequestSerializer(closed).data)

        return idempotent(request, handler)

    @extend_schema(summary="Cessation: withdraw every consent of the resident now and close the request",
                   request=None, responses={200: CessationResultSerializer})
    @action(detail=True, methods=["post"])
    def cessation(self, request, pk=None):
        def handler():
            found = rights_request_get_for_user(user=request.user, request_id=int(pk))
            closed, withdrawn, still = rights.rights_cessation_apply(actor=request.user, request=found)
            return Response(CessationResultSerializer({"request": closed, "withdrawn_consents": withdrawn,
                                                       "legal_basis_grants_still_active": still}).data)

        return idempotent(request, handler)


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
    renderer_classes = [JSONRenderer, DisclosurePdfRenderer]

    def perform_content_negotiation(self, request, force=False):
        requested = request.query_params.get("format")
        if not force and requested is not None and requested not in ("json", "pdf"):
            raise ValidationError({"format": ["Choose json or pdf."]}, code="invalid_choice")
        return super().perform_content_negotiation(request, force=force)

    @extend_schema(
        summary="Disclosure: everything held about a resident and where it went (JSON, or a Japanese PDF)",
        description="`?format=pdf` (or `Accept: application/pdf`) answers the same content as a Japanese PDF. "
                    "Privacy officer of the resident's ward only; producing it is logged as an export.",
        parameters=[DisclosureQuerySerializer],
        responses={
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="The disclosure as JSON."),
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The disclosure as a PDF."),
        },
        operation_id="rights_disclosure",
    )
    def get(self, request, resident_id: int):
        DisclosureQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        data = disclosure_build(user=request.user, resident_id=resident_id)
        headers = {}
        if request.accepted_renderer.format == "pdf":
            headers["Content-Disposition"] = f'attachment; filename="disclosure-{resident_id}.pdf"'
        return Response(data, headers=headers)
