"""The public directory's routes (`/api/hsds/`): anonymous and read-only by design (api/views/hsds.py)."""

from django.urls import path

from api.views.hsds import (
    HsdsOrganizationDetailView,
    HsdsOrganizationListView,
    HsdsRootView,
    HsdsServiceDetailView,
    HsdsServiceListView,
    HsdsTaxonomyTermDetailView,
    HsdsTaxonomyTermListView,
)

urlpatterns = [
    path("", HsdsRootView.as_view(), name="hsds-root"),
    path("services", HsdsServiceListView.as_view(), name="hsds-services"),
    path("services/<uuid:service_id>", HsdsServiceDetailView.as_view(), name="hsds-service"),
    path("organizations", HsdsOrganizationListView.as_view(), name="hsds-organizations"),
    path("organizations/<uuid:organization_id>", HsdsOrganizationDetailView.as_view(), name="hsds-organization"),
    path("taxonomy_terms", HsdsTaxonomyTermListView.as_view(), name="hsds-taxonomy-terms"),
    path("taxonomy_terms/<uuid:term_id>", HsdsTaxonomyTermDetailView.as_view(), name="hsds-taxonomy-term"),
]
