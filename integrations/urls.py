"""The integrations' routes, under /api/v1/ beside the API's own (same router: ids, idempotent POSTs)."""

from django.urls import include, path

from api.urls import IdRouter
from integrations.views import EventFeedView, FhirResidentView, OrganizationClientViewSet, WebhookEndpointViewSet

router = IdRouter()
router.register("integrations/clients", OrganizationClientViewSet, basename="integration-client")
router.register("integrations/webhooks", WebhookEndpointViewSet, basename="integration-webhook")

urlpatterns = [
    path("events", EventFeedView.as_view(), name="event-list"),
    path("fhir/residents/<id:resident_id>", FhirResidentView.as_view(), name="fhir-resident"),
    path("", include(router.urls)),
]
