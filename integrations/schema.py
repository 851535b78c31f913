"""The organisation client's key in the OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class OrganizationClientScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.authentication.OrganizationClientAuthentication"
    name = "OrganizationClientKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An organisation's API client key (prefix `mmc_`), sent as `Authorization: Bearer "
                           "<key>`; the purpose of each request in `X-Purpose` when the client has several.",
        }
