from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from api.tokens import token_issue
from cases.models.choices import Role
from tests.factories import MembershipFactory, UserFactory
from tests.integrations.receiver import Receiver


@pytest.fixture
def admin_for(world):
    """An org admin of the named organisation of the world (e.g. "care_centre"), with a token."""

    def make(organization: str, **headers) -> APIClient:
        user = UserFactory(username=f"{organization}_admin")
        MembershipFactory(user=user, organization=getattr(world, organization), role=Role.ORG_ADMIN)
        _, plaintext = token_issue(user=user, name="test")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}", **headers)
        client.user = user
        return client

    return make


# A loopback receiver verifying every signature, and the organisation admin who registers its endpoints.
@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    if server.server is not None:
        try:
            server.stop()
        except OSError:
            pass


@pytest.fixture
def admin(world):
    user = UserFactory(username="care2_admin", email="admin@example.jp")
    MembershipFactory(user=user, organization=world.care_centre_2, role=Role.ORG_ADMIN)
    return user
