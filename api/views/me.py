"""The caller's own account: who am I, and my API tokens."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from api.access import IsAuthenticatedAccount
from api.idempotency import IdempotentPosts
from api.models import ApiToken
from api.serializers.me import ApiTokenCreatedSerializer, ApiTokenCreateSerializer, ApiTokenSerializer, MeSerializer
from api.tokens import token_issue, token_revoke, tokens_of
from cases.selectors import memberships_active_for


class MeView(APIView):
    """Who am I: the one route that answers without an active membership (it lists none then), so a client
    can tell a person whose term or membership ended why everything else answers no_active_membership."""

    permission_classes = [IsAuthenticatedAccount]

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve")
    def get(self, request):
        user = request.user
        data = {
            "id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "memberships": memberships_active_for(user=user),
        }
        return Response(MeSerializer(data).data)


class ApiTokenViewSet(IdempotentPosts, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Personal API tokens. The plaintext is returned once, at creation.

    Behind the membership gate like every member route: without an active membership a token (or a
    session) answers /me only, so an ended term cannot list, mint or manage tokens either."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return tokens_of(user=self.request.user)

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request):
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, plaintext = token_issue(user=request.user, **serializer.validated_data)
        token.token = plaintext
        # The plaintext is shown once: a replay reads the token again, without it.
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        token_revoke(user=request.user, token_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
