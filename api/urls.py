from django.core.exceptions import ImproperlyConfigured
from django.urls import include, path, register_converter
from rest_framework.routers import SimpleRouter

from api.filters import MAX_ID
from api.idempotency import IdempotentPosts
from api.views.audit import (
    AccessLogViewSet,
    LegalHoldViewSet,
    ProvisionViewSet,
    ResidentReadersView,
    UnusualAccessView,
)
from api.views.cases import CaseViewSet
from api.views.consent import LegalBasisGrantViewSet, ResidentConsentViewSet, SupportMeetingViewSet
from api.views.directory import DistrictViewSet, OrganizationViewSet
from api.views.disaster import DisasterEventViewSet, EvacuationEntryViewSet
from api.views.listings import ListingViewSet
from api.views.me import ApiTokenViewSet, MeView
from api.views.notes import NoteViewSet
from api.views.notifications import NotificationViewSet
from api.views.partner_reports import PartnerReportViewSet, TaskSignalViewSet
from api.views.referrals import ReferralViewSet
from api.views.residents import ResidentViewSet
from api.views.rights import DisclosurePdfView, DisclosureView, RightsRequestViewSet
from api.views.statistics import (
    StatisticsChartView,
    StatisticsReleaseViewSet,
    StatisticsReportView,
    StatisticsTableCsvView,
    StatisticsTableView,
)
from api.views.tasks import TaskViewSet
from api.views.visits import VisitViewSet


class IdConverter:
    """A record id in a path: a whole number from 1 to 2**62, as in the id filters. Anything else (a
    huge number the database could not compare, too) does not match the route: 404, as for a missing
    record. Declared in the schema by SPECTACULAR_SETTINGS["PATH_CONVERTER_OVERRIDES"]."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(value)
        return number

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")


class IdRouter(SimpleRouter):
    """Path routes whose record ids are integers (`<id:pk>`): one id type in the URLs, the schema and the
    clients generated from it. A non-numeric id does not match the route: 404, as for a missing record."""

    def __init__(self):
        super().__init__(trailing_slash=False, use_regex_path=False)

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        return f"<id:{lookup_prefix}pk>"

    def register(self, prefix, viewset, basename=None):
        """Every POST goes through the one Idempotency-Key protocol: a viewset that routes a POST without
        it is refused here, at start-up."""
        posts = hasattr(viewset, "create") or any("post" in action.mapping for action in viewset.get_extra_actions())
        if posts and not issubclass(viewset, IdempotentPosts):
            raise ImproperlyConfigured(f"{viewset.__name__} routes a POST but is not IdempotentPosts")
        super().register(prefix, viewset, basename)


router = IdRouter()
router.register("me/tokens", ApiTokenViewSet, basename="token")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("districts", DistrictViewSet, basename="district")
router.register("residents", ResidentViewSet, basename="resident")
router.register("cases", CaseViewSet, basename="case")
router.register("visits", VisitViewSet, basename="visit")
router.register("notes", NoteViewSet, basename="note")
router.register("residents/<id:resident_id>/consents", ResidentConsentViewSet, basename="resident-consent")
router.register("legal-basis-grants", LegalBasisGrantViewSet, basename="legal-basis-grant")
router.register("support-meetings", SupportMeetingViewSet, basename="support-meeting")
router.register("referrals", ReferralViewSet, basename="referral")
router.register("tasks", TaskViewSet, basename="task")
router.register("tasks/<id:task_id>/partner-reports", TaskSignalViewSet, basename="task-partner-report")
router.register("partner-reports", PartnerReportViewSet, basename="partner-report")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("audit/access-log", AccessLogViewSet, basename="audit-access-log")
router.register("audit/provisions", ProvisionViewSet, basename="audit-provision")
router.register("audit/legal-holds", LegalHoldViewSet, basename="audit-legal-hold")
router.register("rights/requests", RightsRequestViewSet, basename="rights-request")
router.register("evacuation-entries", EvacuationEntryViewSet, basename="evacuation-entry")
router.register("disaster-events", DisasterEventViewSet, basename="disaster-event")
router.register("statistics/releases", StatisticsReleaseViewSet, basename="statistics-release")
router.register("directory/listings", ListingViewSet, basename="listing")

urlpatterns = [
    path("me", MeView.as_view(), name="me"),
    path("audit/residents/<id:resident_id>/readers", ResidentReadersView.as_view(), name="audit-resident-readers"),
    path("audit/unusual-access", UnusualAccessView.as_view(), name="audit-unusual-access"),
    path("rights/disclosures/<id:resident_id>", DisclosureView.as_view(), name="rights-disclosure"),
    path("rights/disclosures/<id:resident_id>/pdf", DisclosurePdfView.as_view(), name="rights-disclosure-pdf"),
    path("statistics/releases/<id:pk>/tables/<slug:table>", StatisticsTableView.as_view(), name="statistics-table"),
    path("statistics/releases/<id:pk>/tables/<slug:table>/csv", StatisticsTableCsvView.as_view(),
         name="statistics-table-csv"),
    path("statistics/releases/<id:pk>/charts/<slug:chart>", StatisticsChartView.as_view(), name="statistics-chart"),
    path("statistics/releases/<id:pk>/report", StatisticsReportView.as_view(), name="statistics-report"),
    path("", include(router.urls)),
]
