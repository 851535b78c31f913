"""Route-level gate: deny by default. Object-level decisions are the policy's (permissions/)."""

from rest_framework.permissions import BasePermission

from api.problems import ProblemAPIException
from cases.selectors import is_active_member


class IsActiveMember(BasePermission):
    """Authenticated, active, and a member of some organisation right now."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated or not user.is_active:
            return False
        if not is_active_member(user=user):  # also finds the groups every scoped read of this request uses
            raise ProblemAPIException("no_active_membership")
        return True


class IsAuthenticatedAccount(BasePermission):
    """Only for /me (who am I): no membership needed. Nothing else may use it: a user whose membership
    ended must not act through a token or a session (tests/api/test_tokens.py walks the URLconf)."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_active)
