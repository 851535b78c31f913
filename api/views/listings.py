"""The members' side of the directory (`/api/v1/directory/listings`): the listings my organisation runs
(and, for the ward section's supervisors, the ward's listings to approve); propose, edit (If-Match),
re-verify, say whether there is room, approve. The public answers are /api/hsds/'s."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.conditional import etag_for, expected_version
from api.idempotency import IdempotentPosts
from api.serializers.listings import (
    ListingAssureSerializer,
    ListingCapacitySerializer,
    ListingCreateSerializer,
    ListingDecisionSerializer,
    ListingSerializer,
    ListingUpdateSerializer,
)
from service_directory import services
from service_directory.models import Approval
from service_directory.selectors import listing_get_for_user, listings_managed_by


@extend_schema_view(
    list=extend_schema(summary="The listings my organisations run (ward section supervisors: the ward's)"),
    retrieve=extend_schema(summary="One listing I manage or approve (404 otherwise)"),
    partial_update=extend_schema(summary="Edit my organisation's listing (If-Match required)",
                                 request=ListingUpdateSerializer, responses={200: ListingSerializer}),
)
class ListingViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ListingSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return listings_managed_by(user=self.request.user)

    def _answer(self, listing, *, created: bool = False):
        headers = {"ETag": etag_for(listing.version)}
        if created:
            headers["Location"] = f"{self.request.path}/{listing.id}"
        return Response(ListingSerializer(listing).data, headers=headers,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def retrieve(self, request, pk=None):
        return self._answer(listing_get_for_user(user=request.user, listing_id=int(pk)))

    @extend_schema(summary="Propose a listing for my organisation (public once the ward section approves it)",
                   request=ListingCreateSerializer, responses={201: ListingSerializer})
    def create(self, request):
        serializer = ListingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        listing = services.listing_propose(
            user=request.user, organization_id=data.pop("organization", None),
            taxonomy_codes=data.pop("taxonomy_codes"), language_codes=data.pop("language_codes"),
            schedules=data.pop("schedules", []), district_ids=data.pop("district_ids"), fields=data,
        )
        return self._answer(listing, created=True)

    def partial_update(self, request, pk=None):
        listing = listing_get_for_user(user=request.user, listing_id=int(pk))
        version = expected_version(request, listing)
        serializer = ListingUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        listing = services.listing_update(
            user=request.user, listing_id=listing.id, version=version, taxonomy_codes=data.pop("taxonomy_codes", None),
            schedules=data.pop("schedules", None), fields=data,
        )
        return self._answer(listing)

    @extend_schema(summary="Approve or reject a new listing (a supervisor of the ward section)",
                   request=ListingDecisionSerializer, responses={200: ListingSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        serializer = ListingDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        listing = services.listing_approve(user=request.user, listing_id=int(pk),
                                           approve=serializer.validated_data["decision"] == Approval.APPROVED)
        return self._answer(listing)

    @extend_schema(summary="Re-verify: the listing is true today (closes its re-verification task)",
                   request=ListingAssureSerializer, responses={200: ListingSerializer})
    @action(detail=True, methods=["post"])
    def assure(self, request, pk=None):
        ListingAssureSerializer(data=request.data).is_valid(raise_exception=True)
        return self._answer(services.listing_assure(user=request.user, listing_id=int(pk)))

    @extend_schema(summary="Say whether the service can take someone now (available, waitlist, full)",
                   request=ListingCapacitySerializer, responses={200: ListingSerializer})
    @action(detail=True, methods=["post"])
    def capacity(self, request, pk=None):
        serializer = ListingCapacitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(services.listing_capacity_set(user=request.user, listing_id=int(pk),
                                                          **serializer.validated_data))
