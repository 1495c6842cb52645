"""/api/v1/trust-providers/, /api/v1/agents/{slug}/identities/ and /api/v1/credentials/."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from approvals.serializers import CommentIn, RequiredCommentIn
from credentials import selectors
from credentials.api.serializers import (
    BindingIn,
    BindingOut,
    CredentialOut,
    ProviderIn,
    ProviderOut,
)
from credentials.filters import CredentialFilter
from credentials.models import IdentityBinding, IssuedCredential
from credentials.services import bindings as binding_services
from credentials.services import providers as provider_services
from kernel.api.filters import SelectorFilters
from kernel.api.inputs import referenced, validated
from kernel.api.permissions import ActionPermission
from kernel.errors import ApplicationError, NotFound
from kernel.permissions import Action
from registry.permissions import reads_records_of
from registry.selectors.agents import agent_get


class TrustProviderViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Everyone who reads the inventory reads trust providers; security manages them."""

    serializer_class = ProviderOut
    lookup_field = "slug"
    permission_classes = [ActionPermission]
    action_permissions = {"read": Action.VIEW_INVENTORY, "write": Action.MANAGE_TRUST}

    def get_queryset(self):
        return selectors.provider_list()

    def get_object(self):
        return selectors.provider_get(self.kwargs["slug"])

    @extend_schema(request=ProviderIn, responses={201: ProviderOut})
    def create(self, request):
        provider = provider_services.provider_create(
            actor=request.user, **validated(ProviderIn, request.data)
        )
        return Response(ProviderOut(provider).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProviderIn(partial=True), responses=ProviderOut)
    def partial_update(self, request, slug=None):
        data = validated(ProviderIn, request.data, partial=True)
        if data.pop("slug", slug) != slug:
            raise ApplicationError("slug cannot be changed.", field="slug", code="read_only")
        provider = provider_services.provider_update(
            actor=request.user, provider=self.get_object(), **data
        )
        return Response(ProviderOut(provider).data)

    def destroy(self, request, slug=None):
        provider_services.provider_delete(actor=request.user, provider=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class IdentityViewSet(viewsets.GenericViewSet):
    """An agent's workload identity bindings. The agent's owner or team (or security) add and
    remove them; security approves those on production agents."""

    serializer_class = BindingOut
    permission_classes = [ActionPermission]
    action_permissions = {
        "read": Action.VIEW_PORTAL,
        "create": Action.REGISTER_AGENT,
        "destroy": Action.REGISTER_AGENT,
        "approve": Action.APPROVE,
        "reject": Action.APPROVE,
    }
    queryset = IdentityBinding.objects.none()  # for the schema; rows come from selectors

    def _agent(self):
        agent = agent_get(self.kwargs["agent_slug"])
        if not reads_records_of(self.request.user, agent):
            raise NotFound(f"No identity bindings of agent '{agent.slug}' for you to see.")
        return agent

    def _binding(self) -> IdentityBinding:
        return selectors.binding_get_for_user(self.request.user, self._agent(), self.kwargs["pk"])

    def _out(self, binding: IdentityBinding, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.binding_get_for_user(self.request.user, binding.agent, binding.pk)
        return Response(BindingOut(fresh).data, status=code)

    def list(self, request, agent_slug=None):
        bindings = selectors.bindings_of(self._agent()).prefetch_related("approvals__approver")
        return Response(BindingOut(bindings, many=True).data)

    @extend_schema(request=BindingIn, responses={201: BindingOut})
    def create(self, request, agent_slug=None):
        data = validated(BindingIn, request.data)
        agent = agent_get(self.kwargs["agent_slug"])
        data["provider"] = referenced(selectors.provider_get, data["provider"], "provider")
        binding = binding_services.binding_add(actor=request.user, agent=agent, **data)
        return self._out(binding, status.HTTP_201_CREATED)

    def destroy(self, request, agent_slug=None, pk=None):
        binding_services.binding_remove(actor=request.user, binding=self._binding())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=CommentIn, responses=BindingOut)
    @action(detail=True, methods=["post"])
    def approve(self, request, agent_slug=None, pk=None):
        binding = self._binding()
        data = validated(CommentIn, request.data)
        return self._out(
            binding_services.binding_approve(actor=request.user, binding=binding, **data)
        )

    @extend_schema(request=RequiredCommentIn, responses=BindingOut)
    @action(detail=True, methods=["post"])
    def reject(self, request, agent_slug=None, pk=None):
        binding = self._binding()
        data = validated(RequiredCommentIn, request.data)
        return self._out(
            binding_services.binding_reject(actor=request.user, binding=binding, **data)
        )


class CredentialViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """What the portal issued (never the tokens): security and auditors read it."""

    serializer_class = CredentialOut
    permission_classes = [ActionPermission]
    action_permissions = {"read": Action.VIEW_CREDENTIALS}
    filter_backends = [SelectorFilters]
    filterset_class = CredentialFilter
    queryset = IssuedCredential.objects.none()  # for the schema; rows come from the selector

    def get_queryset(self):
        return selectors.credential_list(filters=self.request.query_params)
