"""The public directory, anonymous and read-only, as the HSDS 3.0 API reference has it (`/`, `/services`,
`/services/{id}`, `/organizations`, `/organizations/{id}`, `/taxonomy_terms`, `/taxonomy_terms/{id}`),
under `/api/hsds/`.

Anonymous by design: these views authenticate nobody (a logged-in caller is answered as anyone else
is), allow GET only (any other method: 405), read only the directory's tables, and so can carry no
personal data. Lists page by page number (`page`, `per_page`) as HSDS specifies. Answers are cached for
DIRECTORY_CACHE_SECONDS under the directory's generation (every write starts a new one), and
anonymous callers are rate-limited per address (DIRECTORY_ANON_THROTTLE_RATE).
"""

from __future__ import annotations

import hashlib
import math

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from api.serializers.hsds import (
    HSDS_VERSION,
    HsdsApiInfoSerializer,
    HsdsOrganizationDetailSerializer,
    HsdsOrganizationPageSerializer,
    HsdsOrganizationSerializer,
    HsdsServicePageSerializer,
    HsdsServiceSerializer,
    HsdsTaxonomyTermPageSerializer,
    HsdsTaxonomyTermSerializer,
)
from service_directory.selectors import (
    ServiceSearch,
    organization_public_get,
    organizations_public,
    service_public_get,
    services_search,
    taxonomy_term_public_get,
    taxonomy_terms_public,
)
from service_directory.services import directory_generation

MAX_PER_PAGE = 100
TAGS = ["public directory (HSDS)"]
PROFILE_URL = "https://github.com/openreferral/specification/tree/3.0"


class DirectoryAnonThrottle(AnonRateThrottle):
    scope = "directory_anon"

    def get_rate(self):
        return settings.DIRECTORY_ANON_THROTTLE_RATE


def public(operation_id: str, responses, **kwargs):
    """The schema of a public GET route: no authentication, its own operation id."""
    return extend_schema_view(get=extend_schema(tags=TAGS, auth=[], operation_id=operation_id, responses=responses,
                                                **kwargs))


