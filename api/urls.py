from django.urls import include, path
from rest_framework.routers import SimpleRouter

from api.views.cases import CaseViewSet
from api.views.consent import LegalBasisGrantViewSet, ResidentConsentViewSet, SupportMeetingViewSet
from api.views.directory import DistrictViewSet, OrganizationViewSet
from api.views.me import ApiTokenViewSet, MeView
from api.views.notes import NoteViewSet
from api.views.residents import ResidentViewSet
from api.views.visits import VisitViewSet

router = SimpleRouter(trailing_slash=False)
router.register("me/tokens", ApiTokenViewSet, basename="token")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("districts", DistrictViewSet, basename="district")
router.register("residents", ResidentViewSet, basename="resident")
router.register("cases", CaseViewSet, basename="case")
router.register("visits", VisitViewSet, basename="visit")
router.register("notes", NoteViewSet, basename="note")
router.register(r"residents/(?P<resident_id>\d+)/consents", ResidentConsentViewSet, basename="resident-consent")
router.register("legal-basis-grants", LegalBasisGrantViewSet, basename="legal-basis-grant")
router.register("support-meetings", SupportMeetingViewSet, basename="support-meeting")

urlpatterns = [
    path("me", MeView.as_view(), name="me"),
    path("", include(router.urls)),
]
