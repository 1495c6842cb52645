"""Who counts as whom when a collector judges records."""

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from kernel.roles import Role


def security_people() -> QuerySet[User]:
    # Superusers hold security's powers (kernel/permissions.py), so they count as security.
    return User.objects.filter(Q(groups__name=Role.SECURITY) | Q(is_superuser=True))
