"""SCIM 2.0 (RFC 7643/7644) on django-scim2: the IdP's SCIM client creates, changes and
deactivates people, and manages the groups whose members get roles and teams.

Adapters map SCIM onto Django's User (its pk is the SCIM id; the IdP's externalId lives on
the DirectoryAccount) and onto DirectoryGroup. Every change of a person's groups re-derives
their roles and teams (directory.services.sync_memberships), exactly as an OIDC sign-in does.
`active: false` and DELETE deprovision: the user stays, inactive, so the audit trail keeps
them; a deleted user is no longer listed.
"""

import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django_scim import exceptions
from django_scim.adapters import SCIMGroup, SCIMUser
from django_scim.middleware import SCIMAuthCheckMiddleware

from directory.models import DirectoryAccount, DirectoryGroup
from directory.services import SCIM_SOURCE, account_of, deprovision, sync_memberships
from kernel.audit import audit_source

MAX_MEMBERS_PER_CHANGE = 1000


class ScimClient:
    """Who is asking, once the bearer token matched: the IdP's provisioning client."""

    is_authenticated = True
    is_active = True
    is_superuser = False
    pk = None
    username = "scim"


class BearerTokenCheck(SCIMAuthCheckMiddleware):
    """django-scim2's auth check, with our authentication: `Authorization: Bearer <token>`
    compared in constant time with SCIM_BEARER_TOKEN; anything else is a 401."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        expected = settings.SCIM_BEARER_TOKEN
        scheme, _, presented = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if (
            expected
            and scheme.lower() == "bearer"
            and hmac.compare_digest(presented.strip().encode(), expected.encode())
        ):
            request.user = ScimClient()  # type: ignore[assignment]
        else:
            request.user = _anonymous()
        return super().process_request(request)


def _anonymous() -> AnonymousUser:
    return AnonymousUser()


def excluded_from_scim(model: type) -> Any:
    """Users SCIM deleted are gone for SCIM (their row stays for the audit trail)."""

    def exclude(request: HttpRequest, *args: Any) -> dict[str, Any]:
        if model is User:
            return {"directory_account__deleted_at__isnull": False}
        return {}

    return exclude


def hide_deleted(model: type) -> Any:
    """GET /Users/{id} of a user SCIM deleted is a 404, like a user that never was."""

    def post_process(request: HttpRequest, obj: Any) -> Any:
        if (
            model is User
            and DirectoryAccount.objects.filter(user=obj, deleted_at__isnull=False).exists()
        ):
            raise exceptions.NotFoundError(str(obj.pk))
        return obj

    return post_process


def _member_ids(members: Any) -> list[int]:
    if not isinstance(members, list) or len(members) > MAX_MEMBERS_PER_CHANGE:
        raise exceptions.BadRequestError('members: a list of {"value": "<user id>"}.')
    try:
        return [int(member["value"]) for member in members]
    except (KeyError, TypeError, ValueError):
        raise exceptions.BadRequestError('members: each needs a "value" with a user id.') from None


class PortalSCIMUser(SCIMUser):
    id_field = "id"

    @property
    def groups(self) -> list[dict[str, Any]]:
        return (
            [
                {"value": str(group.pk), "display": group.name}
                for group in self.obj.directory_groups.all()
            ]
            if self.obj.pk
            else []
        )

    @property
    def meta(self) -> dict[str, Any]:
        return {
            "resourceType": self.resource_type,
            "created": self.obj.date_joined.isoformat(),
            "lastModified": self.obj.date_joined.isoformat(),
            "location": self.location,
        }

    def to_dict(self) -> dict[str, Any]:
        external = None
        if self.obj.pk:
            account = DirectoryAccount.objects.filter(user=self.obj).first()
            external = account.scim_external_id if account else None
        self.obj.scim_external_id = external
        return super().to_dict()

    def from_dict(self, d: dict[str, Any]) -> None:
        username = d.get("userName")
        if not isinstance(username, str) or not username.strip() or len(username) > 150:
            raise exceptions.BadRequestError("userName is required (at most 150 characters).")
        d = {key: value for key, value in d.items() if key != "password"}  # SSO: no passwords
        super().from_dict(d)
        self._external_id = d.get("externalId")

    @transaction.atomic
    def save(self) -> None:
        with audit_source(SCIM_SOURCE):
            creating = self.obj.pk is None
            active = self.obj.is_active
            if creating:
                self.obj.set_unusable_password()
            else:
                self.obj.is_active = (
                    User.objects.filter(pk=self.obj.pk).values_list("is_active", flat=True).get()
                )
            self.obj.save()
            account = account_of(self.obj)
            if getattr(self, "_external_id", None) is not None:
                account.scim_external_id = str(self._external_id)[:254]
                account.save(update_fields=["scim_external_id"])
            self._set_active(active)

    def _set_active(self, active: bool) -> None:
        """Deactivation goes through deprovision (the leaver's path); reactivation too."""
        if not active and self.obj.is_active:
            deprovision(self.obj, source=SCIM_SOURCE)
        elif active and not self.obj.is_active:
            self.obj.is_active = True
            self.obj.save(update_fields=["is_active"])
            DirectoryAccount.objects.filter(user=self.obj).update(deprovisioned_at=None)

    def delete(self) -> None:
        deprovision(self.obj, source=SCIM_SOURCE, delete=True)


class PortalSCIMGroup(SCIMGroup):
    id_field = "scim_id"

    @property
    def display_name(self) -> str:
        return self.obj.name

    @property
    def members(self) -> list[dict[str, Any]]:
        return (
            [{"value": str(user.pk), "display": user.username} for user in self.obj.members.all()]
            if self.obj.pk
            else []
        )

    def from_dict(self, d: dict[str, Any]) -> None:
        name = d.get("displayName")
        if not isinstance(name, str) or not name.strip() or len(name) > 254:
            raise exceptions.BadRequestError("displayName is required (at most 254 characters).")
        super().from_dict(d)
        self._members = _member_ids(d["members"]) if "members" in d else None

    @transaction.atomic
    def save(self) -> None:
        with audit_source(SCIM_SOURCE):
            before = set(self.obj.members.values_list("pk", flat=True)) if self.obj.pk else set()
            self.obj.save()
            members: list[int] | None = getattr(self, "_members", None)
            if members is not None:
                self._set_members(set(members), before)
                self._members = None

    def _set_members(self, wanted: set[int], before: set[int]) -> None:
        users = list(User.objects.filter(pk__in=wanted))
        if len(users) != len(wanted):
            raise exceptions.BadRequestError("members: a user id is unknown.")
        self.obj.members.set(users)
        self._resync(wanted | before)

    def _resync(self, user_ids: set[int]) -> None:
        """Derive roles and teams again for everyone whose groups just changed."""
        groups: dict[int, list[str]] = {pk: [] for pk in user_ids}
        for group in DirectoryGroup.objects.filter(members__in=user_ids).values_list(
            "members", "name"
        ):
            groups.setdefault(group[0], []).append(group[1])
        for user in User.objects.filter(pk__in=user_ids):
            sync_memberships(user, groups.get(user.pk, []), source=SCIM_SOURCE)

    def _change(self, value: Any, add: bool) -> None:
        ids = set(_member_ids(value))
        with audit_source(SCIM_SOURCE):
            users = list(User.objects.filter(pk__in=ids))
            if len(users) != len(ids):
                raise exceptions.BadRequestError("members: a user id is unknown.")
            (self.obj.members.add if add else self.obj.members.remove)(*users)
            self._resync(ids)

    def handle_add(self, path: Any, value: Any, operation: dict) -> None:
        if path is None or path.first_path != ("members", None, None):
            raise exceptions.NotImplementedError("Only members can be added to a group.")
        self._change(value, add=True)

    def handle_remove(self, path: Any, value: Any, operation: dict) -> None:
        if path is None or path.first_path != ("members", None, None):
            raise exceptions.NotImplementedError("Only members can be removed from a group.")
        if value is None:  # remove all members
            value = [{"value": str(pk)} for pk in self.obj.members.values_list("pk", flat=True)]
        self._change(value, add=False)

    def handle_replace(self, path: Any, value: Any, operation: dict) -> None:
        if path is not None and path.first_path == ("displayName", None, None):
            self.obj.name = value if isinstance(value, str) else value[0].get("value")
            self.save()
            return
        if path is not None and path.first_path == ("members", None, None):
            with audit_source(SCIM_SOURCE):
                self._set_members(
                    set(_member_ids(value)), set(self.obj.members.values_list("pk", flat=True))
                )
            return
        raise exceptions.NotImplementedError("Replace displayName or members.")

    def delete(self) -> None:
        with audit_source(SCIM_SOURCE):
            members = set(self.obj.members.values_list("pk", flat=True))
            self.obj.delete()
            self._resync(members)
