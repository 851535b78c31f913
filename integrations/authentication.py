"""`Authorization: Bearer mmc_…`: an organisation's API client, acting as a worker of its organisation.

Checked on every request, in this order: the key (a revoked or expired secret answers 401 at once), the
route against the client's scopes (403 `client_scope_denied`), the purpose it declares in `X-Purpose`
(one of those it was registered with; optional when it has only one). Then, for this request, the client's
account acts as a worker of the organisation (`permissions.actors.actor_assume_organization`), so every
scoped read and guard decides per record as for a worker there, and the access log names the client, its
organisation and the purpose (`audit.access_log.access_log_acting_as`).
"""

from __future__ import annotations

from rest_framework import authentication, exceptions

from api.problems import ProblemAPIException
from audit.access_log import access_log_acting_as
from integrations.scopes import scope_allows
from integrations.services import PREFIX, client_authenticate
from permissions.actors import actor_assume_organization

PURPOSE_HEADER = "X-Purpose"


def client_label(*, client_id: int, organization_id: int, purpose: str) -> str:
    """How the access log names a client's request."""
    return f"client:{client_id}/org:{organization_id}/purpose:{purpose}"


class OrganizationClientAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() != b"bearer" or not header[1].startswith(PREFIX.encode()):
            return None  # a person's token, or no key: the next authentication decides
        credential = client_authenticate(header[1].decode("ascii", errors="replace"))
        if credential is None:
            raise exceptions.AuthenticationFailed()
        client = credential.client
        match = getattr(request._request, "resolver_match", None)
        if not scope_allows(scopes=client.scopes, method=request.method,
                            route_name=match.url_name if match is not None else None):
            raise ProblemAPIException("client_scope_denied")
        declared = request.headers.get(PURPOSE_HEADER, "").strip()
        if not declared:
            if len(client.purposes) != 1:
                raise ProblemAPIException("client_purpose_required")
            declared = client.purposes[0]
        elif declared not in client.purposes:
            raise ProblemAPIException("client_purpose_denied")
        actor_assume_organization(user=client.user, organization_id=client.organization_id,
                                  organization=client.organization)
        access_log_acting_as(client_label(client_id=client.id, organization_id=client.organization_id,
                                          purpose=declared))
        return client.user, credential

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'
