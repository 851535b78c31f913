"""Referrals: send one about a case I see, my inbox and sent list, one referral, and its state changes."""

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.filters import OverdueFilter, SafeFilterSet
from api.idempotency import IdempotentPosts
from api.pagination import StableCursorPagination
from api.serializers.referrals import (
    ReferralCreateSerializer,
    ReferralDetailSerializer,
    ReferralSerializer,
    ReferralTransitionSerializer,
    referrals_represent,
)
from cases import services
from cases.models import Referral
from cases.models.choices import Urgency
from cases.models.referrals import ReferralStatus
from cases.selectors import (
    case_get_for_user,
    case_ids_visible_to,
    organizations_acted_for,
    referral_events_of,
    referral_get_for_user,
    referrals_inbox_for,
    referrals_sent_by,
)
from service_directory.selectors import service_referral_target


class ReferralFilter(SafeFilterSet):
    status = django_filters.ChoiceFilter(choices=ReferralStatus.choices)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    overdue = OverdueFilter(help_text="Still requested after its response deadline.")

    class Meta(SafeFilterSet.Meta):
        model = Referral
        fields = ["status", "urgency", "overdue"]


class InboxPagination(StableCursorPagination):
    ordering = ("response_due_at", "id")


class SentPagination(StableCursorPagination):
    ordering = ("-created_at", "-id")


def _transition(verb: str, summary: str):
    """One POST route per action of the transition table (cases/services/referrals.py)."""

    def handler(self, request, pk=None):
        serializer = ReferralTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        referral = services.referral_transition(
            actor=request.user, referral_id=int(pk), action=verb, reason=serializer.validated_data["reason"]
        )
        return Response(self._detail(referral.id))

    handler.__name__ = handler.__qualname__ = verb  # DRF routes an action by its method name
    routed = action(detail=True, methods=["post"], url_path=verb.replace("_", "-"),
                    url_name=verb.replace("_", "-"))(handler)
    return extend_schema(summary=summary, request=ReferralTransitionSerializer,
                         responses={200: ReferralDetailSerializer})(routed)


@extend_schema_view(
    retrieve=extend_schema(summary="One referral with its history (404 unless my organisation is a party)",
                           responses={200: ReferralDetailSerializer}),
)
class ReferralViewSet(IdempotentPosts, viewsets.GenericViewSet):
    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter

    def get_queryset(self):
        return referrals_sent_by(user=self.request.user)

    def _context(self, referrals) -> dict:
        user = self.request.user
        return {
            "request": self.request,
            "readable_case_ids": case_ids_visible_to(user=user, case_ids=[r.case_id for r in referrals]),
            "my_organization_ids": organizations_acted_for(user=user),
        }

    def _detail(self, referral_id: int) -> dict:
        referral = referral_get_for_user(user=self.request.user, referral_id=referral_id)
        context = {**self._context([referral]), "events": list(referral_events_of(referral=referral))}
        return ReferralDetailSerializer(referral, context=context).data

    def _page(self, queryset, paginator):
        # The page is written from rows of one query (plus the free-text check of a second), never per-row
        # serializers.
        page = paginator.paginate_queryset(self.filter_queryset(queryset), self.request, view=self)
        user = self.request.user
        return paginator.get_paginated_response(referrals_represent(
            page, readable_case_ids=case_ids_visible_to(user=user, case_ids=[row["case_id"] for row in page]),
            my_organization_ids=organizations_acted_for(user=user), now=timezone.now()))

    def retrieve(self, request, pk=None):
        return Response(self._detail(int(pk)))

    @extend_schema(summary="Refer a case I can see to another organisation (sent at once unless send=false)",
                   request=ReferralCreateSerializer, responses={201: ReferralDetailSerializer})
    def create(self, request):
        serializer = ReferralCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        case = case_get_for_user(user=request.user, case_id=data.pop("case"), field="case")
        if "service" in data:
            receiver = data.get("receiver_organization")
            service = service_referral_target(service_id=str(data.pop("service")),
                                              receiver_organization_id=receiver.id if receiver else None)
            data.update(receiver_organization=service.organization.organization, service_id=service.id)
        referral = services.referral_create(actor=request.user, case=case, **data)
        return Response(self._detail(referral.id), status=status.HTTP_201_CREATED,
                        headers={"Location": f"{request.path}/{referral.id}"})

    @extend_schema(summary="Referrals to my organisation, soonest response deadline first",
                   responses={200: ReferralSerializer(many=True)})
    @action(detail=False, methods=["get"], pagination_class=InboxPagination)
    def inbox(self, request):
        return self._page(referrals_inbox_for(user=request.user, rows=True), InboxPagination())

    @extend_schema(summary="Referrals my organisation sent (drafts too), newest first",
                   responses={200: ReferralSerializer(many=True)})
    @action(detail=False, methods=["get"], pagination_class=SentPagination)
    def sent(self, request):
        return self._page(referrals_sent_by(user=request.user, rows=True), SentPagination())

    send = _transition("send", "Send a draft (the sender); its response deadline is set by urgency")
    cancel = _transition("cancel", "Cancel the request (the sender; reason required)")
    enter_in_error = _transition("enter_in_error", "Mark as entered in error (the sender)")
    accept = _transition("accept", "Accept (the receiver): one of two workers who accept at once wins, "
                                   "the other gets 409 referral_state_changed")
    reject = _transition("reject", "Reject (the receiver; reason required)")
    start = _transition("start", "Start the work (the receiver)")
    hold = _transition("hold", "Put on hold (the receiver; reason required)")
    resume = _transition("resume", "Resume the work (the receiver)")
    complete = _transition("complete", "Complete (the receiver): what the referral shared ends")
    fail = _transition("fail", "Could not be done (the receiver; reason required)")
