"""Residents: register, search (kana, birth date, address), read, correct."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from api.conditional import etag_for, expected_version
from api.filters import ResidentFilter
from api.idempotency import IdempotentPosts
from api.serializers.residents import ResidentSerializer
from cases import services
from cases.selectors import resident_get_for_user, residents_visible_to


@extend_schema_view(
    list=extend_schema(summary="Residents visible to me, searchable by kana, birth date and address"),
    retrieve=extend_schema(summary="One resident (404 when missing or not visible)"),
    create=extend_schema(summary="Register a resident"),
    partial_update=extend_schema(summary="Correct a resident's record (If-Match required)"),
)
class ResidentViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ResidentSerializer
    filterset_class = ResidentFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return residents_visible_to(user=self.request.user)

    def retrieve(self, request, pk=None):
        resident = resident_get_for_user(user=request.user, resident_id=int(pk))
        return Response(ResidentSerializer(resident).data, headers={"ETag": etag_for(resident.version)})

    def create(self, request):
        serializer = ResidentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        resident = services.resident_register(actor=request.user, **serializer.validated_data)
        return Response(
            ResidentSerializer(resident).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(resident.version), "Location": f"{request.path}/{resident.pk}"},
        )

    def partial_update(self, request, pk=None):
        resident = resident_get_for_user(user=request.user, resident_id=int(pk))
        version = expected_version(request, resident)
        serializer = ResidentSerializer(resident, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        changes.pop("organization", None)
        resident = services.resident_update(actor=request.user, resident=resident, expected_version=version, **changes)
        return Response(ResidentSerializer(resident).data, headers={"ETag": etag_for(resident.version)})
