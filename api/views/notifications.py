"""My in-app notifications (ids and links, never personal data) and marking one read."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.filters import SafeFilterSet, StrictBooleanFilter
from api.idempotency import IdempotentPosts
from api.pagination import StableCursorPagination
from api.serializers.notifications import NOTIFICATION_VALUES, NotificationSerializer, notifications_represent
from notifications.models import Notification
from notifications.selectors import notifications_of
from notifications.services import notification_mark_read


class NotificationFilter(SafeFilterSet):
    unread = StrictBooleanFilter(field_name="read_at", lookup_expr="isnull", help_text="Only unread.")

    class Meta(SafeFilterSet.Meta):
        model = Notification
        fields = ["unread"]


class NotificationPagination(StableCursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema_view(list=extend_schema(summary="My notifications, newest first"))
class NotificationViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    pagination_class = NotificationPagination

    def get_queryset(self):
        return notifications_of(user=self.request.user)

    def list(self, request):
        # The page is written from rows of one query, never per-row models and serializers.
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset().values(*NOTIFICATION_VALUES)))
        return self.get_paginated_response(notifications_represent(page))

    @extend_schema(summary="Mark one of my notifications read (again: no change)", request=None,
                   responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        return Response(NotificationSerializer(notification_mark_read(user=request.user,
                                                                      notification_id=int(pk))).data)
