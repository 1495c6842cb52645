"""What one notice says, rendered once from the changed object and sent on every channel."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.urls import reverse
from django.utils import timezone


class PortalObject(Protocol):
    """What a notice needs of the object it is about: its id and its page."""

    @property
    def pk(self) -> Any: ...

    def get_absolute_url(self) -> str: ...


@dataclass(frozen=True)
class Event:
    """Something happened to an object in the portal.

    `name` ("access_request.approved"), `object_type`, `object_id`, `url` (absolute: `link`),
    `occurred_at` and `data` (identifiers, states, times: never a secret or a token, nor free
    text people typed) are what machines get; `subject`, `body` and `recipients` (email
    addresses of the people concerned) are what people read.
    """

    name: str
    object_type: str
    object_id: int
    url: str
    subject: str
    body: str
    recipients: Sequence[str] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=timezone.now)

    @classmethod
    def about(
        cls,
        obj: PortalObject,
        name: str,
        object_type: str,
        facts: Mapping[str, Any],
        *,
        subject: str,
        body: str,
        recipients: Sequence[str],
        data: Mapping[str, Any] | None = None,
        occurred_at: datetime | None = None,
    ) -> "Event":
        """An event about `obj`, linking to its page: the `facts` every notice about such an
        object carries, then this notice's own `data`."""
        return cls(
            name=name,
            object_type=object_type,
            object_id=obj.pk,
            url=link(obj.get_absolute_url()),
            subject=subject,
            body=body,
            recipients=recipients,
            data={**facts, **(data or {})},
            occurred_at=occurred_at or timezone.now(),
        )


def link(target: str, *args: Any, **kwargs: Any) -> str:
    """The absolute address of a portal page, for people and machines outside the portal.

    `target` is a path ("/approvals/", a model's `get_absolute_url()`), a URL name with its
    arguments (`link("access:request-detail", 7)`), or an address that is absolute already.
    PORTAL_BASE_URL is the portal's public address (scheme, host, port)."""
    if target.startswith(("http://", "https://")):
        return target
    if not target.startswith("/"):
        target = reverse(target, args=args or None, kwargs=kwargs or None)
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{target}"
