"""The privacy officer's audit views: access log, who saw a resident, unusual access, provisions, legal holds.

Everyone but a privacy officer of the resident's ward gets 404, as for a record that does not exist.
"""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import IdFilter, SafeFilterSet
from api.idempotency import IdempotentPosts
from api.pagination import StableCursorPagination
from api.serializers.audit import (
    AccessLogEntrySerializer,
    LegalHoldCreateSerializer,
    LegalHoldSerializer,
    PeriodSerializer,
    ProvisionRecordSerializer,
    ReaderSerializer,
    UnusualAccessQuerySerializer,
    UnusualAccessReportSerializer,
)
from audit import legal_holds
from audit.models import AccessLogEntry, Action, LegalHold, ProvisionRecord
from audit.selectors import (
    access_log_search,
    case_for_privacy_officer,
    legal_hold_get_for_user,
    legal_holds_for,
    provisions_search,
    resident_readers,
    unusual_access,
)

UNUSUAL_RULE = ("A reader who, in [since, until), read at least `threshold` distinct residents only through "
                "third-party bases (consent, legal bases, support meetings, referrals), i.e. outside their own "
                "caseload (district, case lead, registration, authorship).")


class AccessLogFilter(SafeFilterSet):
    resident = IdFilter(field_name="resident_id")
    user = IdFilter(field_name="user_id")
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")
    action = django_filters.ChoiceFilter(choices=Action.choices)

    class Meta(SafeFilterSet.Meta):
        model = AccessLogEntry
        fields = ["resident", "user", "since", "until", "action"]


class ProvisionFilter(SafeFilterSet):
    resident = IdFilter(field_name="resident_id")
    recipient = IdFilter(field_name="recipient_id")
    since = django_filters.IsoDateTimeFilter(field_name="provided_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="provided_at", lookup_expr="lt")

    class Meta(SafeFilterSet.Meta):
        model = ProvisionRecord
        fields = ["resident", "recipient", "since", "until"]


class NewestFirstPagination(StableCursorPagination):
    ordering = ("-id",)


@extend_schema_view(list=extend_schema(summary="Search the access log (privacy officer of the ward)"))
class AccessLogViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = AccessLogEntrySerializer
    filterset_class = AccessLogFilter
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccessLogEntry.objects.none()
        return access_log_search(user=self.request.user)


@extend_schema_view(list=extend_schema(summary="Third-party provision records (第三者提供記録), privacy officer"))
class ProvisionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ProvisionRecordSerializer
    filterset_class = ProvisionFilter
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProvisionRecord.objects.none()
        return provisions_search(user=self.request.user)


class ResidentReadersView(APIView):
    @extend_schema(summary="Who saw this resident's data, and on what basis", parameters=[PeriodSerializer],
                   responses=ReaderSerializer(many=True), operation_id="audit_resident_readers")
    def get(self, request, resident_id: int):
        query = PeriodSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        readers = resident_readers(user=request.user, resident_id=resident_id, **query.validated_data)
        return Response(ReaderSerializer(readers, many=True).data)


class UnusualAccessView(APIView):
    @extend_schema(summary="Unusual access: readers of many residents outside their caseload",
                   description=UNUSUAL_RULE, parameters=[UnusualAccessQuerySerializer],
                   responses=UnusualAccessReportSerializer, operation_id="audit_unusual_access")
    def get(self, request):
        query = UnusualAccessQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        readers = unusual_access(user=request.user, **query.validated_data)
        return Response(UnusualAccessReportSerializer({**query.validated_data, "rule": UNUSUAL_RULE,
                                                       "readers": readers}).data)


@extend_schema_view(list=extend_schema(summary="Legal holds (retention stops for the case), privacy officer"))
class LegalHoldViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = LegalHoldSerializer
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LegalHold.objects.none()
        return legal_holds_for(user=self.request.user)

    @extend_schema(summary="Place a legal hold on a case", request=LegalHoldCreateSerializer,
                   responses={201: LegalHoldSerializer})
    def create(self, request):
        serializer = LegalHoldCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        case = case_for_privacy_officer(user=request.user, case_id=data.pop("case"), field="case")
        hold = legal_holds.legal_hold_place(actor=request.user, case=case, **data)
        return Response(LegalHoldSerializer(hold).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Release a legal hold", request=None, responses={200: LegalHoldSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        hold = legal_hold_get_for_user(user=request.user, hold_id=int(pk))
        return Response(LegalHoldSerializer(legal_holds.legal_hold_release(actor=request.user, hold=hold)).data)