class PublicDirectoryView(APIView):
    """GET only, nobody authenticated, rate-limited, cached."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [DirectoryAnonThrottle]
    http_method_names = ["get", "head", "options"]
    # Part of the cache key when the answer depends on the minute (open now).
    minute_bound = False

    def cached(self, request, build):
        seconds = settings.DIRECTORY_CACHE_SECONDS
        if not seconds:
            return Response(build())
        minute = timezone.now().strftime("%Y%m%d%H%M") if self.minute_bound else ""
        query = "&".join(f"{k}={v}" for k, v in sorted(request.query_params.lists()))
        digest = hashlib.sha256(f"{request.path}?{query}|{minute}".encode()).hexdigest()
        key = f"service_directory:{directory_generation()}:{digest}"
        data = cache.get(key)
        if data is None:
            data = build()
            cache.set(key, data, seconds)
        return Response(data)


class PageQuery(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, max_value=100_000, default=1)
    per_page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PER_PAGE, default=20)

    def validate(self, attrs):
        """An empty parameter (`?search=`) is refused, naming it, not ignored."""
        empty = [name for name in self.fields if self.initial_data.get(name, None) == ""]
        if empty:
            message = _("Enter a value, or leave the parameter out.")
            raise serializers.ValidationError({name: [message] for name in empty})
        return attrs


def _page(items, *, page: int, per_page: int, serializer) -> dict:
    total = items.count() if hasattr(items, "count") and not isinstance(items, list) else len(items)
    pages = max(1, math.ceil(total / per_page))
    contents = list(items[(page - 1) * per_page: page * per_page])
    return {
        "total_items": total, "total_pages": pages, "page_number": page, "size": len(contents),
        "first_page": page == 1, "last_page": page >= pages, "empty": total == 0,
        "contents": serializer(contents, many=True).data,
    }


class ServiceQuery(PageQuery):
    search = serializers.CharField(required=False, max_length=100)
    taxonomy_term_id = serializers.UUIDField(required=False)
    taxonomy_code = serializers.CharField(required=False, max_length=20)
    organization_id = serializers.UUIDField(required=False)
    district = serializers.CharField(required=False, max_length=16)
    postcode = serializers.RegexField(r"^〒?\s*[0-9０-９]{3}[-‐－ー]?[0-9０-９]{4}$", required=False)
    language = serializers.RegexField(r"^[a-z]{2,3}$", required=False)
    open_now = serializers.BooleanField(required=False, default=False)
    open_on = serializers.DateField(required=False)
    modified_after = serializers.DateTimeField(required=False)


@public("hsds_api_information", HsdsApiInfoSerializer, summary="About this API and its relationship with HSDS")
class HsdsRootView(PublicDirectoryView):
    """The HSDS version of this API, its profile and where its OpenAPI document is."""

    def get(self, request):
        return Response({
            "version": HSDS_VERSION, "profile": PROFILE_URL,
            "openapi_url": request.build_absolute_uri("/api/schema/"),
        })


@public("hsds_services_list", HsdsServicePageSerializer, parameters=[ServiceQuery],
        description="Search the public services: `search` by kana or kanji (さろん, サロン and ｻﾛﾝ find "
        "the same), a taxonomy term (and the terms under it), a commissioner district or a "
        "postal code (services there and ward-wide ones), a language, open now or with a session "
        "on a day.")
class HsdsServiceListView(PublicDirectoryView):
    """The public services matching the search, one page at a time."""

    def get(self, request):
        query = ServiceQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        self.minute_bound = q["open_now"]
        search = ServiceSearch(
            text=q.get("search", ""), taxonomy_term_id=str(q.get("taxonomy_term_id") or ""),
            taxonomy_code=q.get("taxonomy_code", ""), organization_id=str(q.get("organization_id") or ""),
            district=q.get("district", ""), postcode=q.get("postcode", ""), language=q.get("language", ""),
            open_at=timezone.now() if q["open_now"] else None, open_on=q.get("open_on"),
            modified_after=q.get("modified_after"),
        )
        return self.cached(request, lambda: _page(services_search(search=search), page=q["page"],
                                                  per_page=q["per_page"], serializer=HsdsServiceSerializer))


@public("hsds_service_get", HsdsServiceSerializer)
class HsdsServiceDetailView(PublicDirectoryView):
    """One public service with everything HSDS nests in it; not public: 404."""

    def get(self, request, service_id):
        return self.cached(request, lambda: HsdsServiceSerializer(service_public_get(service_id=str(service_id))).data)


class TaxonomyTermQuery(PageQuery):
    search = serializers.CharField(required=False, max_length=100)
    parent_id = serializers.UUIDField(required=False)
    top_only = serializers.BooleanField(required=False, default=False)


@public("hsds_taxonomy_terms_list", HsdsTaxonomyTermPageSerializer, parameters=[TaxonomyTermQuery])
class HsdsTaxonomyTermListView(PublicDirectoryView):
    """The ward's welfare taxonomy terms (codes, names, readings, English)."""

    def get(self, request):
        query = TaxonomyTermQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        return self.cached(request, lambda: _page(
            taxonomy_terms_public(text=q.get("search", ""), parent_id=str(q.get("parent_id") or ""),
                                  top_only=q["top_only"]),
            page=q["page"], per_page=q["per_page"], serializer=HsdsTaxonomyTermSerializer))


@public("hsds_taxonomy_term_get", HsdsTaxonomyTermSerializer)
class HsdsTaxonomyTermDetailView(PublicDirectoryView):
    """One taxonomy term."""

    def get(self, request, term_id):
        return self.cached(request, lambda: HsdsTaxonomyTermSerializer(
            taxonomy_term_public_get(term_id=str(term_id))).data)


@public("hsds_organizations_list", HsdsOrganizationPageSerializer, parameters=[PageQuery])
class HsdsOrganizationListView(PublicDirectoryView):
    """The organisations with at least one public service."""

    def get(self, request):
        query = PageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        return self.cached(request, lambda: _page(organizations_public(), page=q["page"], per_page=q["per_page"],
                                                  serializer=HsdsOrganizationSerializer))


@public("hsds_organization_get", HsdsOrganizationDetailSerializer)
class HsdsOrganizationDetailView(PublicDirectoryView):
    """One organisation with its public phones and contacts."""

    def get(self, request, organization_id):
        return self.cached(request, lambda: HsdsOrganizationDetailSerializer(
            organization_public_get(organization_id=str(organization_id))).data)

