"""drf-spectacular: the OpenAPI schema is part of the product (committed as docs/openapi.yaml)."""

SPECTACULAR_SETTINGS = {
    # api/urls.py's record ids in paths.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 2**62}},
    "TITLE": "Mimamori case coordination API",
    "DESCRIPTION": (
        "Consent-based watch-over (見守り) case coordination for a ward's welfare network. "
        "Errors are application/problem+json (RFC 9457) with a stable `code`; messages follow "
        "Accept-Language (ja or en). Updates of shared records need If-Match; POSTs accept Idempotency-Key."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # drf-spectacular's enum hook, then the catalogue of problem codes in the description (api/schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.document_problem_codes"],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.models.choices.CaseStatus",
        "WebhookEndpointStatusEnum": "integrations.models.EndpointStatus",
        "GrantStatusEnum": "cases.models.consent.GrantStatus",
        "GrantorEnum": "cases.models.consent.Grantor",
        "CategoryEnum": "cases.models.consent.Category",
        "OrganizationKindEnum": "cases.models.choices.OrganizationKind",
        "SpecialCareEnum": "cases.models.choices.SpecialCare",
        "RiskLevelEnum": "cases.models.choices.RiskLevel",
        "RightsKindEnum": "audit.models.RightsKind",
        "RightsOutcomeEnum": "audit.models.RightsOutcome",
        "VisitOutcomeEnum": "cases.models.visits.Outcome",
        "UrgencyEnum": "cases.models.choices.Urgency",
        "ReferralStatusEnum": "cases.models.referrals.ReferralStatus",
        "TaskStatusEnum": "cases.models.tasks.TaskStatus",
        "TaskKindEnum": "cases.models.escalations.TaskKind",
        "TaskRequestKindEnum": "api.serializers.tasks.REQUESTABLE_KINDS",
        "EscalationPlanStateEnum": "api.serializers.tasks.PLAN_STATES",
        "DisasterKindEnum": "cases.models.disaster.DisasterKind",
        "SafetyCheckOutcomeEnum": "cases.models.disaster.CheckOutcome",
        "ServiceStatusEnum": "service_directory.models.ServiceStatus",
        "CapacityStatusEnum": "service_directory.models.CapacityStatus",
        "ListingApprovalEnum": "service_directory.models.Approval",
        "ListingDecisionEnum": "api.serializers.listings.DECISIONS",
        "DecisionEnum": "cases.models.consent.Decision",
    },
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI from drf-spectacular-sidecar (static files of this service): no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No validator badge: it would ask an outside service about our schema.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}
