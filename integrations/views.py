"""The integrations' routes: API clients and webhook endpoints (their organisation's org admins), the
event feed (an API client, or an org admin)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import IdempotentPosts
from api.pagination import StableCursorPagination
from api.problems import ProblemAPIException
from integrations.fhir import fhir_resident_bundle
from integrations.models import OrganizationClient, WebhookEndpoint
from integrations.selectors import (
    client_get_for_user,
    clients_visible_to,
    events_after,
    feed_organization,
    webhook_deliveries,
    webhook_get_for_user,
    webhooks_visible_to,
)
from integrations.serializers import (
    EventFeedQuerySerializer,
    EventFeedSerializer,
    OrganizationClientCreatedSerializer,
    OrganizationClientCreateSerializer,
    OrganizationClientRotateSerializer,
    OrganizationClientSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    WebhookReplayedSerializer,
    WebhookReplaySerializer,
)
from integrations.services import ClientCredential, client_register, client_revoke, client_rotate
from integrations.webhooks import webhook_pause, webhook_register, webhook_replay, webhook_resume, webhook_rotate_secret


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


class DeliveryPagination(StableCursorPagination):
    ordering = ("-created_at", "-id")


class WebhookEndpointViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Webhook endpoints of the organisations you administer (Standard Webhooks). The secret is answered
    once: at registration and at each rotation."""

    serializer_class = WebhookEndpointSerializer
    queryset = WebhookEndpoint.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        return webhooks_visible_to(user=self.request.user)

    def retrieve(self, request, pk=None):
        return Response(WebhookEndpointSerializer(webhook_get_for_user(user=request.user, endpoint_id=int(pk))).data)

    @extend_schema(request=WebhookEndpointCreateSerializer, responses={201: WebhookEndpointCreatedSerializer})
    def create(self, request):
        serializer = WebhookEndpointCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint = webhook_register(actor=request.user, url=data["url"], event_types=data["event_types"],
                                    organization_id=data.get("organization"))
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OrganizationClientRotateSerializer, responses={201: WebhookEndpointCreatedSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        serializer = OrganizationClientRotateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = webhook_rotate_secret(actor=request.user, endpoint_id=int(pk), **serializer.validated_data)
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: WebhookEndpointSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return Response(WebhookEndpointSerializer(webhook_pause(actor=request.user, endpoint_id=int(pk))).data)

    @extend_schema(request=None, responses={200: WebhookEndpointSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return Response(WebhookEndpointSerializer(webhook_resume(actor=request.user, endpoint_id=int(pk))).data)

    @extend_schema(request=WebhookReplaySerializer, responses={200: WebhookReplayedSerializer})
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        serializer = WebhookReplaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        count = webhook_replay(actor=request.user, endpoint_id=int(pk), delivery_id=data.get("delivery"),
                               since=data.get("since"), until=data.get("until"))
        endpoint = webhook_get_for_user(user=request.user, endpoint_id=int(pk))
        endpoint.replayed = count
        return Response(WebhookReplayedSerializer(endpoint).data)

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The delivery log: each delivery, its attempts, statuses and the receiver's first words."""
        paginator = DeliveryPagination()
        page = paginator.paginate_queryset(webhook_deliveries(user=request.user, endpoint_id=int(pk)), request,
                                           view=self)
        return paginator.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class EventFeedView(APIView):
    """Your organisation's events after a sequence number: gap-free, in order, with a heartbeat. For an API
    client (scope `events.read`) its organisation; for an org admin the organisation they administer."""

    @extend_schema(parameters=[EventFeedQuerySerializer], responses={200: EventFeedSerializer},
                   operation_id="events_list")
    def get(self, request):
        query = EventFeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        credential = request.auth if isinstance(request.auth, ClientCredential) else None
        organization_id = feed_organization(
            user=request.user, client_organization_id=credential.client.organization_id if credential else None,
            organization_id=query.validated_data.get("organization"))
        after = query.validated_data["after"]
        feed = events_after(organization_id=organization_id, after=after, limit=query.validated_data["limit"])
        return Response(EventFeedSerializer({
            "organization": feed.organization_id, "results": feed.events,
            "next_after": feed.events[-1].sequence if feed.events else max(after, 0),
            "heartbeat": {"type": "heartbeat", "timestamp": feed.at, "last_sequence": feed.last_sequence},
        }).data)


class FhirJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


class FhirResidentView(APIView):
    """A resident's record as FHIR R4B (a Bundle of type collection), as your organisation may see it: for an
    API client with the scope `fhir.read` only. A resident your organisation may not see answers 404, as a
    missing one does; what it reads is access-logged under the client and its purpose (ADR 0018)."""

    renderer_classes = [FhirJSONRenderer, JSONRenderer]

    @extend_schema(
        operation_id="fhir_resident_read", summary="A resident's record as FHIR R4B",
        auth=[{"OrganizationClientKey": []}],
        parameters=[OpenApiParameter("resident_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={(200, "application/fhir+json"): OpenApiResponse(
            OpenApiTypes.OBJECT, description="A FHIR R4B Bundle (type collection): Patient, EpisodeOfCare, "
            "Observation (notes), Consent, ServiceRequest and Task (referrals).")})
    def get(self, request, resident_id: int):
        credential = request.auth if isinstance(request.auth, ClientCredential) else None
        if credential is None:
            raise ProblemAPIException("client_required")
        return Response(fhir_resident_bundle(user=request.user, organization_id=credential.client.organization_id,
                                             resident_id=int(resident_id)))
