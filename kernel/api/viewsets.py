"""What the API's workflow viewsets share: rows scoped to the caller, and one-object steps.

`ScopedViewSet` lists and reads only what the app's selectors let the caller see.
`step_action` is a POST on one object (approve, deny, revoke, suspend...): load it for the
caller, validate the body, call the service, answer with the object as it is now. Who exactly
may take the step (owner, requester, separation of duties) the service decides.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kernel.api.filters import SelectorFilters
from kernel.api.inputs import validated
from kernel.api.permissions import ActionPermission


@dataclass(frozen=True)
class UserScope:
    """The selectors that scope a viewset to the caller: `listed(user, filters=...)` the
    filtered list, `visible(user)` every row they may see, `get(user, pk)` one row or a 404."""

    listed: Callable[..., QuerySet[Any]]
    visible: Callable[[Any], QuerySet[Any]]
    get: Callable[[Any, Any], Any]


# No docstring: the schema shows a viewset's docstring, a subclass's or else this one's.
#
# List and read through `scope`, never a bare queryset: a forged id is a 404, never a leak.
# Subclasses set `scope`, `subject` (the keyword their services take the object by),
# `queryset = Model.objects.none()` (it only names the model to the schema) and, when one row
# shows more than the list, `answer_serializer_class` (every action but the list uses it).
class ScopedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ActionPermission]
    filter_backends = [SelectorFilters]
    scope: ClassVar[UserScope]
    subject: ClassVar[str]
    answer_serializer_class: ClassVar[type[serializers.BaseSerializer] | None] = None

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return super().get_queryset()
        if self.action == "list":
            return self.scope.listed(self.request.user, filters=self.request.query_params)
        return self.scope.visible(self.request.user)

    def get_object(self) -> Any:
        return self.scope.get(self.request.user, self.kwargs["pk"])

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action != "list" and self.answer_serializer_class is not None:
            return self.answer_serializer_class
        return super().get_serializer_class()

    def respond(self, subject: Model, code: int = status.HTTP_200_OK) -> Response:
        """The object as the caller sees it now (read again: the service may have changed it)."""
        fresh = self.scope.get(self.request.user, subject.pk)
        return Response(self.get_serializer_class()(fresh).data, status=code)


def step_action(
    name: str, service: Callable[..., Any], body: type[serializers.Serializer] | None
) -> Callable[..., Response]:
    """The viewset action `name` (assign it to that attribute): POST on one object, at the
    path `name` with dashes for underscores.

    The object is loaded for the caller (`view.get_object()`, a 404 first), then the body is
    validated with `body` (None: the step reads no body) and
    `service(actor=user, <view.subject>=object, **body)` runs; `view.respond(result)` answers
    with the view's serializer, which the schema shows.
    """

    def step(view: Any, request: Any, *args: Any, **kwargs: Any) -> Response:
        target = view.get_object()
        data = validated(body, request.data) if body is not None else {}
        return view.respond(service(actor=request.user, **{view.subject: target}, **data))

    step.__name__ = step.__qualname__ = name
    routed = action(detail=True, methods=["post"], url_path=name.replace("_", "-"))(step)
    return extend_schema(request=body)(routed)
