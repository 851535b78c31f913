"""Statistics for the ward plan: releases (POST makes one, frozen), their tables as JSON and CSV, charts as SVG
and the plan committee's report as one HTML page. Each route answers one media type.

Readers: the ward section and the ward's privacy officers (every area), a district council's chair (its
council areas); everyone else gets 404. Releasing is for the ward section's supervisors.
"""

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import IdempotentPosts
from api.serializers.statistics import ReleaseCreateSerializer, ReleaseSerializer, StatisticsTableSerializer
from cases.errors import NotFound
from plan_statistics.charts import CHARTS
from plan_statistics.report import release_chart, report_html
from plan_statistics.selectors import release_get_for_user, release_tables, releases_visible_to, table_csv
from plan_statistics.services import release_publish


class _TextRenderer(BaseRenderer):
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code >= 400:  # a problem+json body, whatever was asked for
            return json.dumps(data, ensure_ascii=False).encode()
        return data.encode() if isinstance(data, str) else data


class CsvRenderer(_TextRenderer):
    media_type = "text/csv"
    format = "csv"


class SvgRenderer(_TextRenderer):
    media_type = "image/svg+xml"
    format = "svg"


class HtmlRenderer(_TextRenderer):
    media_type = "text/html"
    format = "html"


@extend_schema_view(
    list=extend_schema(summary="Statistics releases the caller may read"),
    retrieve=extend_schema(summary="One release with its tables (published figures, the caller's areas)"),
)
class StatisticsReleaseViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ReleaseSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            from plan_statistics.models import Release

            return Release.objects.none()
        return releases_visible_to(user=self.request.user)

    def retrieve(self, request, pk=None):
        release, scope = release_get_for_user(user=request.user, release_id=int(pk))
        tables = release_tables(release=release, scope=scope, user=request.user)
        return Response(ReleaseSerializer(release, context={"tables": tables}).data)

    @extend_schema(summary="Release a ward's tables for an ended month or fiscal year (frozen once made)",
                   description="A period released before answers its release (200); the figures never change.",
                   request=ReleaseCreateSerializer, responses={201: ReleaseSerializer, 200: ReleaseSerializer})
    def create(self, request):
        serializer = ReleaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        release, made = release_publish(actor=request.user, **serializer.validated_data)
        return self._answer(request, release.id, status.HTTP_201_CREATED if made else status.HTTP_200_OK)

    def _answer(self, request, release_id: int, code: int) -> Response:
        release, scope = release_get_for_user(user=request.user, release_id=release_id)
        tables = release_tables(release=release, scope=scope, user=request.user)
        return Response(ReleaseSerializer(release, context={"tables": tables}).data, status=code)



def _table_or_404(code: str) -> str:
    from plan_statistics.tables import BY_CODE

    if code not in BY_CODE:
        raise NotFound(field="table")
    return code


class StatisticsTableView(APIView):
    renderer_classes = [JSONRenderer]

    @extend_schema(summary="One table of a release as JSON (published figures, the caller's areas)",
                   responses={200: StatisticsTableSerializer}, operation_id="statistics_table")
    def get(self, request, pk: int, table: str):
        release, scope = release_get_for_user(user=request.user, release_id=pk)
        (figures,) = release_tables(release=release, scope=scope, user=request.user, only=_table_or_404(table))
        return Response(figures)


class StatisticsTableCsvView(APIView):
    renderer_classes = [CsvRenderer]

    @extend_schema(summary="One table of a release as CSV (withheld figures are x)",
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
                   operation_id="statistics_table_csv")
    def get(self, request, pk: int, table: str):
        release, scope = release_get_for_user(user=request.user, release_id=pk)
        (figures,) = release_tables(release=release, scope=scope, user=request.user, only=_table_or_404(table))
        response = Response(table_csv(figures))
        response["Content-Disposition"] = f'attachment; filename="{release.period}-{table}.csv"'
        return response


class StatisticsChartView(APIView):
    renderer_classes = [SvgRenderer]

    @extend_schema(summary="A chart of a release as SVG, drawn from its published figures",
                   parameters=[OpenApiParameter("chart", str, OpenApiParameter.PATH, enum=list(CHARTS))],
                   responses={(200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.BINARY)},
                   operation_id="statistics_chart")
    def get(self, request, pk: int, chart: str):
        if chart not in CHARTS:
            raise NotFound(field="chart")
        release, scope = release_get_for_user(user=request.user, release_id=pk)
        return Response(release_chart(release=release, scope=scope, user=request.user, chart=chart))


class StatisticsReportView(APIView):
    renderer_classes = [HtmlRenderer]

    @extend_schema(summary="The plan committee's report: every table and chart of a release on one HTML page",
                   responses={(200, "text/html"): OpenApiResponse(OpenApiTypes.STR)},
                   operation_id="statistics_report")
    def get(self, request, pk: int):
        release, scope = release_get_for_user(user=request.user, release_id=pk)
        return Response(report_html(release=release, scope=scope, user=request.user))
