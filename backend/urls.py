from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LogoutView
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from api.problems import django_handler404
from api.views.auth import SessionLoginView
from api.views.health import healthz, readyz

# The "rest_framework" namespace: DRF's login template and the browsable API reverse these names.
_auth_patterns = [
    path("login/", SessionLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/auth/", include((_auth_patterns, "rest_framework"))),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    # The split view serves its start-up script from its own URL (?script), so no inline script runs.
    path("api/docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="docs"),
    path("api/v1/", include("api.urls")),
    path("api/v1/", include("integrations.urls")),
    # The public directory of services (HSDS 3.0): anonymous and read-only by design.
    path("api/hsds/", include("api.hsds_urls")),
    # Last: any other path under the API is the 404 problem of a missing record, with DEBUG on too (the demo), where
    # Django would answer a path no pattern matches with its HTML page (`/api/v1/referrals/0/cancel`).
    # Exempt from CSRF like every API view, or a POST there would meet Django's HTML CSRF page first.
    re_path(r"^api/(?:v1|hsds)/", csrf_exempt(django_handler404), name="api-not-found"),
]

handler400 = "api.problems.django_handler400"
handler403 = "api.problems.django_handler403"
handler404 = "api.problems.django_handler404"
handler500 = "api.problems.django_handler500"
