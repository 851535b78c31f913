"""Statistics releases: what was released, by whom, under which parameters, and its published tables."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import StrictSerializer


class ReleaseCreateSerializer(StrictSerializer):
    ward_id = serializers.IntegerField(min_value=1, max_value=2**62)
    period = serializers.CharField(max_length=8, help_text="A month (2025-04) or a fiscal year, April to March "
                                                           "(FY2025); it must have ended.")


class StatisticsLabelSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class StatisticSerializer(serializers.Serializer):
    label = serializers.CharField()
    unit = serializers.ChoiceField(choices=["minutes", "hours"])
    median = serializers.IntegerField()
    p90 = serializers.IntegerField()


class StatisticsAreaSerializer(serializers.Serializer):
    area = serializers.CharField(help_text="ward:<id>, council:<id> or district:<id>.")
    level = serializers.ChoiceField(choices=["ward", "council", "district"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    parent = serializers.CharField(allow_null=True)
    council_area_id = serializers.IntegerField(allow_null=True)
    published = serializers.BooleanField(help_text="False: too small; see the area named by published_at.")
    published_at = serializers.CharField(required=False)
    cells = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField(allow_null=True)),
                                  required=False, help_text="null: withheld.")
    row_totals = serializers.ListField(child=serializers.IntegerField(allow_null=True), allow_null=True,
                                       required=False)
    col_totals = serializers.ListField(child=serializers.IntegerField(allow_null=True), allow_null=True,
                                       required=False)
    total = serializers.IntegerField(allow_null=True, required=False)
    statistic = StatisticSerializer(allow_null=True, required=False)


class StatisticsTableSerializer(serializers.Serializer):
    table = serializers.CharField()
    title = serializers.CharField()
    period_key = serializers.CharField()
    k = serializers.IntegerField(help_text="Counts from 1 to k-1 are withheld.")
    flow = serializers.BooleanField(help_text="Counts events in the period (else what stood on its last day).")
    personal = serializers.BooleanField(help_text="Counts people (else districts: nothing withheld).")
    rows = StatisticsLabelSerializer(many=True)
    cols = StatisticsLabelSerializer(many=True)
    areas = StatisticsAreaSerializer(many=True)


class ReleaseParametersSerializer(serializers.Serializer):
    k = serializers.IntegerField()
    mostly_suppressed = serializers.FloatField()
    tables = serializers.ListField(child=serializers.CharField())
    reused = serializers.ListField(child=serializers.CharField())


class ReleaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ward = serializers.IntegerField(source="ward_id")
    period = serializers.CharField()
    released_by = serializers.IntegerField(source="released_by_id")
    released_at = serializers.DateTimeField()
    parameters = ReleaseParametersSerializer()
    tables = serializers.SerializerMethodField()

    @extend_schema_field(StatisticsTableSerializer(many=True))
    def get_tables(self, release) -> list:
        """Only in a release's own answer; lists leave them out."""
        return self.context.get("tables", [])
