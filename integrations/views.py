"""Organisation API clients, managed by their organisation's org admins."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.idempotency import IdempotentPosts
from integrations.models import OrganizationClient
from integrations.selectors import client_get_for_user, clients_visible_to
from integrations.serializers import (
    OrganizationClientCreatedSerializer,
    OrganizationClientCreateSerializer,
    OrganizationClientRotateSerializer,
    OrganizationClientSerializer,
)
from integrations.services import client_register, client_revoke, client_rotate


class OrganizationClientViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Machine clients of the organisations you administer. A key's plaintext is answered once: at
    registration and at each rotation."""

    serializer_class = OrganizationClientSerializer
    queryset = OrganizationClient.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OrganizationClient.objects.none()
        return clients_visible_to(user=self.request.user)

    def retrieve(self, request, pk=None):
        client = client_get_for_user(user=request.user, client_id=int(pk))
        return Response(OrganizationClientSerializer(client).data)

    @extend_schema(request=OrganizationClientCreateSerializer, responses={201: OrganizationClientCreatedSerializer})
    def create(self, request):
        serializer = OrganizationClientCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        client, key = client_register(actor=request.user, name=data["name"], scopes=data["scopes"],
                                      purposes=data["purposes"], organization_id=data.get("organization"))
        client.key = key
        return Response(OrganizationClientCreatedSerializer(client).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OrganizationClientRotateSerializer, responses={201: OrganizationClientCreatedSerializer})
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        serializer = OrganizationClientRotateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        client, key = client_rotate(actor=request.user, client_id=int(pk), **serializer.validated_data)
        client.key = key
        return Response(OrganizationClientCreatedSerializer(client).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: OrganizationClientSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        client = client_revoke(actor=request.user, client_id=int(pk))
        return Response(OrganizationClientSerializer(client).data)
