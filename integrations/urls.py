"""The integrations' routes, under /api/v1/ beside the API's own (same router: ids, idempotent POSTs)."""

from django.urls import include, path

from api.urls import IdRouter
from integrations.views import OrganizationClientViewSet

router = IdRouter()
router.register("integrations/clients", OrganizationClientViewSet, basename="integration-client")

urlpatterns = [path("", include(router.urls))]
