"""What the company's identity provider told the portal: the IdP groups (SCIM) and, per
person, how the IdP knows them. Roles and team memberships are derived from the groups
(directory.mapping) and stored where the rest of the portal reads them: Django groups named
after roles, and registry teams."""

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models


class DirectoryGroup(models.Model):
    """A group as the IdP's SCIM client provisions it (e.g. `gov-security`, `team-payments`)."""

    scim_id = models.CharField(max_length=254, unique=True, null=True, blank=True, default=None)
    scim_external_id = models.CharField(  # noqa: DJ001 (unique when set)
        max_length=254, null=True, blank=True, default=None, db_index=True
    )
    name = models.CharField(max_length=254, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="directory_groups", blank=True
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        if not self.scim_id:
            self.scim_id = str(self.pk)
            type(self).objects.filter(pk=self.pk).update(scim_id=self.scim_id)


class DirectoryAccount(models.Model):
    """How the IdP knows one person: its OIDC subject, its SCIM externalId, and whether SCIM
    deleted them (the user row stays, inactive, so the audit trail keeps who did what)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="directory_account"
    )
    oidc_subject = models.CharField(max_length=255, unique=True, null=True, blank=True)
    scim_external_id = models.CharField(max_length=254, null=True, blank=True, db_index=True)  # noqa: DJ001 (unique when set)
    deprovisioned_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="SCIM deleted them: gone for SCIM, kept for the trail"
    )
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_groups = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return str(self.user)


auditlog.register(DirectoryGroup, m2m_fields={"members"})
auditlog.register(DirectoryAccount, exclude_fields=["last_synced_at"])
