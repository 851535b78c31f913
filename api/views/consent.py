"""A resident's consents (record, list, withdraw) and the other legal bases."""

import datetime

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.idempotency import IdempotentPosts
from api.pagination import StableCursorPagination
from api.serializers.consent import (
    ConsentCreateSerializer,
    ConsentSerializer,
    ConsentWithdrawSerializer,
    LegalBasisGrantCreateSerializer,
    LegalBasisGrantReviewSerializer,
    LegalBasisGrantSerializer,
    MeetingShareSerializer,
    SupportMeetingCreateSerializer,
    SupportMeetingSerializer,
)
from cases import services
from cases.models import Case, Resident
from cases.selectors import (
    case_get_for_user,
    consents_of_resident,
    legal_basis_grant_get_for_user,
    legal_basis_grants_for,
    meeting_get_for_user,
    meetings_of,
    resident_get_for_user,
)


class ConsentPagination(StableCursorPagination):
    ordering = ("-taken_at", "-id")  # newest decision first, as consents_of_resident orders them


class ResidentConsentViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The consent register of one resident: kept by those who hold the resident in their own right.

    The district's commissioners, the registering organisation and the lead of an open case take,
    withdraw and list consent. An organisation that receives data under a consent (or another legal
    basis) does not see the register: it names family proxies and evidence, and other recipients.
    """

    serializer_class = ConsentSerializer
    pagination_class = ConsentPagination

    def _resident(self, codename: str = "view_resident") -> Resident:
        return resident_get_for_user(user=self.request.user, resident_id=int(self.kwargs["resident_id"]),
                                     codename=codename)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return consents_of_resident(resident=Resident(id=0))
        return consents_of_resident(resident=self._resident("change_resident"))

    @extend_schema(summary="Record a consent or a refusal", request=ConsentCreateSerializer,
                   responses={201: ConsentSerializer})
    def create(self, request, resident_id=None):
        resident = self._resident()
        serializer = ConsentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = services.consent_record(actor=request.user, resident=resident, **serializer.validated_data)
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Withdraw a consent now (a keeper of the register records it)",
                   request=ConsentWithdrawSerializer,
                   responses={200: ConsentSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, resident_id=None, pk=None):
        resident = self._resident()
        serializer = ConsentWithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = services.consent_withdraw(
            actor=request.user, resident=resident, consent_id=int(pk), **serializer.validated_data
        )
        return Response(ConsentSerializer(consent).data)


@extend_schema_view(
    list=extend_schema(summary="Legal-basis grants held by organisations I supervise"),
    retrieve=extend_schema(summary="One legal-basis grant"),
)
class LegalBasisGrantViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = LegalBasisGrantSerializer
    filterset_fields = ["status", "basis"]

    def get_queryset(self):
        return legal_basis_grants_for(user=self.request.user)

    def retrieve(self, request, pk=None):
        grant = legal_basis_grant_get_for_user(user=request.user, grant_id=int(pk))
        return Response(LegalBasisGrantSerializer(grant).data)

    @extend_schema(summary="Ask for access on a legal basis about a resident of my ward (break-glass APPI27-1-2 "
                           "opens at once for at most 72 hours; APPI27-1-1 and APPI27-1-4 wait for an approver)",
                   request=LegalBasisGrantCreateSerializer, responses={201: LegalBasisGrantSerializer})
    def create(self, request):
        serializer = LegalBasisGrantCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        grant = services.legal_basis_grant_request(
            actor=request.user, resident_id=data.pop("resident"),
            duration=datetime.timedelta(hours=data.pop("hours")), **data
        )
        return Response(LegalBasisGrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Approve a pending grant (a supervisor or privacy officer other than the requester)",
                   request=None,
                   responses={200: LegalBasisGrantSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return Response(LegalBasisGrantSerializer(
            services.legal_basis_grant_approve(actor=request.user, grant_id=int(pk))).data)

    @extend_schema(summary="End a grant now", request=None, responses={200: LegalBasisGrantSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        return Response(LegalBasisGrantSerializer(
            services.legal_basis_grant_revoke(actor=request.user, grant_id=int(pk))).data)

    @extend_schema(summary="Review a grant after the fact (a supervisor or privacy officer other than the requester)",
                   request=LegalBasisGrantReviewSerializer, responses={200: LegalBasisGrantSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        serializer = LegalBasisGrantReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        grant = services.legal_basis_grant_review(actor=request.user, grant_id=int(pk), **serializer.validated_data)
        return Response(LegalBasisGrantSerializer(grant).data)


@extend_schema_view(
    list=extend_schema(summary="Support meetings I am on the roster of"),
    retrieve=extend_schema(summary="One support meeting"),
)
class SupportMeetingViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = SupportMeetingSerializer
    replay_readers = {"share": "_read_share"}

    def get_queryset(self):
        return meetings_of(user=self.request.user)

    def retrieve(self, request, pk=None):
        return Response(SupportMeetingSerializer(meeting_get_for_user(user=request.user, meeting_id=int(pk))).data)

    @extend_schema(summary="Convene a support meeting of several organisations about cases I can see",
                   request=SupportMeetingCreateSerializer,
                   responses={201: SupportMeetingSerializer})
    def create(self, request):
        serializer = SupportMeetingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        cases: list[Case] = []
        for case_id in data.pop("cases"):
            cases.append(case_get_for_user(user=request.user, case_id=case_id, field="cases"))
        meeting = services.meeting_convene(actor=request.user, cases=cases, **data)
        return Response(SupportMeetingSerializer(meeting_get_for_user(user=request.user, meeting_id=meeting.id))
                        .data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Acknowledge the confidentiality duty", request=None,
                   responses={200: SupportMeetingSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        services.meeting_acknowledge(actor=request.user, meeting_id=int(pk))
        return Response(SupportMeetingSerializer(meeting_get_for_user(user=request.user, meeting_id=int(pk))).data)

    @extend_schema(summary="Share a resident's categories with the meeting (SWA106-6)",
                   request=MeetingShareSerializer, responses={201: LegalBasisGrantSerializer})
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        serializer = MeetingShareSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        resident = resident_get_for_user(user=request.user, resident_id=data.pop("resident"))
        grant = services.meeting_share(actor=request.user, meeting_id=int(pk), resident=resident, **data)
        return Response(LegalBasisGrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    def _read_share(self, request, grant_id: int) -> Response:
        grant = legal_basis_grant_get_for_user(user=request.user, grant_id=grant_id)
        return Response(LegalBasisGrantSerializer(grant).data)
