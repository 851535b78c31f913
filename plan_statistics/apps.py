from django.apps import AppConfig


class PlanStatisticsConfig(AppConfig):
    name = "plan_statistics"
    verbose_name = "Statistics for the ward plan"
