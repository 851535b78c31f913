"""Partner reports (見守り協定): a partner sends a warning sign and gets one answer; a task's workers read it.

POST answers 202 with the report id and `received_and_routed`, the same body, status and headers whatever
the address matched: the matching happens after the answer (cases/services/partner_reports.py). The
partner's reference makes a report idempotent on its own (the same reference and content: the same
report and the same answer), and an Idempotency-Key works as on every POST.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response

from api.idempotency import IdempotentPosts
from api.pagination import StableCursorPagination
from api.serializers.partner_reports import (
    PartnerReportCreateSerializer,
    PartnerReportReceiptSerializer,
    PartnerReportSerializer,
    TaskSignalSerializer,
)
from audit.access_log import access_log_reads
from cases import services
from cases.models import Task
from cases.selectors import partner_report_get_for_partner, partner_reports_for_task, partner_reports_of


class PartnerReportPagination(StableCursorPagination):
    ordering = ("id",)


@extend_schema_view(
    list=extend_schema(summary="My organisation's reports and their state (received, routed): a partner's own "
                               "reports only; empty for everyone else"),
    retrieve=extend_schema(summary="One of my organisation's reports (404 for any other)"),
)
class PartnerReportViewSet(IdempotentPosts, viewsets.ReadOnlyModelViewSet):
    serializer_class = PartnerReportSerializer
    pagination_class = PartnerReportPagination
    replay_readers = {"create": "_receipt_again"}

    def get_queryset(self):
        return partner_reports_of(user=self.request.user)

    def retrieve(self, request, pk=None):
        report = partner_report_get_for_partner(user=request.user, report_id=int(pk))
        return Response(PartnerReportSerializer(report).data)

    def _receipt(self, report, request) -> Response:
        return Response(PartnerReportReceiptSerializer(report).data, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": f"{request.path.rstrip('/')}/{report.id}"})

    def _receipt_again(self, request, subject_id):
        return self._receipt(partner_report_get_for_partner(user=request.user, report_id=subject_id or 0), request)

    @extend_schema(
        summary="Report a warning sign at an address under an agreement (partner businesses only). The answer "
                "is the same whatever the address matched: 202, the report id, received_and_routed",
        request=PartnerReportCreateSerializer, responses={202: PartnerReportReceiptSerializer})
    def create(self, request):
        serializer = PartnerReportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        received = services.partner_report_receive(actor=request.user, agreement_code=data.pop("agreement"), **data)
        return self._receipt(received.report, request)


class TaskSignalViewSet(viewsets.GenericViewSet):
    """The partners' reports routed to a task I see: the address as written, the signals, and of the residents
    registered there only those I see myself."""

    serializer_class = TaskSignalSerializer
    pagination_class = None
    queryset = Task.objects.none()  # names the path's task id for the schema; reads go through the selector

    @extend_schema(summary="The partner reports routed to a task I see (404 otherwise)",
                   responses={200: TaskSignalSerializer(many=True)})
    def list(self, request, task_id=None):
        signals = partner_reports_for_task(user=request.user, task_id=int(task_id))
        access_log_reads(kind="partner_report", resident_ids=[i for s in signals for i in s.candidate_ids],
                         categories=["basic"], basis="task_queue", object_ids=[s.report.id for s in signals])
        return Response(TaskSignalSerializer(signals, many=True).data)
