"""The directory of organisations and districts: visible to every active member."""

from rest_framework import viewsets

from api.serializers.directory import DistrictSerializer, OrganizationSerializer
from cases.selectors import districts_directory, organizations_directory


class OrganizationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrganizationSerializer
    filterset_fields = ["kind"]

    def get_queryset(self):
        return organizations_directory()


class DistrictViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DistrictSerializer

    def get_queryset(self):
        return districts_directory()
